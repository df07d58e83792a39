#pragma once
// One GET for the web tools through libcurl, behind the url_guard: each hop of a redirect chain
// is checked by the guard and the connection is pinned to the address it returned (curl never
// resolves the name itself), with limits on bytes, time and content type.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/web/url-guard.h"

namespace muse::agent {

struct fetch_limits {
    size_t  max_bytes            = 5u << 20;  // of the (decoded) body; the transfer stops past it
    int32_t timeout_secs         = 20;        // the whole chain, redirects included
    int32_t connect_timeout_secs = 10;        // each connection
    int32_t max_redirects        = 5;
};

// The types the tools read; others are refused before their body is read. A parameter
// (";charset=...") is ignored; a response with no type at all is let through for the caller to sniff.
std::vector<std::string> fetch_default_types();

struct fetch_control {
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    const std::atomic<bool> *             cancel   = nullptr;
};

struct fetch_response {
    std::string              url;  // the final URL, after redirects
    long                     status = 0;
    std::string              content_type;  // lower case, no parameters; "" when the server sent none
    std::string              charset;       // lower case; "" when not sent
    std::string              body;
    std::vector<std::string> chain;    // every URL asked for, the first one included
    std::string              address;  // where the last hop connected
};

class web_fetcher {
  public:
    explicit web_fetcher(url_guard guard, fetch_limits limits = {},
                         std::vector<std::string> types = fetch_default_types());

    // Throws web_error naming the URL and the reason; std::bad_alloc and the like for the host's own failures.
    fetch_response get(const std::string & url, const fetch_control & ctl = {}) const;

    const url_guard &    guard() const { return guard_; }
    const fetch_limits & limits() const { return limits_; }

  private:
    url_guard                guard_;
    fetch_limits             limits_;
    std::vector<std::string> types_;
};

}  // namespace muse::agent
