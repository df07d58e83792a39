// Retrieval over the user's own files and conversations: chunks with BM25 (FTS5) and vectors
// (hnswlib through vector_index_set), fused by reciprocal rank; memory ranked for a prompt and
// the per-user memory switch. The schema is migration 3 (migrations.cpp).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

#include "store/database-impl.h"

namespace muse::store {

namespace {

using json = nlohmann::json;

// Reciprocal rank fusion's constant (Cormack et al.): ranks past the first few count less,
// and neither list can drown the other.
constexpr double k_rrf = 60.0;
// A query is searched as at most this many distinct words of at most this many bytes: a huge
// pasted query costs no more than a long sentence.
constexpr size_t k_query_terms_max = 32;
constexpr size_t k_term_bytes_max  = 64;
constexpr size_t k_search_k_max    = 100;

std::string vector_blob(const std::vector<float> & v) {
    std::string b(v.size() * sizeof(float), '\0');
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// The floats of a BLOB written by vector_blob; empty when it does not hold `dims` of them.
std::vector<float> vector_from_blob(const std::string & b, int64_t dims) {
    if (dims <= 0 || b.size() != (size_t) dims * sizeof(float)) return {};
    std::vector<float> v((size_t) dims);
    std::memcpy(v.data(), b.data(), b.size());
    return v;
}

bool is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// The words of `text`, in order, each once: runs of ASCII letters and digits and of non-ASCII
// bytes (UTF-8 letters), ASCII lowercased, cut to k_term_bytes_max on a character boundary.
std::vector<std::string> text_words(const std::string & text, size_t max_words) {
    std::vector<std::string> out;
    std::set<std::string>    seen;
    size_t                   i = 0;
    while (i < text.size() && out.size() < max_words) {
        while (i < text.size() && !is_word_byte((unsigned char) text[i])) ++i;
        const size_t from = i;
        while (i < text.size() && is_word_byte((unsigned char) text[i])) ++i;
        if (i == from) break;
        std::string w = text.substr(from, i - from);
        if (w.size() > k_term_bytes_max) {
            size_t cut = k_term_bytes_max;
            while (cut > 0 && ((unsigned char) w[cut] & 0xC0) == 0x80) --cut;
            w.resize(cut);
        }
        for (char & c : w) {
            if (c >= 'A' && c <= 'Z') c = (char) (c - 'A' + 'a');
        }
        if (!w.empty() && seen.insert(w).second) out.push_back(std::move(w));
    }
    return out;
}

// `AND c.source_kind IN (...)` for the wanted kinds; "" for all of them.
std::string kinds_clause(const std::vector<chunk_source> & kinds) {
    if (kinds.empty()) return "";
    std::string in;
    for (chunk_source k : kinds) {
        if (k != CHUNK_SOURCE_FILE && k != CHUNK_SOURCE_CONVERSATION) {
            throw std::invalid_argument("search: unknown chunk source kind " + std::to_string((int) k) +
                                        "; pass CHUNK_SOURCE_FILE or CHUNK_SOURCE_CONVERSATION");
        }
        if (!in.empty()) in += ", ";
        in += std::string("'") + chunk_source_name(k) + "'";
    }
    return " AND c.source_kind IN (" + in + ")";
}

constexpr const char * k_hit_columns =
    "SELECT c.id, c.source_kind, c.source_id, c.message_id, c.title, c.start_byte, c.end_byte, c.text FROM chunks c";

search_hit hit_from_row(const sqlite_statement & st) {
    search_hit h;
    h.chunk_id   = st.column_int(0);
    h.source     = st.column_text(1) == "conversation" ? CHUNK_SOURCE_CONVERSATION : CHUNK_SOURCE_FILE;
    h.source_id  = st.column_text(2);
    h.message_id = st.column_text(3);
    h.title      = st.column_text(4);
    h.start      = st.column_int(5);
    h.end        = st.column_int(6);
    h.text       = st.column_text(7);
    return h;
}

void chunk_insert(sqlite_connection & conn, int64_t user_id, chunk_source source, const std::string & source_id,
                  const std::string & message_id, const std::string & title, const extract::chunk_span & span,
                  const std::vector<float> & unit, int64_t now) {
    sqlite_statement st(conn,
                        "INSERT INTO chunks (user_id, source_kind, source_id, message_id, title, start_byte, end_byte, "
                        "text, created_at, embedding, dims) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, user_id)
        .bind(2, std::string(chunk_source_name(source)))
        .bind(3, source_id)
        .bind(4, message_id)
        .bind(5, title)
        .bind(6, (int64_t) span.start)
        .bind(7, (int64_t) span.end)
        .bind(8, span.text)
        .bind(9, now);
    const std::string blob = vector_blob(unit);
    st.bind_blob(10, unit.empty() ? nullptr : blob.data(), blob.size()).bind(11, (int64_t) unit.size());
    st.run();
}

// A message's readable text: its content string, or its text parts (chat "text", Responses
// "input_text"/"output_text") one per paragraph. Images, tool calls and the rest: none.
std::string message_text(const json & content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const auto & part : content) {
        if (!part.is_object()) continue;
        auto t = part.find("text");
        if (t == part.end() || !t->is_string()) continue;
        if (!out.empty()) out += "\n\n";
        out += t->get<std::string>();
    }
    return out;
}

// Crude English stemming for memory's word overlap: "meetings" meets "meeting", "liked" meets
// "likes". Both sides get the same cut, so a wrong cut still matches itself.
std::string word_stem(std::string w) {
    auto ends = [&](const char * s, size_t min_len) {
        const size_t n = std::strlen(s);
        return w.size() >= min_len && w.compare(w.size() - n, n, s) == 0;
    };
    if (ends("ing", 6)) w.resize(w.size() - 3);
    else if (ends("ed", 5)) w.resize(w.size() - 2);
    else if (ends("es", 5)) w.resize(w.size() - 2);
    else if (ends("s", 4)) w.resize(w.size() - 1);
    return w;
}

// Words that say nothing about what a memory is about.
bool stop_word(const std::string & w) {
    static const std::set<std::string> k_stop = {
        "a",    "an",   "and",  "are", "as",   "at",   "be",   "but",  "by",   "do",   "for",  "from", "has",
        "have", "i",    "in",   "is",  "it",   "me",   "my",   "of",   "on",   "or",   "so",   "that", "the",
        "this", "to",   "was",  "we",  "what", "when", "where", "who", "why",  "will", "with", "you",  "your",
        "can",  "how",  "about", "any", "did", "does", "our",  "their", "there", "they", "them", "its",
    };
    return w.size() < 2 || k_stop.count(w) > 0;
}

std::set<std::string> meaning_words(const std::string & text, size_t max_words) {
    std::set<std::string> out;
    for (const auto & w : text_words(text, max_words)) {
        if (!stop_word(w)) out.insert(word_stem(w));
    }
    return out;
}

bool source_exists(sqlite_connection & conn, int64_t user_id, chunk_source source, const std::string & source_id) {
    sqlite_statement st(conn, source == CHUNK_SOURCE_FILE ? "SELECT 1 FROM files WHERE user_id = ? AND id = ?"
                                                          : "SELECT 1 FROM conversations WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, source_id);
    return st.step();
}

void source_check(chunk_source source) {
    if (source != CHUNK_SOURCE_FILE && source != CHUNK_SOURCE_CONVERSATION) {
        throw std::invalid_argument("unknown chunk source kind " + std::to_string((int) source) +
                                    "; pass CHUNK_SOURCE_FILE or CHUNK_SOURCE_CONVERSATION");
    }
}

}  // namespace

std::string fts_expression(const std::string & query) {
    std::string expr;
    for (const auto & w : text_words(query, k_query_terms_max)) {
        if (!expr.empty()) expr += " OR ";
        expr += "\"" + w + "\"";  // words hold no '"': it is not a word byte
    }
    return expr;
}

const char * chunk_source_name(chunk_source s) {
    return s == CHUNK_SOURCE_CONVERSATION ? "conversation" : "file";
}

std::string chunk_source_key(chunk_source source, const std::string & source_id) {
    return std::string(chunk_source_name(source)) + ":" + source_id;
}

void message_chunks_add(sqlite_connection & conn, int64_t user_id, const message & m) {
    if (m.role != "user" && m.role != "assistant") return;  // tool output and system text are not what was said
    const json msg = json::parse(m.content, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded()) return;
    const std::string text = message_text(msg.is_object() ? msg.value("content", json()) : msg);
    const auto        spans = extract::chunk_text(text);
    if (spans.empty()) return;
    std::string title;
    {
        sqlite_statement st(conn, "SELECT title FROM conversations WHERE user_id = ? AND id = ?");
        st.bind(1, user_id).bind(2, m.conversation_id);
        if (st.step()) title = st.column_text(0);
    }
    for (const auto & s : spans) {
        chunk_insert(conn, user_id, CHUNK_SOURCE_CONVERSATION, m.conversation_id, m.id, title, s, {}, m.created_at);
    }
}

// --- chunks

bool database::chunks_add(int64_t user_id, chunk_source source, const std::string & source_id,
                          const std::string & title, const std::vector<extract::chunk_span> & spans,
                          const std::vector<std::vector<float>> & vectors) {
    source_check(source);
    if (!vectors.empty() && vectors.size() != spans.size()) {
        throw std::invalid_argument("chunks_add for " + source_id + ": " + std::to_string(vectors.size()) +
                                    " vectors for " + std::to_string(spans.size()) +
                                    " spans; pass one vector per span, or none");
    }
    std::vector<std::vector<float>> units;
    for (size_t i = 0; i < vectors.size(); ++i) {
        const std::string what = "the vector of span " + std::to_string(i) + " of " + source_id;
        if (vectors[i].size() != vectors[0].size()) {
            throw std::invalid_argument(what + " has " + std::to_string(vectors[i].size()) + " dims, span 0's " +
                                        std::to_string(vectors[0].size()) + "; embed all spans with one model");
        }
        units.push_back(vector_unit(vectors[i], what));
    }
    for (const auto & s : spans) {
        if (s.end < s.start) {
            throw std::invalid_argument("chunks_add for " + source_id + ": a span ends (" + std::to_string(s.end) +
                                        ") before it starts (" + std::to_string(s.start) +
                                        "); pass spans from extract::chunk_text");
        }
    }
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    if (!source_exists(impl_->conn, user_id, source, source_id)) return false;
    const int64_t           now = now_seconds();
    std::vector<vector_row> rows;
    const std::string       key = chunk_source_key(source, source_id);
    for (size_t i = 0; i < spans.size(); ++i) {
        static const std::vector<float> none;
        chunk_insert(impl_->conn, user_id, source, source_id, "", title, spans[i], units.empty() ? none : units[i], now);
        if (!units.empty()) rows.push_back({ sqlite3_last_insert_rowid(impl_->conn.get()), key, std::move(units[i]) });
    }
    tx.commit();
    // After the commit: the index never holds a vector the database does not.
    for (const auto & r : rows) impl_->vectors.add(user_id, r);
    return true;
}

size_t database::chunks_delete(int64_t user_id, chunk_source source, const std::string & source_id) {
    source_check(source);
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn, "DELETE FROM chunks WHERE user_id = ? AND source_kind = ? AND source_id = ?")
        .bind(1, user_id)
        .bind(2, std::string(chunk_source_name(source)))
        .bind(3, source_id)
        .run();
    const size_t n = (size_t) impl_->conn.changes();
    impl_->vectors.remove_source(user_id, chunk_source_key(source, source_id));
    return n;
}

std::vector<search_hit> database::search(int64_t user_id, const std::string & query,
                                         const std::vector<float> & query_vector, size_t k,
                                         const std::vector<chunk_source> & kinds) {
    const std::string kinds_sql = kinds_clause(kinds);
    k                           = std::min(k, k_search_k_max);
    if (k == 0) return {};
    std::vector<float> unit;
    if (!query_vector.empty()) unit = vector_unit(query_vector, "the query vector");
    const std::string expr = fts_expression(query);
    // Each list contributes a deeper pool than k: a chunk 8th by words and 3rd by vector can
    // fuse into the top 5.
    const size_t pool = std::max<size_t>(k * 4, 20);

    std::lock_guard               lock(impl_->mutex);
    sqlite_connection &           conn = impl_->conn;
    std::map<int64_t, search_hit> found;
    if (!expr.empty()) {
        sqlite_statement st(conn, std::string(k_hit_columns) +
                                      " JOIN chunks_fts ON chunks_fts.rowid = c.id WHERE chunks_fts MATCH ? AND c.user_id = ?" +
                                      kinds_sql + " ORDER BY bm25(chunks_fts), c.id LIMIT ?");
        st.bind(1, expr).bind(2, user_id).bind(3, (int64_t) pool);
        int rank = 0;
        while (st.step()) {
            search_hit h = hit_from_row(st);
            h.bm25_rank  = ++rank;
            found.emplace(h.chunk_id, std::move(h));
        }
    }
    if (!unit.empty()) {
        vector_census census;
        {
            sqlite_statement st(conn, "SELECT count(*), coalesce(max(id), 0) FROM chunks WHERE user_id = ? AND dims = ?");
            st.bind(1, user_id).bind(2, (int64_t) unit.size());
            if (st.step()) census = { st.column_int(0), st.column_int(1) };
        }
        auto load = [&]() {
            std::vector<vector_row> rows;
            sqlite_statement        st(conn,
                                       "SELECT id, source_kind, source_id, embedding, dims FROM chunks WHERE user_id = ? AND dims = ?");
            st.bind(1, user_id).bind(2, (int64_t) unit.size());
            while (st.step()) {
                std::vector<float> v = vector_from_blob(st.column_blob(3), st.column_int(4));
                if (v.empty()) continue;
                const chunk_source s = st.column_text(1) == "conversation" ? CHUNK_SOURCE_CONVERSATION : CHUNK_SOURCE_FILE;
                rows.push_back({ st.column_int(0), chunk_source_key(s, st.column_text(2)), std::move(v) });
            }
            return rows;
        };
        // A kinds filter drops some neighbours after the search: ask for more of them.
        const size_t want    = kinds.empty() ? pool : pool * 3;
        const auto   nearest = impl_->vectors.nearest(user_id, unit, want, census, load);
        int          rank    = 0;
        for (const auto & [id, sim] : nearest) {
            if ((size_t) rank >= pool) break;
            auto it = found.find(id);
            if (it == found.end()) {
                // The row decides: the user's, of a wanted kind, and still there.
                sqlite_statement st(conn, std::string(k_hit_columns) + " WHERE c.id = ? AND c.user_id = ?" + kinds_sql);
                st.bind(1, id).bind(2, user_id);
                if (!st.step()) continue;
                it = found.emplace(id, hit_from_row(st)).first;
            }
            it->second.vector_rank = ++rank;
            it->second.similarity  = sim;
        }
    }
    std::vector<search_hit> hits;
    hits.reserve(found.size());
    for (auto & [id, h] : found) {
        h.score = (h.bm25_rank ? 1.0 / (k_rrf + h.bm25_rank) : 0.0) + (h.vector_rank ? 1.0 / (k_rrf + h.vector_rank) : 0.0);
        hits.push_back(std::move(h));
    }
    std::sort(hits.begin(), hits.end(), [](const search_hit & a, const search_hit & b) {
        if (a.score != b.score) return a.score > b.score;
        return a.chunk_id < b.chunk_id;
    });
    if (hits.size() > k) hits.resize(k);
    return hits;
}

// --- memory

memory_item database::memory_add(int64_t user_id, const std::string & text, const std::vector<float> & vector) {
    std::vector<float> unit;
    if (!vector.empty()) unit = vector_unit(vector, "the vector of the memory item");
    memory_item item;
    item.id                = id_make("mem_");
    item.text              = text;
    item.created_at        = now_seconds();
    const std::string blob = vector_blob(unit);
    std::lock_guard   lock(impl_->mutex);
    sqlite_statement(impl_->conn,
                     "INSERT INTO memory (id, user_id, text, created_at, embedding, dims) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, item.id)
        .bind(2, user_id)
        .bind(3, item.text)
        .bind(4, item.created_at)
        .bind_blob(5, unit.empty() ? nullptr : blob.data(), blob.size())
        .bind(6, (int64_t) unit.size())
        .run();
    return item;
}

std::vector<memory_item> database::memory_relevant(int64_t user_id, const std::string & query,
                                                   const std::vector<float> & query_vector, size_t max_items,
                                                   size_t max_chars) {
    if (max_items == 0 || max_chars == 0 || !memory_enabled(user_id)) return {};
    std::vector<float> unit;
    if (!query_vector.empty()) unit = vector_unit(query_vector, "the query vector");
    const std::set<std::string> query_words = meaning_words(query, 64);

    struct scored {
        memory_item item;
        double      score = 0;
        int64_t     order = 0;
    };
    std::vector<scored> items;
    const int64_t       now = now_seconds();
    {
        std::lock_guard  lock(impl_->mutex);
        sqlite_statement st(impl_->conn,
                            "SELECT id, text, created_at, embedding, dims, rowid FROM memory WHERE user_id = ? ORDER BY rowid");
        st.bind(1, user_id);
        while (st.step()) {
            scored s;
            s.item  = { st.column_text(0), st.column_text(1), st.column_int(2) };
            s.order = st.column_int(5);
            double relevance = 0;
            const std::vector<float> v = unit.empty() ? std::vector<float>() : vector_from_blob(st.column_blob(3), st.column_int(4));
            if (!v.empty() && v.size() == unit.size()) {
                double dot = 0;
                for (size_t i = 0; i < v.size(); ++i) dot += (double) v[i] * unit[i];
                relevance = std::max(0.0, dot);
            } else if (!query_words.empty()) {
                const std::set<std::string> words = meaning_words(s.item.text, 256);
                size_t                      hits  = 0;
                for (const auto & w : query_words) hits += words.count(w);
                relevance = (double) hits / (double) query_words.size();
            }
            // Recency breaks near-ties: a month-old item weighs half a fresh one's 0.1.
            const double age_days = std::max<int64_t>(now - s.item.created_at, 0) / 86400.0;
            s.score               = relevance + 0.1 / (1.0 + age_days / 30.0);
            items.push_back(std::move(s));
        }
    }
    std::sort(items.begin(), items.end(), [](const scored & a, const scored & b) {
        if (a.score != b.score) return a.score > b.score;
        return a.order > b.order;  // the newer first
    });
    std::vector<memory_item> out;
    size_t                   chars = 0;
    for (auto & s : items) {
        if (out.size() >= max_items) break;
        if (chars + s.item.text.size() > max_chars) continue;  // a smaller one further down may fit
        chars += s.item.text.size();
        out.push_back(std::move(s.item));
    }
    return out;
}

bool database::memory_enabled(int64_t user_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, "SELECT memory_enabled FROM user_settings WHERE user_id = ?");
    st.bind(1, user_id);
    return !st.step() || st.column_int(0) != 0;
}

void database::memory_enabled_set(int64_t user_id, bool enabled) {
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    {
        sqlite_statement st(impl_->conn, "SELECT 1 FROM users WHERE id = ?");
        st.bind(1, user_id);
        if (!st.step()) {
            throw std::invalid_argument("memory_enabled_set: there is no user " + std::to_string(user_id) +
                                        "; create the user first");
        }
    }
    sqlite_statement(impl_->conn,
                     "INSERT INTO user_settings (user_id, memory_enabled) VALUES (?, ?) "
                     "ON CONFLICT (user_id) DO UPDATE SET memory_enabled = excluded.memory_enabled")
        .bind(1, user_id)
        .bind(2, (int64_t) enabled)
        .run();
    tx.commit();
}

}  // namespace muse::store
