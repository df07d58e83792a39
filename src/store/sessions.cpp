// Browser sessions: the web app's sign-in cookie. The token is 32 random bytes (base64url);
// the database keeps BLAKE2b-256(token) as the session's id, never the token, so a copy of
// the database signs no one in.
#include <sodium.h>

#include <array>

#include "store/database-impl.h"

namespace muse::store {

namespace {

constexpr size_t k_token_bytes = 32;

std::string random_base64url(size_t n_bytes) {
    std::array<unsigned char, 64> raw {};
    randombytes_buf(raw.data(), n_bytes);
    std::string out(sodium_base64_ENCODED_LEN(n_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), raw.data(), n_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    sodium_memzero(raw.data(), raw.size());
    return out;
}

// The session id of a token: hex BLAKE2b-256 (unkeyed: the token is 256 random bits).
std::string token_hash(const std::string & token) {
    std::array<unsigned char, crypto_generichash_BYTES> h {};
    crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char *>(token.data()), token.size(), nullptr,
                       0);
    std::string hex(2 * h.size() + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), h.data(), h.size());
    hex.pop_back();
    return hex;
}

int64_t prune_locked(sqlite_connection & conn) {
    sqlite_statement(conn, "DELETE FROM sessions WHERE expires_at <= ?").bind(1, now_seconds()).run();
    return conn.changes();
}

}  // namespace

browser_session_created database::session_create(int64_t user_id, const std::string & key_id, int64_t lifetime_secs) {
    if (lifetime_secs <= 0)
        throw std::invalid_argument("a session's lifetime must be at least one second");
    browser_session_created out;
    out.token    = random_base64url(k_token_bytes);
    auto & s     = out.session;
    s.id         = token_hash(out.token);
    s.key_id     = key_id;
    s.csrf_token = random_base64url(k_token_bytes);
    s.created_at = s.last_seen_at = now_seconds();
    s.expires_at                  = s.created_at + lifetime_secs;

    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    prune_locked(impl_->conn);
    {
        sqlite_statement st(impl_->conn, "SELECT id, name, admin, created_at FROM users WHERE id = ?");
        st.bind(1, user_id);
        if (!st.step())
            throw store_error("no user " + std::to_string(user_id) + " to sign in");
        s.who = user_from_row(st, 0);
    }
    sqlite_statement(impl_->conn,
                     "INSERT INTO sessions (id, user_id, key_id, csrf_token, created_at, expires_at, last_seen_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, s.id)
        .bind(2, user_id)
        .bind(3, key_id)
        .bind(4, s.csrf_token)
        .bind(5, s.created_at)
        .bind(6, s.expires_at)
        .bind(7, s.last_seen_at)
        .run();
    tx.commit();
    return out;
}

std::optional<browser_session> database::session_find(const std::string & token) {
    if (token.empty() || token.size() > 256)
        return std::nullopt;
    const std::string id = token_hash(token);
    std::lock_guard   lock(impl_->mutex);
    sqlite_statement  st(impl_->conn,
                         "SELECT u.id, u.name, u.admin, u.created_at, s.id, s.key_id, s.csrf_token, s.created_at, "
                          "s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id "
                          "JOIN api_keys k ON k.id = s.key_id AND k.user_id = s.user_id "
                          "WHERE s.id = ? AND s.expires_at > ? AND k.revoked = 0");
    st.bind(1, id).bind(2, now_seconds());
    if (!st.step())
        return std::nullopt;
    browser_session s;
    s.who          = user_from_row(st, 0);
    s.id           = st.column_text(4);
    s.key_id       = st.column_text(5);
    s.csrf_token   = st.column_text(6);
    s.created_at   = st.column_int(7);
    s.expires_at   = st.column_int(8);
    s.last_seen_at = st.column_int(9);
    return s;
}

void database::session_touch(const std::string & session_id) {
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn, "UPDATE sessions SET last_seen_at = ? WHERE id = ?")
        .bind(1, now_seconds())
        .bind(2, session_id)
        .run();
}

bool database::session_delete(const std::string & token) {
    const std::string id = token_hash(token);
    std::lock_guard   lock(impl_->mutex);
    sqlite_statement(impl_->conn, "DELETE FROM sessions WHERE id = ?").bind(1, id).run();
    return impl_->conn.changes() > 0;
}

int64_t database::sessions_delete_of_user(int64_t user_id) {
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn, "DELETE FROM sessions WHERE user_id = ?").bind(1, user_id).run();
    return impl_->conn.changes();
}

int64_t database::sessions_prune() {
    std::lock_guard lock(impl_->mutex);
    return prune_locked(impl_->conn);
}

std::vector<browser_session> database::sessions_list(int64_t user_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn,
                        "SELECT u.id, u.name, u.admin, u.created_at, s.id, s.key_id, s.created_at, s.expires_at, "
                        "s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ? "
                        "ORDER BY s.created_at DESC, s.rowid DESC");
    st.bind(1, user_id);
    std::vector<browser_session> out;
    while (st.step()) {
        browser_session s;
        s.who          = user_from_row(st, 0);
        s.id           = st.column_text(4);
        s.key_id       = st.column_text(5);
        s.created_at   = st.column_int(6);
        s.expires_at   = st.column_int(7);
        s.last_seen_at = st.column_int(8);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace muse::store
