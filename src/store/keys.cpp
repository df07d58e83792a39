// API keys: "muse_" + key id ("k_" + 8 hex) + "_" + 32 random bytes in hex. The database keeps
// the key id, a random salt and BLAKE2b-256(secret) keyed by the salt: never the secret.
#include <sodium.h>

#include <array>
#include <optional>
#include <string_view>

#include "store/database-impl.h"

namespace muse::store {

namespace {

constexpr std::string_view k_key_prefix   = "muse_";
constexpr size_t           k_key_id_bytes = 4;   // "k_" + 8 hex
constexpr size_t           k_secret_bytes = 32;  // 64 hex
constexpr size_t           k_salt_bytes   = 16;  // crypto_generichash_KEYBYTES_MIN
constexpr size_t           k_hash_bytes   = 32;  // crypto_generichash_BYTES

using secret_bytes = std::array<unsigned char, k_secret_bytes>;
using hash_bytes   = std::array<unsigned char, k_hash_bytes>;

bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

struct parsed_key {
    std::string  id;
    secret_bytes secret {};

    ~parsed_key() { sodium_memzero(secret.data(), secret.size()); }
};

// nullopt for anything that is not exactly a muse key; never throws on the key's content.
std::optional<parsed_key> key_parse(std::string_view key) {
    const size_t id_len = 2 + 2 * k_key_id_bytes;
    if (key.size() != k_key_prefix.size() + id_len + 1 + 2 * k_secret_bytes)
        return std::nullopt;
    if (key.substr(0, k_key_prefix.size()) != k_key_prefix)
        return std::nullopt;
    const std::string_view id     = key.substr(k_key_prefix.size(), id_len);
    const std::string_view secret = key.substr(k_key_prefix.size() + id_len + 1);
    if (id.substr(0, 2) != "k_" || !is_lower_hex(id.substr(2)))
        return std::nullopt;
    if (key[k_key_prefix.size() + id_len] != '_' || !is_lower_hex(secret))
        return std::nullopt;
    std::optional<parsed_key> out(std::in_place);
    out->id  = std::string(id);
    size_t n = 0;
    if (sodium_hex2bin(out->secret.data(), out->secret.size(), secret.data(), secret.size(), nullptr, &n, nullptr) !=
            0 ||
        n != k_secret_bytes) {
        return std::nullopt;
    }
    return out;
}

hash_bytes key_hash(const secret_bytes & secret, const unsigned char * salt) {
    hash_bytes h {};
    crypto_generichash(h.data(), h.size(), secret.data(), secret.size(), salt, k_salt_bytes);
    return h;
}

}  // namespace

std::string database::key_create(const std::string & user_name, bool admin, std::string * key_id,
                                 const std::string & name) {
    secret_bytes                            secret {};
    std::array<unsigned char, k_salt_bytes> salt {};
    randombytes_buf(secret.data(), secret.size());
    randombytes_buf(salt.data(), salt.size());
    const hash_bytes hash = key_hash(secret, salt.data());

    std::string id;
    {
        std::lock_guard    lock(impl_->mutex);
        sqlite_transaction tx(impl_->conn);
        const user         u = user_upsert(impl_->conn, user_name, admin);
        // 32 bits of key id: a clash is rare but possible, so draw again until one is free.
        for (int attempt = 0; attempt < 16 && id.empty(); attempt++) {
            const std::string candidate = "k_" + random_hex(k_key_id_bytes);
            sqlite_statement(
                impl_->conn,
                "INSERT OR IGNORE INTO api_keys (id, user_id, salt, hash, created_at, name) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(1, candidate)
                .bind(2, u.id)
                .bind_blob(3, salt.data(), salt.size())
                .bind_blob(4, hash.data(), hash.size())
                .bind(5, now_seconds())
                .bind(6, name)
                .run();
            if (impl_->conn.changes() == 1)
                id = candidate;
        }
        if (id.empty()) {
            throw store_error("could not find a free key id in " + impl_->conn.path() + " after 16 tries");
        }
        tx.commit();
    }

    std::string hex(2 * k_secret_bytes + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), secret.data(), secret.size());
    hex.pop_back();
    sodium_memzero(secret.data(), secret.size());
    if (key_id)
        *key_id = id;
    std::string key = std::string(k_key_prefix) + id + "_" + hex;
    sodium_memzero(hex.data(), hex.size());
    return key;
}

namespace {

std::vector<api_key_info> keys_read(sqlite_statement & st) {
    std::vector<api_key_info> out;
    while (st.step()) {
        api_key_info k;
        k.id           = st.column_text(0);
        k.user_id      = st.column_int(1);
        k.user_name    = st.column_text(2);
        k.admin        = st.column_int(3) != 0;
        k.created_at   = st.column_int(4);
        k.last_used_at = st.column_int(5);
        k.revoked      = st.column_int(6) != 0;
        k.name         = st.column_text(7);
        out.push_back(std::move(k));
    }
    return out;
}

constexpr const char * k_keys_select = "SELECT k.id, k.user_id, u.name, u.admin, k.created_at, k.last_used_at, k.revoked, "
                                       "k.name FROM api_keys k JOIN users u ON u.id = k.user_id ";

}  // namespace

std::vector<api_key_info> database::key_list() {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_keys_select) + "ORDER BY k.created_at, k.rowid");
    return keys_read(st);
}

std::vector<api_key_info> database::key_list(int64_t user_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_keys_select) + "WHERE k.user_id = ? ORDER BY k.created_at, k.rowid");
    st.bind(1, user_id);
    return keys_read(st);
}

bool database::key_revoke(const std::string & key_id) {
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn, "UPDATE api_keys SET revoked = 1 WHERE id = ?").bind(1, key_id).run();
    return impl_->conn.changes() > 0;
}

std::optional<user> database::key_verify(const std::string & key, std::string * key_id) {
    const std::optional<parsed_key> parsed = key_parse(key);
    if (!parsed)
        return std::nullopt;

    std::lock_guard lock(impl_->mutex);
    int64_t         last_used = 0;
    user            u;
    {
        sqlite_statement st(impl_->conn,
                            "SELECT k.salt, k.hash, k.revoked, k.last_used_at, u.id, u.name, u.admin, u.created_at "
                            "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?");
        st.bind(1, parsed->id);
        if (!st.step())
            return std::nullopt;
        const std::string salt   = st.column_blob(0);
        const std::string stored = st.column_blob(1);
        if (salt.size() != k_salt_bytes || stored.size() != k_hash_bytes)
            return std::nullopt;
        const hash_bytes hash = key_hash(parsed->secret, reinterpret_cast<const unsigned char *>(salt.data()));
        if (sodium_memcmp(hash.data(), stored.data(), k_hash_bytes) != 0)
            return std::nullopt;
        if (st.column_int(2) != 0)
            return std::nullopt;  // revoked
        last_used = st.column_int(3);
        u         = user_from_row(st, 4);
    }  // the read ends here, so the update below commits on its own

    // One write a second at most per key: the dates are in seconds, and each write is an fsync.
    const int64_t now = now_seconds();
    if (now != last_used) {
        sqlite_statement(impl_->conn, "UPDATE api_keys SET last_used_at = ? WHERE id = ?")
            .bind(1, now)
            .bind(2, parsed->id)
            .run();
    }
    if (key_id)
        *key_id = parsed->id;
    return u;
}

}  // namespace muse::store
