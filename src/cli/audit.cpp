// `muse audit`: query the store's audit trail (refusals, guard verdicts, tool calls, privacy
// actions), prune it, and show or set its retention and content logging.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli/commands.h"
#include "engine/error.h"
#include "store/data-dir.h"
#include "store/database.h"

namespace muse::cli {

namespace {

struct audit_options {
    std::string data_dir;
    std::string user;
    std::string since, until;
    std::string kind, category;
    int         limit          = 100;
    bool        json           = false;
    int         days           = -1;  // prune: -1 = the retention setting
    int         retention_days = -1;  // settings: -1 = unchanged
    std::string content;              // settings: "on", "off" or "" = unchanged
};

std::filesystem::path audit_data_dir(const audit_options & o) {
    return o.data_dir.empty() ? store::data_dir_default() : std::filesystem::path(o.data_dir);
}

// Reading the audit of a directory that holds no store would create an empty one there and
// print nothing: a typo in --data-dir would look like a clean audit.
std::filesystem::path existing_store_dir(const audit_options & o) {
    const auto dir = audit_data_dir(o);
    if (!std::filesystem::exists(dir / "muse.db")) {
        throw input_error("no store in " + dir.string() + " (no muse.db there); pass --data-dir DIR, the directory " +
                          "`muse serve` uses (default $MUSE_DATA_DIR or ~/.local/share/muse)");
    }
    return dir;
}

// "2026-12-01 10:00:00" (UTC).
std::string utc_time(int64_t unix_seconds, const char * format = "%Y-%m-%d %H:%M:%S") {
    const std::time_t t = (std::time_t)unix_seconds;
    std::tm           tm {};
    gmtime_r(&t, &tm);
    char buf[40];
    strftime(buf, sizeof(buf), format, &tm);
    return buf;
}

// WHEN as unix seconds: 2026-12-01 (midnight UTC), 2026-12-01T10:00:00Z, or 7d / 12h / 30m ago.
int64_t when_parse(const std::string & flag, const std::string & value, int64_t now) {
    const std::string forms =
        "give a date (2026-12-01, midnight UTC), a UTC time (2026-12-01T10:00:00Z) or a time "
        "ago (7d, 12h, 30m)";
    static const std::regex relative(R"(([0-9]{1,7})([dhm]))");
    static const std::regex absolute(R"(([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2}):([0-9]{2})Z)?)");
    std::smatch             m;
    if (std::regex_match(value, m, relative)) {
        const int64_t n    = std::stoll(m[1]);
        const int64_t unit = m[2] == "d" ? 86400 : m[2] == "h" ? 3600 : 60;
        return now - n * unit;
    }
    if (std::regex_match(value, m, absolute)) {
        std::tm tm {};
        tm.tm_year = std::stoi(m[1]) - 1900;
        tm.tm_mon  = std::stoi(m[2]) - 1;
        tm.tm_mday = std::stoi(m[3]);
        if (m[4].matched) {
            tm.tm_hour = std::stoi(m[5]);
            tm.tm_min  = std::stoi(m[6]);
            tm.tm_sec  = std::stoi(m[7]);
        }
        const std::tm given = tm;
        const int64_t t     = (int64_t)timegm(&tm);
        // timegm normalizes 2026-02-30 into March: a value that does not come back is not a time.
        if (tm.tm_year != given.tm_year || tm.tm_mon != given.tm_mon || tm.tm_mday != given.tm_mday ||
            tm.tm_hour != given.tm_hour || tm.tm_min != given.tm_min || tm.tm_sec != given.tm_sec) {
            throw input_error(flag + " '" + value + "' is not a valid date or time; " + forms);
        }
        return t;
    }
    throw input_error(flag + " '" + value + "' is not a time muse reads; " + forms);
}

std::string or_dash(const std::string & s) {
    return s.empty() ? "-" : s;
}

// The fields in the table's order (ordered_json: a person reads these lines too).
nlohmann::ordered_json event_json(const store::audit_event & e) {
    nlohmann::ordered_json detail = nlohmann::ordered_json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
    if (detail.is_discarded())
        detail = e.detail;
    return { { "id", e.id },
             { "time", utc_time(e.created_at, "%Y-%m-%dT%H:%M:%SZ") },
             { "created_at", e.created_at },
             { "user", e.user_name },
             { "user_id", e.user_id },
             { "kind", e.kind },
             { "point", e.point },
             { "category", e.category },
             { "verdict_action", e.verdict_action },
             { "source", e.source },
             { "route", e.route },
             { "digest", e.digest },
             { "content", e.content ? nlohmann::ordered_json(*e.content) : nlohmann::ordered_json(nullptr) },
             { "detail", std::move(detail) } };
}

void table_print(const std::vector<store::audit_event> & rows) {
    const char * headers[] = {
        "TIME (UTC)", "USER", "KIND", "POINT", "CATEGORY", "ACTION", "SOURCE", "ROUTE", "DIGEST"
    };
    std::vector<std::vector<std::string>> cells;
    for (const auto & e : rows) {
        cells.push_back({ utc_time(e.created_at), or_dash(e.user_name), or_dash(e.kind), or_dash(e.point),
                          or_dash(e.category), or_dash(e.verdict_action), or_dash(e.source), or_dash(e.route),
                          or_dash(e.digest.substr(0, 12)) });
    }
    std::vector<size_t> width;
    for (const char * h : headers)
        width.push_back(strlen(h));
    for (const auto & row : cells) {
        for (size_t i = 0; i < row.size(); i++)
            width[i] = std::max(width[i], row[i].size());
    }
    auto line = [&](const std::vector<std::string> & row) {
        std::string out;
        for (size_t i = 0; i < row.size(); i++) {
            out += row[i];
            if (i + 1 < row.size())
                out += std::string(width[i] - row[i].size() + 2, ' ');
        }
        printf("%s\n", out.c_str());
    };
    line(std::vector<std::string>(std::begin(headers), std::end(headers)));
    for (const auto & row : cells)
        line(row);
}

int audit_list_run(const audit_options & o) {
    const int64_t      now = (int64_t)std::time(nullptr);
    store::audit_query q;
    if (!o.since.empty())
        q.since = when_parse("--since", o.since, now);
    if (!o.until.empty())
        q.until = when_parse("--until", o.until, now);
    if (q.since && q.until && *q.since >= *q.until) {
        throw input_error("--since " + o.since + " is not before --until " + o.until + "; give an earlier --since");
    }
    q.kind     = o.kind;
    q.category = o.category;
    q.limit    = o.limit;
    store::database db(existing_store_dir(o));
    if (!o.user.empty()) {
        const auto u = db.user_find(o.user);
        if (!u) {
            throw input_error("--user '" + o.user + "': no such user in " + db.data_dir().string() +
                              "; `muse keys list` shows the users");
        }
        q.user_id = u->id;
    }
    const auto rows = db.audit_list(q);
    if (o.json) {
        // One object a line: greppable, and streamable into jq.
        for (const auto & e : rows) {
            printf("%s\n",
                   event_json(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
        }
        return 0;
    }
    if (rows.empty()) {
        fprintf(stderr, "muse audit: no audit rows match in %s\n", db.data_dir().string().c_str());
        return 0;
    }
    table_print(rows);
    if ((int)rows.size() == o.limit) {
        fprintf(stderr, "muse audit: the newest %d rows; --limit N shows more\n", o.limit);
    }
    return 0;
}

int audit_prune_run(const audit_options & o) {
    store::database db(existing_store_dir(o));
    const int       days = o.days >= 0 ? o.days : db.audit_settings_get().retention_days;
    if (days == 0) {
        printf("deleted 0 audit rows: the retention is 0 (keep forever); `muse audit prune --days N` prunes anyway\n");
        return 0;
    }
    const int64_t before  = (int64_t)std::time(nullptr) - (int64_t)days * 86400;
    const int64_t deleted = db.audit_prune(before);
    printf("deleted %lld audit row%s older than %d day%s (before %s UTC)\n", (long long)deleted,
           deleted == 1 ? "" : "s", days, days == 1 ? "" : "s", utc_time(before).c_str());
    return 0;
}

int audit_settings_run(const audit_options & o) {
    store::database       db(audit_data_dir(o));
    store::audit_settings s = db.audit_settings_get();
    if (o.retention_days >= 0)
        s.retention_days = o.retention_days;
    if (!o.content.empty())
        s.content = o.content == "on";
    if (o.retention_days >= 0 || !o.content.empty())
        db.audit_settings_set(s);
    if (o.content == "on") {
        fprintf(
            stderr,
            "muse audit: WARNING content logging is on: the text that is checked (prompts, answers, tool arguments, "
            "uploads) is now stored in the audit in %s until it is pruned or the user is deleted; "
            "`muse audit settings --content off` stops it\n",
            (db.data_dir() / "muse.db").string().c_str());
    }
    printf("retention-days %d (%s)\n", s.retention_days,
           s.retention_days == 0 ? "rows are kept forever" : "muse serve deletes older rows at start and hourly");
    printf("content        %s (%s)\n", s.content ? "on" : "off",
           s.content ? "the checked text is stored with its digest" : "only a SHA-256 digest of the checked text");
    return 0;
}

void data_dir_option_add(CLI::App & cmd, audit_options & o) {
    cmd.add_option("--data-dir", o.data_dir, "where the store lives (default $MUSE_DATA_DIR or ~/.local/share/muse)");
}

}  // namespace

void audit_command_add(CLI::App & app, command_runner & runner) {
    auto * audit = app.add_subcommand(
        "audit", "show the audit trail (refusals, guard verdicts, tool calls), prune it, or set its retention");
    audit->require_subcommand(0, 1);
    audit->footer(
        "WHEN: 2026-12-01 (midnight UTC), 2026-12-01T10:00:00Z, or a time ago: 7d, 12h, 30m.\n"
        "`muse audit prune --help` and `muse audit settings --help` explain the others.");
    auto opts = std::make_shared<audit_options>();
    data_dir_option_add(*audit, *opts);
    audit->add_option("--user", opts->user, "only this user's rows");
    audit->add_option("--since", opts->since, "only rows at or after WHEN")->type_name("WHEN");
    audit->add_option("--until", opts->until, "only rows before WHEN")->type_name("WHEN");
    audit->add_option("--kind", opts->kind, "only this kind: refusal, verdict, warn, tool_call, export, ...");
    audit->add_option("--category", opts->category, "only this policy category (S1 ... S14)");
    audit->add_option("--limit", opts->limit, "the newest N rows")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    audit->add_flag("--json", opts->json, "one JSON object a line, with every field");
    audit->callback([audit, opts, &runner]() {
        if (!audit->get_subcommands().empty())
            return;  // prune or settings
        runner.run = [opts](const std::atomic<bool> &) { return audit_list_run(*opts); };
    });

    auto * prune =
        audit->add_subcommand("prune", "delete the rows older than the retention (or --days N); prints how many");
    prune->add_option("--days", opts->days, "delete the rows older than N days (default: the retention setting)")
        ->check(CLI::Range(1, 1000000));
    data_dir_option_add(*prune, *opts);
    prune->footer("The retention is `muse audit settings`' (default 90 days; 0 there: nothing is deleted).");
    prune->callback(
        [opts, &runner]() { runner.run = [opts](const std::atomic<bool> &) { return audit_prune_run(*opts); }; });

    auto * settings = audit->add_subcommand("settings", "show, or set, the audit's retention and content logging");
    settings
        ->add_option("--retention-days", opts->retention_days,
                     "days muse serve keeps audit rows (default 90; 0: forever)")
        ->check(CLI::Range(0, 1000000));
    settings
        ->add_option("--content", opts->content,
                     "on: store the checked text (prompts, answers) with each row; off (default): only its digest")
        ->check(CLI::IsMember({ "on", "off" }));
    data_dir_option_add(*settings, *opts);
    settings->footer("muse serve reads them on each hourly pass: a change needs no restart.");
    settings->callback(
        [opts, &runner]() { runner.run = [opts](const std::atomic<bool> &) { return audit_settings_run(*opts); }; });
}

}  // namespace muse::cli
