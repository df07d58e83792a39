#include "agent/web/web-fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "engine/text-trim.h"
#include "pull/curl-handle.h"

namespace muse::agent {

std::vector<std::string> fetch_default_types() {
    return { "text/html",
             "application/xhtml+xml",
             "text/plain",
             "text/markdown",
             "text/x-markdown",
             "text/csv",
             "text/xml",
             "application/xml",
             "application/json",
             "application/ld+json",
             "application/rss+xml",
             "application/atom+xml",
             "application/pdf",
             "application/x-pdf" };
}

namespace {

using clock_type = std::chrono::steady_clock;

const char USER_AGENT[] = "muse-web/1 (an assistant's web tool)";
const char ACCEPT[] =
    "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/json;q=0.8,"
    "application/pdf;q=0.8,*/*;q=0.1";

std::string lower(std::string s) {
    for (auto & c : s)
        c = (char)std::tolower((unsigned char)c);
    return s;
}

// "text/html; charset=UTF-8" -> ("text/html", "utf-8").
void content_type_split(const std::string & raw, std::string & type, std::string & charset) {
    const size_t semi = raw.find(';');
    type              = lower(trim(raw.substr(0, semi)));
    charset.clear();
    if (semi == std::string::npos)
        return;
    const std::string params = lower(raw.substr(semi + 1));
    const size_t      at     = params.find("charset=");
    if (at == std::string::npos)
        return;
    std::string v = params.substr(at + 8);
    v             = v.substr(0, v.find(';'));
    v             = trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        v = v.substr(1, v.size() - 2);
    charset = v;
}

const char * status_phrase(long s) {
    switch (s) {
        case 400:
            return "bad request";
        case 401:
            return "authentication required";
        case 403:
            return "forbidden";
        case 404:
            return "not found";
        case 405:
            return "method not allowed";
        case 410:
            return "gone";
        case 429:
            return "too many requests; wait before trying again";
        case 500:
            return "server error";
        case 502:
            return "bad gateway";
        case 503:
            return "service unavailable";
        case 504:
            return "gateway timeout";
    }
    return s >= 500 ? "server error" : "client error";
}

bool is_redirect(long s) {
    return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

// One request of the chain: what the callbacks saw.
struct hop {
    const std::vector<std::string> * types     = nullptr;
    const fetch_control *            ctl       = nullptr;
    size_t                           max_bytes = 0;
    CURL *                           handle    = nullptr;
    sockaddr_storage                 pinned {};
    socklen_t                        pinned_len = 0;

    bool        headers_seen  = false;
    bool        keep_body     = false;
    bool        too_large     = false;
    bool        type_refused  = false;
    bool        status_error  = false;
    bool        wrong_address = false;
    long        status        = 0;
    std::string type, charset;
    std::string body;

    // Decided on the first bytes of the body, when the status and headers are known.
    bool headers_judge() {
        headers_seen = true;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        const char * ct = nullptr;
        curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &ct);
        content_type_split(ct ? ct : "", type, charset);
        if (is_redirect(status))
            return true;  // the body of a redirect is read and dropped
        if (status >= 400) {
            status_error = true;
            return false;
        }
        if (!type.empty() && std::find(types->begin(), types->end(), type) == types->end()) {
            type_refused = true;
            return false;
        }
        keep_body = true;
        return true;
    }

    static size_t on_body(char * data, size_t size, size_t n, void * self) {
        auto *       h   = (hop *)self;
        const size_t len = size * n;
        if (!h->headers_seen && !h->headers_judge())
            return 0;
        if (!h->keep_body)
            return len;
        if (h->body.size() + len > h->max_bytes) {
            h->too_large = true;
            return 0;  // CURLE_WRITE_ERROR: the transfer stops here
        }
        h->body.append(data, len);
        return len;
    }

    static int on_progress(void * self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
        auto * h = (hop *)self;
        return h->ctl->cancel && h->ctl->cancel->load() ? 1 : 0;
    }

    // The pin's second half: whatever curl was about to connect to, only the guard's address opens.
    static curl_socket_t on_open(void * self, curlsocktype, curl_sockaddr * a) {
        auto * h = (hop *)self;
        if (!address_same(&a->addr, a->addrlen, (const sockaddr *)&h->pinned)) {
            h->wrong_address = true;
            return CURL_SOCKET_BAD;
        }
        return socket(a->family, a->socktype, a->protocol);
    }

    static bool address_same(const sockaddr * a, socklen_t len, const sockaddr * b) {
        if (a->sa_family != b->sa_family)
            return false;
        if (a->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
            return std::memcmp(&((const sockaddr_in *)a)->sin_addr, &((const sockaddr_in *)b)->sin_addr, 4) == 0;
        }
        if (a->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
            return std::memcmp(&((const sockaddr_in6 *)a)->sin6_addr, &((const sockaddr_in6 *)b)->sin6_addr, 16) == 0;
        }
        return false;
    }
};

void pinned_set(hop & h, const std::string & address) {
    std::memset(&h.pinned, 0, sizeof(h.pinned));
    auto * v4 = (sockaddr_in *)&h.pinned;
    auto * v6 = (sockaddr_in6 *)&h.pinned;
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        h.pinned_len   = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        h.pinned_len    = sizeof(sockaddr_in6);
    }
}

long ms_left(clock_type::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    return left < 1 ? 0 : (long)left;
}

}  // namespace

web_fetcher::web_fetcher(url_guard guard, fetch_limits limits, std::vector<std::string> types) :
    guard_(std::move(guard)), limits_(limits), types_(std::move(types)) {}

fetch_response web_fetcher::get(const std::string & first_url, const fetch_control & ctl) const {
    const auto own_deadline = clock_type::now() + std::chrono::seconds(std::max<int32_t>(1, limits_.timeout_secs));
    const auto deadline     = std::min(own_deadline, ctl.deadline);
    const long total_secs   = std::max<int32_t>(1, limits_.timeout_secs);

    fetch_response out;
    std::string    url = first_url;
    for (int32_t redirects = 0;; redirects++) {
        if (ctl.cancel && ctl.cancel->load())
            throw web_error(WEB_ERROR_CANCELLED, url, "cancelled");
        const url_target target = guard_.check(url);  // each hop: parsed, resolved, judged
        url                     = target.parts.url;
        out.chain.push_back(url);

        const long left = ms_left(deadline);
        if (left == 0) {
            throw web_error(WEB_ERROR_TIMEOUT, url,
                            "timed out: no complete answer within " + std::to_string(total_secs) + " s");
        }

        hop h;
        h.types     = &types_;
        h.ctl       = &ctl;
        h.max_bytes = limits_.max_bytes;
        pinned_set(h, target.address);

        pull::curl_easy_ptr handle = pull::curl_easy_make();
        CURL *              c      = handle.get();
        h.handle                   = c;
        // Every connection of this handle goes to the guard's address: no DNS lookup by curl.
        const std::string to =
            target.address.find(':') != std::string::npos ? "[" + target.address + "]" : target.address;
        pull::curl_slist_ptr connect_to;
        pull::curl_slist_add(connect_to, "::" + to + ":" + std::to_string(target.parts.port));
        pull::curl_slist_ptr headers;
        pull::curl_slist_add(headers, std::string("Accept: ") + ACCEPT);
        char errbuf[CURL_ERROR_SIZE] = {};

        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &hop::on_open);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &h);
        curl_easy_setopt(c, CURLOPT_PROXY, "");  // a proxy from the environment would connect elsewhere
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // by hand, so the guard sees every hop
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // the byte limit counts decoded bytes
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)limits_.max_bytes);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         std::min(left, (long)std::max<int32_t>(1, limits_.connect_timeout_secs) * 1000));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &hop::on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &hop::on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &h);

        const CURLcode rc = curl_easy_perform(c);
        if (!h.headers_seen) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h.status);
            const char * ct = nullptr;
            curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
            content_type_split(ct ? ct : "", h.type, h.charset);
            // an empty body never reached on_body: judge its type here
            h.type_refused = h.status >= 200 && h.status < 300 && !h.type.empty() &&
                             std::find(types_.begin(), types_.end(), h.type) == types_.end();
        }
        const size_t      mib        = limits_.max_bytes >> 20;
        const std::string limit_text = mib > 0 && limits_.max_bytes % (1u << 20) == 0
                                           ? std::to_string(mib) + " MiB"
                                           : std::to_string(limits_.max_bytes) + " bytes";
        if (h.status >= 400) {
            throw web_error(WEB_ERROR_HTTP, url,
                            "HTTP " + std::to_string(h.status) + " (" + status_phrase(h.status) + ")");
        }
        if (h.type_refused) {
            throw web_error(WEB_ERROR_CONTENT_TYPE, url,
                            "the content type '" + h.type + "' is not one the web tools read (HTML, text, JSON, PDF)");
        }
        if (h.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            throw web_error(WEB_ERROR_TOO_LARGE, url, "the page is larger than the " + limit_text + " limit");
        }
        if (h.wrong_address) {
            throw web_error(WEB_ERROR_REFUSED, url,
                            "refused: the connection went to an address other than the checked one");
        }
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            throw web_error(WEB_ERROR_CANCELLED, url, "cancelled");
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            const bool ours = ms_left(own_deadline) == 0 || ctl.deadline >= own_deadline;
            throw web_error(WEB_ERROR_TIMEOUT, url,
                            ours ? "timed out: no complete answer within " + std::to_string(total_secs) + " s"
                                 : std::string("timed out: the tool call's time ran out"));
        }
        if (rc != CURLE_OK) {
            const std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
            throw web_error(WEB_ERROR_CONNECT, url, "the request failed: " + detail);
        }
        if (is_redirect(h.status)) {
            char * next = nullptr;
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
            if (!next || !*next) {
                throw web_error(WEB_ERROR_REDIRECTS, url,
                                "HTTP " + std::to_string(h.status) + " redirect without a Location");
            }
            if (redirects + 1 > limits_.max_redirects) {
                throw web_error(WEB_ERROR_REDIRECTS, first_url,
                                "more than " + std::to_string(limits_.max_redirects) + " redirects (the last to " +
                                    std::string(next) + ")");
            }
            url = next;
            continue;
        }
        if (h.status < 200 || h.status >= 300) {
            throw web_error(WEB_ERROR_HTTP, url, "HTTP " + std::to_string(h.status) + " is not a page");
        }
        out.url          = url;
        out.status       = h.status;
        out.content_type = h.type;
        out.charset      = h.charset;
        out.body         = std::move(h.body);
        out.address      = target.address;
        return out;
    }
}

}  // namespace muse::agent
