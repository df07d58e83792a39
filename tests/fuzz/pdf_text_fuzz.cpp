// Fuzz target: an uploaded PDF as file_search and the files API read it (poppler-cpp). Damaged
// bytes are a pdf_error; a page limit keeps a huge document short.
#include "extract/pdf-text.h"

#include <cstdlib>

using namespace muse::extract;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    pdf_limits limits;
    limits.max_pages      = 8;
    limits.max_text_bytes = 64u << 10;
    try {
        const pdf_document doc = pdf_to_text(std::string((const char *) data, size), limits);
        if ((int32_t) doc.pages.size() > limits.max_pages) abort();
    } catch (const pdf_error &) {
    }
    return 0;
}
