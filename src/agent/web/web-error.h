#pragma once
// What went wrong on the way to a web page, as one exception the web tools turn into a tool
// result: the URL it concerns and a kind the tests and the audit can tell apart.
#include <stdexcept>
#include <string>

namespace muse::agent {

enum web_error_kind {
    WEB_ERROR_BAD_URL,       // not an http(s) URL the guard accepts (scheme, userinfo, port, syntax)
    WEB_ERROR_REFUSED,       // the host is (or resolves to) a private, loopback, ... address
    WEB_ERROR_DNS,           // the host name does not resolve
    WEB_ERROR_CONNECT,       // no connection (refused, unreachable, TLS)
    WEB_ERROR_TIMEOUT,       // the connect or total time limit ran out
    WEB_ERROR_TOO_LARGE,     // the body passed the byte limit
    WEB_ERROR_CONTENT_TYPE,  // a type the tools do not read (images, archives, binaries)
    WEB_ERROR_HTTP,          // a 4xx or 5xx status
    WEB_ERROR_REDIRECTS,     // too many redirects, or one without a usable Location
    WEB_ERROR_CANCELLED,     // the caller's cancel flag
    WEB_ERROR_BAD_RESPONSE,  // a body the tool could not read (a broken PDF, JSON that is not SearXNG's)
};

const char * web_error_kind_name(web_error_kind k);  // "refused", "timeout", ...

class web_error : public std::runtime_error {
  public:
    web_error(web_error_kind kind, std::string url, const std::string & reason) :
        std::runtime_error(url + ": " + reason), kind_(kind), url_(std::move(url)), reason_(reason) {}

    web_error_kind      kind() const { return kind_; }
    const std::string & url() const { return url_; }
    const std::string & reason() const { return reason_; }  // the message without the URL

  private:
    web_error_kind kind_;
    std::string    url_;
    std::string    reason_;
};

}  // namespace muse::agent
