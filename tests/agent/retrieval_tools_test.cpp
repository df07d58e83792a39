// file_search, remember and forget called as the loop calls them, on a real store in a temp
// dir. The embedder is a small deterministic one (hashed words, with a few synonyms sharing a
// slot) so that the vector path runs and can find what the words alone do not.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <stdexcept>

#include "agent/tools/file-search.h"
#include "agent/tools/memory-tools.h"
#include "extract/chunk.h"
#include "store/store_test_util.h"

using namespace muse;
using namespace muse::agent;
using json = nlohmann::json;
using muse::test::temp_dir;

namespace {

constexpr size_t k_dims = 64;

// Bag of words hashed into k_dims slots; "car", "automobile" and "vehicle" share one.
std::vector<float> word_vector(const std::string & text) {
    static const std::map<std::string, std::string> k_same = { { "automobile", "car" }, { "vehicle", "car" } };
    std::vector<float> v(k_dims, 0.f);
    std::string        w;
    auto               flush = [&] {
        if (w.empty()) return;
        auto it = k_same.find(w);
        v[std::hash<std::string>()(it == k_same.end() ? w : it->second) % k_dims] += 1.f;
        w.clear();
    };
    for (char c : text) {
        if (std::isalnum((unsigned char) c)) w += (char) std::tolower((unsigned char) c);
        else flush();
    }
    flush();
    v[k_dims - 1] += 0.01f;  // never all zeros
    return v;
}

std::vector<std::vector<float>> embed_words(const std::vector<std::string> & texts) {
    std::vector<std::vector<float>> out;
    for (const auto & t : texts) out.push_back(word_vector(t));
    return out;
}

struct fixture {
    temp_dir           dir;
    store::database    db { dir.path() };
    store::user        ada = db.user_get_or_create("ada", false);
    store::user        bob = db.user_get_or_create("bob", false);
    std::string        doc;
    store::file_record report;

    fixture() {
        for (int i = 0; i < 40; ++i) doc += "Filler paragraph " + std::to_string(i) + " about nothing in particular.\n\n";
        doc += "The lease on the automobile ends in March 2026 and the dealer wants it back clean.\n\n";
        for (int i = 40; i < 60; ++i) doc += "Filler paragraph " + std::to_string(i) + " about nothing in particular.\n\n";
        report = db.file_put(ada.id, "lease-notes.txt", "assistants", doc);
        const auto spans = extract::chunk_text(doc, { 400, 80 });
        std::vector<std::string> texts;
        for (const auto & s : spans) texts.push_back(s.text);
        EXPECT_TRUE(db.chunks_add(ada.id, store::CHUNK_SOURCE_FILE, report.id, report.filename, spans, embed_words(texts)));
    }

    tool_context ctx(const store::user & u) const {
        tool_context c;
        c.user_id = u.id;
        return c;
    }
};

}  // namespace

TEST(file_search_tool, definition_asks_for_a_query) {
    fixture         f;
    const chat_tool d = file_search_tool(f.db)->definition();
    EXPECT_EQ(d.name, "file_search");
    const json p = json::parse(d.parameters);
    EXPECT_EQ(p["required"], json::array({ "query" }));
    EXPECT_EQ(p["properties"]["max_results"]["type"], "integer");
}

TEST(file_search_tool, cites_the_file_span_and_a_snippet) {
    fixture    f;
    auto       tool = file_search_tool(f.db);
    const auto r    = tool->call({ { "query", "when does the lease end?" } }, f.ctx(f.ada));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find(f.report.id), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("\"lease-notes.txt\""), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("March 2026"), std::string::npos) << r.text;
    ASSERT_FALSE(r.detail["hits"].empty());
    const json & h = r.detail["hits"][0];
    EXPECT_EQ(h["file_id"], f.report.id);
    EXPECT_EQ(h["source"], "file");
    EXPECT_EQ(h["title"], "lease-notes.txt");
    EXPECT_GE(h["bm25_rank"].get<int>(), 1);
    const size_t start = h["start"], end = h["end"];
    EXPECT_NE(f.doc.substr(start, end - start).find("lease on the automobile"), std::string::npos);
    EXPECT_NE(r.text.find("bytes " + std::to_string(start) + "-" + std::to_string(end)), std::string::npos) << r.text;
    EXPECT_EQ(r.detail["vector"], false);
}

TEST(file_search_tool, finds_past_conversations_too) {
    fixture    f;
    const auto conv = f.db.conversation_create(f.ada.id, "Garden", "{}");
    const auto m    = f.db.message_append(f.ada.id, conv.id, "user", R"({"role":"user","content":"the tomatoes need staking"})");
    ASSERT_TRUE(m);
    const auto r = file_search_tool(f.db)->call({ { "query", "tomatoes" } }, f.ctx(f.ada));
    ASSERT_FALSE(r.is_error) << r.text;
    ASSERT_EQ(r.detail["hits"].size(), 1u);
    EXPECT_EQ(r.detail["hits"][0]["source"], "conversation");
    EXPECT_EQ(r.detail["hits"][0]["source_id"], conv.id);
    EXPECT_EQ(r.detail["hits"][0]["message_id"], m->id);
    EXPECT_NE(r.text.find("conversation " + conv.id + " \"Garden\""), std::string::npos) << r.text;
}

TEST(file_search_tool, searches_only_the_calling_users_data) {
    fixture    f;
    const auto r = file_search_tool(f.db, embed_words)->call({ { "query", "lease automobile March" } }, f.ctx(f.bob));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_TRUE(r.detail["hits"].empty());
    EXPECT_EQ(r.text.find(f.report.id), std::string::npos);
    EXPECT_NE(r.text.find("No passages"), std::string::npos) << r.text;
}

TEST(file_search_tool, vectors_find_what_the_words_miss_and_a_failing_embedder_falls_back) {
    fixture f;
    // "vehicle" is not in the file; the embedder puts it with "automobile".
    auto words = file_search_tool(f.db)->call({ { "query", "vehicle" } }, f.ctx(f.ada));
    EXPECT_TRUE(words.detail["hits"].empty()) << words.text;
    auto both = file_search_tool(f.db, embed_words)->call({ { "query", "vehicle" } }, f.ctx(f.ada));
    ASSERT_FALSE(both.is_error) << both.text;
    EXPECT_EQ(both.detail["vector"], true);
    ASSERT_FALSE(both.detail["hits"].empty());
    EXPECT_EQ(both.detail["hits"][0]["vector_rank"], 1);
    EXPECT_NE(both.text.find("March 2026"), std::string::npos) << both.text;

    auto throws = [](const std::vector<std::string> &) -> std::vector<std::vector<float>> {
        throw std::runtime_error("model not loaded");
    };
    auto r = file_search_tool(f.db, throws)->call({ { "query", "lease" } }, f.ctx(f.ada));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_FALSE(r.detail["hits"].empty());
    EXPECT_NE(r.detail["vector_note"].get<std::string>().find("model not loaded"), std::string::npos);
    auto zeros = [](const std::vector<std::string> &) { return std::vector<std::vector<float>>{ std::vector<float>(k_dims, 0.f) }; };
    r = file_search_tool(f.db, zeros)->call({ { "query", "lease" } }, f.ctx(f.ada));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_FALSE(r.detail["hits"].empty());
    EXPECT_EQ(r.detail["vector"], false);
}

TEST(file_search_tool, bad_arguments_are_errors_and_hostile_queries_are_not) {
    fixture f;
    auto    tool = file_search_tool(f.db);
    for (const json & args : { json::object(), json{ { "query", "" } }, json{ { "query", "   " } }, json{ { "query", 42 } },
                               json{ { "query", "lease" }, { "max_results", "many" } } }) {
        const auto r = tool->call(args, f.ctx(f.ada));
        EXPECT_TRUE(r.is_error) << args.dump();
    }
    auto one = tool->call({ { "query", "filler paragraph" }, { "max_results", 1 } }, f.ctx(f.ada));
    EXPECT_EQ(one.detail["hits"].size(), 1u);
    auto many = tool->call({ { "query", "filler paragraph" }, { "max_results", 1e9 } }, f.ctx(f.ada));
    EXPECT_LE(many.detail["hits"].size(), 20u);
    for (const char * q : { "\"lease", "NEAR(lease", "lease*", ")))", "col:lease", "\xff\xfe" }) {
        const auto r = tool->call({ { "query", q } }, f.ctx(f.ada));
        EXPECT_FALSE(r.is_error) << q << ": " << r.text;
    }
}

TEST(file_search_tool, snippet_is_around_the_word_and_cut_between_characters) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "héllo wörld ";
    text += "needle in the haystack ";
    for (int i = 0; i < 100; ++i) text += "ünd mehr ";
    const std::string s = search_snippet(text, "Needle", 120);
    EXPECT_NE(s.find("needle"), std::string::npos) << s;
    EXPECT_LE(s.size(), 120u + 2 * std::string("…").size());
    EXPECT_EQ(s.rfind("…", 0), 0u);
    // Valid UTF-8: no continuation byte after an ASCII byte or at the start of the cut text.
    const std::string body = s.substr(std::string("…").size());
    EXPECT_NE((unsigned char) body[0] & 0xC0, 0x80);
    EXPECT_EQ(search_snippet("short   text\n\nhere", "x", 120), "short text here");
}

TEST(memory_tools, remember_stores_with_a_vector_and_forget_removes) {
    fixture    f;
    auto       rem = remember_tool(f.db, embed_words);
    const auto r   = rem->call({ { "text", "  prefers aisle seats on flights " } }, f.ctx(f.ada));
    ASSERT_FALSE(r.is_error) << r.text;
    const std::string id = r.detail["memory"]["id"];
    auto              items = f.db.memory_list(f.ada.id);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].id, id);
    EXPECT_EQ(items[0].text, "prefers aisle seats on flights");
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT dims FROM memory"), (int64_t) k_dims);
    EXPECT_EQ(f.db.memory_relevant(f.ada.id, "book a flight", word_vector("book a flight"), 1, 500).at(0).id, id);

    auto fgt = forget_tool(f.db);
    // Bob cannot forget Ada's item, nor can anyone forget an id that is not there.
    EXPECT_TRUE(fgt->call({ { "id", id } }, f.ctx(f.bob)).is_error);
    EXPECT_TRUE(fgt->call({ { "id", "mem_000000000000000000000000" } }, f.ctx(f.ada)).is_error);
    EXPECT_TRUE(fgt->call(json::object(), f.ctx(f.ada)).is_error);
    EXPECT_EQ(f.db.memory_list(f.ada.id).size(), 1u);
    const auto done = fgt->call({ { "id", id } }, f.ctx(f.ada));
    EXPECT_FALSE(done.is_error) << done.text;
    EXPECT_TRUE(f.db.memory_list(f.ada.id).empty());
    EXPECT_TRUE(fgt->call({ { "id", id } }, f.ctx(f.ada)).is_error);
}

TEST(memory_tools, bad_text_and_memory_off_are_errors_that_store_nothing) {
    fixture f;
    auto    rem = remember_tool(f.db, nullptr, { 50 });
    EXPECT_TRUE(rem->call(json::object(), f.ctx(f.ada)).is_error);
    EXPECT_TRUE(rem->call({ { "text", " \n " } }, f.ctx(f.ada)).is_error);
    EXPECT_TRUE(rem->call({ { "text", std::string(51, 'x') } }, f.ctx(f.ada)).is_error);
    EXPECT_TRUE(f.db.memory_list(f.ada.id).empty());

    const auto kept = rem->call({ { "text", "likes tea" } }, f.ctx(f.ada));
    ASSERT_FALSE(kept.is_error);
    EXPECT_EQ(test::sql_int(f.dir.db_path(), "SELECT dims FROM memory"), 0);  // no embedder: no vector
    f.db.memory_enabled_set(f.ada.id, false);
    const auto off = rem->call({ { "text", "likes coffee" } }, f.ctx(f.ada));
    EXPECT_TRUE(off.is_error);
    EXPECT_NE(off.text.find("turned off"), std::string::npos) << off.text;
    const auto off2 = forget_tool(f.db)->call({ { "id", kept.detail["memory"]["id"] } }, f.ctx(f.ada));
    EXPECT_TRUE(off2.is_error);
    EXPECT_NE(off2.text.find("turned off"), std::string::npos) << off2.text;
    EXPECT_EQ(f.db.memory_list(f.ada.id).size(), 1u);
    // Bob's memory is his own switch.
    EXPECT_FALSE(rem->call({ { "text", "likes coffee" } }, f.ctx(f.bob)).is_error);
    // An unknown id is named in the error, cut between characters (a cut inside one made the
    // text unstorable).
    std::string id;
    for (int i = 0; i < 40; i++) id += "\xd0\x96";
    const auto unknown = forget_tool(f.db)->call({ { "id", "x" + id } }, f.ctx(f.bob));
    EXPECT_TRUE(unknown.is_error);
    EXPECT_NE(unknown.text.find("x" + id.substr(0, 62) + "'"), std::string::npos) << unknown.text;
    EXPECT_NO_THROW((void) json(unknown.text).dump());
}
