#pragma once
// PDF bytes -> text per page through poppler-cpp, in reading order as poppler lays it out.
// Damaged, encrypted or non-PDF bytes give a pdf_error naming the problem; a page limit keeps
// a 5000-page upload from taking minutes.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace muse::extract {

class pdf_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct pdf_limits {
    int32_t max_pages      = 200;
    size_t  max_text_bytes = 8u << 20;  // all pages together
};

struct pdf_document {
    std::string              title;  // from the document's info; may be empty
    std::vector<std::string> pages;  // the text of the first min(page_count, max_pages) pages
    int32_t                  page_count = 0;
    bool                     truncated  = false;  // pages or text were left out by the limits
};

// Throws pdf_error: "not a PDF", "damaged", "encrypted (needs a password)", "has no pages".
pdf_document pdf_to_text(const std::string & bytes, const pdf_limits & limits = {});

}  // namespace muse::extract
