// Fuzz target: POST /v1/messages bodies (Anthropic): body_json, anthropic_parse (system,
// content blocks with base64 images, tool_use / tool_result, tools, tool_choice, thinking),
// then the render and token count, on Muse Glimmer with its vision projector.
#include "fuzz-util.h"
#include "request-check.h"
#include "server/anthropic-request.h"

using namespace muse;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const model &               mdl    = fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    static const server::server_limits limits = fuzz::fuzz_request_limits();
    const std::optional<nlohmann::json> body  = fuzz::fuzz_body(data, size);
    if (!body) return 0;
    try {
        const server::chat_call call = server::anthropic_parse(*body, mdl, limits);
        fuzz::fuzz_render(mdl, call);
    } catch (const server::http_error & e) {
        if (e.status < 400 || e.status > 499) abort();
    }
    return 0;
}
