#include "safety/text-views.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "safety/fold-table.h"

namespace muse::safety {

namespace {

// Decodes one UTF-8 character at `i`; returns false (and consumes one byte) when it is not valid.
bool utf8_next(const std::string & s, size_t & i, uint32_t & cp) {
    const auto c = (unsigned char)s[i];
    size_t     n = 0;
    if (c < 0x80) {
        cp = c;
        ++i;
        return true;
    } else if ((c >> 5) == 0x6) {
        n  = 1;
        cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
        n  = 2;
        cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
        n  = 3;
        cp = c & 0x07;
    } else {
        ++i;
        return false;
    }
    if (i + n >= s.size()) {
        ++i;
        return false;
    }
    for (size_t k = 1; k <= n; ++k) {
        const auto cc = (unsigned char)s[i + k];
        if ((cc & 0xC0) != 0x80) {
            ++i;
            return false;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    i += n + 1;
    return true;
}

bool invisible(uint32_t cp) {
    return cp == 0xAD || cp == 0x34F || cp == 0x61C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) ||
           cp == 0xFEFF || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF) ||
           (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

void fold_append(uint32_t cp, std::string & out) {
    if (cp < 0x80) {
        const char c = (char)cp;
        if (c >= 'A' && c <= 'Z') {
            out += (char)(c - 'A' + 'a');
        } else if (c == '\n' || c == '\t' || c == '\r' || (unsigned char)c >= 0x20) {
            out += c == 0x7F ? ' ' : c;
        } else {
            out += ' ';
        }
        return;
    }
    if (invisible(cp))
        return;
    if (cp >= 0xE0000 && cp <= 0xE007F) {  // tag characters: invisible ASCII
        if (cp >= 0xE0020 && cp <= 0xE007E)
            fold_append(cp - 0xE0000, out);
        return;
    }
    const auto * end = std::end(fold_runs);
    const auto * it =
        std::upper_bound(std::begin(fold_runs), end, cp, [](uint32_t v, const fold_run & r) { return v < r.first; });
    if (it != std::begin(fold_runs)) {
        const fold_run & r = *(it - 1);
        if (cp >= r.first && cp <= r.last) {
            if (r.kind == 1) {
                out += (char)(r.to[0] + (char)(cp - r.first));
            } else {
                out += r.to;
            }
            return;
        }
    }
    out += ' ';
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_letter(char c) {
    return c >= 'a' && c <= 'z';
}

// Words of `folded`: runs of [a-z0-9] (and of `extra`); three or more one-character words in a row join.
std::vector<text_word> words_split(const std::string & folded, const char * extra) {
    std::vector<text_word> raw;
    std::string            cur;
    const auto             word_char = [&](char c) { return is_alnum(c) || (c && strchr(extra, c)); };
    for (size_t i = 0; i <= folded.size(); ++i) {
        const char c = i < folded.size() ? folded[i] : ' ';
        if (word_char(c)) {
            cur += c;
        } else if (!cur.empty()) {
            raw.push_back({ cur, false });
            cur.clear();
        }
    }
    std::vector<text_word> out;
    for (size_t i = 0; i < raw.size();) {
        size_t j = i;
        while (j < raw.size() && raw[j].text.size() == 1)
            ++j;
        if (j - i >= 3) {
            text_word w { "", true };
            for (size_t k = i; k < j; ++k)
                w.text += raw[k].text;
            out.push_back(std::move(w));
            i = j;
        } else {
            out.push_back(raw[i]);
            ++i;
        }
    }
    return out;
}

std::vector<text_word> words_leet(std::vector<text_word> words, char one) {
    std::vector<text_word> out;
    for (auto & w : words) {
        if (std::none_of(w.text.begin(), w.text.end(), is_letter)) {
            std::string digits;
            for (char c : w.text) {
                if (is_alnum(c))
                    digits += c;
            }
            if (!digits.empty())
                out.push_back({ digits, w.joined });
            continue;
        }
        for (char & c : w.text) {
            switch (c) {
                case '0':
                    c = 'o';
                    break;
                case '1':
                    c = one;
                    break;
                case '3':
                    c = 'e';
                    break;
                case '4':
                    c = 'a';
                    break;
                case '5':
                    c = 's';
                    break;
                case '6':
                    c = 'g';
                    break;
                case '7':
                    c = 't';
                    break;
                case '8':
                    c = 'b';
                    break;
                case '9':
                    c = 'g';
                    break;
                case '@':
                    c = 'a';
                    break;
                case '$':
                    c = 's';
                    break;
                default:
                    break;
            }
        }
        out.push_back(std::move(w));
    }
    return out;
}

std::vector<text_word> words_rot13(std::vector<text_word> words) {
    for (auto & w : words) {
        for (char & c : w.text) {
            if (is_letter(c))
                c = (char)('a' + (c - 'a' + 13) % 26);
        }
    }
    return words;
}

// Decoded bytes that read as text: valid UTF-8, almost all printable, mostly letters, digits
// and spaces (random bytes and words that merely look like base64 are neither).
bool printable_text(const std::string & s) {
    if (s.size() < 6)
        return false;
    size_t n = 0, good = 0, wordy = 0;
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = 0;
        ++n;
        if (!utf8_next(s, i, cp))
            continue;
        if (cp >= 0x80 || (cp >= 0x20 && cp < 0x7F) || cp == '\n' || cp == '\t' || cp == '\r')
            ++good;
        if (cp >= 0x80 || cp == ' ' || std::isalnum((int)cp))
            ++wordy;
    }
    return good * 10 >= n * 9 && wordy * 10 >= n * 6;
}

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

std::string b64_decode(const std::string & run) {
    std::string out;
    uint32_t    acc = 0;
    int         n   = 0;
    for (char c : run) {
        const int v = b64_value(c);
        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t)v;
        if (++n == 4) {
            out += (char)(acc >> 16);
            out += (char)((acc >> 8) & 0xFF);
            out += (char)(acc & 0xFF);
            acc = 0;
            n   = 0;
        }
    }
    if (n == 3) {
        out += (char)(acc >> 10);
        out += (char)((acc >> 2) & 0xFF);
    } else if (n == 2) {
        out += (char)(acc >> 4);
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

constexpr size_t decodings_max = 32;

}  // namespace

std::string text_fold(const std::string & utf8) {
    std::string out;
    out.reserve(utf8.size());
    for (size_t i = 0; i < utf8.size();) {
        uint32_t cp = 0;
        if (utf8_next(utf8, i, cp)) {
            fold_append(cp, out);
        } else {
            out += ' ';
        }
    }
    return out;
}

std::vector<std::string> text_decodings(const std::string & text) {
    std::vector<std::string> out;
    const auto               keep = [&](std::string s) {
        if (out.size() < decodings_max && printable_text(s))
            out.push_back(std::move(s));
    };
    // base64 (standard and URL-safe): runs of 16 or more; a run that does not start on a
    // 4-character boundary is tried at each offset.
    for (size_t i = 0; i < text.size();) {
        if (b64_value(text[i]) < 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < text.size() && b64_value(text[j]) >= 0)
            ++j;
        if (j - i >= 16) {
            const std::string run = text.substr(i, j - i);
            for (size_t off = 0; off < 4; ++off) {
                std::string d = b64_decode(run.substr(off));
                if (printable_text(d)) {
                    keep(std::move(d));
                    break;
                }
            }
        }
        i = j;
    }
    // hex: pairs, optionally each behind "\x", "0x" or "%", optionally one separator apart.
    for (size_t i = 0; i < text.size();) {
        std::string d;
        size_t      j = i;
        while (j < text.size()) {
            size_t k = j;
            if (k + 1 < text.size() && (text[k] == '\\' || text[k] == '0') && (text[k + 1] | 0x20) == 'x') {
                k += 2;
            } else if (text[k] == '%') {
                k += 1;
            }
            if (k + 1 >= text.size() + 0 || hex_value(text[k]) < 0 || hex_value(text[k + 1]) < 0)
                break;
            d += (char)(hex_value(text[k]) * 16 + hex_value(text[k + 1]));
            j = k + 2;
            if (j < text.size() && (text[j] == ' ' || text[j] == ',' || text[j] == ':') && j + 1 < text.size() &&
                (hex_value(text[j + 1]) >= 0 || text[j + 1] == '\\' || text[j + 1] == '%')) {
                ++j;
            }
        }
        if (d.size() >= 6) {
            keep(std::move(d));
            i = j;
        } else {
            i = std::max(i + 1, j == i ? i + 1 : j);
        }
    }
    // percent-encoding mixed with plain text ("how%20to%20make"): the whole text decoded.
    size_t n_pct = 0;
    for (size_t i = 0; i + 2 < text.size(); ++i) {
        if (text[i] == '%' && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0)
            ++n_pct;
    }
    if (n_pct >= 3) {
        std::string d;
        for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
                d += (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
                i += 2;
            } else {
                d += text[i];
            }
        }
        keep(std::move(d));
    }
    return out;
}

static void views_add(const std::string & text, int depth, text_views & v) {
    const std::string folded = text_fold(text);
    const auto        plain  = words_split(folded, "");
    const auto        leet   = words_split(folded, "@$");
    v.words.push_back(plain);
    v.words.push_back(words_leet(leet, 'i'));
    v.words.push_back(words_leet(leet, 'l'));
    v.words.push_back(words_rot13(plain));

    std::string flat, path;
    for (char c : folded) {
        const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (!space || (!flat.empty() && flat.back() != ' '))
            flat += space ? ' ' : c;
        const bool keep = is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
        if (keep) {
            path += c;
        } else if (!path.empty() && path.back() != '/') {
            path += '/';
        } else if (path.empty()) {
            path += '/';
        }
    }
    v.flat.push_back(std::move(flat));
    v.paths.push_back(std::move(path));
    if (depth < 2) {
        for (const auto & d : text_decodings(text))
            views_add(d, depth + 1, v);
    }
}

text_views text_views_of(const std::string & text) {
    text_views v;
    views_add(text, 0, v);
    return v;
}

}  // namespace muse::safety
