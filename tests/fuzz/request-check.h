#pragma once
// What the chat routes do with a request body after parsing it, shared by the request fuzz
// targets: render the prompt with the model's template and count its tokens with the media,
// as chat_run_start and count_tokens do. Errors the server turns into a 4xx are expected;
// anything else escaping is a finding (a 500 for a bad request, or worse).
#include "engine/chat-prompt.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/prompt-tokens.h"
#include "server/chat-call.h"
#include "server/http-error.h"
#include "server/wire-util.h"

#include <optional>
#include <string>

namespace muse::fuzz {

// The server's default limits, with the media limits cut so that one input cannot make the
// fuzzer spend seconds decoding a 16-megapixel image.
inline server::server_limits fuzz_request_limits() {
    server::server_limits limits;
    limits.max_messages    = 64;
    limits.media.max_bytes = 1u << 20;
    limits.media.max_pixels = 1u << 20;
    limits.media.max_audio_secs = 30;
    return limits;
}

// A stored file for the file_id parts: "file-1" is the caller's, every other id is not.
inline server::file_reader fuzz_file_reader() {
    return [](const std::string & id) -> std::optional<std::string> {
        if (id == "file-1") return std::string("hello from a stored file\n");
        return std::nullopt;
    };
}

// The request body as the server reads it (body_json), nullopt for what it refuses with a 400.
inline std::optional<nlohmann::json> fuzz_body(const uint8_t * data, size_t size) {
    httplib::Request req;
    req.body.assign((const char *) data, size);
    try {
        return server::body_json(req);
    } catch (const server::http_error &) {
        return std::nullopt;
    }
}

inline void fuzz_render(const model & mdl, const server::chat_call & call) {
    try {
        const chat_prompt prompt = chat_format(mdl, call.request, mdl.media_marker());
        (void) prompt_token_count(mdl, prompt, *call.media);
    } catch (const input_error &) {
        // A 422 template_refused in the server.
    }
}

}  // namespace muse::fuzz
