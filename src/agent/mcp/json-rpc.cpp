#include "agent/mcp/json-rpc.h"

#include <algorithm>

namespace muse::agent {

using json = nlohmann::json;

namespace {

bool jsonrpc_id_valid(const json & id) {
    return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
}

// Each byte that does not start a valid UTF-8 character becomes U+FFFD.
std::string jsonrpc_utf8_clean(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c   = (unsigned char) s[i];
        const size_t        len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool                ok  = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; k++) {
            ok = ((unsigned char) s[i + k] & 0xC0) == 0x80;
        }
        if (ok && len > 1) {
            uint32_t cp = c & (0x7F >> len);
            for (size_t k = 1; k < len; k++) {
                cp = (cp << 6) | ((unsigned char) s[i + k] & 0x3F);
            }
            const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
            ok                 = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            i++;
        }
    }
    return out;
}

}  // namespace

jsonrpc_kind jsonrpc_classify(const json & message) {
    if (!message.is_object()) {
        return JSONRPC_KIND_INVALID;
    }
    auto method = message.find("method");
    auto id     = message.find("id");
    if (method != message.end()) {
        if (!method->is_string()) {
            return JSONRPC_KIND_INVALID;
        }
        if (id == message.end()) {
            return JSONRPC_KIND_NOTIFICATION;
        }
        return jsonrpc_id_valid(*id) ? JSONRPC_KIND_REQUEST : JSONRPC_KIND_INVALID;
    }
    if (id == message.end() || !jsonrpc_id_valid(*id)) {
        return JSONRPC_KIND_INVALID;
    }
    if (message.contains("result") || message.contains("error")) {
        return JSONRPC_KIND_RESPONSE;
    }
    return JSONRPC_KIND_INVALID;
}

std::optional<int64_t> jsonrpc_response_id(const json & message) {
    if (jsonrpc_classify(message) != JSONRPC_KIND_RESPONSE) {
        return std::nullopt;
    }
    const json & id = message["id"];
    if (id.is_number_integer()) {
        return id.get<int64_t>();
    }
    if (id.is_number_unsigned() && id.get<uint64_t>() <= uint64_t(INT64_MAX)) {
        return int64_t(id.get<uint64_t>());
    }
    return std::nullopt;
}

json jsonrpc_request(int64_t id, const std::string & method, json params) {
    json out = { { "jsonrpc", "2.0" }, { "id", id }, { "method", method } };
    if (!params.is_null()) {
        out["params"] = std::move(params);
    }
    return out;
}

json jsonrpc_notification(const std::string & method, json params) {
    json out = { { "jsonrpc", "2.0" }, { "method", method } };
    if (!params.is_null()) {
        out["params"] = std::move(params);
    }
    return out;
}

json jsonrpc_result(const json & id, json result) {
    return { { "jsonrpc", "2.0" }, { "id", id }, { "result", std::move(result) } };
}

json jsonrpc_error(const json & id, int32_t code, const std::string & message) {
    return {
        { "jsonrpc", "2.0" },
        { "id", id },
        { "error", { { "code", code }, { "message", message } } },
    };
}

std::string jsonrpc_error_text(const json & error) {
    constexpr size_t max_chars = 2000;
    std::string      out;
    if (error.is_object()) {
        auto code    = error.find("code");
        auto message = error.find("message");
        if (code != error.end() && code->is_number_integer()) {
            out = std::to_string(code->get<int64_t>()) + ": ";
        }
        if (message != error.end() && message->is_string()) {
            out += message->get<std::string>();
        } else {
            out += "(no message)";
        }
    } else {
        out = jsonrpc_dump(error);
    }
    if (out.size() > max_chars) {
        size_t cut = max_chars;
        while (cut > 0 && (uint8_t(out[cut]) & 0xC0) == 0x80) {
            cut--;
        }
        out = out.substr(0, cut) + "...";
    }
    return out;
}

std::optional<json> jsonrpc_parse(std::string_view text) {
    int32_t depth     = 0;
    bool    in_string = false;
    bool    escaped   = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > JSONRPC_MAX_DEPTH) {
                return std::nullopt;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    json message = json::parse(text, nullptr, false);
    if (message.is_discarded()) {
        const std::string clean = jsonrpc_utf8_clean(text);
        if (clean.size() == text.size() && clean == text) {
            return std::nullopt;
        }
        message = json::parse(clean, nullptr, false);
        if (message.is_discarded()) {
            return std::nullopt;
        }
    }
    return message;
}

std::optional<int64_t> jsonrpc_unreadable_id(std::string_view text, std::string * why) {
    int32_t depth = 0, max_depth = 0;
    bool    in_string = false, escaped = false;
    size_t  string_start = 0;
    std::optional<int64_t> id;
    for (size_t i = 0; i < text.size(); i++) {
        const char c = text[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
                // A key of the top-level object: "id" followed by ':' and an integer.
                if (depth == 1 && !id && text.substr(string_start, i - string_start) == "id") {
                    size_t k = i + 1;
                    while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) k++;
                    if (k < text.size() && text[k] == ':') {
                        k++;
                        while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) k++;
                        size_t  digits = k;
                        int64_t v      = 0;
                        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9' && digits - k < 18) {
                            v = v * 10 + (text[digits] - '0');
                            digits++;
                        }
                        if (digits > k && (digits == text.size() || text[digits] == ',' || text[digits] == ' ' || text[digits] == '}')) {
                            id = v;
                        }
                    }
                }
            }
        } else if (c == '"') {
            in_string    = true;
            string_start = i + 1;
        } else if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    if (!id || text.empty() || text[0] != '{') {
        return std::nullopt;
    }
    if (why) {
        *why = max_depth > JSONRPC_MAX_DEPTH ? "the server's answer is JSON nested deeper than " + std::to_string(JSONRPC_MAX_DEPTH) + " levels"
                                             : "the server's answer is not valid JSON";
    }
    return id;
}

std::string jsonrpc_dump(const json & message) {
    return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace muse::agent
