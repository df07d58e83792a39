#include "extract/pdf-text.h"

#include <poppler-document.h>
#include <poppler-page.h>

#include <climits>
#include <memory>

namespace muse::extract {

namespace {

std::string utf8(const poppler::ustring & s) {
    const poppler::byte_array b = s.to_utf8();
    std::string               out(b.begin(), b.end());
    while (!out.empty() && out.back() == '\0')
        out.pop_back();
    return out;
}

}  // namespace

pdf_document pdf_to_text(const std::string & bytes, const pdf_limits & limits) {
    // The header may follow some junk, but within the first KiB (as readers accept it).
    if (bytes.substr(0, 1024).find("%PDF-") == std::string::npos) {
        throw pdf_error("not a PDF: no %PDF- header in the first 1024 bytes");
    }
    if (bytes.size() > (size_t)INT_MAX)
        throw pdf_error("the PDF is larger than 2 GiB");
    // load_from_raw_data reads `bytes` in place: it outlives the document below.
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(bytes.data(), (int)bytes.size()));
    if (!doc) {
        throw pdf_error(
            "the PDF is damaged or encrypted and cannot be opened (a broken cross-reference table, "
            "a cut download or a password)");
    }
    if (doc->is_locked())
        throw pdf_error("the PDF is encrypted: it needs a password to open");
    pdf_document out;
    out.page_count = doc->pages();
    if (out.page_count <= 0)
        throw pdf_error("the PDF has no pages");
    out.title     = utf8(doc->info_key("Title"));
    const int n   = std::min(out.page_count, std::max<int32_t>(1, limits.max_pages));
    out.truncated = n < out.page_count;
    size_t total  = 0;
    for (int i = 0; i < n; i++) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        std::string                    text = page ? utf8(page->text()) : std::string();
        if (total + text.size() > limits.max_text_bytes) {
            text.resize(limits.max_text_bytes - total);
            out.truncated = true;
        }
        total += text.size();
        out.pages.push_back(std::move(text));
        if (total >= limits.max_text_bytes)
            break;
    }
    return out;
}

}  // namespace muse::extract
