// Retrieval on a real SQLite file: BM25 over the chunks (FTS5), nearest vectors (hnswlib),
// their fusion, hostile queries, isolation between users, deletes that leave nothing
// findable, conversations indexed as they are written, memory ranked for a prompt, and
// migration 3 on a database a v2 muse wrote.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "extract/chunk.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store_test_util.h"

using namespace muse;
using muse::test::temp_dir;

namespace {

using spans_t = std::vector<extract::chunk_span>;

// One span per paragraph, with its real offsets in the joined text.
spans_t paragraph_spans(const std::vector<std::string> & paragraphs) {
    spans_t out;
    size_t  at = 0;
    for (const auto & p : paragraphs) {
        out.push_back({ at, at + p.size(), p });
        at += p.size() + 2;
    }
    return out;
}

std::vector<float> random_vector(std::mt19937 & rng, size_t dims) {
    std::normal_distribution<float> n(0.f, 1.f);
    std::vector<float>              v(dims);
    for (auto & x : v) x = n(rng);
    return v;
}

std::vector<float> nudged(const std::vector<float> & v, std::mt19937 & rng, float amount) {
    std::normal_distribution<float> n(0.f, amount);
    std::vector<float>              out = v;
    for (auto & x : out) x += n(rng);
    return out;
}

const std::vector<std::string> k_paragraphs = {
    "Emperor penguins breed in the Antarctic winter, huddling together against the wind.",
    "The quarterly budget review moved to Thursday; bring the spreadsheet with the travel costs.",
    "Sourdough needs a lively starter, a long cold proof and a very hot oven.",
    "Kubernetes schedules pods onto nodes; a failing liveness probe restarts the container.",
};

struct fixture {
    temp_dir          dir;
    store::database   db { dir.path() };
    store::user       ada = db.user_get_or_create("ada", false);
    store::user       bob = db.user_get_or_create("bob", false);
    store::file_record notes = db.file_put(ada.id, "notes.txt", "assistants", "(the text)");
};

}  // namespace

TEST(store_retrieval, bm25_finds_the_right_chunk_with_its_span) {
    fixture f;
    std::string text;
    for (const auto & p : k_paragraphs) text += (text.empty() ? "" : "\n\n") + p;
    const spans_t spans = paragraph_spans(k_paragraphs);
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt", spans));

    auto hits = f.db.search(f.ada.id, "when is the budget review?", {}, 5);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].text, k_paragraphs[1]);
    EXPECT_EQ(hits[0].source, store::CHUNK_SOURCE_FILE);
    EXPECT_EQ(hits[0].source_id, f.notes.id);
    EXPECT_EQ(hits[0].title, "notes.txt");
    EXPECT_EQ(hits[0].bm25_rank, 1);
    EXPECT_EQ(hits[0].vector_rank, 0);
    EXPECT_EQ(text.substr((size_t) hits[0].start, (size_t) (hits[0].end - hits[0].start)), k_paragraphs[1]);
    EXPECT_GT(hits[0].score, 0);

    // Porter stemming and case: "Penguin" finds "penguins", "proofing" finds "proof".
    hits = f.db.search(f.ada.id, "Penguin", {}, 5);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].text, k_paragraphs[0]);
    hits = f.db.search(f.ada.id, "proofing", {}, 5);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].text, k_paragraphs[2]);
    EXPECT_TRUE(f.db.search(f.ada.id, "zeppelin", {}, 5).empty());
    EXPECT_TRUE(f.db.search(f.ada.id, "budget", {}, 0).empty());
    // The kinds filter: no conversation has these words.
    EXPECT_TRUE(f.db.search(f.ada.id, "budget", {}, 5, { store::CHUNK_SOURCE_CONVERSATION }).empty());
    EXPECT_EQ(f.db.search(f.ada.id, "budget", {}, 5, { store::CHUNK_SOURCE_FILE }).size(), 1u);
}

TEST(store_retrieval, chunks_from_the_chunker_map_back_to_the_text) {
    fixture     f;
    std::string text;
    for (int i = 0; i < 60; ++i) text += "Paragraph " + std::to_string(i) + " talks about item" + std::to_string(i) + ".\n\n";
    const auto spans = extract::chunk_text(text, { 300, 60 });
    ASSERT_GT(spans.size(), 3u);
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt", spans));
    const auto hits = f.db.search(f.ada.id, "item42", {}, 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_NE(hits[0].text.find("item42"), std::string::npos);
    EXPECT_EQ(text.substr((size_t) hits[0].start, (size_t) (hits[0].end - hits[0].start)), hits[0].text);
}

TEST(store_retrieval, hostile_queries_never_error) {
    fixture f;
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt", paragraph_spans(k_paragraphs)));
    // Only a query's first words are searched: a pasted book costs what a sentence does.
    std::string huge = "penguins ";
    for (int i = 0; i < 100000; ++i) huge += "word" + std::to_string(i % 5000) + " (\"*";
    const std::vector<std::string> queries = {
        "",
        "   \t\n",
        "\"",
        "\"penguins",
        "penguins\"\"\"",
        "NEAR(penguins winter)",
        "penguins NEAR/2 winter",
        "*",
        "penguin*",
        "(((penguins",
        "penguins)))",
        "AND",
        "OR NOT AND",
        "text:penguins",
        "chunks_fts:penguins",
        "-penguins",
        "^penguins",
        "+penguins",
        "{text}: penguins",
        "'; DROP TABLE chunks; --",
        std::string("pen\0guins", 9),
        "\xff\xfe penguins \xc3",
        "ペンギン 企鹅 пингвин",
        huge,
    };
    for (const auto & q : queries) {
        std::vector<store::search_hit> hits;
        EXPECT_NO_THROW(hits = f.db.search(f.ada.id, q, {}, 5)) << "query: " << q.substr(0, 80);
        if (q.find("penguins") != std::string::npos && q.find('\0') == std::string::npos) {
            ASSERT_FALSE(hits.empty()) << "query: " << q.substr(0, 80);
            EXPECT_EQ(hits[0].text, k_paragraphs[0]) << "query: " << q.substr(0, 80);
        }
    }
    // The table survived the injection attempt.
    EXPECT_EQ(f.db.search(f.ada.id, "sourdough", {}, 5).size(), 1u);
}

TEST(store_retrieval, nearest_vector_found_through_the_index_as_it_grows) {
    fixture         f;
    std::mt19937    rng(7);
    const size_t    dims = 48;
    std::vector<std::vector<float>> vecs;
    spans_t         spans;
    for (int i = 0; i < 150; ++i) {
        spans.push_back({ (size_t) i * 10, (size_t) i * 10 + 9, "chunk number " + std::to_string(i) });
        vecs.push_back(random_vector(rng, dims));
    }
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt", spans, vecs));
    for (int i : { 0, 17, 149 }) {
        const auto hits = f.db.search(f.ada.id, "", nudged(vecs[i], rng, 0.05f), 3);
        ASSERT_FALSE(hits.empty());
        EXPECT_EQ(hits[0].text, "chunk number " + std::to_string(i));
        EXPECT_EQ(hits[0].vector_rank, 1);
        EXPECT_EQ(hits[0].bm25_rank, 0);
        EXPECT_GT(hits[0].similarity, 0.95f);
    }
    // The index is built now: new vectors go in with addPoint, past its first capacity.
    const auto more = f.db.file_put(f.ada.id, "more.txt", "assistants", "x");
    for (int round = 0; round < 4; ++round) {
        spans_t                         s2;
        std::vector<std::vector<float>> v2;
        for (int i = 0; i < 100; ++i) {
            s2.push_back({ 0, 1, "more " + std::to_string(round * 100 + i) });
            v2.push_back(random_vector(rng, dims));
        }
        ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, more.id, "more.txt", s2, v2));
        const auto hits = f.db.search(f.ada.id, "", nudged(v2[42], rng, 0.05f), 1);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].text, "more " + std::to_string(round * 100 + 42));
        EXPECT_EQ(hits[0].source_id, more.id);
    }
}

TEST(store_retrieval, hybrid_fusion_puts_a_chunk_found_both_ways_first) {
    fixture      f;
    std::mt19937 rng(11);
    const size_t dims  = 32;
    const auto   query = random_vector(rng, dims);
    // words: B best, A second, C none. vectors: C nearest, A second, B far.
    const spans_t spans = paragraph_spans({
        "solar panel solar panel solar panel installation guide",  // B
        "notes on the solar roof we priced last spring",             // A
        "photovoltaic quotes from three installers",                 // C
        "unrelated grocery list: milk, eggs, flour",                 // D
    });
    std::vector<std::vector<float>> vecs = {
        random_vector(rng, dims),   // B: unrelated direction
        nudged(query, rng, 0.35f),  // A: close
        nudged(query, rng, 0.1f),   // C: closest
        random_vector(rng, dims),   // D
    };
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt", spans, vecs));
    const auto words_only = f.db.search(f.ada.id, "solar panel", {}, 4);
    ASSERT_GE(words_only.size(), 2u);
    EXPECT_EQ(words_only[0].text, spans[0].text);
    const auto hits = f.db.search(f.ada.id, "solar panel", query, 4);
    ASSERT_GE(hits.size(), 3u);
    EXPECT_EQ(hits[0].text, spans[1].text) << "A is second by words and by vector: fused, it leads";
    EXPECT_EQ(hits[0].bm25_rank, 2);
    EXPECT_EQ(hits[0].vector_rank, 2);
    EXPECT_NEAR(hits[0].score, 2.0 / 62.0, 1e-9);
    EXPECT_GT(hits[0].score, hits[1].score);
}

TEST(store_retrieval, one_user_never_sees_anothers_chunks_vectors_or_memory) {
    fixture      f;
    std::mt19937 rng(3);
    const auto   v = random_vector(rng, 16);
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt",
                                paragraph_spans({ "ada's secret penguin plans" }), { v }));
    f.db.memory_add(f.ada.id, "ada likes penguins", v);
    const auto bob_file = f.db.file_put(f.bob.id, "bob.txt", "assistants", "x");
    ASSERT_TRUE(f.db.chunks_add(f.bob.id, store::CHUNK_SOURCE_FILE, bob_file.id, "bob.txt",
                                paragraph_spans({ "bob's own penguin notes" }), { random_vector(rng, 16) }));

    const auto bob_hits = f.db.search(f.bob.id, "penguin plans secret", v, 10);
    ASSERT_EQ(bob_hits.size(), 1u);
    EXPECT_EQ(bob_hits[0].source_id, bob_file.id);
    EXPECT_TRUE(f.db.memory_relevant(f.bob.id, "penguins", v, 10, 1000).empty());
    // Bob cannot add to or delete from Ada's file.
    EXPECT_FALSE(f.db.chunks_add(f.bob.id, store::CHUNK_SOURCE_FILE, f.notes.id, "x", paragraph_spans({ "injected" })));
    EXPECT_EQ(f.db.chunks_delete(f.bob.id, store::CHUNK_SOURCE_FILE, f.notes.id), 0u);
    const auto ada_hits = f.db.search(f.ada.id, "penguin", v, 10);
    ASSERT_EQ(ada_hits.size(), 1u);
    EXPECT_EQ(ada_hits[0].source_id, f.notes.id);
    EXPECT_EQ(ada_hits[0].vector_rank, 1);
    EXPECT_TRUE(f.db.search(f.ada.id, "injected", {}, 10).empty());
}

TEST(store_retrieval, deleting_a_file_conversation_or_user_leaves_nothing_findable) {
    fixture      f;
    std::mt19937 rng(5);
    const auto   v = random_vector(rng, 16);
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "notes.txt",
                                paragraph_spans({ "the walrus file" }), { v }));
    ASSERT_EQ(f.db.search(f.ada.id, "walrus", v, 5).size(), 1u);  // builds the vector index
    EXPECT_TRUE(f.db.file_delete(f.ada.id, f.notes.id));
    EXPECT_TRUE(f.db.search(f.ada.id, "walrus", {}, 5).empty());
    EXPECT_TRUE(f.db.search(f.ada.id, "", v, 5).empty());
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM chunks"), 0);
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'walrus'"), 0);

    // chunks_delete itself.
    const auto g = f.db.file_put(f.ada.id, "g.txt", "assistants", "x");
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, g.id, "g.txt", paragraph_spans({ "narwhal" }), { v }));
    EXPECT_EQ(f.db.search(f.ada.id, "", v, 5).size(), 1u);
    EXPECT_EQ(f.db.chunks_delete(f.ada.id, store::CHUNK_SOURCE_FILE, g.id), 1u);
    EXPECT_TRUE(f.db.search(f.ada.id, "narwhal", v, 5).empty());

    // A conversation: its messages' chunks go with it.
    const auto conv = f.db.conversation_create(f.ada.id, "zoo trip", "{}");
    ASSERT_TRUE(f.db.message_append(f.ada.id, conv.id, "user", R"({"role":"user","content":"plan the okapi visit"})"));
    ASSERT_EQ(f.db.search(f.ada.id, "okapi", {}, 5).size(), 1u);
    EXPECT_TRUE(f.db.conversation_delete(f.ada.id, conv.id));
    EXPECT_TRUE(f.db.search(f.ada.id, "okapi", {}, 5).empty());

    // The user: every chunk, vector, memory item and setting.
    const auto h = f.db.file_put(f.ada.id, "h.txt", "assistants", "x");
    ASSERT_TRUE(f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, h.id, "h.txt", paragraph_spans({ "axolotl" }), { v }));
    const auto conv2 = f.db.conversation_create(f.ada.id, "t", "{}");
    ASSERT_TRUE(f.db.message_append(f.ada.id, conv2.id, "user", R"({"role":"user","content":"axolotl tank"})"));
    f.db.memory_add(f.ada.id, "axolotl owner", v);
    f.db.memory_enabled_set(f.ada.id, false);
    ASSERT_EQ(f.db.search(f.ada.id, "axolotl", v, 5).size(), 2u);
    f.db.user_delete(f.ada.id);
    EXPECT_TRUE(f.db.search(f.ada.id, "axolotl", v, 5).empty());
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM chunks"), 0);
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM user_settings"), 0);
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM memory"), 0);
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'axolotl'"), 0);
}

TEST(store_retrieval, conversations_are_indexed_as_messages_are_appended) {
    fixture    f;
    const auto conv = f.db.conversation_create(f.ada.id, "Holiday planning", "{}");
    const auto m1   = f.db.message_append(f.ada.id, conv.id, "user", R"({"role":"user","content":"Which ferry goes to Hydra?"})");
    const auto m2   = f.db.message_append(
        f.ada.id, conv.id, "assistant",
        R"({"role":"assistant","content":[{"type":"text","text":"The morning ferry from Piraeus."},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"output_text","text":"It takes two hours."}]})");
    f.db.message_append(f.ada.id, conv.id, "tool", R"({"role":"tool","content":"secret tool output ferry"})");
    f.db.message_append(f.ada.id, conv.id, "user", "not json at all ferry");
    ASSERT_TRUE(m1 && m2);

    auto hits = f.db.search(f.ada.id, "ferry", {}, 10);
    ASSERT_EQ(hits.size(), 2u);
    for (const auto & h : hits) {
        EXPECT_EQ(h.source, store::CHUNK_SOURCE_CONVERSATION);
        EXPECT_EQ(h.source_id, conv.id);
        EXPECT_EQ(h.title, "Holiday planning");
        EXPECT_EQ(h.text.find("secret"), std::string::npos);
    }
    hits = f.db.search(f.ada.id, "piraeus hours", {}, 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].message_id, m2->id);
    EXPECT_EQ(hits[0].text, "The morning ferry from Piraeus.\n\nIt takes two hours.");
    EXPECT_EQ(hits[0].start, 0);
    EXPECT_EQ(hits[0].end, (int64_t) hits[0].text.size());
    EXPECT_TRUE(f.db.search(f.ada.id, "ferry", {}, 10, { store::CHUNK_SOURCE_FILE }).empty());
    EXPECT_TRUE(f.db.search(f.bob.id, "ferry", {}, 10).empty());
    // A message to another user's conversation is refused and indexes nothing.
    EXPECT_FALSE(f.db.message_append(f.bob.id, conv.id, "user", R"({"role":"user","content":"bob's ferry"})"));
    EXPECT_EQ(f.db.search(f.ada.id, "ferry", {}, 10).size(), 2u);
}

TEST(store_retrieval, vectors_of_new_dims_and_from_another_connection_are_found) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    std::mt19937    rng(9);
    const auto      a = db.file_put(u.id, "a.txt", "assistants", "x");
    const auto      v8 = random_vector(rng, 8);
    ASSERT_TRUE(db.chunks_add(u.id, store::CHUNK_SOURCE_FILE, a.id, "a.txt", paragraph_spans({ "eight" }), { v8 }));
    ASSERT_EQ(db.search(u.id, "", v8, 5).size(), 1u);
    // A new embedding model: 16 dims. Both generations stay findable with their own queries.
    const auto b   = db.file_put(u.id, "b.txt", "assistants", "x");
    const auto v16 = random_vector(rng, 16);
    ASSERT_TRUE(db.chunks_add(u.id, store::CHUNK_SOURCE_FILE, b.id, "b.txt", paragraph_spans({ "sixteen" }), { v16 }));
    auto hits = db.search(u.id, "", v16, 5);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].text, "sixteen");
    hits = db.search(u.id, "", v8, 5);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].text, "eight");
    // Another process (a second store on the file) adds vectors: this one's index catches up.
    {
        store::database other(dir.path());
        const auto      c = other.file_put(u.id, "c.txt", "assistants", "x");
        ASSERT_TRUE(other.chunks_add(u.id, store::CHUNK_SOURCE_FILE, c.id, "c.txt", paragraph_spans({ "other" }),
                                     { nudged(v8, rng, 0.01f) }));
        other.chunks_delete(u.id, store::CHUNK_SOURCE_FILE, a.id);
    }
    hits = db.search(u.id, "", v8, 5);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].text, "other");
}

TEST(store_retrieval, bad_vectors_are_clear_errors_and_store_nothing) {
    fixture       f;
    const spans_t two = paragraph_spans({ "one", "two" });
    auto          msg = [&](const std::vector<std::vector<float>> & vs) {
        try {
            f.db.chunks_add(f.ada.id, store::CHUNK_SOURCE_FILE, f.notes.id, "n", two, vs);
        } catch (const std::invalid_argument & e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(msg({ { 1, 2 } }).find("1 vectors for 2 spans"), std::string::npos);
    EXPECT_NE(msg({ { 1, 2 }, { 1, 2, 3 } }).find("dims"), std::string::npos);
    EXPECT_NE(msg({ { 1, 2 }, { 0, 0 } }).find("zeros"), std::string::npos);
    EXPECT_NE(msg({ { 1, NAN }, { 1, 2 } }).find("NaN"), std::string::npos);
    EXPECT_THROW(f.db.search(f.ada.id, "x", { 0, 0, 0 }, 5), std::invalid_argument);
    EXPECT_TRUE(f.db.search(f.ada.id, "one two", {}, 5).empty());
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT count(*) FROM chunks"), 0);
}

TEST(store_memory, relevant_items_first_within_bounds) {
    fixture f;
    f.db.memory_add(f.ada.id, "works as a nurse on night shifts");
    f.db.memory_add(f.ada.id, "prefers green tea without sugar");
    f.db.memory_add(f.ada.id, "has a dog called Biscuit");
    f.db.memory_add(f.ada.id, "is learning Portuguese for a trip to Lisbon");
    f.db.memory_add(f.ada.id, "allergic to peanuts");

    auto items = f.db.memory_relevant(f.ada.id, "Can you suggest a tea I would like?", {}, 2, 1000);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].text, "prefers green tea without sugar");
    items = f.db.memory_relevant(f.ada.id, "walking dogs in the rain", {}, 1, 1000);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].text, "has a dog called Biscuit");
    // A small memory is shown whole, the relevant first; the chars bound holds.
    items = f.db.memory_relevant(f.ada.id, "peanuts", {}, 10, 10000);
    ASSERT_EQ(items.size(), 5u);
    EXPECT_EQ(items[0].text, "allergic to peanuts");
    items = f.db.memory_relevant(f.ada.id, "Lisbon trip", {}, 10, 60);
    size_t chars = 0;
    for (const auto & m : items) chars += m.text.size();
    EXPECT_LE(chars, 60u);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items[0].text, "is learning Portuguese for a trip to Lisbon");
    EXPECT_TRUE(f.db.memory_relevant(f.ada.id, "tea", {}, 0, 1000).empty());
    EXPECT_TRUE(f.db.memory_relevant(f.ada.id, "tea", {}, 5, 5).empty());  // nothing fits in 5 bytes
    EXPECT_NO_THROW(f.db.memory_relevant(f.ada.id, std::string(1 << 20, '('), {}, 5, 1000));

    // By vector, where the words do not meet.
    std::mt19937 rng(13);
    const auto   v = random_vector(rng, 24);
    f.db.memory_add(f.ada.id, "her sister lives in Osaka", nudged(v, rng, 0.05f));
    f.db.memory_add(f.ada.id, "drives an old Volvo", random_vector(rng, 24));
    items = f.db.memory_relevant(f.ada.id, "family abroad", v, 1, 1000);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].text, "her sister lives in Osaka");
}

TEST(store_memory, enabled_flag_defaults_on_persists_and_silences_memory) {
    temp_dir dir;
    int64_t  id = 0;
    {
        store::database db(dir.path());
        const auto      u = db.user_get_or_create("ada", false);
        id                = u.id;
        EXPECT_TRUE(db.memory_enabled(u.id));
        db.memory_add(u.id, "likes tea");
        db.memory_enabled_set(u.id, false);
        EXPECT_FALSE(db.memory_enabled(u.id));
        EXPECT_TRUE(db.memory_relevant(u.id, "tea", {}, 5, 1000).empty());
        EXPECT_THROW(db.memory_enabled_set(987654, true), std::invalid_argument);
    }
    store::database db(dir.path());
    EXPECT_FALSE(db.memory_enabled(id));
    EXPECT_EQ(nlohmann::json::parse(db.user_export(id))["settings"]["memory_enabled"], false);
    db.memory_enabled_set(id, true);
    EXPECT_TRUE(db.memory_enabled(id));
    EXPECT_EQ(db.memory_relevant(id, "tea", {}, 5, 1000).size(), 1u);
}

TEST(store_schema, migration_3_applies_to_a_v2_database_and_keeps_its_data) {
    temp_dir    dir;
    int64_t     uid = 0;
    std::string file_id, mem_id;
    {
        store::database db(dir.path());
        const auto      u = db.user_get_or_create("ada", false);
        uid               = u.id;
        file_id           = db.file_put(u.id, "old.txt", "assistants", "old bytes").id;
        mem_id            = db.memory_add(u.id, "likes jasmine tea").id;
    }
    // Back to what a v2 muse wrote: none of migration 3's objects (nor later ones'), user_version 2.
    test::store_back_to_v3(dir.db_path());
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec(
            "DROP TRIGGER files_chunks_delete; DROP TRIGGER conversations_chunks_delete; DROP TABLE chunks_fts; "
            "DROP TABLE chunks; DROP TABLE user_settings; ALTER TABLE memory DROP COLUMN embedding; "
            "ALTER TABLE memory DROP COLUMN dims; DELETE FROM sqlite_sequence; PRAGMA user_version = 2");
    }
    ASSERT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), 2);
    store::database db(dir.path());
    EXPECT_EQ(db.schema_version(), store::migrations_latest());
    EXPECT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), store::migrations_latest());
    const auto mem = db.memory_list(uid);
    ASSERT_EQ(mem.size(), 1u);
    EXPECT_EQ(mem[0].id, mem_id);
    EXPECT_TRUE(db.memory_enabled(uid));
    EXPECT_EQ(db.memory_relevant(uid, "jasmine", {}, 5, 1000).size(), 1u);
    ASSERT_TRUE(db.chunks_add(uid, store::CHUNK_SOURCE_FILE, file_id, "old.txt", paragraph_spans({ "old bytes indexed" })));
    EXPECT_EQ(db.search(uid, "indexed", {}, 5).size(), 1u);
    EXPECT_TRUE(db.file_delete(uid, file_id));
    EXPECT_TRUE(db.search(uid, "indexed", {}, 5).empty());
}
