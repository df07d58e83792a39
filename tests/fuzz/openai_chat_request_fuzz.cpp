// Fuzz target: POST /v1/chat/completions bodies. The bytes go through the server's body_json,
// then openai_chat_parse (messages, content parts with base64 media and file ids, tools,
// tool_choice, response_format, sampling fields), then the template render and token count
// the route does next, on Muse Glimmer with its vision projector.
#include "fuzz-util.h"
#include "request-check.h"
#include "server/openai-chat.h"

using namespace muse;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const model &                 mdl    = fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    static const server::server_limits   limits = fuzz::fuzz_request_limits();
    static const server::file_reader     files  = fuzz::fuzz_file_reader();
    const std::optional<nlohmann::json>  body   = fuzz::fuzz_body(data, size);
    if (!body) return 0;
    try {
        const server::chat_call call = server::openai_chat_parse(*body, mdl, limits, files, nlohmann::json::array());
        fuzz::fuzz_render(mdl, call);
    } catch (const server::http_error & e) {
        if (e.status < 400 || e.status > 499) abort();
    }
    return 0;
}
