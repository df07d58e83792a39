// Conversations as trees on a real SQLite file: appends under a parent, the current branch,
// paths and siblings, updates, search, and the migration of linear conversations (v4).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/migrations.h"
#include "store_test_util.h"

using namespace muse;
using muse::test::temp_dir;

namespace {

std::string said(const std::string & role, const std::string & text) {
    return R"({"role":")" + role + R"(","content":")" + text + R"("})";
}

std::vector<std::string> ids_of(const std::vector<store::message> & msgs) {
    std::vector<std::string> out;
    for (const auto & m : msgs) out.push_back(m.id);
    return out;
}

}  // namespace

TEST(store_conversation_tree, append_follows_the_current_message) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    const auto      c = db.conversation_create(u.id, "chat", "{}");
    EXPECT_EQ(c.current_id, "");
    const auto u1 = db.message_append(u.id, c.id, "user", said("user", "hi"));
    const auto a1 = db.message_append(u.id, c.id, "assistant", said("assistant", "hello"));
    ASSERT_TRUE(u1 && a1);
    EXPECT_EQ(u1->parent_id, "");
    EXPECT_EQ(a1->parent_id, u1->id);
    EXPECT_EQ(db.conversation_get(u.id, c.id)->current_id, a1->id);
    const auto all = db.message_list(u.id, c.id);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].parent_id, u1->id);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM messages WHERE parent_id IS NULL"), 1);
}

TEST(store_conversation_tree, branches_paths_and_siblings) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u  = db.user_get_or_create("ada", false);
    const auto      c  = db.conversation_create(u.id, "chat", "{}");
    const auto      u1 = db.message_append(u.id, c.id, "user", said("user", "hi"));
    const auto      a1 = db.message_append(u.id, c.id, "assistant", said("assistant", "hello"));
    const auto      u2 = db.message_append(u.id, c.id, "user", said("user", "tell a joke"));
    const auto      a2 = db.message_append(u.id, c.id, "assistant", said("assistant", "knock knock"));
    // Regenerate: a second answer to u2. Edit: a second question after a1, with its answer.
    const auto a2b = db.message_append_under(u.id, c.id, u2->id, "assistant", said("assistant", "why did the"));
    const auto u2b = db.message_append_under(u.id, c.id, a1->id, "user", said("user", "tell a poem"));
    const auto a3  = db.message_append(u.id, c.id, "assistant", said("assistant", "roses are red"));
    ASSERT_TRUE(a2b && u2b && a3);
    EXPECT_EQ(a2b->parent_id, u2->id);
    EXPECT_EQ(u2b->parent_id, a1->id);
    EXPECT_EQ(a3->parent_id, u2b->id);  // under the current message, which the edit moved
    EXPECT_EQ(db.conversation_get(u.id, c.id)->current_id, a3->id);
    EXPECT_EQ(db.message_list(u.id, c.id).size(), 7u);

    EXPECT_EQ(ids_of(db.message_path(u.id, c.id, a3->id)), (std::vector<std::string>{ u1->id, a1->id, u2b->id, a3->id }));
    EXPECT_EQ(ids_of(db.message_path(u.id, c.id, a2->id)), (std::vector<std::string>{ u1->id, a1->id, u2->id, a2->id }));
    EXPECT_EQ(ids_of(db.message_path(u.id, c.id, a2b->id)), (std::vector<std::string>{ u1->id, a1->id, u2->id, a2b->id }));
    EXPECT_EQ(ids_of(db.message_path(u.id, c.id, u1->id)), (std::vector<std::string>{ u1->id }));
    const auto path = db.message_path(u.id, c.id, a2b->id);
    EXPECT_EQ(path.back().content, said("assistant", "why did the"));

    EXPECT_EQ(ids_of(db.message_siblings(u.id, c.id, a2->id)), (std::vector<std::string>{ a2->id, a2b->id }));
    EXPECT_EQ(ids_of(db.message_siblings(u.id, c.id, u2b->id)), (std::vector<std::string>{ u2->id, u2b->id }));
    EXPECT_EQ(ids_of(db.message_siblings(u.id, c.id, a3->id)), (std::vector<std::string>{ a3->id }));

    // A new first message ("" as the parent) is a sibling of the first one.
    const auto u1b = db.message_append_under(u.id, c.id, "", "user", said("user", "hey"));
    ASSERT_TRUE(u1b);
    EXPECT_EQ(u1b->parent_id, "");
    EXPECT_EQ(ids_of(db.message_siblings(u.id, c.id, u1->id)), (std::vector<std::string>{ u1->id, u1b->id }));
    EXPECT_EQ(ids_of(db.message_path(u.id, c.id, u1b->id)), (std::vector<std::string>{ u1b->id }));
}

TEST(store_conversation_tree, foreign_parents_and_users_are_refused) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      ada   = db.user_get_or_create("ada", false);
    const auto      bob   = db.user_get_or_create("bob", false);
    const auto      c1    = db.conversation_create(ada.id, "one", "{}");
    const auto      c2    = db.conversation_create(ada.id, "two", "{}");
    const auto      m1    = db.message_append(ada.id, c1.id, "user", said("user", "hi"));
    const auto      other = db.message_append(ada.id, c2.id, "user", said("user", "elsewhere"));
    ASSERT_TRUE(m1 && other);
    // A parent from another conversation, or none at all: refused, nothing stored.
    EXPECT_THROW(db.message_append_under(ada.id, c1.id, other->id, "assistant", "{}"), std::invalid_argument);
    EXPECT_THROW(db.message_append_under(ada.id, c1.id, "msg_nope", "assistant", "{}"), std::invalid_argument);
    EXPECT_EQ(db.message_list(ada.id, c1.id).size(), 1u);
    EXPECT_EQ(db.conversation_get(ada.id, c1.id)->current_id, m1->id);
    EXPECT_TRUE(db.message_path(ada.id, c1.id, other->id).empty());
    EXPECT_TRUE(db.message_siblings(ada.id, c1.id, other->id).empty());
    // Another user reads nothing and appends nothing.
    EXPECT_FALSE(db.message_append_under(bob.id, c1.id, m1->id, "assistant", "{}"));
    EXPECT_TRUE(db.message_path(bob.id, c1.id, m1->id).empty());
    EXPECT_TRUE(db.message_siblings(bob.id, c1.id, m1->id).empty());
    EXPECT_FALSE(db.conversation_update(bob.id, c1.id, { .title = "mine" }));
    EXPECT_EQ(db.conversation_get(ada.id, c1.id)->title, "one");
}

TEST(store_conversation_tree, update_renames_and_switches_branch) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u  = db.user_get_or_create("ada", false);
    const auto      c  = db.conversation_create(u.id, "chat", R"({"k":1})");
    const auto      u1 = db.message_append(u.id, c.id, "user", said("user", "hi"));
    const auto      a1 = db.message_append(u.id, c.id, "assistant", said("assistant", "hello"));
    const auto      a2 = db.message_append_under(u.id, c.id, u1->id, "assistant", said("assistant", "hey"));
    ASSERT_TRUE(a1 && a2);

    const auto renamed = db.conversation_update(u.id, c.id, { .title = "greetings" });
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->title, "greetings");
    EXPECT_EQ(renamed->metadata, R"({"k":1})");
    EXPECT_EQ(renamed->current_id, a2->id);
    const auto switched = db.conversation_update(u.id, c.id, { .metadata = R"({"k":2})", .current_id = a1->id });
    ASSERT_TRUE(switched);
    EXPECT_EQ(switched->current_id, a1->id);
    const auto got = db.conversation_get(u.id, c.id);
    EXPECT_EQ(got->title, "greetings");
    EXPECT_EQ(got->metadata, R"({"k":2})");
    EXPECT_EQ(got->current_id, a1->id);
    // The next message without a parent continues the branch switched to.
    EXPECT_EQ(db.message_append(u.id, c.id, "user", said("user", "again"))->parent_id, a1->id);

    const auto elsewhere = db.conversation_create(u.id, "other", "{}");
    const auto foreign   = db.message_append(u.id, elsewhere.id, "user", said("user", "x"));
    EXPECT_THROW(db.conversation_update(u.id, c.id, { .current_id = foreign->id }), std::invalid_argument);
    EXPECT_FALSE(db.conversation_update(u.id, "conv_nope", { .title = "x" }));
}

TEST(store_conversation_tree, list_is_newest_first_and_search_finds_titles_and_words) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u     = db.user_get_or_create("ada", false);
    const auto      bob   = db.user_get_or_create("bob", false);
    const auto      trip  = db.conversation_create(u.id, "Trip to Lisbon", "{}");
    const auto      cook  = db.conversation_create(u.id, "100% pasta_night", "{}");
    const auto      other = db.conversation_create(bob.id, "bob's", "{}");
    db.message_append(u.id, cook.id, "user", said("user", "how long do I boil the spaghetti carbonara"));
    db.message_append(bob.id, other.id, "user", said("user", "spaghetti for bob"));
    // The newest append puts its conversation first (ties by creation order: later first).
    db.message_append(u.id, trip.id, "user", said("user", "which tram goes to Belem"));
    const auto list = db.conversation_list(u.id);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].id, trip.id);

    auto hits = db.conversation_search(u.id, "spaghetti");
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].conv.id, cook.id);
    EXPECT_NE(hits[0].snippet.find("spaghetti"), std::string::npos) << hits[0].snippet;

    hits = db.conversation_search(u.id, "lisbon");  // the title, any case; no message says it
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].conv.id, trip.id);
    EXPECT_EQ(hits[0].snippet, "");

    // LIKE's wildcards are the user's text, not patterns.
    hits = db.conversation_search(u.id, "0% pasta_");
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].conv.id, cook.id);
    EXPECT_TRUE(db.conversation_search(u.id, "_%").empty());
    // FTS syntax is words, not operators.
    EXPECT_NO_THROW(db.conversation_search(u.id, "\"tram OR NEAR( *"));
    EXPECT_EQ(db.conversation_search(u.id, "\"tram OR NEAR( *").size(), 1u);
    EXPECT_TRUE(db.conversation_search(u.id, "nothing-like-this").empty());
    EXPECT_EQ(db.conversation_search(u.id, "spaghetti tram", 1).size(), 1u);
}

TEST(store_conversation_tree, migration_links_linear_conversations) {
    temp_dir    dir;
    std::string c1, c2, c3;
    std::vector<std::string> ids;
    {
        store::database db(dir.path());
        const auto      u = db.user_get_or_create("ada", false);
        c1                = db.conversation_create(u.id, "one", "{}").id;
        c2                = db.conversation_create(u.id, "two", "{}").id;
        c3                = db.conversation_create(u.id, "empty", "{}").id;
    }
    // What a v4 muse wrote: linear conversations, interleaved appends, no tree columns.
    test::store_back_to_v4(dir.db_path());
    ASSERT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), 4);
    ASSERT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'parent_id'"), 0);
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        const char * rows[][2] = { { "msg_a", "one" }, { "msg_b", "two" }, { "msg_c", "one" }, { "msg_d", "one" }, { "msg_e", "two" } };
        for (const auto & r : rows) {
            const std::string conv = std::string(r[1]) == "one" ? c1 : c2;
            store::sqlite_statement(conn, "INSERT INTO messages (id, conversation_id, role, content, created_at) VALUES (?, ?, 'user', '{}', 7)")
                .bind(1, std::string(r[0]))
                .bind(2, conv)
                .run();
        }
    }

    store::database db(dir.path());
    EXPECT_EQ(db.schema_version(), store::migrations_latest());
    EXPECT_GE(db.schema_version(), 5);
    const auto u = db.user_find("ada");
    ASSERT_TRUE(u);
    EXPECT_EQ(ids_of(db.message_path(u->id, c1, "msg_d")), (std::vector<std::string>{ "msg_a", "msg_c", "msg_d" }));
    EXPECT_EQ(ids_of(db.message_path(u->id, c2, "msg_e")), (std::vector<std::string>{ "msg_b", "msg_e" }));
    EXPECT_EQ(db.conversation_get(u->id, c1)->current_id, "msg_d");
    EXPECT_EQ(db.conversation_get(u->id, c2)->current_id, "msg_e");
    EXPECT_EQ(db.conversation_get(u->id, c3)->current_id, "");
    // And it grows on from its last message.
    EXPECT_EQ(db.message_append(u->id, c1, "assistant", "{}")->parent_id, "msg_d");
    EXPECT_EQ(db.message_append(u->id, c3, "user", "{}")->parent_id, "");
}
