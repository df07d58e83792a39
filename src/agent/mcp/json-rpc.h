#pragma once
// JSON-RPC 2.0 messages as MCP uses them: what came in (request, notification, response) and
// the messages muse sends. Everything read is hostile: classification checks every type.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace muse::agent {

enum jsonrpc_kind {
    JSONRPC_KIND_REQUEST,       // method and id: the server asks us something
    JSONRPC_KIND_NOTIFICATION,  // method, no id
    JSONRPC_KIND_RESPONSE,      // id and result or error: an answer to one of ours
    JSONRPC_KIND_INVALID,
};

jsonrpc_kind jsonrpc_classify(const nlohmann::json & message);

// The id of a response to one of our requests (we only send integer ids).
std::optional<int64_t> jsonrpc_response_id(const nlohmann::json & message);

nlohmann::json jsonrpc_request(int64_t id, const std::string & method, nlohmann::json params);
nlohmann::json jsonrpc_notification(const std::string & method, nlohmann::json params);
nlohmann::json jsonrpc_result(const nlohmann::json & id, nlohmann::json result);
nlohmann::json jsonrpc_error(const nlohmann::json & id, int32_t code, const std::string & message);

// A response's "error" member as a short line: "-32602: Invalid params".
std::string jsonrpc_error_text(const nlohmann::json & error);

// A message from the server, or nullopt when it is not JSON or nested deeper than
// JSONRPC_MAX_DEPTH (copying or printing such a value would recurse off the stack).
// Bytes that are not UTF-8 are replaced (U+FFFD) rather than the message dropped.
std::optional<nlohmann::json> jsonrpc_parse(std::string_view text);
constexpr int32_t             JSONRPC_MAX_DEPTH = 128;

// For a message jsonrpc_parse refused: the integer "id" of its top-level object when that can
// be read before the trouble, so the request it answers fails at once (not at its deadline),
// with `why` saying what was wrong.
std::optional<int64_t> jsonrpc_unreadable_id(std::string_view text, std::string * why);

// One line of JSON, never throwing on invalid UTF-8 (it is replaced).
std::string jsonrpc_dump(const nlohmann::json & message);

// JSON-RPC's reserved error codes that muse sends.
constexpr int32_t JSONRPC_METHOD_NOT_FOUND = -32601;

}  // namespace muse::agent
