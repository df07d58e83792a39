#pragma once
// What every route handler reaches: the model, the scheduler, the store, the settings and
// the metrics. Owned by api_server; handlers get a reference.
#include "server/chat-call.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "store/database.h"

#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace muse::server {

struct server_config {
    std::string      host    = "127.0.0.1";
    int              port    = 8080;
    bool             no_auth = false;
    std::string      model_id;  // what /v1/models lists and responses name
    scheduler_params sched;
    server_limits    limits;
};

struct server_state {
    model &               mdl;
    scheduler &           sched;
    store::database &     db;
    const server_config & cfg;
    metrics &             stats;
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
void responses_input_tokens_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who);

}  // namespace muse::server
