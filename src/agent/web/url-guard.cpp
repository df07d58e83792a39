#include "agent/web/url-guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace muse::agent {

const char * web_error_kind_name(web_error_kind k) {
    switch (k) {
        case WEB_ERROR_BAD_URL:
            return "bad_url";
        case WEB_ERROR_REFUSED:
            return "refused";
        case WEB_ERROR_DNS:
            return "dns";
        case WEB_ERROR_CONNECT:
            return "connect";
        case WEB_ERROR_TIMEOUT:
            return "timeout";
        case WEB_ERROR_TOO_LARGE:
            return "too_large";
        case WEB_ERROR_CONTENT_TYPE:
            return "content_type";
        case WEB_ERROR_HTTP:
            return "http";
        case WEB_ERROR_REDIRECTS:
            return "redirects";
        case WEB_ERROR_CANCELLED:
            return "cancelled";
        case WEB_ERROR_BAD_RESPONSE:
            return "bad_response";
    }
    return "unknown";
}

namespace {

struct curl_url_deleter {
    void operator()(CURLU * u) const { curl_url_cleanup(u); }
};

struct curl_string_deleter {
    void operator()(char * s) const { curl_free(s); }
};

struct addrinfo_deleter {
    void operator()(addrinfo * a) const { freeaddrinfo(a); }
};

std::string lower(std::string s) {
    for (auto & c : s)
        c = (char)std::tolower((unsigned char)c);
    return s;
}

// One part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> url_part(CURLU * u, CURLUPart what, unsigned int flags = 0) {
    char * raw = nullptr;
    if (curl_url_get(u, what, &raw, flags) != CURLUE_OK || !raw)
        return std::nullopt;
    std::unique_ptr<char, curl_string_deleter> part(raw);
    return std::string(part.get());
}

// The host of an allow-list entry or a URL compared as the resolver sees it: lower case, no
// brackets, no trailing dot.
std::string host_key(std::string host) {
    host = lower(std::move(host));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    while (!host.empty() && host.back() == '.')
        host.pop_back();
    return host;
}

struct v4_range {
    uint32_t     net;
    int          bits;
    const char * why;
};

// Ordered: the first range that holds the address names it.
const v4_range V4_BLOCKED[] = {
    { 0xFFFFFFFFu, 32, "the broadcast address" },
    { 0x00000000u, 8, "a 'this network' address (0.0.0.0/8)" },
    { 0x0A000000u, 8, "a private address (10.0.0.0/8)" },
    { 0x64400000u, 10, "a shared carrier-grade NAT address (100.64.0.0/10)" },
    { 0x7F000000u, 8, "a loopback address (127.0.0.0/8)" },
    { 0xA9FE0000u, 16, "a link-local address (169.254.0.0/16, cloud metadata lives here)" },
    { 0xAC100000u, 12, "a private address (172.16.0.0/12)" },
    { 0xC0000000u, 24, "an IETF protocol address (192.0.0.0/24)" },
    { 0xC0000200u, 24, "a documentation address (192.0.2.0/24)" },
    { 0xC0586300u, 24, "a 6to4 relay address (192.88.99.0/24)" },
    { 0xC0A80000u, 16, "a private address (192.168.0.0/16)" },
    { 0xC6120000u, 15, "a benchmarking address (198.18.0.0/15)" },
    { 0xC6336400u, 24, "a documentation address (198.51.100.0/24)" },
    { 0xCB007100u, 24, "a documentation address (203.0.113.0/24)" },
    { 0xE0000000u, 4, "a multicast address (224.0.0.0/4)" },
    { 0xF0000000u, 4, "a reserved address (240.0.0.0/4)" },
};

std::optional<std::string> v4_blocked_why(uint32_t a) {
    for (const auto & r : V4_BLOCKED) {
        const uint32_t mask = r.bits == 0 ? 0 : 0xFFFFFFFFu << (32 - r.bits);
        if ((a & mask) == r.net)
            return std::string(r.why);
    }
    return std::nullopt;
}

uint32_t v4_at(const unsigned char * b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

bool v6_prefix(const unsigned char * a, const unsigned char * p, int bits) {
    const int whole = bits / 8;
    if (std::memcmp(a, p, whole) != 0)
        return false;
    const int rest = bits % 8;
    if (rest == 0)
        return true;
    const unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == (p[whole] & mask);
}

std::optional<std::string> v6_blocked_why(const unsigned char * a) {
    static constexpr unsigned char zero[16]   = {};
    static constexpr unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
    static constexpr unsigned char nat64[12]  = { 0, 0x64, 0xFF, 0x9B };
    unsigned char                  loop[16]   = {};
    loop[15]                                  = 1;
    // Forms that carry an IPv4 address: judged by that address, since that is where they lead.
    auto embedded = [&](const unsigned char * v4, const char * form) -> std::optional<std::string> {
        if (auto why = v4_blocked_why(v4_at(v4)))
            return std::string(form) + " of " + *why;
        return std::nullopt;
    };
    if (std::memcmp(a, zero, 16) == 0)
        return std::string("the unspecified address (::)");
    if (std::memcmp(a, loop, 16) == 0)
        return std::string("a loopback address (::1)");
    if (std::memcmp(a, mapped, 12) == 0) {
        if (auto why = embedded(a + 12, "an IPv4-mapped form"))
            return why;
        return std::nullopt;
    }
    if (std::memcmp(a, zero, 12) == 0) {
        if (auto why = embedded(a + 12, "an IPv4-compatible form"))
            return why;
        return std::string("a reserved address (::/8)");
    }
    if (std::memcmp(a, nat64, 12) == 0)
        return embedded(a + 12, "a NAT64 form");
    const unsigned char p_6to4[] = { 0x20, 0x02 };
    if (v6_prefix(a, p_6to4, 16))
        return embedded(a + 2, "a 6to4 form");
    struct v6_range {
        unsigned char p[4];
        int           bits;
        const char *  why;
    };
    static constexpr v6_range ranges[] = {
        { { 0x00, 0x00 }, 8, "a reserved address (::/8)" },
        { { 0x00, 0x64, 0xFF, 0x9B }, 32, "a local-use NAT64 address (64:ff9b::/32)" },
        { { 0x01, 0x00, 0x00, 0x00 }, 32, "a discard-only address (100::/64)" },
        { { 0x20, 0x01, 0x0D, 0xB8 }, 32, "a documentation address (2001:db8::/32)" },
        { { 0xFC, 0x00 }, 7, "a unique-local address (fc00::/7)" },
        { { 0xFE, 0x80 }, 10, "a link-local address (fe80::/10)" },
        { { 0xFE, 0xC0 }, 10, "a site-local address (fec0::/10)" },
        { { 0xFF, 0x00 }, 8, "a multicast address (ff00::/8)" },
    };
    for (const auto & r : ranges) {
        if (v6_prefix(a, r.p, r.bits))
            return std::string(r.why);
    }
    return std::nullopt;
}

}  // namespace

url_parts url_parse(const std::string & url) {
    auto bad = [&](const std::string & why) { return web_error(WEB_ERROR_BAD_URL, url, why); };
    if (url.empty())
        throw bad("the URL is empty");
    if (url.size() > 8192)
        throw bad("the URL is longer than 8192 bytes");
    for (unsigned char c : url) {
        if (c < 0x21 || c == 0x7F)
            throw bad("the URL holds a space or control character; percent-encode it");
    }
    std::unique_ptr<CURLU, curl_url_deleter> u(curl_url());
    if (!u)
        throw std::bad_alloc();
    // NON_SUPPORT_SCHEME: parse gopher://, ftp:// etc. too, so the refusal names the scheme.
    const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        throw bad(std::string("not an absolute http(s) URL (") + curl_url_strerror(rc) +
                  "); write it as https://host/path");
    }
    url_parts p;
    p.scheme = lower(url_part(u.get(), CURLUPART_SCHEME).value_or(""));
    if (p.scheme != "http" && p.scheme != "https") {
        throw bad("the scheme '" + p.scheme + "' is not allowed; only http and https URLs are fetched");
    }
    if (url_part(u.get(), CURLUPART_USER) || url_part(u.get(), CURLUPART_PASSWORD) ||
        url_part(u.get(), CURLUPART_OPTIONS)) {
        throw bad("the URL names a user (user@host); credentials in URLs are not allowed");
    }
    if (url_part(u.get(), CURLUPART_ZONEID))
        throw bad("IPv6 zone ids (%eth0) are not allowed");
    const std::string host = url_part(u.get(), CURLUPART_HOST).value_or("");
    if (host.empty())
        throw bad("the URL has no host");
    p.host_is_ipv6 = host.front() == '[';
    p.host         = host_key(host);
    if (p.host.empty())
        throw bad("the URL has no host");
    const std::string port = url_part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
    const long        n    = std::strtol(port.c_str(), nullptr, 10);
    if (n < 1 || n > 65535)
        throw bad("the port '" + port + "' is outside 1..65535");
    p.port = (uint16_t)n;
    curl_url_set(u.get(), CURLUPART_FRAGMENT, nullptr, 0);
    p.url = url_part(u.get(), CURLUPART_URL).value_or(url);
    return p;
}

std::optional<std::string> ip_blocked_why(const std::string & address) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, address.c_str(), buf) == 1)
        return v4_blocked_why(v4_at(buf));
    if (inet_pton(AF_INET6, address.c_str(), buf) == 1)
        return v6_blocked_why(buf);
    return std::string("not an IP address");
}

url_guard::url_guard(const std::vector<std::string> & allow_hosts) {
    for (const auto & e : allow_hosts)
        allow_add(e);
}

void url_guard::allow_add(const std::string & entry) {
    auto bad = [&](const std::string & why) {
        return std::invalid_argument("allowed host '" + entry + "': " + why +
                                     "; write host, host:port, [v6] or [v6]:port");
    };
    std::string host = entry;
    uint16_t    port = 0;
    std::string port_text;
    if (!entry.empty() && entry.front() == '[') {
        const size_t close = entry.find(']');
        if (close == std::string::npos)
            throw bad("no closing ']'");
        host = entry.substr(0, close + 1);
        if (close + 1 < entry.size()) {
            if (entry[close + 1] != ':')
                throw bad("text after ']' that is not :port");
            port_text = entry.substr(close + 2);
        }
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
        host      = entry.substr(0, entry.find(':'));
        port_text = entry.substr(entry.find(':') + 1);
    }
    if (!port_text.empty() || (host.size() < entry.size() && port_text.empty())) {
        char *     end = nullptr;
        const long n   = std::strtol(port_text.c_str(), &end, 10);
        if (port_text.empty() || *end != '\0' || n < 1 || n > 65535)
            throw bad("the port is not in 1..65535");
        port = (uint16_t)n;
    }
    host = host_key(host);
    if (host.empty())
        throw bad("no host");
    allow_.push_back({ host, port });
}

bool url_guard::allows(const std::string & host, uint16_t port) const {
    const std::string key = host_key(host);
    for (const auto & e : allow_) {
        if (e.host == key && (e.port == 0 || e.port == port))
            return true;
    }
    return false;
}

url_target url_guard::check(const std::string & url) const {
    url_target t;
    t.parts                  = url_parse(url);
    t.allowed                = allows(t.parts.host, t.parts.port);
    const std::string & host = t.parts.host;

    addrinfo hints {};
    hints.ai_family                                 = AF_UNSPEC;
    hints.ai_socktype                               = SOCK_STREAM;
    addrinfo *                                  raw = nullptr;
    const int                                   rc  = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
    std::unique_ptr<addrinfo, addrinfo_deleter> list(raw);
    if (rc != 0) {
        const std::string why = rc == EAI_AGAIN ? "a temporary DNS failure; try again later"
                                                : "does not resolve; check the spelling of the host";
        throw web_error(WEB_ERROR_DNS, t.parts.url, "the host '" + host + "' " + why + " (" + gai_strerror(rc) + ")");
    }
    // Every address of the answer must be public: a name that also points inside is refused,
    // whichever address a connection would have tried first.
    for (addrinfo * a = list.get(); a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ai_family == AF_INET) {
            inet_ntop(AF_INET, &((sockaddr_in *)a->ai_addr)->sin_addr, text, sizeof(text));
        } else if (a->ai_family == AF_INET6) {
            inet_ntop(AF_INET6, &((sockaddr_in6 *)a->ai_addr)->sin6_addr, text, sizeof(text));
        } else {
            continue;
        }
        if (!t.allowed) {
            if (auto why = ip_blocked_why(text)) {
                const std::string shown = host == text ? std::string(text) : "'" + host + "' resolves to " + text;
                throw web_error(WEB_ERROR_REFUSED, t.parts.url,
                                "refused: " + shown + ", " + *why +
                                    "; only public addresses are fetched unless the operator allows the host");
            }
        }
        if (t.address.empty())
            t.address = text;
    }
    if (t.address.empty()) {
        throw web_error(WEB_ERROR_DNS, t.parts.url, "the host '" + host + "' has no IPv4 or IPv6 address");
    }
    return t;
}

}  // namespace muse::agent
