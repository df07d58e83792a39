#include "safety/rules.h"

#include <algorithm>
#include <unordered_map>

#include "engine/text-trim.h"
#include "safety/rule-book.h"
#include "safety/text-views.h"

namespace muse::safety {

namespace {

struct phrase {
    std::vector<std::string> words;
    std::vector<bool>        prefix;
    std::string              concat;  // the words run together, for spelled-out (joined) words
    int                      rule  = 0;
    int                      group = 0;  // -1: the rule's `unless`
};

struct compiled_book {
    std::vector<phrase>                               phrases;
    std::unordered_map<std::string, std::vector<int>> by_key;  // first word's first 3 letters (or all of it)
};

void phrases_add(compiled_book & cb, const std::string & alternatives, int rule, int group) {
    size_t start = 0;
    while (start <= alternatives.size()) {
        size_t bar = alternatives.find('|', start);
        if (bar == std::string::npos)
            bar = alternatives.size();
        const std::string alt = trim(alternatives.substr(start, bar - start), " ");
        start                 = bar + 1;
        if (alt.empty())
            continue;
        phrase p;
        p.rule    = rule;
        p.group   = group;
        size_t w0 = 0;
        while (w0 < alt.size()) {
            size_t sp = alt.find(' ', w0);
            if (sp == std::string::npos)
                sp = alt.size();
            std::string w = alt.substr(w0, sp - w0);
            w0            = sp + 1;
            if (w.empty())
                continue;
            const bool pre = w.back() == '*';
            if (pre)
                w.pop_back();
            p.concat += w;
            p.words.push_back(w);
            p.prefix.push_back(pre);
        }
        cb.by_key[p.words[0].substr(0, 3)].push_back((int)cb.phrases.size());
        cb.phrases.push_back(std::move(p));
    }
}

const compiled_book & book_compiled() {
    static const compiled_book cb = [] {
        compiled_book out;
        const auto &  book = rule_book();
        for (int r = 0; r < (int)book.size(); ++r) {
            if (book[r].kind != RULE_KIND_WORDS)
                continue;
            for (int g = 0; g < (int)book[r].groups.size(); ++g)
                phrases_add(out, book[r].groups[g], r, g);
            if (!book[r].unless.empty())
                phrases_add(out, book[r].unless, r, -1);
        }
        return out;
    }();
    return cb;
}

struct span {
    int start, end;
};

bool phrase_at(const phrase & p, const std::vector<text_word> & words, size_t i) {
    if (i + p.words.size() > words.size())
        return false;
    for (size_t k = 0; k < p.words.size(); ++k) {
        const text_word & w = words[i + k];
        if (w.joined)
            return false;
        const std::string & pw = p.words[k];
        if (p.prefix[k] ? w.text.compare(0, pw.size(), pw) != 0 : w.text != pw)
            return false;
    }
    return true;
}

// The first hit at or after `start` (hits are in word order).
std::vector<span>::const_iterator hit_from(const std::vector<span> & hits, int start) {
    return std::lower_bound(hits.begin(), hits.end(), start, [](const span & s, int v) { return s.start < v; });
}

// Whether the groups' hits fall within `window` words (in order when `ordered`). Binary searches
// keep a text full of hits (a flood of "how to kill people") linear-logarithmic.
bool groups_within(const std::vector<std::vector<span>> & hits, int window, bool ordered) {
    for (const auto & h : hits) {
        if (h.empty())
            return false;
    }
    if (ordered) {
        for (const span & first : hits[0]) {
            span prev = first;
            bool ok   = true;
            for (size_t g = 1; g < hits.size() && ok; ++g) {
                auto it = hit_from(hits[g], prev.start);
                while (it != hits[g].end() && it->start != prev.start && it->start < prev.end)
                    ++it;
                ok = it != hits[g].end() && it->start - first.start < window;
                if (ok)
                    prev = *it;
            }
            if (ok)
                return true;
        }
        return false;
    }
    for (const auto & group : hits) {
        for (const span & anchor : group) {
            bool ok = true;
            for (size_t g = 0; g < hits.size() && ok; ++g) {
                const auto it = hit_from(hits[g], anchor.start);
                ok            = it != hits[g].end() && it->start < anchor.start + window;
            }
            if (ok)
                return true;
        }
    }
    return false;
}

// Marks in `matched` the word rules that match `words`.
void words_match(const std::vector<text_word> & words, unsigned point_mask, std::vector<bool> & matched) {
    const compiled_book & cb   = book_compiled();
    const auto &          book = rule_book();
    // hits[rule][group], unless spans per rule
    std::unordered_map<int, std::vector<std::vector<span>>> hits;
    std::unordered_map<int, std::vector<span>>              unless;
    const auto                                              record = [&](const phrase & p, span s) {
        const rule_spec & r = book[(size_t)p.rule];
        if (!(r.points & point_mask) || matched[(size_t)p.rule])
            return;
        if (p.group < 0) {
            unless[p.rule].push_back(s);
            return;
        }
        auto & h = hits[p.rule];
        if (h.empty())
            h.resize(r.groups.size());
        h[(size_t)p.group].push_back(s);
    };
    for (size_t i = 0; i < words.size(); ++i) {
        const text_word & w = words[i];
        if (w.joined) {
            for (const phrase & p : cb.phrases) {
                if ((p.concat.size() >= 4 && w.text.find(p.concat) != std::string::npos) || p.concat == w.text) {
                    record(p, { (int)i, (int)i + 1 });
                }
            }
            continue;
        }
        const auto it = cb.by_key.find(w.text.substr(0, 3));
        if (it == cb.by_key.end())
            continue;
        for (int idx : it->second) {
            const phrase & p = cb.phrases[(size_t)idx];
            if (phrase_at(p, words, i))
                record(p, { (int)i, (int)(i + p.words.size()) });
        }
    }
    for (auto & [rule, groups] : hits) {
        const auto u = unless.find(rule);
        if (u != unless.end()) {
            for (auto & g : groups) {
                std::erase_if(g, [&](const span & s) {
                    return std::any_of(u->second.begin(), u->second.end(),
                                       [&](const span & x) { return s.start < x.end && x.start < s.end; });
                });
            }
        }
        const rule_spec & r = book[(size_t)rule];
        if (groups_within(groups, std::max(1, r.window), r.ordered))
            matched[(size_t)rule] = true;
    }
}

// `pat` at `i` of `s`; '#' is one path segment (one or more characters up to the next '/').
bool path_at(const std::string & s, size_t i, const std::string & pat) {
    for (size_t k = 0; k < pat.size(); ++k) {
        if (pat[k] == '#') {
            const size_t j = i;
            while (i < s.size() && s[i] != '/')
                ++i;
            if (i == j)
                return false;
        } else {
            if (i >= s.size() || s[i] != pat[k])
                return false;
            ++i;
        }
    }
    return true;
}

bool path_find(const std::string & s, const std::string & pat) {
    if (pat.find('#') == std::string::npos)
        return s.find(pat) != std::string::npos;
    for (size_t i = 0; i < s.size(); ++i) {
        if (path_at(s, i, pat))
            return true;
    }
    return false;
}

}  // namespace

static std::vector<bool> rules_matched(const std::string & text, check_point point) {
    const auto &      book = rule_book();
    const unsigned    mask = point_bit(point);
    std::vector<bool> matched(book.size(), false);
    const text_views  views = text_views_of(text);
    for (const auto & w : views.words)
        words_match(w, mask, matched);
    for (size_t r = 0; r < book.size(); ++r) {
        const rule_spec & rule = book[r];
        if (!(rule.points & mask) || rule.kind == RULE_KIND_WORDS)
            continue;
        const auto & texts = rule.kind == RULE_KIND_PATH ? views.paths : views.flat;
        for (const auto & t : texts) {
            for (const auto & alt : rule.groups) {
                if (rule.kind == RULE_KIND_PATH ? path_find(t, alt) : t.find(alt) != std::string::npos) {
                    matched[r] = true;
                }
            }
        }
    }
    return matched;
}

std::vector<rule_match> rules_match_every(const std::string & text, check_point point) {
    const auto &            book    = rule_book();
    const std::vector<bool> matched = rules_matched(text, point);
    std::vector<rule_match> out;
    for (size_t r = 0; r < book.size(); ++r) {
        if (matched[r])
            out.push_back({ book[r].category, book[r].id });
    }
    return out;
}

std::vector<rule_match> rules_match(const std::string & text, check_point point) {
    std::vector<rule_match> out;
    for (const auto & m : rules_match_every(text, point)) {
        const bool seen =
            std::any_of(out.begin(), out.end(), [&](const rule_match & o) { return o.category == m.category; });
        if (!seen)
            out.push_back(m);
    }
    return out;
}

std::vector<std::string> rules_ids() {
    std::vector<std::string> ids;
    for (const auto & r : rule_book())
        ids.push_back(r.id);
    return ids;
}

}  // namespace muse::safety
