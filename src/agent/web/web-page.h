#pragma once
// A fetched page as the web tools keep it: its text in numbered lines (HTML through
// extract/html-text, PDF through extract/pdf-text, text as it came), its links, and the last
// page of each conversation in a bounded LRU the tools share.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "agent/web/web-fetch.h"
#include "extract/html-text.h"

namespace muse::agent {

struct web_page {
    std::string                     url;        // the final URL, after redirects
    std::string                     requested;  // what the model asked for
    std::string                     title;
    std::string                     content_type;  // as sent, or what the bytes looked like when none was
    size_t                          bytes = 0;     // of the body
    std::vector<std::string>        lines;         // line n is lines[n - 1]; long lines are wrapped
    std::vector<extract::html_link> links;
    bool                            truncated = false;
};

constexpr size_t WEB_PAGE_LINE_MAX = 500;  // bytes; longer lines wrap (minified text, one-line JSON)

// Throws web_error WEB_ERROR_BAD_RESPONSE for a broken PDF or a body that is no text at all.
web_page web_page_make(const fetch_response & r, const std::string & requested);

// Bytes that are not UTF-8 replaced by U+FFFD (the text goes into JSON, which needs UTF-8).
std::string utf8_repair(const std::string & s);

// The last page per conversation; the least recently used conversation goes first when full.
class web_page_store {
  public:
    explicit web_page_store(size_t max_conversations) : max_(max_conversations < 1 ? 1 : max_conversations) {}

    void                            put(const std::string & conversation, std::shared_ptr<const web_page> page);
    std::shared_ptr<const web_page> get(const std::string & conversation);
    size_t                          size();

  private:
    std::mutex                                                         mutex_;
    size_t                                                             max_;
    std::list<std::pair<std::string, std::shared_ptr<const web_page>>> lru_;  // most recent first
};

}  // namespace muse::agent
