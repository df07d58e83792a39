// Fuzz target: generated text parsed back into reasoning, content and tool calls, as the
// server does while a reply streams (chat_parse partial after each token, final at the end,
// choice_tracker's deltas, reason::channel_tracker's reasoning / answer split). The prompts are
// rendered once per template: Muse Glimmer (ATEM calls, the to=self reasoning channel) and
// Qwen 3 (<tool_call> JSON, <think>), with tools and thinking on, and with tools forced.
#include "engine/chat-prompt.h"
#include "fuzz-util.h"
#include "reason/channel.h"
#include "server/chat-call.h"

#include <fuzzer/FuzzedDataProvider.h>

using namespace muse;

static std::vector<chat_prompt> & prompts() {
    static std::vector<chat_prompt> all = [] {
        std::vector<chat_prompt> out;
        for (const char * file : { "muse-glimmer-tiny.gguf", "qwen3-tiny.gguf" }) {
            const model & mdl = fuzz::fuzz_model(file);
            for (const chat_tool_choice choice : { CHAT_TOOL_CHOICE_AUTO, CHAT_TOOL_CHOICE_REQUIRED }) {
                chat_request req;
                req.messages.push_back({ "user", "Weather in Paris?", {}, "", {}, "", "" });
                req.tools.push_back({ "get_weather", "Weather for a city",
                                      R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]})" });
                req.tools.push_back({ "python", "Runs code", R"({"type":"object","properties":{"code":{"type":"string"}}})" });
                req.tool_choice         = choice;
                req.parallel_tool_calls = choice == CHAT_TOOL_CHOICE_AUTO;
                req.enable_thinking     = true;
                out.push_back(chat_format(mdl, req, mdl.media_marker()));
            }
        }
        return out;
    }();
    return all;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    prompts();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FuzzedDataProvider        in(data, size);
    const chat_prompt &       prompt = prompts()[in.ConsumeIntegralInRange<size_t>(0, prompts().size() - 1)];
    server::choice_tracker    tracker(prompt);
    reason::channel_tracker   channel(prompt);
    std::string               text;
    // The rest of the input is the generated text, cut into "tokens" of 1 to 8 bytes.
    while (in.remaining_bytes() > 0) {
        const size_t      n     = in.ConsumeIntegralInRange<size_t>(1, 8);
        const std::string piece = in.ConsumeBytesAsString(n);
        text += piece;
        tracker.push(piece);
        channel.push(piece);
        (void) tracker.take();
    }
    tracker.finished = true;
    (void) tracker.take();
    const chat_parsed & parsed = tracker.final_parse();
    for (const chat_tool_call & tc : parsed.tool_calls) {
        (void) nlohmann::json::parse(tc.arguments, nullptr, false);
    }
    (void) chat_parse(prompt, text, false);
    if (channel.reasoning_tokens() < 0 || channel.answer_tokens() < 0) abort();
    return 0;
}
