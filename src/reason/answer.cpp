#include "reason/answer.h"

#include "engine/text-trim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

namespace muse::reason {

namespace {

std::string lower(std::string s) {
    for (auto & c : s) c = (char) std::tolower((unsigned char) c);
    return s;
}

// Shortest decimal that reads back as the same double, without exponent or trailing zeros.
std::string decimal(double v) {
    if (v == 0) return "0";
    char buf[64];
    for (int prec = 1; prec <= 17; ++prec) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    double check = std::strtod(buf, nullptr);
    // Re-print in fixed notation when %g chose an exponent.
    if (std::strchr(buf, 'e')) {
        snprintf(buf, sizeof(buf), "%.10f", check);
    }
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        while (!s.empty() && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

// The text after the last answer marker, up to the end of its line.
std::string after_marker(const std::string & text) {
    static const std::regex boxed(R"(\\boxed\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\})");
    std::smatch             m;
    std::string             found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), boxed); it != std::sregex_iterator(); ++it) {
        found = (*it)[1].str();
    }
    if (!found.empty()) return found;
    static const std::regex marker(R"((?:final answer|answer)\s*(?:is|:|=)\s*:?\s*([^\n]*))", std::regex::icase);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), marker); it != std::sregex_iterator(); ++it) {
        found = (*it)[1].str();
    }
    if (!found.empty()) return found;
    // No marker: the last non-empty line.
    size_t end = text.size();
    while (end > 0) {
        size_t start = text.rfind('\n', end - 1);
        start        = start == std::string::npos ? 0 : start + 1;
        std::string line = trim(text.substr(start, end - start));
        if (!line.empty()) return line;
        if (start == 0) break;
        end = start - 1;
    }
    return "";
}

std::string choice_of(const std::string & s) {
    static const std::regex forms[] = {
        std::regex(R"(^\(?([A-Ja-j])\)?[.:]?$)"),                                 // "B", "(b)", "B.", "B:"
        std::regex(R"(^\(?([A-J])[\).:]\s)"),                                     // "B) because ..."
        std::regex(R"(\b(?:option|choice|letter)\s*\(?([A-Ja-j])\)?\b)", std::regex::icase),
    };
    std::smatch m;
    const std::string t = trim(s);
    for (const auto & re : forms) {
        if (std::regex_search(t, m, re)) {
            return std::string(1, (char) std::toupper((unsigned char) m[1].str()[0]));
        }
    }
    return "";
}

std::string text_normalize(const std::string & s, size_t max_len) {
    std::string out;
    bool        space = false;
    for (unsigned char c : lower(s)) {
        if (std::isalnum(c) || c >= 0x80) {
            if (space && !out.empty()) out += ' ';
            out += (char) c;
            space = false;
        } else {
            space = true;
        }
    }
    // Articles carry no meaning for comparison.
    static const std::regex articles(R"(\b(a|an|the)\b ?)");
    out = trim(std::regex_replace(out, articles, ""));
    if (out.size() > max_len) {
        out.resize(max_len);
        // Do not leave half a UTF-8 character at the cut.
        while (!out.empty() && ((unsigned char) out.back() & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && ((unsigned char) out.back() & 0xC0) == 0xC0) out.pop_back();
    }
    return out;
}

}  // namespace

std::string text_clip(const std::string & s, size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    size_t end = max_bytes;
    while (end > 0 && ((unsigned char) s[end] & 0xC0) == 0x80) end--;  // back to a character start
    return s.substr(0, end) + "…";
}

std::string number_normalize(const std::string & raw) {
    std::string s = trim(raw);
    // Drop currency signs, thousands separators (commas, thin spaces) and a trailing period.
    std::string clean;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '$' || c == ',' || c == '_' || c == ' ') continue;
        clean += c;
    }
    while (!clean.empty() && clean.back() == '.') clean.pop_back();
    bool percent = false;
    if (!clean.empty() && clean.back() == '%') {
        percent = true;
        clean.pop_back();
    }
    static const std::regex fraction(R"(^([+-]?\d+)/(\d+)$)");
    static const std::regex number(R"(^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$)");
    std::smatch m;
    if (std::regex_match(clean, m, fraction)) {
        const double den = std::strtod(m[2].str().c_str(), nullptr);
        if (den == 0) return "";
        return decimal(std::strtod(m[1].str().c_str(), nullptr) / den);
    }
    if (!std::regex_match(clean, number)) return "";
    (void) percent;  // "50%" and "50" are the same answer to "what percent ..."
    return decimal(std::strtod(clean.c_str(), nullptr));
}

answer answer_extract(const std::string & text, const answer_options & opts) {
    answer out;
    if (opts.json || !opts.json_field.empty()) {
        const size_t a = text.find('{'), b = text.rfind('}');
        if (a == std::string::npos || b == std::string::npos || b < a) return out;
        auto j = nlohmann::json::parse(text.substr(a, b - a + 1), nullptr, false);
        if (j.is_discarded()) return out;
        if (!opts.json_field.empty()) {
            if (!j.is_object() || !j.contains(opts.json_field)) return out;
            j = j[opts.json_field];
        }
        out.kind = ANSWER_KIND_JSON;
        if (j.is_string()) {
            const std::string n = number_normalize(j.get<std::string>());
            out.value = n.empty() ? text_normalize(j.get<std::string>(), opts.max_text) : n;
        } else if (j.is_number()) {
            out.value = decimal(j.get<double>());
        } else {
            out.value = j.dump();
        }
        return out;
    }
    const std::string candidate = trim(after_marker(text));
    if (candidate.empty()) return out;
    if (std::string c = choice_of(candidate); !c.empty()) {
        out.kind  = ANSWER_KIND_CHOICE;
        out.value = c;
        return out;
    }
    if (std::string n = number_normalize(candidate); !n.empty()) {
        out.kind  = ANSWER_KIND_NUMBER;
        out.value = n;
        return out;
    }
    // A number inside a short phrase ("It is 42 apples."): its last number.
    static const std::regex num_in_text(R"([+-]?\$?\d[\d,]*(?:\.\d+)?(?:[eE][+-]?\d+)?%?|[+-]?\d+/\d+)");
    std::string last_num;
    for (auto it = std::sregex_iterator(candidate.begin(), candidate.end(), num_in_text); it != std::sregex_iterator(); ++it) {
        last_num = it->str();
    }
    if (!last_num.empty() && candidate.size() <= 80) {
        if (std::string n = number_normalize(last_num); !n.empty()) {
            out.kind  = ANSWER_KIND_NUMBER;
            out.value = n;
            return out;
        }
    }
    const std::string t = text_normalize(candidate, opts.max_text);
    if (!t.empty()) {
        out.kind  = ANSWER_KIND_TEXT;
        out.value = t;
    }
    return out;
}

vote_result vote(const std::vector<answer> & answers, const std::vector<double> & weights, bool weighted) {
    vote_result                                       r;
    std::map<std::pair<int, std::string>, double>     score;   // by (kind, value)
    std::map<std::pair<int, std::string>, double>     tiebreak;
    std::map<std::pair<int, std::string>, int>        count;
    std::map<std::pair<int, std::string>, size_t>     first_seen;
    for (size_t i = 0; i < answers.size(); ++i) {
        if (answers[i].empty()) continue;
        r.n_answers++;
        const auto   key = std::make_pair((int) answers[i].kind, answers[i].value);
        const double w   = i < weights.size() ? weights[i] : 0.0;
        count[key]++;
        score[key] += weighted ? w : 1.0;
        tiebreak[key] += w;
        first_seen.emplace(key, i);
    }
    if (r.n_answers == 0) return r;
    const std::pair<int, std::string> * best = nullptr;
    for (const auto & [key, sc] : score) {
        if (!best) { best = &key; continue; }
        const double bs = score[*best];
        // Higher score; then higher confidence sum; then whoever answered first (deterministic).
        if (sc > bs || (sc == bs && (tiebreak[key] > tiebreak[*best] ||
                                     (tiebreak[key] == tiebreak[*best] && first_seen[key] < first_seen[*best])))) {
            best = &key;
        }
    }
    r.winner.kind  = (answer_kind) best->first;
    r.winner.value = best->second;
    r.votes        = count[*best];
    r.agreement    = (double) r.votes / r.n_answers;
    for (size_t i = 0; i < answers.size(); ++i) {
        if (!answers[i].empty() && (int) answers[i].kind == best->first && answers[i].value == best->second) {
            r.supporters.push_back(i);
        }
    }
    return r;
}

}  // namespace muse::reason
