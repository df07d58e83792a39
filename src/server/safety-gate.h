#pragma once
// The safety policy at the server's edge, the same for every wire format: the request's user
// turn is checked before it runs, the answer while it streams and once it is done; every
// verdict that is not a plain allow goes to the audit (a digest of the content, the content
// itself only when the operator turned that on). A refusal is answered in the wire format's own
// way: OpenAI's finish_reason "content_filter", Anthropic's stop_reason "refusal", a Responses
// "refusal" content part.
#include "safety/checker.h"
#include "server/data-routes.h"
#include "server/server-state.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace httplib {
struct Response;
}

namespace muse::server {

// The conversation the guard reads: the call's messages' text, oldest first.
std::vector<safety::guard_turn> safety_turns(const chat_call & call);

// Checks the call's last user turn (ALLOW when the server runs without a policy) and audits it.
safety::verdict safety_input_check(server_state & st, const caller & who, const chat_call & call, const std::string & route);

// Checks a finished answer (its reasoning and text) and audits it.
safety::verdict safety_output_check(server_state & st, const caller & who, const std::vector<safety::guard_turn> & turns,
                                    const std::string & answer, const std::string & route);

// Audits a verdict that is not a plain allow (a store failure is logged, not thrown).
void safety_audit(server_state & st, const caller & who, const safety::verdict & v, safety::check_point point,
                  const std::string & route, const std::string & content);

// The `muse.safety` object of a response: action, category (and its name), source, rule, where.
nlohmann::json safety_json(const server_state & st, const safety::verdict & v, safety::check_point point);

// The text that replaces an answer the policy stopped.
std::string safety_reply_text(const safety::verdict & v);

// Answers a request whose input the policy refused, without running it: a complete response
// (or a short stream when `stream`) in the route's wire format.
void safety_refusal_send(server_state & st, httplib::Response & res, wire_format wire, const safety::verdict & v,
                         bool stream, const std::string & model);
// The same for the Responses API (`skeleton`: the response object to complete).
void safety_refusal_send_responses(server_state & st, httplib::Response & res, const safety::verdict & v, bool stream,
                                   nlohmann::json skeleton);

// An answer checked while it streams: each choice's text is pushed as it arrives, and the first
// verdict that blocks stops the stream (push returns it before the text that tipped it is sent).
class safety_stream {
  public:
    safety_stream(server_state & st, const caller & who, std::vector<safety::guard_turn> turns, std::string route);
    ~safety_stream();
    // ALLOW, or the verdict that stops the stream (audited once).
    safety::verdict push(const std::string & text);
    // The last check of the whole answer: what to add (warn's note) or to stop.
    safety::verdict finish();
    bool active() const { return checker_ != nullptr; }

  private:
    server_state &                           st_;
    caller                                   who_;
    std::string                              route_;
    std::string                              seen_;
    std::unique_ptr<safety::stream_checker>  checker_;
};

}  // namespace muse::server
