// The audit: refusals, guard and rule verdicts, tool calls and privacy actions, one row each,
// with a SHA-256 of the checked content (the content itself only when the operator turned that
// on), queried by `muse audit` and pruned by the retention setting (store_settings).
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "store/database-impl.h"

namespace muse::store {

namespace {

constexpr const char * k_retention_key = "audit_retention_days";
constexpr const char * k_content_key   = "audit_content";

std::string sha256_hex(const std::string & content) {
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, reinterpret_cast<const unsigned char *>(content.data()), content.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    return hex;
}

// The caller holds impl::mutex.
std::optional<std::string> setting_get(sqlite_connection & conn, const char * key) {
    sqlite_statement st(conn, "SELECT value FROM store_settings WHERE key = ?");
    st.bind(1, std::string(key));
    if (!st.step())
        return std::nullopt;
    return st.column_text(0);
}

// The caller holds impl::mutex.
void setting_set(sqlite_connection & conn, const char * key, const std::string & value) {
    sqlite_statement(conn,
                     "INSERT INTO store_settings (key, value) VALUES (?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(1, std::string(key))
        .bind(2, value)
        .run();
}

// The caller holds impl::mutex. A missing key reads as its default; a value muse would not
// have written (the file edited by hand) is an error naming the key and how to set it again.
int retention_days_read(sqlite_connection & conn) {
    const auto v = setting_get(conn, k_retention_key);
    if (!v)
        return audit_settings().retention_days;
    char * end   = nullptr;
    errno        = 0;
    const long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno != 0 || n < 0 || n > INT32_MAX) {
        throw store_error("the store setting " + std::string(k_retention_key) + " is '" + *v + "' in " + conn.path() +
                          ", not a number of days; set it with `muse audit settings --retention-days N`");
    }
    return (int)n;
}

// The caller holds impl::mutex. As retention_days_read.
bool content_read(sqlite_connection & conn) {
    const auto v = setting_get(conn, k_content_key);
    if (!v)
        return audit_settings().content;
    if (*v != "on" && *v != "off") {
        throw store_error("the store setting " + std::string(k_content_key) + " is '" + *v + "' in " + conn.path() +
                          ", not on or off; set it with `muse audit settings --content on|off`");
    }
    return *v == "on";
}

// The caller holds impl::mutex.
int64_t prune_before(sqlite_connection & conn, int64_t older_than_unix) {
    sqlite_statement(conn, "DELETE FROM audit WHERE created_at < ?").bind(1, older_than_unix).run();
    return conn.changes();
}

}  // namespace

void database::audit_add(int64_t user_id, const std::string & action, const std::string & detail_json) {
    audit_event e;
    e.user_id = user_id;
    e.kind    = action;
    e.detail  = detail_json;
    audit_record(e, "");
}

void database::audit_record(const audit_event & e, const std::string & content) {
    if (e.kind.empty()) {
        throw std::invalid_argument("audit_record: the event has no kind; give refusal, verdict, warn, tool_call, ...");
    }
    const std::string digest     = content.empty() ? e.digest : sha256_hex(content);
    const int64_t     created_at = e.created_at != 0 ? e.created_at : now_seconds();
    std::lock_guard   lock(impl_->mutex);
    // Only the content setting: a hand-broken retention must not stop refusals being recorded.
    const bool       keep_content = !content.empty() && content_read(impl_->conn);
    sqlite_statement st(
        impl_->conn,
        "INSERT INTO audit (user_id, action, detail, created_at, kind, point, category, verdict_action, "
        "source, route, digest, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    // `action` (migration 1) stays readable by what reads it: the kind.
    st.bind(1, e.user_id)
        .bind(2, e.kind)
        .bind(3, e.detail.empty() ? std::string("{}") : e.detail)
        .bind(4, created_at)
        .bind(5, e.kind)
        .bind(6, e.point)
        .bind(7, e.category)
        .bind(8, e.verdict_action)
        .bind(9, e.source)
        .bind(10, e.route)
        .bind(11, digest);
    if (keep_content) {
        st.bind(12, content);
    } else {
        st.bind_null(12);
    }
    st.run();
}

std::vector<audit_event> database::audit_list(const audit_query & q) {
    std::string sql =
        "SELECT a.id, a.user_id, COALESCE(u.name, ''), a.created_at, a.kind, a.point, a.category, a.verdict_action, "
        "a.source, a.route, a.digest, a.content, a.detail FROM audit a LEFT JOIN users u ON u.id = a.user_id WHERE 1";
    if (q.user_id)
        sql += " AND a.user_id = ?";
    if (q.since)
        sql += " AND a.created_at >= ?";
    if (q.until)
        sql += " AND a.created_at < ?";
    if (!q.kind.empty())
        sql += " AND a.kind = ?";
    if (!q.category.empty())
        sql += " AND a.category = ?";
    sql += " ORDER BY a.created_at DESC, a.id DESC LIMIT ?";

    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, sql);
    int              i = 1;
    if (q.user_id)
        st.bind(i++, *q.user_id);
    if (q.since)
        st.bind(i++, *q.since);
    if (q.until)
        st.bind(i++, *q.until);
    if (!q.kind.empty())
        st.bind(i++, q.kind);
    if (!q.category.empty())
        st.bind(i++, q.category);
    st.bind(i, (int64_t)std::max(q.limit, 0));

    std::vector<audit_event> out;
    while (st.step()) {
        audit_event e;
        e.id             = st.column_int(0);
        e.user_id        = st.column_int(1);
        e.user_name      = st.column_text(2);
        e.created_at     = st.column_int(3);
        e.kind           = st.column_text(4);
        e.point          = st.column_text(5);
        e.category       = st.column_text(6);
        e.verdict_action = st.column_text(7);
        e.source         = st.column_text(8);
        e.route          = st.column_text(9);
        e.digest         = st.column_text(10);
        if (!st.column_is_null(11))
            e.content = st.column_text(11);
        e.detail = st.column_text(12);
        out.push_back(std::move(e));
    }
    return out;
}

int64_t database::audit_prune(int64_t older_than_unix) {
    std::lock_guard lock(impl_->mutex);
    return prune_before(impl_->conn, older_than_unix);
}

int64_t database::audit_prune_by_retention() {
    std::lock_guard lock(impl_->mutex);
    const int       days = retention_days_read(impl_->conn);
    if (days == 0)
        return 0;
    return prune_before(impl_->conn, now_seconds() - (int64_t)days * 86400);
}

audit_settings database::audit_settings_get() {
    std::lock_guard lock(impl_->mutex);
    audit_settings  s;
    s.retention_days = retention_days_read(impl_->conn);
    s.content        = content_read(impl_->conn);
    return s;
}

void database::audit_settings_set(const audit_settings & s) {
    if (s.retention_days < 0) {
        throw std::invalid_argument("audit retention of " + std::to_string(s.retention_days) +
                                    " days: give 0 (keep forever) or more");
    }
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    setting_set(impl_->conn, k_retention_key, std::to_string(s.retention_days));
    setting_set(impl_->conn, k_content_key, s.content ? "on" : "off");
    tx.commit();
}

}  // namespace muse::store
