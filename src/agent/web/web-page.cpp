#include "agent/web/web-page.h"

#include <cctype>

#include "extract/pdf-text.h"

namespace muse::agent {

std::string utf8_repair(const std::string & s) {
    std::string  out;
    const size_t n = s.size();
    out.reserve(n);
    for (size_t i = 0; i < n;) {
        const unsigned char c   = (unsigned char)s[i];
        size_t              len = 0;
        unsigned char       lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            len = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        }
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            const unsigned char b = (unsigned char)s[i + k];
            ok                    = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        }
        if (!ok) {
            out += "\xEF\xBF\xBD";
            i++;
            continue;
        }
        if (len == 1 && c < 0x20 && c != '\n' && c != '\t') {
            out += c == '\r' ? "" : " ";  // control characters mean nothing to a reader
        } else {
            out.append(s, i, len);
        }
        i += len;
    }
    return out;
}

namespace {

// ISO-8859-1 and windows-1252 (which browsers read ISO-8859-1 labels as) to UTF-8; the
// 0x80-0x9F block of windows-1252 is approximated by its Latin-1 code points.
std::string latin1_to_utf8(const std::string & s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (unsigned char c : s) {
        if (c < 0x80) {
            out += (char)c;
        } else {
            out += (char)(0xC0 | (c >> 6));
            out += (char)(0x80 | (c & 0x3F));
        }
    }
    return out;
}

bool latin1_charset(const std::string & cs) {
    return cs == "iso-8859-1" || cs == "latin1" || cs == "latin-1" || cs == "windows-1252" || cs == "cp1252" ||
           cs == "us-ascii" || cs == "ascii";
}

bool starts_with_ci(const std::string & s, size_t at, const char * word) {
    for (size_t i = 0; word[i]; i++) {
        if (at + i >= s.size() || std::tolower((unsigned char)s[at + i]) != word[i])
            return false;
    }
    return true;
}

// What a body without a content type is: "application/pdf", "text/html", "text/plain" or "".
std::string type_sniff(const std::string & body) {
    const std::string head = body.substr(0, 1024);
    if (head.find("%PDF-") != std::string::npos)
        return "application/pdf";
    const size_t first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    if (first != std::string::npos &&
        (starts_with_ci(head, first, "<!doctype html") || starts_with_ci(head, first, "<html") ||
         starts_with_ci(head, first, "<head") || starts_with_ci(head, first, "<body"))) {
        return "text/html";
    }
    const std::string probe = body.substr(0, 4096);
    if (probe.find('\0') != std::string::npos)
        return "";
    return "text/plain";
}

// Splits text into lines; one longer than WEB_PAGE_LINE_MAX wraps at a space, else between characters.
void lines_add(std::vector<std::string> & lines, const std::string & text) {
    size_t at = 0;
    while (at <= text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + at, end - at);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        while (line.size() > WEB_PAGE_LINE_MAX) {
            size_t cut = line.rfind(' ', WEB_PAGE_LINE_MAX);
            if (cut == std::string_view::npos || cut < WEB_PAGE_LINE_MAX / 2) {
                cut = WEB_PAGE_LINE_MAX;
                while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80)
                    cut--;
            }
            lines.emplace_back(line.substr(0, cut));
            line.remove_prefix(cut);
            while (!line.empty() && line.front() == ' ')
                line.remove_prefix(1);
        }
        lines.emplace_back(line);
        if (end == text.size())
            break;
        at = end + 1;
    }
}

}  // namespace

web_page web_page_make(const fetch_response & r, const std::string & requested) {
    web_page p;
    p.url          = r.url;
    p.requested    = requested;
    p.bytes        = r.body.size();
    p.content_type = r.content_type.empty() ? type_sniff(r.body) : r.content_type;
    if (p.content_type.empty()) {
        throw web_error(WEB_ERROR_CONTENT_TYPE, r.url, "the server sent no content type and the body is not text");
    }
    const bool        latin1 = latin1_charset(r.charset);
    const std::string body   = latin1 ? latin1_to_utf8(r.body) : r.body;
    if (p.content_type == "text/html" || p.content_type == "application/xhtml+xml") {
        extract::html_document d = extract::html_to_text(body, r.url);
        p.title                  = utf8_repair(d.title);
        p.links                  = std::move(d.links);
        p.truncated              = d.truncated;
        lines_add(p.lines, utf8_repair(d.text));
    } else if (p.content_type == "application/pdf" || p.content_type == "application/x-pdf") {
        extract::pdf_document d;
        try {
            d = extract::pdf_to_text(r.body);
        } catch (const extract::pdf_error & e) {
            throw web_error(WEB_ERROR_BAD_RESPONSE, r.url, std::string("not a readable PDF: ") + e.what());
        }
        p.title     = utf8_repair(d.title);
        p.truncated = d.truncated;
        for (size_t i = 0; i < d.pages.size(); i++) {
            p.lines.push_back("--- page " + std::to_string(i + 1) + " of " + std::to_string(d.page_count) + " ---");
            lines_add(p.lines, utf8_repair(d.pages[i]));
        }
    } else {
        lines_add(p.lines, utf8_repair(body));
    }
    while (p.lines.size() > 1 && p.lines.back().empty())
        p.lines.pop_back();
    for (auto & l : p.links) {
        l.text = utf8_repair(l.text);
        l.href = utf8_repair(l.href);
    }
    return p;
}

void web_page_store::put(const std::string & conversation, std::shared_ptr<const web_page> page) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
        if (it->first == conversation) {
            lru_.erase(it);
            break;
        }
    }
    lru_.emplace_front(conversation, std::move(page));
    while (lru_.size() > max_)
        lru_.pop_back();
}

std::shared_ptr<const web_page> web_page_store::get(const std::string & conversation) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
        if (it->first == conversation) {
            lru_.splice(lru_.begin(), lru_, it);
            return lru_.front().second;
        }
    }
    return nullptr;
}

size_t web_page_store::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
}

}  // namespace muse::agent
