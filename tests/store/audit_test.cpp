// The audit on a real SQLite file: what audit_record keeps (a digest; the content only when the
// operator turned that on), audit_list's filters and order, pruning by date and by retention,
// the settings, migration 4 over a v3 store's rows, and export / delete with the user.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "store/database.h"
#include "store/migrations.h"
#include "store_test_util.h"

using namespace muse;
using muse::test::temp_dir;

namespace {

// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
constexpr const char * k_abc_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

store::audit_event verdict(int64_t user_id, int64_t created_at, const std::string & kind,
                           const std::string & category) {
    store::audit_event e;
    e.user_id        = user_id;
    e.created_at     = created_at;
    e.kind           = kind;
    e.point          = "input";
    e.category       = category;
    e.verdict_action = kind == "refusal" ? "block" : "warn";
    e.source         = "rules";
    e.route          = "chat_completions";
    return e;
}

// The created_at of each row, in the order audit_list returned them.
std::vector<int64_t> times_of(const std::vector<store::audit_event> & rows) {
    std::vector<int64_t> out;
    for (const auto & r : rows)
        out.push_back(r.created_at);
    return out;
}

int64_t now_unix() {
    return (int64_t)std::time(nullptr);
}

}  // namespace

TEST(store_audit, content_off_keeps_the_digest_and_not_the_content) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    EXPECT_FALSE(db.audit_settings_get().content);
    db.audit_record(verdict(u.id, 0, "refusal", "S9"), "abc");
    const std::string secret = "the-unlogged-prompt-7f3a";
    db.audit_record(verdict(u.id, 0, "verdict", "S1"), secret);

    const auto rows = db.audit_list({});
    ASSERT_EQ(rows.size(), 2u);
    const auto & r = rows[1];  // newest first: "abc" was the first
    EXPECT_EQ(r.digest, k_abc_sha256);
    EXPECT_FALSE(r.content);
    EXPECT_EQ(r.kind, "refusal");
    EXPECT_EQ(r.point, "input");
    EXPECT_EQ(r.category, "S9");
    EXPECT_EQ(r.verdict_action, "block");
    EXPECT_EQ(r.source, "rules");
    EXPECT_EQ(r.route, "chat_completions");
    EXPECT_EQ(r.user_id, u.id);
    EXPECT_EQ(r.user_name, "ada");
    EXPECT_EQ(r.detail, "{}");
    EXPECT_LE(std::abs(r.created_at - now_unix()), 5);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM audit WHERE content IS NULL"), 2);
    EXPECT_EQ(test::sql_text(dir.db_path(), "SELECT action FROM audit ORDER BY id LIMIT 1"), "refusal");
    for (const char * suffix : { "", "-wal" }) {
        EXPECT_EQ(test::file_bytes(dir.path() / (std::string("muse.db") + suffix)).find(secret), std::string::npos)
            << suffix;
    }
}

TEST(store_audit, content_on_keeps_it_and_export_shows_it) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    db.audit_settings_set({ 90, true });
    EXPECT_TRUE(db.audit_settings_get().content);
    auto e   = verdict(u.id, 0, "verdict", "S2");
    e.detail = R"({"chunk":3})";
    db.audit_record(e, "abc");
    db.audit_record(verdict(u.id, 0, "verdict", ""), "");  // nothing checked: no digest, no content

    const auto rows = db.audit_list({});
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_TRUE(rows[1].content);
    EXPECT_EQ(*rows[1].content, "abc");
    EXPECT_EQ(rows[1].digest, k_abc_sha256);
    EXPECT_FALSE(rows[0].content);
    EXPECT_EQ(rows[0].digest, "");

    const auto j = nlohmann::json::parse(db.user_export(u.id));
    ASSERT_EQ(j["audit"].size(), 2u);
    const auto & a = j["audit"][0];
    EXPECT_EQ(a["kind"], "verdict");
    EXPECT_EQ(a["action"], "verdict");
    EXPECT_EQ(a["point"], "input");
    EXPECT_EQ(a["category"], "S2");
    EXPECT_EQ(a["verdict_action"], "warn");
    EXPECT_EQ(a["source"], "rules");
    EXPECT_EQ(a["route"], "chat_completions");
    EXPECT_EQ(a["digest"], k_abc_sha256);
    EXPECT_EQ(a["content"], "abc");
    EXPECT_EQ(a["detail"]["chunk"], 3);
    EXPECT_TRUE(j["audit"][1]["content"].is_null());

    // Off again: later rows keep no content; earlier ones stay as they were.
    db.audit_settings_set({ 90, false });
    db.audit_record(verdict(u.id, 0, "verdict", "S2"), "abc");
    EXPECT_FALSE(db.audit_list({})[0].content);
}

TEST(store_audit, audit_add_keeps_working_as_a_kind) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    db.audit_add(u.id, "tool_call", R"({"tool":"python"})");
    db.audit_add(u.id, "export", "");
    const auto rows = db.audit_list({});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].kind, "tool_call");
    EXPECT_EQ(rows[1].detail, R"({"tool":"python"})");
    EXPECT_EQ(rows[0].kind, "export");
    EXPECT_EQ(rows[0].detail, "{}");
    EXPECT_EQ(rows[0].digest, "");
    EXPECT_EQ(db.audit_list({ .kind = "tool_call" }).size(), 1u);
    EXPECT_THROW(db.audit_record(store::audit_event {}, "abc"), std::invalid_argument);
}

TEST(store_audit, list_filters_by_user_time_kind_category_and_limit_newest_first) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      a = db.user_get_or_create("ada", false);
    const auto      b = db.user_get_or_create("bob", false);
    db.audit_record(verdict(a.id, 1000, "refusal", "S9"), "x");
    db.audit_record(verdict(a.id, 3000, "verdict", "S1"), "x");
    db.audit_record(verdict(b.id, 2000, "refusal", "S9"), "x");
    db.audit_record(verdict(b.id, 4000, "warn", "S6"), "x");
    db.audit_record(verdict(a.id, 3000, "refusal", "S1"), "x");  // the same second: the later row first

    const auto all = db.audit_list({});
    EXPECT_EQ(times_of(all), (std::vector<int64_t> { 4000, 3000, 3000, 2000, 1000 }));
    EXPECT_EQ(all[1].kind, "refusal");
    EXPECT_EQ(all[2].kind, "verdict");
    EXPECT_GT(all[1].id, all[2].id);
    EXPECT_EQ(all[0].user_name, "bob");

    EXPECT_EQ(times_of(db.audit_list({ .user_id = a.id })), (std::vector<int64_t> { 3000, 3000, 1000 }));
    EXPECT_EQ(times_of(db.audit_list({ .user_id = b.id })), (std::vector<int64_t> { 4000, 2000 }));
    // since is inclusive, until exclusive.
    EXPECT_EQ(times_of(db.audit_list({ .since = 2000 })), (std::vector<int64_t> { 4000, 3000, 3000, 2000 }));
    EXPECT_EQ(times_of(db.audit_list({ .until = 3000 })), (std::vector<int64_t> { 2000, 1000 }));
    EXPECT_EQ(times_of(db.audit_list({ .since = 2000, .until = 4000 })), (std::vector<int64_t> { 3000, 3000, 2000 }));
    EXPECT_EQ(times_of(db.audit_list({ .kind = "refusal" })), (std::vector<int64_t> { 3000, 2000, 1000 }));
    EXPECT_EQ(times_of(db.audit_list({ .category = "S9" })), (std::vector<int64_t> { 2000, 1000 }));
    EXPECT_EQ(times_of(db.audit_list({ .user_id = a.id, .kind = "refusal", .category = "S1" })),
              (std::vector<int64_t> { 3000 }));
    EXPECT_EQ(times_of(db.audit_list({ .limit = 2 })), (std::vector<int64_t> { 4000, 3000 }));
    EXPECT_TRUE(db.audit_list({ .kind = "no-such-kind" }).empty());
    EXPECT_TRUE(db.audit_list({ .user_id = b.id + 100 }).empty());
}

TEST(store_audit, prune_by_date_and_by_retention) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u   = db.user_get_or_create("ada", false);
    const int64_t   now = now_unix();
    db.audit_record(verdict(u.id, now - 200 * 86400, "refusal", "S9"), "x");
    db.audit_record(verdict(u.id, now - 100 * 86400, "refusal", "S9"), "x");
    db.audit_record(verdict(u.id, now - 10 * 86400, "refusal", "S9"), "x");
    db.audit_record(verdict(u.id, now - 3600, "refusal", "S9"), "x");

    EXPECT_EQ(db.audit_prune(now - 150 * 86400), 1);
    EXPECT_EQ(db.audit_prune(now - 150 * 86400), 0);
    EXPECT_EQ(db.audit_list({}).size(), 3u);

    EXPECT_EQ(db.audit_settings_get().retention_days, 90);  // the default
    EXPECT_EQ(db.audit_prune_by_retention(), 1);            // the 100-day-old row
    EXPECT_EQ(times_of(db.audit_list({})), (std::vector<int64_t> { now - 3600, now - 10 * 86400 }));

    db.audit_settings_set({ 0, false });  // keep forever
    EXPECT_EQ(db.audit_prune_by_retention(), 0);
    EXPECT_EQ(db.audit_list({}).size(), 2u);

    db.audit_settings_set({ 7, false });
    EXPECT_EQ(db.audit_prune_by_retention(), 1);
    EXPECT_EQ(times_of(db.audit_list({})), (std::vector<int64_t> { now - 3600 }));
}

TEST(store_audit, settings_default_persist_and_refuse_bad_values) {
    temp_dir dir;
    {
        store::database db(dir.path());
        const auto      s = db.audit_settings_get();
        EXPECT_EQ(s.retention_days, 90);
        EXPECT_FALSE(s.content);
        db.audit_settings_set({ 30, true });
        EXPECT_THROW(db.audit_settings_set({ -1, false }), std::invalid_argument);
    }
    {
        store::database db(dir.path());
        const auto      s = db.audit_settings_get();
        EXPECT_EQ(s.retention_days, 30);
        EXPECT_TRUE(s.content);
    }
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec("UPDATE store_settings SET value = 'ninety' WHERE key = 'audit_retention_days'");
    }
    store::database db(dir.path());
    try {
        db.audit_settings_get();
        FAIL() << "a hand-edited retention should not read";
    } catch (const store::store_error & e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("audit_retention_days"), std::string::npos) << what;
        EXPECT_NE(what.find("'ninety'"), std::string::npos) << what;
        EXPECT_NE(what.find("muse audit settings --retention-days"), std::string::npos) << what;
    }
    EXPECT_THROW(db.audit_prune_by_retention(), store::store_error);
    // Recording reads only the content setting: refusals are still recorded.
    db.audit_record(verdict(db.user_get_or_create("ada", false).id, 0, "refusal", "S9"), "abc");
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM audit WHERE content = 'abc'"), 1);
}

TEST(store_schema, migration_4_applies_to_a_v3_database_and_keeps_its_audit) {
    temp_dir dir;
    int64_t  uid = 0;
    {
        store::database db(dir.path());
        uid = db.user_get_or_create("ada", false).id;
        db.audit_add(uid, "tool_call", R"({"tool":"python","outcome":"ok"})");
        db.audit_add(uid, "export", "{}");
    }
    test::store_back_to_v3(dir.db_path());
    ASSERT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), 3);
    ASSERT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'kind'"), 0);

    store::database db(dir.path());
    EXPECT_EQ(db.schema_version(), store::migrations_latest());
    EXPECT_GE(db.schema_version(), 4);
    const auto rows = db.audit_list({});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].kind, "tool_call");  // the old action, as the kind
    EXPECT_EQ(rows[1].detail, R"({"tool":"python","outcome":"ok"})");
    EXPECT_EQ(rows[1].user_name, "ada");
    EXPECT_EQ(rows[1].digest, "");
    EXPECT_FALSE(rows[1].content);
    EXPECT_EQ(rows[0].kind, "export");
    EXPECT_EQ(db.audit_list({ .kind = "tool_call" }).size(), 1u);
    EXPECT_EQ(db.audit_settings_get().retention_days, 90);
    db.audit_record(verdict(uid, 0, "refusal", "S9"), "abc");
    EXPECT_EQ(db.audit_list({ .category = "S9" }).at(0).digest, k_abc_sha256);
    EXPECT_EQ(test::sql_text(dir.db_path(), "PRAGMA integrity_check"), "ok");
}

TEST(store_audit, user_delete_removes_the_users_rows_and_not_others) {
    temp_dir        dir;
    store::database db(dir.path());
    db.audit_settings_set({ 90, true });
    const auto a = db.user_get_or_create("ada", false);
    const auto b = db.user_get_or_create("bob", false);
    db.audit_record(verdict(a.id, 0, "refusal", "S9"), "ada's prompt");
    db.audit_add(a.id, "tool_call", "{}");
    db.audit_record(verdict(b.id, 0, "refusal", "S9"), "bob's prompt");

    db.user_delete(a.id);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM audit WHERE user_id = " + std::to_string(a.id)), 0);
    const auto rows = db.audit_list({});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].user_name, "bob");
    ASSERT_TRUE(rows[0].content);
    EXPECT_EQ(*rows[0].content, "bob's prompt");
    EXPECT_TRUE(db.audit_list({ .user_id = a.id }).empty());
}
