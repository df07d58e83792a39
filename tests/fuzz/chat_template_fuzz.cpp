// Fuzz target: chat_format of odd requests on the Muse Glimmer and Qwen 3 test models' own
// templates (jinja in llama-common): any roles, empty / long / non-UTF-8 content, parts,
// reasoning, tool calls with bad arguments, tools with strange schemas, tool_choice, a JSON
// schema or grammar, continue_final, template variables. A request the template cannot do is
// an input_error (the server's 422); anything else escaping is a finding.
#include "engine/chat-prompt.h"
#include "engine/error.h"
#include "fuzz-util.h"

#include <fuzzer/FuzzedDataProvider.h>

using namespace muse;

static const model & glimmer() { return fuzz::fuzz_model("muse-glimmer-tiny.gguf"); }
static const model & qwen() { return fuzz::fuzz_model("qwen3-tiny.gguf"); }

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    glimmer();
    qwen();
    return 0;
}

// Mostly the words templates test for, sometimes anything.
static std::string pick(FuzzedDataProvider & in, std::initializer_list<const char *> usual, size_t max_len) {
    const size_t i = in.ConsumeIntegralInRange<size_t>(0, usual.size());
    if (i < usual.size()) return usual.begin()[i];
    return in.ConsumeRandomLengthString(max_len);
}

static const char * const schemas[] = {
    R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})",
    R"({"type":"object","properties":{"n":{"type":"integer","minimum":-3,"maximum":9},"u":{"enum":["a","b"]}}})",
    R"({"type":"object","properties":{"xs":{"type":"array","items":{"type":"number"},"minItems":1}}})",
    R"({"type":"object","properties":{"o":{"$ref":"#/$defs/o"}},"$defs":{"o":{"type":"object"}}})",
    R"({"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"type":"null"}]}},"additionalProperties":false})",
    R"({})",
};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FuzzedDataProvider in(data, size);
    const model &      mdl = in.ConsumeBool() ? glimmer() : qwen();
    chat_request       req;
    const int n_messages = in.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < n_messages; ++i) {
        chat_message m;
        m.role    = pick(in, { "system", "user", "assistant", "tool", "developer" }, 16);
        m.content = in.ConsumeRandomLengthString(256);
        if (in.ConsumeBool()) m.reasoning = in.ConsumeRandomLengthString(64);
        const int n_calls = in.ConsumeIntegralInRange(0, 2);
        for (int c = 0; c < n_calls; ++c) {
            chat_tool_call tc;
            tc.id        = in.ConsumeRandomLengthString(12);
            tc.name      = pick(in, { "get_weather", "python" }, 24);
            tc.arguments = pick(in, { "{\"city\":\"Paris\"}", "{}", "[]", "", "{\"city\":" }, 64);
            m.tool_calls.push_back(std::move(tc));
        }
        if (m.role == "tool" || in.ConsumeBool()) {
            m.tool_call_id = in.ConsumeRandomLengthString(12);
            m.tool_name    = pick(in, { "get_weather" }, 24);
        }
        if (in.ConsumeBool()) {
            m.parts.push_back({ CHAT_PART_TYPE_TEXT, in.ConsumeRandomLengthString(64), 0 });
            if (in.ConsumeBool()) m.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", 0 });
        }
        req.messages.push_back(std::move(m));
    }
    const int n_tools = in.ConsumeIntegralInRange(0, 3);
    for (int t = 0; t < n_tools; ++t) {
        chat_tool tool;
        tool.name        = pick(in, { "get_weather", "python", "a.b", "" }, 24);
        tool.description = in.ConsumeRandomLengthString(64);
        const size_t s   = in.ConsumeIntegralInRange<size_t>(0, std::size(schemas));
        tool.parameters  = s < std::size(schemas) ? schemas[s] : in.ConsumeRandomLengthString(128);
        req.tools.push_back(std::move(tool));
    }
    req.tool_choice         = (chat_tool_choice) in.ConsumeIntegralInRange(0, 2);
    req.parallel_tool_calls = in.ConsumeBool();
    req.enable_thinking     = in.ConsumeBool();
    req.think_budget        = in.ConsumeIntegralInRange(-1, 64);
    req.continue_final      = in.ConsumeBool();
    switch (in.ConsumeIntegralInRange(0, 3)) {
        case 1: req.json_schema = pick(in, { schemas[0], schemas[2] }, 128); break;
        case 2: req.grammar = pick(in, { "root ::= \"yes\" | \"no\"", "root ::= [a-z]+" }, 128); break;
        default: break;
    }
    if (in.ConsumeBool()) req.template_kwargs[pick(in, { "current_date", "date_string" }, 16)] = in.ConsumeRandomLengthString(32);
    try {
        const chat_prompt prompt = chat_format(mdl, req, mdl.media_marker());
        (void) chat_parse(prompt, in.ConsumeRemainingBytesAsString(), false);
    } catch (const input_error &) {
    }
    return 0;
}
