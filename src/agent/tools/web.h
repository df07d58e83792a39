#pragma once
// The web tools, off unless the operator turns them on: open_url (fetch a page, keep it, show a
// window of numbered lines with its links), find_in_page (search the last opened page) and,
// when a search provider is configured, web_search. Every fetch goes through the SSRF guard
// (agent/web/url-guard.h): private, loopback and other inside addresses are refused unless
// the operator allowed the host. The last page of each conversation is kept in a bounded LRU.
#include <memory>
#include <string>
#include <vector>

#include "agent/tool.h"
#include "agent/web/search-provider.h"
#include "agent/web/web-fetch.h"

namespace muse::agent {

struct web_options {
    std::vector<std::string> allow_hosts;                // "host" or "host:port" the guard lets through
    std::string              search_url;                 // a SearXNG base URL; empty: no web_search tool
    fetch_limits             limits;                     // max_bytes 5 MiB, timeout 20 s, 5 redirects
    int32_t                  window_lines      = 200;    // lines open_url shows at once
    size_t                   window_chars      = 24000;  // and at most this many bytes of them
    size_t                   max_conversations = 64;     // pages kept (one per conversation)
    int32_t                  max_matches       = 30;     // find_in_page lines shown
    int32_t                  max_results       = 10;     // web_search results at most
};

// open_url and find_in_page, plus web_search when options.search_url is set. Throws
// std::invalid_argument for an allow-list entry or a search URL that does not parse.
std::vector<tool_ptr> web_tools(const web_options & options);

// The same with a search provider of the caller's (nullptr: no web_search tool).
std::vector<tool_ptr> web_tools(const web_options & options, std::shared_ptr<search_provider> provider);

}  // namespace muse::agent
