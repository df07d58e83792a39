// The store on a real SQLite file in a temporary directory: schema, keys, the per-user data,
// isolation between users, export and delete, and the database's failure modes.
#include "store/database.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "store/data-dir.h"
#include "store_test_util.h"

using namespace muse;
using muse::test::temp_dir;

namespace {

// The message of the store_error `fn` throws ("" when it throws none).
template <typename Fn>
std::string store_error_of(Fn && fn) {
    try {
        fn();
    } catch (const store::store_error & e) {
        return e.what();
    }
    return "";
}

// The key's secret part: what follows "muse_k_xxxxxxxx_".
std::string key_secret(const std::string & key) {
    return key.substr(key.rfind('_') + 1);
}

}  // namespace

TEST(store_schema, fresh_database_migrates_and_reopens_with_data_kept) {
    temp_dir    dir;
    std::string conv_id;
    int         version = 0;
    {
        store::database db(dir.path());
        version = db.schema_version();
        EXPECT_GE(version, 1);
        EXPECT_EQ(db.data_dir(), dir.path());
        const auto u = db.user_get_or_create("ada", false);
        conv_id      = db.conversation_create(u.id, "first", "{}").id;
    }
    EXPECT_EQ(test::sql_int(dir.db_path(), "PRAGMA user_version"), version);
    store::database db(dir.path());
    EXPECT_EQ(db.schema_version(), version);
    const auto u = db.user_find("ada");
    ASSERT_TRUE(u);
    const auto c = db.conversation_get(u->id, conv_id);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->title, "first");
}

TEST(store_schema, wal_mode_on_a_sound_file) {
    temp_dir        dir;
    store::database db(dir.path());
    // journal_mode=WAL persists in the file: a second connection sees it. (foreign_keys is per
    // connection; create_list_append_delete sees it work: deleting a conversation cascades.)
    EXPECT_EQ(test::sql_text(dir.db_path(), "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(test::sql_text(dir.db_path(), "PRAGMA integrity_check"), "ok");
}

TEST(store_schema, garbage_file_is_a_clear_store_error) {
    temp_dir dir;
    {
        std::ofstream out(dir.db_path(), std::ios::binary);
        for (int i = 0; i < 4096; i++)
            out.put(char((i * 131 + 7) & 0xff));
    }
    const std::string msg = store_error_of([&] { store::database db(dir.path()); });
    EXPECT_NE(msg.find(dir.db_path().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a SQLite database"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--data-dir"), std::string::npos) << msg;
}

TEST(store_schema, newer_database_is_refused) {
    temp_dir dir;
    { store::database db(dir.path()); }
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec("PRAGMA user_version = 999");
    }
    const std::string msg = store_error_of([&] { store::database db(dir.path()); });
    EXPECT_NE(msg.find("999"), std::string::npos) << msg;
    EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir.db_path().string()), std::string::npos) << msg;
}

TEST(store_schema, unusable_data_dir_names_it_and_the_fix) {
    temp_dir dir;
    { std::ofstream(dir.path() / "a-file") << "x"; }
    const auto        bad = dir.path() / "a-file" / "store";
    const std::string msg = store_error_of([&] { store::database db(bad); });
    EXPECT_NE(msg.find(bad.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("--data-dir"), std::string::npos) << msg;
}

TEST(store_schema, data_dir_default_prefers_muse_data_dir_then_home) {
    const char *      old_dir    = getenv("MUSE_DATA_DIR");
    const char *      old_home   = getenv("HOME");
    const std::string saved_dir  = old_dir ? old_dir : "";
    const std::string saved_home = old_home ? old_home : "";
    setenv("MUSE_DATA_DIR", "/srv/muse", 1);
    EXPECT_EQ(store::data_dir_default(), std::filesystem::path("/srv/muse"));
    unsetenv("MUSE_DATA_DIR");
    setenv("HOME", "/home/ada", 1);
    EXPECT_EQ(store::data_dir_default(), std::filesystem::path("/home/ada/.local/share/muse"));
    unsetenv("HOME");
    EXPECT_NE(store_error_of([] { store::data_dir_default(); }).find("--data-dir"), std::string::npos);
    if (old_dir)
        setenv("MUSE_DATA_DIR", saved_dir.c_str(), 1);
    if (old_home)
        setenv("HOME", saved_home.c_str(), 1);
}

TEST(store_users, get_or_create_promotes_but_never_demotes) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      a = db.user_get_or_create("ada", false);
    EXPECT_FALSE(a.admin);
    EXPECT_GT(a.created_at, 0);
    EXPECT_EQ(db.user_get_or_create("ada", false).id, a.id);
    EXPECT_TRUE(db.user_get_or_create("ada", true).admin);
    EXPECT_TRUE(db.user_get_or_create("ada", false).admin);
    EXPECT_FALSE(db.user_find("nobody"));
}

TEST(store_keys, create_verify_revoke) {
    temp_dir          dir;
    store::database   db(dir.path());
    std::string       key_id;
    const std::string key = db.key_create("ada", true, &key_id);
    EXPECT_TRUE(std::regex_match(key, std::regex("muse_k_[0-9a-f]{8}_[0-9a-f]{64}"))) << key;
    EXPECT_EQ(key.substr(5, key_id.size()), key_id);

    const auto u = db.key_verify(key);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->name, "ada");
    EXPECT_TRUE(u->admin);

    const auto keys = db.key_list();
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].id, key_id);
    EXPECT_EQ(keys[0].user_name, "ada");
    EXPECT_GT(keys[0].last_used_at, 0);  // the verify above
    EXPECT_FALSE(keys[0].revoked);

    EXPECT_TRUE(db.key_revoke(key_id));
    EXPECT_FALSE(db.key_verify(key));
    EXPECT_TRUE(db.key_list()[0].revoked);
    EXPECT_FALSE(db.key_revoke("k_00000000"));
    EXPECT_FALSE(db.key_revoke(""));
}

TEST(store_keys, wrong_secret_and_malformed_keys_never_verify) {
    temp_dir          dir;
    store::database   db(dir.path());
    const std::string key   = db.key_create("ada", false);
    std::string       wrong = key;
    wrong.back()            = wrong.back() == '0' ? '1' : '0';
    EXPECT_FALSE(db.key_verify(wrong));

    std::string upper = key;
    for (size_t i = 16; i < upper.size(); i++)
        upper[i] = (char)toupper(upper[i]);
    const std::vector<std::string> malformed = {
        "",
        "muse_",
        "muse",
        key.substr(0, key.size() - 1),
        key + "0",
        key + "\n",
        " " + key,
        "Bearer " + key,
        upper,
        "sk_" + key.substr(5),
        key.substr(0, 15) + std::string(64, 'g'),
        key.substr(0, 15) + "-" + key.substr(16),
        key.substr(0, 20) + std::string("\0", 1) + key.substr(21),
        key.substr(0, 20) + "\xc3\xa9" + key.substr(22),
        std::string(80, '_'),
        std::string(100000, 'a'),
        "muse_k_zzzzzzzz_" + std::string(64, '0'),
        "muse_k_0000000_0" + std::string(64, '0'),
    };
    for (const auto & m : malformed) {
        EXPECT_NO_THROW(EXPECT_FALSE(db.key_verify(m)) << m);
    }
    EXPECT_TRUE(db.key_verify(key));
}

TEST(store_keys, one_users_key_never_verifies_as_another) {
    temp_dir          dir;
    store::database   db(dir.path());
    std::string       id_a, id_b;
    const std::string key_a = db.key_create("ada", false, &id_a);
    const std::string key_b = db.key_create("bob", false, &id_b);
    const auto        ua    = db.key_verify(key_a);
    const auto        ub    = db.key_verify(key_b);
    ASSERT_TRUE(ua && ub);
    EXPECT_EQ(ua->name, "ada");
    EXPECT_EQ(ub->name, "bob");
    EXPECT_NE(ua->id, ub->id);
    // A's secret under B's key id (and the reverse) is no key at all.
    EXPECT_FALSE(db.key_verify("muse_" + id_b + "_" + key_secret(key_a)));
    EXPECT_FALSE(db.key_verify("muse_" + id_a + "_" + key_secret(key_b)));
}

TEST(store_keys, only_a_salted_hash_is_stored) {
    temp_dir    dir;
    std::string key;
    {
        store::database db(dir.path());
        key = db.key_create("ada", false);
    }
    const std::string secret = key_secret(key);
    std::string       raw(32, '\0');
    for (size_t i = 0; i < 32; i++)
        raw[i] = (char)std::stoi(secret.substr(2 * i, 2), nullptr, 16);
    // Every byte the store wrote: the database file and its write-ahead log.
    std::string all;
    for (const auto & entry : std::filesystem::directory_iterator(dir.path())) {
        if (entry.is_regular_file())
            all += test::file_bytes(entry.path());
    }
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.find(secret), std::string::npos);
    EXPECT_EQ(all.find(raw), std::string::npos);
    EXPECT_EQ(all.find(key), std::string::npos);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT length(hash) FROM api_keys"), 32);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT length(salt) FROM api_keys"), 16);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM api_keys WHERE instr(hash, '" + secret + "') > 0"), 0);
}

TEST(store_conversations, create_list_append_delete) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u  = db.user_get_or_create("ada", false);
    const auto      c1 = db.conversation_create(u.id, "one", R"({"topic":"cats"})");
    const auto      c2 = db.conversation_create(u.id, "two", "");
    EXPECT_TRUE(std::regex_match(c1.id, std::regex("conv_[0-9a-f]{24}"))) << c1.id;
    EXPECT_EQ(c2.metadata, "{}");

    const auto m1 = db.message_append(u.id, c1.id, "user", R"({"role":"user","content":"hi"})");
    const auto m2 = db.message_append(u.id, c1.id, "assistant", R"({"role":"assistant","content":"hello"})");
    ASSERT_TRUE(m1 && m2);
    EXPECT_TRUE(std::regex_match(m1->id, std::regex("msg_[0-9a-f]{24}"))) << m1->id;
    const auto msgs = db.message_list(u.id, c1.id);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].id, m1->id);
    EXPECT_EQ(msgs[1].role, "assistant");
    EXPECT_EQ(msgs[1].content, R"({"role":"assistant","content":"hello"})");

    const auto got = db.conversation_get(u.id, c1.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->metadata, R"({"topic":"cats"})");
    EXPECT_GE(got->updated_at, m2->created_at);
    EXPECT_EQ(db.conversation_list(u.id).size(), 2u);
    EXPECT_EQ(db.conversation_list(u.id, 1).size(), 1u);

    EXPECT_FALSE(db.message_append(u.id, "conv_nope", "user", "{}"));
    EXPECT_TRUE(db.conversation_delete(u.id, c1.id));
    EXPECT_FALSE(db.conversation_delete(u.id, c1.id));
    EXPECT_FALSE(db.conversation_get(u.id, c1.id));
    EXPECT_TRUE(db.message_list(u.id, c1.id).empty());
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM messages"), 0);
}

TEST(store_files, put_read_list_delete) {
    temp_dir          dir;
    store::database   db(dir.path());
    const auto        u     = db.user_get_or_create("ada", false);
    const std::string bytes = std::string("PNG\0\x01\xff binary", 14) + std::string(200000, 'z');
    const auto        f     = db.file_put(u.id, "cat.png", "vision", bytes);
    EXPECT_TRUE(std::regex_match(f.id, std::regex("file-[0-9a-f]{24}"))) << f.id;
    EXPECT_EQ(f.bytes, (int64_t)bytes.size());

    const auto on_disk = dir.path() / "files" / std::to_string(u.id) / f.id;
    EXPECT_EQ(test::file_bytes(on_disk), bytes);
    for (const auto & entry : std::filesystem::directory_iterator(on_disk.parent_path())) {
        EXPECT_EQ(entry.path().extension(), "") << "leftover " << entry.path();
    }
    const auto got = db.file_get(u.id, f.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->filename, "cat.png");
    EXPECT_EQ(got->purpose, "vision");
    EXPECT_EQ(db.file_read(u.id, f.id), bytes);
    EXPECT_EQ(db.file_list(u.id).size(), 1u);

    const auto empty = db.file_put(u.id, "empty.txt", "assistants", "");
    EXPECT_EQ(db.file_read(u.id, empty.id), "");

    EXPECT_TRUE(db.file_delete(u.id, f.id));
    EXPECT_FALSE(std::filesystem::exists(on_disk));
    EXPECT_FALSE(db.file_get(u.id, f.id));
    EXPECT_FALSE(db.file_read(u.id, f.id));
    EXPECT_FALSE(db.file_delete(u.id, f.id));
    EXPECT_FALSE(db.file_read(u.id, "../../muse.db"));
}

TEST(store_memory, add_list_delete) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    const auto      a = db.memory_add(u.id, "likes tea");
    const auto      b = db.memory_add(u.id, "lives in Lyon");
    EXPECT_TRUE(std::regex_match(a.id, std::regex("mem_[0-9a-f]{24}"))) << a.id;
    auto items = db.memory_list(u.id);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].text, "likes tea");
    EXPECT_TRUE(db.memory_delete(u.id, a.id));
    EXPECT_FALSE(db.memory_delete(u.id, a.id));
    items = db.memory_list(u.id);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].id, b.id);
}

TEST(store_isolation, another_user_sees_and_changes_nothing) {
    temp_dir        dir;
    store::database db(dir.path());
    const auto      a    = db.user_get_or_create("ada", false);
    const auto      b    = db.user_get_or_create("bob", false);
    const auto      conv = db.conversation_create(a.id, "private", "{}");
    ASSERT_TRUE(db.message_append(a.id, conv.id, "user", R"({"content":"secret"})"));
    const auto file = db.file_put(a.id, "diary.txt", "assistants", "dear diary");
    const auto mem  = db.memory_add(a.id, "a's memory");

    EXPECT_FALSE(db.conversation_get(b.id, conv.id));
    EXPECT_TRUE(db.conversation_list(b.id).empty());
    EXPECT_TRUE(db.message_list(b.id, conv.id).empty());
    EXPECT_FALSE(db.message_append(b.id, conv.id, "user", R"({"content":"injected"})"));
    EXPECT_FALSE(db.conversation_delete(b.id, conv.id));
    EXPECT_FALSE(db.file_get(b.id, file.id));
    EXPECT_FALSE(db.file_read(b.id, file.id));
    EXPECT_TRUE(db.file_list(b.id).empty());
    EXPECT_FALSE(db.file_delete(b.id, file.id));
    EXPECT_TRUE(db.memory_list(b.id).empty());
    EXPECT_FALSE(db.memory_delete(b.id, mem.id));
    db.user_delete(b.id);

    // A's data is all still there.
    ASSERT_TRUE(db.conversation_get(a.id, conv.id));
    const auto msgs = db.message_list(a.id, conv.id);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].content, R"({"content":"secret"})");
    EXPECT_EQ(db.file_read(a.id, file.id), "dear diary");
    EXPECT_EQ(db.memory_list(a.id).size(), 1u);
}

TEST(store_privacy, export_has_everything_and_no_secrets) {
    temp_dir          dir;
    store::database   db(dir.path());
    std::string       key_id;
    const std::string key  = db.key_create("ada", false, &key_id);
    const auto        u    = *db.user_find("ada");
    const auto        conv = db.conversation_create(u.id, "trip", R"({"tag":"travel"})");
    db.message_append(u.id, conv.id, "user", R"({"role":"user","content":"where to?"})");
    db.message_append(u.id, conv.id, "assistant", R"({"role":"assistant","content":"Lyon"})");
    const auto file = db.file_put(u.id, "map.png", "vision", "bytes");
    db.memory_add(u.id, "likes trains");
    db.audit_add(u.id, "tool.web_search", R"({"query":"Lyon"})");
    db.key_create("bob", false);  // another user's key stays out

    const std::string text = db.user_export(u.id);
    const auto        j    = nlohmann::json::parse(text);
    EXPECT_EQ(j["user"]["name"], "ada");
    EXPECT_EQ(j["user"]["admin"], false);
    ASSERT_EQ(j["keys"].size(), 1u);
    EXPECT_EQ(j["keys"][0]["id"], key_id);
    EXPECT_FALSE(j["keys"][0].contains("hash"));
    ASSERT_EQ(j["conversations"].size(), 1u);
    EXPECT_EQ(j["conversations"][0]["title"], "trip");
    EXPECT_EQ(j["conversations"][0]["metadata"]["tag"], "travel");
    ASSERT_EQ(j["conversations"][0]["messages"].size(), 2u);
    EXPECT_EQ(j["conversations"][0]["messages"][1]["content"]["content"], "Lyon");
    ASSERT_EQ(j["files"].size(), 1u);
    EXPECT_EQ(j["files"][0]["id"], file.id);
    EXPECT_EQ(j["files"][0]["bytes"], 5);
    ASSERT_EQ(j["memory"].size(), 1u);
    EXPECT_EQ(j["memory"][0]["text"], "likes trains");
    ASSERT_EQ(j["audit"].size(), 1u);
    EXPECT_EQ(j["audit"][0]["detail"]["query"], "Lyon");
    EXPECT_EQ(text.find("hash"), std::string::npos);
    EXPECT_EQ(text.find("salt"), std::string::npos);
    EXPECT_EQ(text.find(key_secret(key)), std::string::npos);
    EXPECT_EQ(text.find("bob"), std::string::npos);
}

TEST(store_privacy, user_delete_removes_rows_and_bytes) {
    temp_dir          dir;
    store::database   db(dir.path());
    const std::string key_a = db.key_create("ada", false);
    const std::string key_b = db.key_create("bob", false);
    const auto        a     = *db.user_find("ada");
    const auto        b     = *db.user_find("bob");
    const auto        conv  = db.conversation_create(a.id, "x", "{}");
    db.message_append(a.id, conv.id, "user", "{}");
    db.file_put(a.id, "a.txt", "assistants", "aaa");
    db.memory_add(a.id, "m");
    db.audit_add(a.id, "privacy.export", "{}");
    const auto conv_b = db.conversation_create(b.id, "y", "{}");
    db.file_put(b.id, "b.txt", "assistants", "bbb");

    db.user_delete(a.id);
    EXPECT_FALSE(db.user_find("ada"));
    EXPECT_FALSE(db.key_verify(key_a));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "files" / std::to_string(a.id)));
    const std::string uid = std::to_string(a.id);
    for (const char * table : { "conversations", "files", "memory", "audit", "api_keys" }) {
        EXPECT_EQ(
            test::sql_int(dir.db_path(), std::string("SELECT count(*) FROM ") + table + " WHERE user_id = " + uid), 0)
            << table;
    }
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM messages"), 0);
    EXPECT_EQ(test::sql_int(dir.db_path(), "SELECT count(*) FROM users WHERE id = " + uid), 0);
    // Bob is untouched.
    EXPECT_TRUE(db.key_verify(key_b));
    EXPECT_TRUE(db.conversation_get(b.id, conv_b.id));
    EXPECT_EQ(db.file_list(b.id).size(), 1u);
    EXPECT_EQ(test::sql_text(dir.db_path(), "PRAGMA foreign_key_check"), "");
}

TEST(store_concurrency, appends_from_four_threads_all_land) {
    temp_dir                 dir;
    store::database          db(dir.path());
    const auto               u         = db.user_get_or_create("ada", false);
    const auto               conv      = db.conversation_create(u.id, "busy", "{}");
    constexpr int            n_threads = 4, n_each = 50;
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; t++) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < n_each; i++) {
                db.message_append(u.id, conv.id, "user", nlohmann::json { { "t", t }, { "i", i } }.dump());
                if (i % 10 == 0)
                    db.message_list(u.id, conv.id);
            }
        });
    }
    for (auto & th : threads)
        th.join();
    const auto            msgs = db.message_list(u.id, conv.id);
    std::set<std::string> ids, contents;
    for (const auto & m : msgs) {
        ids.insert(m.id);
        contents.insert(m.content);
    }
    EXPECT_EQ(msgs.size(), size_t(n_threads * n_each));
    EXPECT_EQ(ids.size(), size_t(n_threads * n_each));
    EXPECT_EQ(contents.size(), size_t(n_threads * n_each));
}

TEST(store_concurrency, two_connections_share_the_file) {
    // `muse keys create` while `muse serve` runs: two processes, one database file.
    temp_dir          dir;
    store::database   serve(dir.path());
    store::database   keys(dir.path());
    const std::string key = keys.key_create("ada", false);
    EXPECT_TRUE(serve.key_verify(key));
    EXPECT_EQ(serve.key_list().size(), 1u);
}
