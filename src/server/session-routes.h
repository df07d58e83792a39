#pragma once
// The web app's browser sessions: sign in with an API key (POST /v1/session) for an HttpOnly,
// SameSite=Strict cookie; who the cookie is (GET); sign out (DELETE). A cookie authenticates
// a request that carries no key header; a state-changing one must also send the session's
// CSRF token in X-Muse-CSRF, and an Origin (when sent) naming this server's Host. The
// caller's own API keys for the Me page: GET/POST /v1/me/keys, DELETE /v1/me/keys/{id}.
#include "server/data-routes.h"

#include <optional>
#include <string>

namespace muse::server {

// The cookie's name.
inline constexpr const char * k_session_cookie = "muse_session";

// The value of the request's `muse_session` cookie; "" when none.
std::string session_cookie_of(const httplib::Request & req);

// GET, HEAD and OPTIONS change nothing: no CSRF or Origin checks for them.
bool method_is_safe(const std::string & method);

// Throws 403 cross_origin when the request sends an Origin whose host:port is not its Host
// (a page of another site posting to this server).
void origin_check(const httplib::Request & req);

// The valid session of the request's cookie (its last use recorded), or nullopt when it
// carries none or one that is expired, signed out or of a revoked key.
std::optional<store::browser_session> session_of_request(server_state & st, const httplib::Request & req);

// Throws 403 csrf_failed / cross_origin for a state-changing request authenticated by `s`
// whose X-Muse-CSRF is not the session's token or whose Origin is another site.
void session_request_check(const httplib::Request & req, const store::browser_session & s);

void session_routes_add(server_state & st, const route_adder & add);

}  // namespace muse::server
