// Fuzz target: POST /v1/responses bodies: body_json, responses_to_chat_body (instructions,
// input as a string or items: messages, function_call, function_call_output; flat tools), then
// openai_chat_parse of the chat body it makes and the render, on Muse Glimmer.
#include "fuzz-util.h"
#include "request-check.h"
#include "server/openai-chat.h"
#include "server/responses-input.h"

using namespace muse;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const model &               mdl    = fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    static const server::server_limits limits = fuzz::fuzz_request_limits();
    static const server::file_reader   files  = fuzz::fuzz_file_reader();
    const std::optional<nlohmann::json> body  = fuzz::fuzz_body(data, size);
    if (!body) return 0;
    try {
        const nlohmann::json    chat = server::responses_to_chat_body(*body);
        const server::chat_call call = server::openai_chat_parse(chat, mdl, limits, files, nlohmann::json::array());
        fuzz::fuzz_render(mdl, call);
    } catch (const server::http_error & e) {
        if (e.status < 400 || e.status > 499) abort();
    }
    return 0;
}
