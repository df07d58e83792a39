#include "engine/chat-prompt.h"

#include "chat-prompt-impl.h"
#include "engine/error.h"
#include "engine/grammar-bounds.h"
#include "engine/model.h"
#include "json-schema-to-grammar.h"
#include "json.h"
#include "peg-parser.h"

#include <algorithm>

namespace muse {

chat_prompt::chat_prompt() : impl_(std::make_unique<impl>()) {}
chat_prompt::~chat_prompt()                                  = default;
chat_prompt::chat_prompt(chat_prompt &&) noexcept            = default;
chat_prompt & chat_prompt::operator=(chat_prompt &&) noexcept = default;

chat_prompt chat_prompt::clone() const {
    chat_prompt out;
    *out.impl_ = *impl_;
    return out;
}

const std::string & chat_prompt::text() const { return impl_->params.prompt; }
bool chat_prompt::has_grammar() const { return !impl_->grammar.empty(); }
const std::string & chat_prompt::grammar() const { return impl_->grammar; }
bool chat_prompt::grammar_from_first_token() const { return impl_->grammar_type == COMMON_GRAMMAR_TYPE_USER; }
bool chat_prompt::supports_thinking() const { return impl_->params.supports_thinking; }
const std::string & chat_prompt::thinking_start() const { return impl_->think_start; }
const std::vector<std::string> & chat_prompt::thinking_end() const { return impl_->think_end; }
const std::string & chat_prompt::generation_prompt() const { return impl_->params.generation_prompt; }

static common_chat_msg message_to_common(const chat_message & m, const std::string & media_marker) {
    static const char * roles[] = { "system", "user", "assistant", "tool", "developer" };
    bool known = false;
    for (const char * r : roles) {
        known = known || m.role == r;
    }
    if (!known) {
        throw input_error("message role \"" + m.role + "\" is not one of system, user, assistant, tool");
    }
    common_chat_msg out;
    out.role              = m.role == "developer" ? "system" : m.role;
    out.reasoning_content = m.reasoning;
    out.tool_call_id      = m.tool_call_id;
    out.tool_name         = m.tool_name;
    if (m.parts.empty()) {
        out.content = m.content;
    } else {
        for (const auto & p : m.parts) {
            common_chat_msg_content_part part;
            if (p.type == CHAT_PART_TYPE_MEDIA) {
                part.type = "media_marker";
                part.text = media_marker;
            } else {
                part.type = "text";
                part.text = p.text;
            }
            out.content_parts.push_back(std::move(part));
        }
    }
    for (const auto & tc : m.tool_calls) {
        out.tool_calls.push_back({ tc.name, tc.arguments, tc.id });
    }
    return out;
}

// Where reasoning starts and ends in generated text, and what to force when the budget runs out.
static void reasoning_channel_set(chat_prompt::impl & p, const model & mdl) {
    if (!p.params.thinking_start_tag.empty() && !p.params.thinking_end_tags.empty()) {
        p.think_start  = p.params.thinking_start_tag;
        p.think_end    = p.params.thinking_end_tags;
        p.think_forced = p.think_end.front();
        return;
    }
    // Muse Glimmer (ATEM): reasoning is a message to=self ended by <|eom|>; the answer is the
    // message to=user. llama-common's specialised parser knows this, its params do not say it.
    const std::string & src = mdl.info().chat_template;
    if (p.params.generation_prompt.rfind("<|start|>assistant", 0) == 0 && src.find("to=self") != std::string::npos &&
        src.find("<|eom|>") != std::string::npos) {
        p.think_start  = " to=self<|message|>";
        p.think_end    = { "<|eom|>" };
        p.think_forced = "<|eom|><|start|>assistant to=user<|message|>";
    }
}

// Prompts are tokenized with special tokens parsed, so a tool's output (a page, a file, an MCP
// server's answer) that spells "<|im_end|><|im_start|>system" would close its own turn and open
// a system turn. In tool messages each control token's text gets a zero-width space after its
// first byte: the model reads the same characters, as plain text.
static void control_tokens_defuse(const model & mdl, std::string & text) {
    if (text.find_first_of("<[|") == std::string::npos) {
        return;
    }
    const llama_vocab * vocab = mdl.vocab();
    const int32_t       n     = llama_vocab_n_tokens(vocab);
    for (int32_t t = 0; t < n; t++) {
        if (!(llama_vocab_get_attr(vocab, t) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED))) {
            continue;
        }
        const std::string & special = mdl.token_text(t);
        if (special.size() < 2) {
            continue;
        }
        for (size_t at = text.find(special); at != std::string::npos; at = text.find(special, at + 4)) {
            text.insert(at + 1, "\xE2\x80\x8B");
        }
    }
}

chat_prompt chat_format(const model & mdl, const chat_request & request, const std::string & media_marker) {
    if (request.messages.empty()) {
        throw input_error("the conversation has no messages; send at least one user message");
    }
    if (!request.json_schema.empty() && !request.grammar.empty()) {
        throw input_error("both a JSON schema and a grammar were given; pass only one of them");
    }
    common_chat_templates_inputs in;
    for (const auto & m : request.messages) {
        in.messages.push_back(message_to_common(m, media_marker));
        if (m.role == "tool") {
            control_tokens_defuse(mdl, in.messages.back().content);
            for (auto & part : in.messages.back().content_parts) {
                if (part.type == "text") control_tokens_defuse(mdl, part.text);
            }
        }
    }
    for (const auto & t : request.tools) {
        if (t.name.empty()) {
            throw input_error("a tool has no name; every tool needs a function name");
        }
        if (!common_json::parse_no_throw(t.parameters.empty() ? "{}" : t.parameters).is_object()) {
            throw input_error("tool \"" + t.name + "\": parameters is not a JSON object schema");
        }
        in.tools.push_back({ t.name, t.description, t.parameters.empty() ? "{\"type\":\"object\"}" : t.parameters });
    }
    in.tool_choice = request.tool_choice == CHAT_TOOL_CHOICE_NONE     ? COMMON_CHAT_TOOL_CHOICE_NONE :
                     request.tool_choice == CHAT_TOOL_CHOICE_REQUIRED ? COMMON_CHAT_TOOL_CHOICE_REQUIRED :
                                                                        COMMON_CHAT_TOOL_CHOICE_AUTO;
    for (const auto & [name, value] : request.template_kwargs) {
        if (common_json::parse_no_throw(value).is_discarded()) {
            throw input_error("template variable \"" + name + "\" is not a JSON value (got: " + value +
                              "); quote strings, e.g. \"\\\"2026-01-31\\\"\"");
        }
        in.chat_template_kwargs[name] = value;
    }
    // Parallel calls only where the template can write them back (Llama 3's raises "only
    // supports single tool-calls at once" on the next turn).
    const bool parallel    = request.parallel_tool_calls && template_caps_of(mdl.templates()).parallel_calls;
    in.parallel_tool_calls = parallel;
    in.reasoning_format    = COMMON_REASONING_FORMAT_DEEPSEEK;  // reasoning goes to its own field
    in.enable_thinking     = request.enable_thinking;
    in.add_generation_prompt = !request.continue_final;
    if (request.continue_final) {
        if (request.messages.back().role != "assistant") {
            throw input_error("continue_final needs the last message to be the assistant's");
        }
        in.continue_final_message = COMMON_CHAT_CONTINUATION_AUTO;
    }

    std::string schema_grammar;
    if (!request.json_schema.empty()) {
        auto schema = common_json::parse_no_throw(request.json_schema);
        if (!schema.is_object()) {
            throw input_error("the JSON schema is not a JSON object; pass a schema like {\"type\":\"object\",...}");
        }
        try {
            schema_grammar = json_schema_to_grammar(schema);
        } catch (const std::exception & e) {
            throw input_error(std::string("the JSON schema cannot be turned into a grammar: ") + e.what());
        }
    }

    in.json_schema = request.json_schema;

    chat_prompt out;
    auto &      p = out.get();
    try {
        p.params = common_chat_templates_apply(mdl.templates(), in);
    } catch (const std::exception & e) {
        throw input_error(std::string("the model's chat template failed on this conversation: ") + e.what());
    }
    p.parser = common_chat_parser_params(p.params);
    p.parser.reasoning_format = COMMON_REASONING_FORMAT_DEEPSEEK;
    p.parser.parse_tool_calls = !request.tools.empty() && request.tool_choice != CHAT_TOOL_CHOICE_NONE;
    if (!p.params.parser.empty()) {
        p.parser.parser.load(p.params.parser);
    }

    if (!p.params.grammar.empty() && !request.tools.empty()) {
        p.grammar      = p.params.grammar;
        p.grammar_type = COMMON_GRAMMAR_TYPE_TOOL_CALLS;
        if (request.tool_choice == CHAT_TOOL_CHOICE_REQUIRED) {
            p.grammar = grammar_calls_only(p.grammar, request.enable_thinking);
        }
    }
    if (!schema_grammar.empty()) {
        if (!request.tools.empty()) {
            throw input_error("a JSON schema together with tools is not supported; drop one of them");
        }
        if (!p.params.grammar.empty()) {
            // The template's own grammar: reasoning (if any) first, then the schema's JSON.
            p.grammar      = p.params.grammar;
            p.grammar_type = COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT;
        } else {
            // The template has no response-format rule: the answer is the JSON from the first
            // token. Typed as a user grammar so that the generation prompt is not fed to it.
            p.grammar      = schema_grammar;
            p.grammar_type = COMMON_GRAMMAR_TYPE_USER;
        }
    } else if (!request.grammar.empty()) {
        if (!p.grammar.empty()) {
            throw input_error("a grammar together with tools is not supported; drop one of them");
        }
        p.grammar      = request.grammar;
        p.grammar_type = COMMON_GRAMMAR_TYPE_USER;
    }
    if (!p.grammar.empty()) {
        // One call at most without parallel calls: llama-common's grammar repeats the call rule
        // whatever the flag.
        if (p.grammar_type == COMMON_GRAMMAR_TYPE_TOOL_CALLS) {
            p.grammar = grammar_calls_bounded(grammar_atem_bounded(p.grammar, request.tools), parallel ? max_parallel_tool_calls : 1);
        }
        p.grammar = grammar_numbers_bounded(p.grammar);
    }
    p.think_budget = request.think_budget;
    reasoning_channel_set(p, mdl);
    if (request.tool_choice == CHAT_TOOL_CHOICE_REQUIRED && !request.tools.empty() &&
        p.think_forced == "<|eom|><|start|>assistant to=user<|message|>") {
        // A forced call's grammar has no message to the user: the budget ends the reasoning
        // and the grammar writes the call's recipient (forcing " to=user" was a token the
        // grammar refused, and the sampler had nothing left to pick).
        p.think_forced = "<|eom|><|start|>assistant";
    }
    if (!p.grammar.empty() && !p.think_start.empty() && p.think_budget >= 0) {
        const auto tokens_of = [&](const std::string & tag) { return common_tokenize(mdl.vocab(), tag, false, true); };
        std::vector<grammar_tag> tags{ { p.think_start, tokens_of(p.think_start) } };
        for (const auto & t : p.think_end) tags.push_back({ t, tokens_of(t) });
        p.grammar = grammar_tags_as_tokens(p.grammar, tags);
    }
    return out;
}

void think_budget_for_constraints(chat_request & request, int32_t max_tokens) {
    const bool constrained = !request.json_schema.empty() || !request.grammar.empty() ||
                             (request.tool_choice == CHAT_TOOL_CHOICE_REQUIRED && !request.tools.empty());
    if (!constrained || !request.enable_thinking || request.think_budget >= 0) return;
    request.think_budget = max_tokens < 0 ? 256 : std::min<int32_t>(max_tokens / 2, 1024);
}

// Whether the template's parser has already failed on `generated` (not merely waiting for
// more). A partial parse that failed returns what it matched so far, often nothing: Muse
// Glimmer's answer without its " to=user<|message|>" header streamed as one delta at the end,
// when the whole parse fails and the text becomes the content.
static bool parse_failed(const common_chat_parser_params & params, const std::string & generated) {
    if (params.parser.empty()) return false;
    common_peg_parse_context ctx(params.generation_prompt + generated, COMMON_PEG_PARSE_FLAG_LENIENT);
    return params.parser.parse(ctx).fail();
}

chat_parsed chat_parse(const chat_prompt & prompt, const std::string & generated, bool is_partial) {
    common_chat_msg msg;
    try {
        if (is_partial && parse_failed(prompt.get().parser, generated)) throw std::runtime_error("no match");
        msg = common_chat_parse(generated, is_partial, prompt.get().parser);
    } catch (const std::exception &) {
        // Output that does not follow the template's grammar (random weights, a cut-off stream)
        // is still the model's answer: return it as plain content rather than fail.
        msg.content = generated;
    }
    chat_parsed out;
    out.content   = msg.content;
    out.reasoning = msg.reasoning_content;
    for (const auto & tc : msg.tool_calls) {
        out.tool_calls.push_back({ tc.id, tc.name, tc.arguments });
    }
    return out;
}

}  // namespace muse
