#pragma once
// HTML bytes -> the text a reader sees, through gumbo: the title, blocks on their own lines,
// headings as "# ", list items as "- " / "1. ", table cells split by " | ", whitespace collapsed,
// scripts, styles and hidden parts left out, and each link marked in the text as 【n†text】 with
// its number in a list of resolved URLs. Any bytes are accepted: invalid UTF-8, deep nesting
// and huge attributes give text (maybe cut), never a crash or a long stall.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace muse::extract {

struct html_link {
    int32_t     n = 0;  // 1-based, as in the 【n†...】 marker
    std::string text;
    std::string href;  // absolute (resolved against the base URL and any <base href>)
};

struct html_document {
    std::string            title;
    std::string            text;
    std::vector<html_link> links;
    bool                   truncated = false;  // a limit cut the input or the text
};

struct html_limits {
    size_t  max_input_bytes = 8u << 20;  // bytes past this are not parsed
    size_t  max_text_bytes  = 4u << 20;
    size_t  max_links       = 2000;  // later links keep their text, without a marker
    int32_t max_depth       = 256;   // open elements; deeper start tags are dropped before parsing
};

// `base_url` resolves relative links; when empty, relative links are kept as written.
html_document html_to_text(const std::string & html, const std::string & base_url = "",
                           const html_limits & limits = {});

// RFC 3986 reference resolution ("../b?x" against "http://h/a/c" -> "http://h/b?x"), without
// the fragment. A base that is not absolute gives `ref` unchanged.
std::string url_resolve(const std::string & base, const std::string & ref);

}  // namespace muse::extract
