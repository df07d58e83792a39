#pragma once
// The one exception the server's handlers throw for a request that cannot be served; the
// route wrapper turns it into the wire format's error JSON (OpenAI or Anthropic).
#include <stdexcept>
#include <string>

namespace muse::server {

struct http_error : std::runtime_error {
    int         status;
    std::string param;  // the offending field, e.g. "messages[1].content"
    std::string code;   // short machine-readable reason, e.g. "context_length_exceeded"
    int         retry_after = 0;  // seconds, for 429

    http_error(int status_, const std::string & message, std::string param_ = {}, std::string code_ = {})
        : std::runtime_error(message), status(status_), param(std::move(param_)), code(std::move(code_)) {}
};

// The OpenAI error `type` for a status.
inline const char * openai_error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 413: return "request_too_large";
        case 422: return "unprocessable_entity";
        case 429: return "rate_limit_error";
        default:  return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

// The Anthropic error `type` for a status.
inline const char * anthropic_error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 413: return "request_too_large";
        case 429: return "rate_limit_error";
        default:  return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

}  // namespace muse::server
