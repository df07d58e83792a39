// `muse keys`: create, list and revoke the API keys `muse serve` accepts.
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/error.h"
#include "store/data-dir.h"
#include "store/database.h"

namespace muse::cli {

namespace {

struct keys_options {
    std::string data_dir;
    std::string user;
    bool        admin = false;
    bool        json  = false;
    std::string key_id;
};

std::filesystem::path keys_data_dir(const keys_options & o) {
    return o.data_dir.empty() ? store::data_dir_default() : std::filesystem::path(o.data_dir);
}

// "2025-03-01 14:05" in UTC; "never" for 0.
std::string utc_time(int64_t unix_seconds) {
    if (unix_seconds == 0)
        return "never";
    const std::time_t t = (std::time_t)unix_seconds;
    std::tm           tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    return buf;
}

// User names show up in key lists and logs: printable, no spaces, a sane length.
void user_name_check(const std::string & name) {
    if (name.empty() || name.size() > 64) {
        throw input_error("--user '" + name + "' must be 1 to 64 characters");
    }
    for (unsigned char c : name) {
        if (c <= ' ' || c == 0x7f) {
            throw input_error("--user '" + name + "' has a space or control character; use letters, digits, . _ @ -");
        }
    }
}

int keys_create(const keys_options & o) {
    user_name_check(o.user);
    store::database   db(keys_data_dir(o));
    std::string       key_id;
    const std::string key = db.key_create(o.user, o.admin, &key_id);
    printf("%s\n", key.c_str());
    fflush(stdout);
    fprintf(stderr, "muse keys: created %s for user '%s'%s in %s; store it now; it is not shown again\n",
            key_id.c_str(), o.user.c_str(), o.admin ? " (admin)" : "", db.data_dir().string().c_str());
    return 0;
}

int keys_list(const keys_options & o) {
    store::database db(keys_data_dir(o));
    const auto      keys = db.key_list();
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto & k : keys) {
            out.push_back({ { "id", k.id },
                            { "user", k.user_name },
                            { "admin", k.admin },
                            { "created_at", k.created_at },
                            { "last_used_at", k.last_used_at },
                            { "revoked", k.revoked } });
        }
        printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    if (keys.empty()) {
        fprintf(stderr, "muse keys: no keys in %s; create one with `muse keys create --user NAME`\n",
                db.data_dir().string().c_str());
        return 0;
    }
    int user_width = 4;
    for (const auto & k : keys)
        user_width = std::max(user_width, (int)k.user_name.size());
    printf("%-12s %-*s %-5s %-16s %-16s %s\n", "ID", user_width, "USER", "ADMIN", "CREATED (UTC)", "LAST USED (UTC)",
           "REVOKED");
    for (const auto & k : keys) {
        printf("%-12s %-*s %-5s %-16s %-16s %s\n", k.id.c_str(), user_width, k.user_name.c_str(),
               k.admin ? "yes" : "no", utc_time(k.created_at).c_str(), utc_time(k.last_used_at).c_str(),
               k.revoked ? "yes" : "no");
    }
    return 0;
}

int keys_revoke(const keys_options & o) {
    // Accept the whole key too: "muse_k_xxxxxxxx_<secret>" names its id.
    std::string id = o.key_id;
    if (id.rfind("muse_k_", 0) == 0 && id.size() >= 15)
        id = id.substr(5, 10);
    store::database db(keys_data_dir(o));
    if (!db.key_revoke(id)) {
        throw input_error("no key with id '" + id + "' in " + db.data_dir().string() +
                          "; `muse keys list` shows the ids (give --data-dir if the server uses another)");
    }
    fprintf(stderr, "muse keys: revoked %s; requests with it now get 401\n", id.c_str());
    return 0;
}

void data_dir_option_add(CLI::App & cmd, keys_options & o) {
    cmd.add_option("--data-dir", o.data_dir, "where the store lives (default $MUSE_DATA_DIR or ~/.local/share/muse)");
}

}  // namespace

void keys_command_add(CLI::App & app, command_runner & runner) {
    auto * keys = app.add_subcommand("keys", "create, list and revoke API keys for muse serve");
    keys->require_subcommand(1);
    auto opts = std::make_shared<keys_options>();

    auto * create = keys->add_subcommand("create", "create a key (prints it once, on stdout)");
    create->add_option("--user", opts->user, "the user the key acts as (created when new)")->required();
    create->add_flag("--admin", opts->admin, "make the user an admin");
    data_dir_option_add(*create, *opts);
    create->callback(
        [opts, &runner]() { runner.run = [opts](const std::atomic<bool> &) { return keys_create(*opts); }; });

    auto * list = keys->add_subcommand("list", "list keys: id, user, admin, created, last used, revoked");
    list->add_flag("--json", opts->json, "print JSON");
    data_dir_option_add(*list, *opts);
    list->callback([opts, &runner]() { runner.run = [opts](const std::atomic<bool> &) { return keys_list(*opts); }; });

    auto * revoke = keys->add_subcommand("revoke", "revoke a key by its id (k_...)");
    revoke->add_option("id", opts->key_id, "the key's id, as `muse keys list` shows it")->required();
    data_dir_option_add(*revoke, *opts);
    revoke->callback(
        [opts, &runner]() { runner.run = [opts](const std::atomic<bool> &) { return keys_revoke(*opts); }; });
}

}  // namespace muse::cli
