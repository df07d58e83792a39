#pragma once
// Engine-internal: what chat_prompt holds (llama-common types stay out of public headers).
#include "chat.h"
#include "engine/chat-prompt.h"

namespace muse {

struct chat_prompt::impl {
    common_chat_params        params;
    common_chat_parser_params parser;
    common_grammar_type       grammar_type = COMMON_GRAMMAR_TYPE_NONE;
    std::string               grammar;
    int32_t                   think_budget = -1;
    // The reasoning channel: from llama-common's template analysis, or muse's own rule for
    // templates it does not describe (Muse Glimmer's to=self channel).
    std::string               think_start;
    std::vector<std::string>  think_end;
    std::string               think_forced;  // what is forced when the budget runs out
};

// What a model's templates can do: render tool definitions (and calls), switch reasoning on
// and off. model_info and `muse list` both say it.
struct template_caps {
    bool tools     = false;
    bool reasoning = false;
    bool parallel_calls = false;  // the template renders several calls in one assistant turn
};
template_caps template_caps_of(const common_chat_templates * templates);

}  // namespace muse
