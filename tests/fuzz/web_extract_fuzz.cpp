// Fuzz target: a fetched web page as the open_url tool reads it: html_to_text (gumbo, the
// depth and size limits, link markers resolved against a base URL) and url_resolve of each
// link. Small limits, so that the truncation paths run too.
#include "extract/html-text.h"

#include <cstdlib>

using namespace muse::extract;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string html((const char *) data, size);
    html_limits       small;
    small.max_input_bytes = 64u << 10;
    small.max_text_bytes  = 16u << 10;
    small.max_links       = 50;
    small.max_depth       = 64;
    const html_document doc = html_to_text(html, "https://example.com/a/b/page.html?q=1", small);
    if (doc.links.size() > small.max_links) abort();
    for (const html_link & l : doc.links) (void) url_resolve("http://h/a/c", l.href);
    (void) url_resolve(html.substr(0, 256), html.size() > 256 ? html.substr(256, 256) : "x");
    return 0;
}
