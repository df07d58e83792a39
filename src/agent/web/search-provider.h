#pragma once
// Web search behind one interface, so the tool does not care who answers; the first provider
// is a SearXNG instance the operator runs (its JSON API), fetched through web_fetcher so the
// same guard and limits apply to it as to any page.
#include <memory>
#include <string>
#include <vector>

#include "agent/web/web-fetch.h"

namespace muse::agent {

struct search_result {
    std::string title;
    std::string url;
    std::string snippet;
};

class search_provider {
  public:
    virtual ~search_provider()       = default;
    virtual std::string name() const = 0;  // for messages: "SearXNG at http://..."
    // At most `count` results; throws web_error (the instance is down, refused, answered nonsense).
    virtual std::vector<search_result> search(const std::string & query, int32_t count, const fetch_control & ctl) = 0;
};

// SearXNG's GET <base>/search?q=...&format=json, reading results[].title/url/content. The
// instance's host:port is allowed implicitly (operators often run it on localhost); the
// results' own URLs are not. Throws std::invalid_argument for a base that is not an http(s) URL.
std::shared_ptr<search_provider> searxng_provider_make(const std::string & base_url, url_guard guard,
                                                       fetch_limits limits = {});

// "a b&c" -> "a+b%26c" (application/x-www-form-urlencoded, UTF-8 bytes kept as %XX).
std::string query_encode(const std::string & text);

}  // namespace muse::agent
