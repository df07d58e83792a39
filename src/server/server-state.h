#pragma once
// What every route handler reaches: the model, the scheduler, the store, the settings and
// the metrics. Owned by api_server; handlers get a reference.
#include "agent/loop.h"
#include "server/chat-call.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "store/database.h"

#include <memory>
#include <set>
#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace muse {
class embedder;
}  // namespace muse

namespace muse::safety {
class checker;
}  // namespace muse::safety

namespace muse::server {

// Server-side tools: off unless the operator turns them on (`muse serve --tools`, `--mcp`).
struct agent_config {
    std::set<std::string>        tools;      // enabled: tool_set_names()
    agent::tool_ptr              python;     // the sandboxed interpreter, when enabled
    std::vector<agent::tool_ptr> mcp_tools;  // the operator's MCP servers' tools
    std::vector<agent::tool_ptr> web_tools;  // open_url, find_in_page, web_search (one page per workspace)
    agent::loop_limits           limits;
    int32_t                      subagent_max_tokens = 512;
};

// The web app (web-assets.h) and its browser sessions (session-routes.h).
struct web_config {
    bool        enabled = true;              // --no-web: false (GET / is the API's 404)
    std::string dir;                         // --web-dir: the app's files from disk; "": the embedded ones
    int64_t     session_secs  = 7 * 86400;   // --session-days: a sign-in's lifetime
    bool        cookie_secure = false;       // --cookie-secure: the cookie only over HTTPS (a TLS proxy)
    std::string no_auth_csrf;                // --no-auth: the per-process token GET /v1/session shows
};

struct server_config {
    std::string      host    = "127.0.0.1";
    int              port    = 8080;
    bool             no_auth = false;
    std::string      model_id;  // what /v1/models lists and responses name
    scheduler_params sched;
    server_limits    limits;
    agent_config     agent;
    int              max_connections     = 256;  // open at once; one more gets 503 (connection-guard.h)
    double           header_timeout_secs = 10;   // a request's head must arrive within this
    web_config       web;
};

struct server_state {
    model &               mdl;
    scheduler &           sched;
    store::database &     db;
    const server_config & cfg;
    metrics &             stats;
    embedder *            embed = nullptr;  // `muse serve --embedding-model`; nullptr: none
    // The policy every request meets (`muse serve --policy`, `--guard-model`); nullptr: none
    // (`--policy off`).
    const safety::checker * safety = nullptr;
};

// The caller of a /v1 route, after authentication.
using caller = store::user;

// Route handlers (one file per wire format / resource family).
void chat_completions_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
void messages_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
// What a request's prompt would hold, without running it: Anthropic's
// POST /v1/messages/count_tokens ({"input_tokens": N}) and OpenAI's
// POST /v1/responses/input_tokens ({"object": "response.input_tokens", "input_tokens": N}).
void messages_count_tokens_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
// chat completions with muse.tools (openai-agent-route.cpp): the names, empty when none.
std::vector<std::string> chat_agent_tool_names(const nlohmann::json & body);
// `branch`: the stored conversation it continues (conversation-branch.h; its id "" when none).
struct conversation_branch;
void chat_completions_agent_handle(server_state & st, nlohmann::json body, httplib::Response & res, const caller & who,
                                   const std::vector<std::string> & names, std::shared_ptr<conversation_branch> branch);
// The Responses API (responses-route.cpp) and the artifacts agents make.
void responses_create_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
void responses_get_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
void responses_delete_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
void artifact_get_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
void responses_input_tokens_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);
// POST /v1/embeddings (embeddings-route.cpp).
void embeddings_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);

}  // namespace muse::server
