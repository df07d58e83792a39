// muse-audit-seed DATA_DIR [set|one]: writes audit rows through the store's own API, for
// tests/cli/audit.sh (which then reads them back with the real `muse audit`).
//   set: six rows of two users, kinds, categories and ages (now, 1 h, 2 d, 30 d, and
//        2020-06-01T12:00:00Z), each verdict's content "prompt <n>";
//   one: one refusal for ada now, content "a prompt to keep" (kept only when audit_content is on).
#include <cstdio>
#include <ctime>
#include <exception>
#include <string>

#include "store/database.h"

using namespace muse;

namespace {

void verdict(store::database & db, const std::string & user, const char * kind, const char * category,
             const char * action, const char * source, const char * route, int64_t created_at,
             const std::string & content) {
    store::audit_event e;
    e.user_id        = db.user_get_or_create(user, false).id;
    e.created_at     = created_at;
    e.kind           = kind;
    e.point          = "input";
    e.category       = category;
    e.verdict_action = action;
    e.source         = source;
    e.route          = route;
    db.audit_record(e, content);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc != 3 || (std::string(argv[2]) != "set" && std::string(argv[2]) != "one")) {
        fprintf(stderr, "usage: muse-audit-seed DATA_DIR set|one\n");
        return 2;
    }
    try {
        store::database db(argv[1]);
        const int64_t   now = (int64_t)std::time(nullptr);
        if (std::string(argv[2]) == "one") {
            verdict(db, "ada", "refusal", "S9", "block", "rules", "chat_completions", 0, "a prompt to keep");
            return 0;
        }
        verdict(db, "ada", "refusal", "S9", "block", "rules", "chat_completions", now - 3600, "prompt 1");
        verdict(db, "ada", "verdict", "S1", "warn", "guard", "responses", now - 2 * 86400, "prompt 2");
        verdict(db, "bob", "refusal", "S9", "block", "rules", "cli.run", now - 30 * 86400, "prompt 3");
        verdict(db, "ada", "warn", "S6", "warn", "rules", "messages", 1591012800, "prompt 4");  // 2020-06-01T12:00:00Z
        db.audit_add(db.user_get_or_create("bob", false).id, "tool_call", R"({"tool":"python","outcome":"ok"})");
        db.audit_add(db.user_get_or_create("ada", false).id, "export", "{}");
    } catch (const std::exception & e) {
        fprintf(stderr, "muse-audit-seed: %s\n", e.what());
        return 1;
    }
    return 0;
}
