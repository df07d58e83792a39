#include "agent/tools/file-search.h"

#include <algorithm>
#include <stdexcept>

#include "agent/text-cap.h"
#include "engine/text-trim.h"

namespace muse::agent {

using json = nlohmann::json;

namespace {

// The query as the embedding model sees it: a long paste says what it is about early.
constexpr size_t k_embed_query_bytes = 2000;


char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

bool is_word_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

size_t utf8_back(const std::string & s, size_t at) {
    while (at > 0 && at < s.size() && ((unsigned char) s[at] & 0xC0) == 0x80) --at;
    return at;
}

// Whitespace runs as one space, ends trimmed.
std::string squeeze(const std::string & s) {
    std::string out;
    bool        space = false;
    for (char c : s) {
        if (is_space(c)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

class file_search final : public tool {
  public:
    file_search(store::database & db, embed_fn embed, file_search_limits lim) :
        db_(db), embed_(std::move(embed)), lim_(lim) {}

    chat_tool definition() const override {
        return { "file_search",
                 "Search the user's own uploaded files and past conversations for passages about a query (by words "
                 "and by meaning). Returns the best passages with where they come from: the file id and filename "
                 "(or the conversation id and title) and the byte span. Cite them when you use them.",
                 R"({"type":"object","properties":{)"
                 R"("query":{"type":"string","description":"What to look for, in plain words"},)"
                 R"("max_results":{"type":"integer","minimum":1,"maximum":)" +
                     std::to_string(lim_.max_results) + R"(}},"required":["query"]})" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto q = args.find("query");
        if (q == args.end() || !q->is_string() || trim(q->get<std::string>()).empty()) {
            return tool_error_result("file_search needs a non-empty string 'query': the words to look for");
        }
        const std::string query = trim(q->get<std::string>());
        size_t            n     = lim_.default_results;
        if (auto m = args.find("max_results"); m != args.end() && !m->is_null()) {
            if (!m->is_number()) return tool_error_result("file_search: 'max_results' must be a number from 1 to " +
                                                     std::to_string(lim_.max_results));
            const double v = m->get<double>();
            n              = v < 1 ? 1 : v > (double) lim_.max_results ? lim_.max_results : (size_t) v;
        }

        std::vector<float> query_vector;
        std::string        vector_note;
        if (embed_) {
            try {
                auto vs = embed_({ query.substr(0, utf8_cut(query, k_embed_query_bytes)) });
                if (vs.size() == 1 && !vs[0].empty()) query_vector = std::move(vs[0]);
                else vector_note = "the embedding model returned no vector";
            } catch (const std::exception & e) {
                vector_note = std::string("the embedding model failed: ") + e.what();
            }
        }
        std::vector<store::search_hit> hits;
        try {
            hits = db_.search(ctx.user_id, query, query_vector, n);
        } catch (const std::invalid_argument & e) {
            // A bad vector from the embedding model: the words still search.
            vector_note = e.what();
            query_vector.clear();
            hits = db_.search(ctx.user_id, query, {}, n);
        }

        tool_result r;
        json        jhits = json::array();
        std::string text;
        for (size_t i = 0; i < hits.size(); ++i) {
            const auto &      h       = hits[i];
            const std::string snippet = search_snippet(h.text, query, lim_.snippet_bytes);
            const bool        file    = h.source == store::CHUNK_SOURCE_FILE;
            text += "[" + std::to_string(i + 1) + "] " + (file ? "file " : "conversation ") + h.source_id + " \"" +
                    h.title + "\"" + (file ? "" : " message " + h.message_id) + ", bytes " + std::to_string(h.start) +
                    "-" + std::to_string(h.end) + "\n" + snippet + "\n\n";
            json j = { { "chunk_id", h.chunk_id },   { "source", store::chunk_source_name(h.source) },
                       { "source_id", h.source_id }, { "title", h.title },
                       { "start", h.start },         { "end", h.end },
                       { "snippet", snippet },       { "score", h.score },
                       { "bm25_rank", h.bm25_rank }, { "vector_rank", h.vector_rank } };
            if (file) j["file_id"] = h.source_id;
            else j["message_id"] = h.message_id;
            jhits.push_back(std::move(j));
        }
        if (hits.empty()) {
            text = "No passages in the user's files or conversations match \"" +
                   query.substr(0, utf8_cut(query, 200)) + "\". Try other words, or ask the user.";
        } else {
            text = std::to_string(hits.size()) + " passage" + (hits.size() == 1 ? "" : "s") +
                   " from the user's files and conversations, best first:\n\n" + text;
        }
        r.text   = text_cap(text, lim_.max_text);
        r.detail = { { "query", query }, { "hits", std::move(jhits) }, { "vector", !query_vector.empty() } };
        if (!vector_note.empty()) r.detail["vector_note"] = vector_note;
        return r;
    }

  private:
    store::database &  db_;
    embed_fn           embed_;
    file_search_limits lim_;
};

}  // namespace

std::string search_snippet(const std::string & text, const std::string & query, size_t max_bytes) {
    if (text.size() <= max_bytes) return squeeze(text);
    std::string lower(text.size(), '\0');
    std::transform(text.begin(), text.end(), lower.begin(), ascii_lower);
    // The earliest place any of the query's words (2 bytes or more) occurs.
    size_t first = std::string::npos;
    for (size_t i = 0; i < query.size();) {
        while (i < query.size() && !is_word_char((unsigned char) query[i])) ++i;
        const size_t from = i;
        while (i < query.size() && is_word_char((unsigned char) query[i])) ++i;
        if (i - from < 2) continue;
        std::string w = query.substr(from, i - from);
        std::transform(w.begin(), w.end(), w.begin(), ascii_lower);
        first = std::min(first, lower.find(w));
    }
    // A third of the window before the word: it reads in its sentence.
    size_t start = first == std::string::npos || first < max_bytes / 3 ? 0 : first - max_bytes / 3;
    start        = utf8_back(text, std::min(start, text.size() - std::min(text.size(), max_bytes)));
    const size_t len = utf8_cut(text.substr(start), max_bytes);
    std::string  out = squeeze(text.substr(start, len));
    if (start > 0) out = "…" + out;
    if (start + len < text.size()) out += "…";
    return out;
}

tool_ptr file_search_tool(store::database & db, embed_fn embed, file_search_limits limits) {
    return std::make_shared<file_search>(db, std::move(embed), limits);
}

}  // namespace muse::agent
