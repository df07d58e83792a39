#include "agent/mcp/json-rpc.h"

namespace muse::agent {

using json = nlohmann::json;

namespace {

bool jsonrpc_id_valid(const json & id) {
    return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
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
        return std::nullopt;
    }
    return message;
}

std::string jsonrpc_dump(const json & message) {
    return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace muse::agent
