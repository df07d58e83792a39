#include "agent/file-index.h"

#include "engine/error.h"
#include "extract/chunk.h"
#include "extract/html-text.h"
#include "extract/ocr.h"
#include "extract/pdf-text.h"
#include "extract/picture.h"
#include "store/database.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace muse::agent {

namespace {

bool ends_with_ci(const std::string & s, const std::string & suffix) {
    if (s.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                      [](char a, char b) { return std::tolower((unsigned char) a) == std::tolower((unsigned char) b); });
}

// Text is what has no NUL byte in its first 8 KiB and is valid UTF-8 there (cut at the end).
bool looks_like_text(const std::string & bytes) {
    const size_t n = std::min<size_t>(bytes.size(), 8192);
    size_t i = 0;
    while (i < n) {
        const unsigned char c = bytes[i];
        if (c == 0) return false;
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0) return false;
        if (i + len > n) break;  // a character cut by the 8 KiB window
        for (size_t k = 1; k < len; ++k) {
            if (((unsigned char) bytes[i + k] & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

}  // namespace

file_text file_text_extract(const std::string & bytes, const std::string & filename) {
    file_text out;
    if (bytes.rfind("%PDF-", 0) == 0) {
        out.kind = "pdf";
        try {
            const auto doc = extract::pdf_to_text(bytes);
            for (size_t i = 0; i < doc.pages.size(); ++i) out.text += (i ? "\n\f\n" : "") + doc.pages[i];
            if (doc.truncated) out.note = "only the first " + std::to_string(doc.pages.size()) + " of " + std::to_string(doc.page_count) + " pages were read";
        } catch (const std::exception & e) {
            out.note = e.what();
        }
        return out;
    }
    if (!extract::picture_sniff(bytes).empty()) {
        out.kind = "image";
        try {
            out.text = extract::ocr_read(extract::picture_decode(bytes)).text;
            if (out.text.empty()) out.note = "no text was found in the image";
        } catch (const std::exception & e) {
            out.note = e.what();
        }
        return out;
    }
    if (!looks_like_text(bytes)) {
        out.kind = "binary";
        out.note = "not text, a PDF or an image muse reads";
        return out;
    }
    const bool html = ends_with_ci(filename, ".html") || ends_with_ci(filename, ".htm") ||
                      bytes.find("<html") < 1024 || bytes.find("<!DOCTYPE html") < 1024 || bytes.find("<!doctype html") < 1024;
    if (html) {
        out.kind = "html";
        const auto doc = extract::html_to_text(bytes);
        out.text = doc.title.empty() ? doc.text : "# " + doc.title + "\n" + doc.text;
        return out;
    }
    out.kind = "text";
    out.text = bytes;
    return out;
}

file_index_result file_index(store::database & db, int64_t user_id, const store::file_record & f, file_text extracted,
                             const embed_fn & embed) {
    file_index_result r;
    r.extracted = std::move(extracted);
    db.chunks_delete(user_id, store::CHUNK_SOURCE_FILE, f.id);
    const auto spans = extract::chunk_text(r.extracted.text);
    if (spans.empty()) return r;
    std::vector<std::vector<float>> vectors;
    if (embed) {
        try {
            std::vector<std::string> texts;
            texts.reserve(spans.size());
            for (const auto & s : spans) texts.push_back(s.text);
            vectors = embed(texts);
            if (vectors.size() != spans.size()) vectors.clear();
        } catch (const std::exception &) {
            vectors.clear();  // an input over the embedding model's context: words only
        }
    }
    db.chunks_add(user_id, store::CHUNK_SOURCE_FILE, f.id, f.filename, spans, vectors);
    r.chunks  = spans.size();
    r.vectors = !vectors.empty();
    return r;
}

}  // namespace muse::agent
