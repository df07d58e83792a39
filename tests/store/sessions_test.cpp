// Browser sessions on a real SQLite file: create and find by token, the token never stored,
// expiry, a revoked key's sessions, sign-out, a user's deletion, pruning, the export.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/database.h"
#include "store/migrations.h"
#include "store_test_util.h"

using namespace muse;
using muse::test::temp_dir;

namespace {

struct signed_in {
    std::string key, key_id;
    store::user who;
};

signed_in key_make(store::database & db, const std::string & name, bool admin = false) {
    signed_in s;
    s.key = db.key_create(name, admin, &s.key_id);
    s.who = *db.key_verify(s.key);
    return s;
}

}  // namespace

TEST(store_sessions, create_then_find_by_token_with_the_keys_user) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      ada = key_make(db, "ada", true);
    const auto      c   = db.session_create(ada.who.id, ada.key_id, 3600);

    EXPECT_GE(c.token.size(), 43u);  // 32 bytes, base64url without padding
    EXPECT_EQ(c.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_GE(c.session.csrf_token.size(), 43u);
    EXPECT_NE(c.session.csrf_token, c.token);

    const auto found = db.session_find(c.token);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->who.name, "ada");
    EXPECT_TRUE(found->who.admin);
    EXPECT_EQ(found->key_id, ada.key_id);
    EXPECT_EQ(found->csrf_token, c.session.csrf_token);
    EXPECT_EQ(found->expires_at, found->created_at + 3600);

    // The database holds the token's hash only.
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT COUNT(*) FROM sessions WHERE id = '" + c.token + "'"), 0);
    EXPECT_EQ(test::sql_text(dir.db_path(), "SELECT id FROM sessions"), c.session.id);
    EXPECT_NE(c.session.id, c.token);

    EXPECT_FALSE(db.session_find(""));
    EXPECT_FALSE(db.session_find(c.token + "x"));
    EXPECT_FALSE(db.session_find(std::string(10000, 'a')));
    EXPECT_FALSE(db.session_find(std::string("\0\xff\n", 3)));
    EXPECT_THROW(db.session_create(ada.who.id, ada.key_id, 0), std::invalid_argument);
}

TEST(store_sessions, an_expired_session_is_not_found_and_is_pruned) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      ada  = key_make(db, "ada");
    const auto      live = db.session_create(ada.who.id, ada.key_id, 3600);
    const auto      old  = db.session_create(ada.who.id, ada.key_id, 3600);
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec("UPDATE sessions SET expires_at = strftime('%s','now') - 1 WHERE id = '" + old.session.id + "'");
    }
    EXPECT_FALSE(db.session_find(old.token));
    EXPECT_TRUE(db.session_find(live.token));
    EXPECT_EQ(db.sessions_list(ada.who.id).size(), 2u);
    EXPECT_EQ(db.sessions_prune(), 1);
    EXPECT_EQ(db.sessions_list(ada.who.id).size(), 1u);
    EXPECT_EQ(db.sessions_prune(), 0);
}

TEST(store_sessions, revoking_the_key_ends_its_sessions_only) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      first  = key_make(db, "ada");
    const auto      second = key_make(db, "ada");
    const auto      a      = db.session_create(first.who.id, first.key_id, 3600);
    const auto      b      = db.session_create(second.who.id, second.key_id, 3600);
    ASSERT_TRUE(db.key_revoke(first.key_id));
    EXPECT_FALSE(db.session_find(a.token));
    EXPECT_TRUE(db.session_find(b.token));
}

TEST(store_sessions, sign_out_deletes_one_and_touch_records_the_use) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      ada = key_make(db, "ada");
    const auto      a   = db.session_create(ada.who.id, ada.key_id, 3600);
    const auto      b   = db.session_create(ada.who.id, ada.key_id, 3600);
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec("UPDATE sessions SET last_seen_at = 5");
    }
    db.session_touch(a.session.id);
    EXPECT_GT(db.session_find(a.token)->last_seen_at, 5);
    EXPECT_EQ(db.session_find(b.token)->last_seen_at, 5);

    EXPECT_TRUE(db.session_delete(a.token));
    EXPECT_FALSE(db.session_delete(a.token));
    EXPECT_FALSE(db.session_find(a.token));
    EXPECT_TRUE(db.session_find(b.token));
}

TEST(store_sessions, deleting_a_user_deletes_their_sessions_and_the_export_lists_them_without_tokens) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      ada   = key_make(db, "ada");
    const auto      grace = key_make(db, "grace");
    const auto      a     = db.session_create(ada.who.id, ada.key_id, 3600);
    const auto      g     = db.session_create(grace.who.id, grace.key_id, 3600);

    const std::string    text = db.user_export(ada.who.id);
    const nlohmann::json doc  = nlohmann::json::parse(text);
    ASSERT_EQ(doc["sessions"].size(), 1u);
    EXPECT_EQ(doc["sessions"][0]["id"], a.session.id);
    EXPECT_EQ(doc["sessions"][0]["key_id"], ada.key_id);
    EXPECT_EQ(text.find(a.token), std::string::npos);
    EXPECT_EQ(text.find(a.session.csrf_token), std::string::npos);
    EXPECT_EQ(text.find(g.session.id), std::string::npos);

    db.user_delete(ada.who.id);
    EXPECT_FALSE(db.session_find(a.token));
    EXPECT_TRUE(db.session_find(g.token));
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT COUNT(*) FROM sessions"), 1);
    EXPECT_EQ(db.sessions_delete_of_user(grace.who.id), 1);
    EXPECT_FALSE(db.session_find(g.token));
}

TEST(store_sessions, keys_have_names_and_a_per_user_list) {
    temp_dir        dir;
    store::database db(dir.path());
    std::string     id;
    db.key_create("ada", false, &id, "laptop");
    db.key_create("grace", false);
    const auto mine = db.key_list(db.user_find("ada")->id);
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0].id, id);
    EXPECT_EQ(mine[0].name, "laptop");
    EXPECT_EQ(db.key_list().size(), 2u);
}

TEST(store_sessions, migration_6_applies_to_a_v5_database_and_keeps_its_keys) {
    temp_dir    dir;
    std::string key;
    {
        store::database db(dir.path());
        key = db.key_create("ada", false);
    }
    test::store_back_to_v5(dir.db_path());
    ASSERT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), 5);
    store::database db(dir.path());
    EXPECT_EQ(db.schema_version(), store::migrations_latest());
    std::string id;
    ASSERT_TRUE(db.key_verify(key, &id));
    EXPECT_EQ(db.key_list()[0].name, "");
    const auto s = db.session_create(db.user_find("ada")->id, id, 60);
    EXPECT_TRUE(db.session_find(s.token));
}
