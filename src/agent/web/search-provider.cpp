#include "agent/web/search-provider.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace muse::agent {

std::string query_encode(const std::string & text) {
    static const char hex[] = "0123456789ABCDEF";
    std::string       out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += (char)c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

namespace {

using json = nlohmann::json;

std::string string_field(const json & o, const char * key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class searxng_provider final : public search_provider {
  public:
    searxng_provider(std::string base, url_guard guard, fetch_limits limits) :
        base_(std::move(base)), fetcher_(std::move(guard), limits, { "application/json" }) {}

    std::string name() const override { return "SearXNG at " + base_; }

    std::vector<search_result> search(const std::string & query, int32_t count, const fetch_control & ctl) override {
        const std::string url = base_ + "/search?q=" + query_encode(query) + "&format=json";
        fetch_response    r;
        try {
            r = fetcher_.get(url, ctl);
        } catch (const web_error & e) {
            if (e.kind() == WEB_ERROR_HTTP && e.reason().find("403") != std::string::npos) {
                throw web_error(
                    e.kind(), e.url(),
                    e.reason() + "; the SearXNG instance must list json under search.formats in its settings.yml");
            }
            throw;
        }
        json doc = json::parse(r.body, nullptr, false);
        if (doc.is_discarded() || !doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
            throw web_error(WEB_ERROR_BAD_RESPONSE, url, "the answer is not SearXNG's JSON (no results array)");
        }
        std::vector<search_result> out;
        for (const auto & item : doc["results"]) {
            if ((int32_t)out.size() >= count)
                break;
            if (!item.is_object())
                continue;
            search_result s { string_field(item, "title"), string_field(item, "url"), string_field(item, "content") };
            if (s.url.empty())
                continue;
            out.push_back(std::move(s));
        }
        return out;
    }

  private:
    std::string base_;
    web_fetcher fetcher_;
};

}  // namespace

std::shared_ptr<search_provider> searxng_provider_make(const std::string & base_url, url_guard guard,
                                                       fetch_limits limits) {
    url_parts p;
    try {
        p = url_parse(base_url);
    } catch (const web_error & e) {
        throw std::invalid_argument("search URL " + std::string(e.what()) + "; give the SearXNG instance's base URL");
    }
    std::string  base = p.url;
    const size_t q    = base.find('?');
    if (q != std::string::npos)
        base = base.substr(0, q);
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    if (base.size() >= 7 && base.compare(base.size() - 7, 7, "/search") == 0)
        base.resize(base.size() - 7);
    const std::string host = p.host_is_ipv6 ? "[" + p.host + "]" : p.host;
    guard.allow_add(host + ":" + std::to_string(p.port));
    return std::make_shared<searxng_provider>(base, std::move(guard), limits);
}

}  // namespace muse::agent
