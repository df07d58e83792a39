#pragma once
// The SSRF guard of the web tools: a URL the model gave is fetched only when it is http(s),
// names no user, and its host resolves to public addresses alone — never loopback, private,
// link-local, unique-local, multicast, reserved or an IPv4-mapped form of those — unless the
// operator allowed that host. The check returns the one address to connect to, and the fetch
// connects there and nowhere else, so a second DNS answer cannot point it inside (rebinding).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/web/web-error.h"

namespace muse::agent {

// A URL taken apart the way libcurl reads it (the fetch uses libcurl, so both agree on it).
struct url_parts {
    std::string url;     // normalised, without the fragment
    std::string scheme;  // "http" or "https"
    std::string host;    // lower case; an IPv6 literal without its brackets
    uint16_t    port         = 0;
    bool        host_is_ipv6 = false;
};

// Throws web_error WEB_ERROR_BAD_URL for anything but an absolute http(s) URL with a host,
// no userinfo and a port in 1..65535.
url_parts url_parse(const std::string & url);

// Why the numeric address (IPv4 dotted or IPv6 text) must not be reached: "loopback",
// "private (10.0.0.0/8)", ...; nullopt for a public address. Text that is no address is
// "not an IP address".
std::optional<std::string> ip_blocked_why(const std::string & address);

struct url_target {
    url_parts   parts;
    std::string address;          // numeric, what to connect to (IPv6 without brackets)
    bool        allowed = false;  // the host was on the operator's allow-list (the address check was skipped)
};

class url_guard {
  public:
    // Entries are "host" (any port) or "host:port"; "[v6]" or "[v6]:port" for IPv6 literals.
    // Throws std::invalid_argument naming an entry that is not one of those.
    explicit url_guard(const std::vector<std::string> & allow_hosts = {});

    void allow_add(const std::string & entry);
    bool allows(const std::string & host, uint16_t port) const;

    // Parses and resolves `url` (getaddrinfo); throws web_error BAD_URL, DNS or REFUSED.
    url_target check(const std::string & url) const;

  private:
    struct allow_entry {
        std::string host;
        uint16_t    port = 0;  // 0: any
    };

    std::vector<allow_entry> allow_;
};

}  // namespace muse::agent
