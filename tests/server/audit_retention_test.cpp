// The audit's retention thread on a real store: it prunes at start and every period, reads the
// setting on each pass, reports a failed pass and goes on, and stops at once with its object.
#include <gtest/gtest.h>

#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include "server/audit-retention.h"
#include "store/store_test_util.h"

using namespace muse;
using namespace std::chrono_literals;

namespace {

// Waits (up to 10 s) until `cond` holds; whether it did.
template <typename Fn>
bool eventually(Fn && cond) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

void row_add(store::database & db, int64_t user_id, int64_t age_secs) {
    store::audit_event e;
    e.user_id    = user_id;
    e.kind       = "refusal";
    e.category   = "S9";
    e.created_at = (int64_t)std::time(nullptr) - age_secs;
    db.audit_record(e, "x");
}

// The log lines a retention thread wrote, safe to read while it runs.
struct log_lines {
    std::mutex                               mutex;
    std::vector<std::string>                 lines;
    std::function<void(const std::string &)> sink() {
        return [this](const std::string & l) {
            std::lock_guard lock(mutex);
            lines.push_back(l);
        };
    }
    std::string all() {
        std::lock_guard lock(mutex);
        std::string     out;
        for (const auto & l : lines)
            out += l + "\n";
        return out;
    }
};

}  // namespace

TEST(audit_retention, prunes_at_start_then_each_period_with_the_current_setting) {
    test::temp_dir  dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    row_add(db, u.id, 100 * 86400);
    row_add(db, u.id, 10 * 86400);
    row_add(db, u.id, 3600);
    log_lines log;
    {
        server::audit_retention r(db, 20ms, log.sink());
        ASSERT_TRUE(eventually([&] { return r.passes() >= 1; }));
        EXPECT_EQ(db.audit_list({}).size(), 2u);  // the default 90 days took the oldest
        EXPECT_NE(log.all().find("deleted 1 audit row older than 90 days"), std::string::npos) << log.all();

        db.audit_settings_set({ 7, false });  // no restart: the next pass reads it
        ASSERT_TRUE(eventually([&] { return db.audit_list({}).size() == 1u; }));
        EXPECT_TRUE(eventually([&] { return r.rows_deleted() == 2; }));
    }
    EXPECT_NEAR((double)db.audit_list({}).at(0).created_at, (double)std::time(nullptr) - 3600, 5);  // the newest stayed
}

TEST(audit_retention, a_failed_pass_is_reported_and_the_next_one_runs) {
    test::temp_dir  dir;
    store::database db(dir.path());
    const auto      u = db.user_get_or_create("ada", false);
    row_add(db, u.id, 100 * 86400);
    {
        store::sqlite_connection conn(dir.db_path().string(), SQLITE_OPEN_READWRITE);
        conn.exec("INSERT INTO store_settings (key, value) VALUES ('audit_retention_days', 'ninety')");
    }
    log_lines               log;
    server::audit_retention r(db, 20ms, log.sink());
    ASSERT_TRUE(eventually([&] { return r.passes() >= 2; }));
    EXPECT_NE(log.all().find("pruning failed"), std::string::npos) << log.all();
    EXPECT_NE(log.all().find("audit_retention_days"), std::string::npos) << log.all();
    EXPECT_EQ(db.audit_list({}).size(), 1u);

    db.audit_settings_set({ 30, false });
    EXPECT_TRUE(eventually([&] { return db.audit_list({}).empty(); }));
}

TEST(audit_retention, stops_at_once_with_an_hour_to_wait) {
    test::temp_dir  dir;
    store::database db(dir.path());
    const auto      t0 = std::chrono::steady_clock::now();
    {
        server::audit_retention r(db, std::chrono::hours(1), [](const std::string &) {});
        ASSERT_TRUE(eventually([&] { return r.passes() >= 1; }));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}
