#pragma once
// Small pieces both wire formats use: ids, the request body, server-sent events.
#include "server/http-error.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <ctime>
#include <string>

namespace muse::server {

// prefix + 24 random hex characters.
inline std::string id_make(const std::string & prefix) {
    unsigned char bytes[12];
    randombytes_buf(bytes, sizeof bytes);
    char hex[2 * sizeof bytes + 1];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    return prefix + hex;
}

inline int64_t unix_now() { return (int64_t) std::time(nullptr); }

inline nlohmann::json body_json(const httplib::Request & req) {
    if (req.body.empty()) throw http_error(400, "the request body is empty; send a JSON object", "", "empty_body");
    try {
        return nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::exception & e) {
        // parse_error, and out_of_range for a number no double holds (1e999): both a 400, not a 500.
        throw http_error(400, std::string("the request body is not valid JSON: ") + e.what(), "", "invalid_json");
    }
}

// One server-sent event; false when the client is gone.
inline bool sse_write(httplib::DataSink & sink, const nlohmann::json & data, const char * event = nullptr) {
    std::string s;
    if (event) s += std::string("event: ") + event + "\n";
    s += "data: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
    return sink.write(s.data(), s.size());
}

}  // namespace muse::server
