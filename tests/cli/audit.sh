#!/usr/bin/env bash
# `muse audit` on a temporary data directory whose rows the store's own API wrote (the seed
# helper): the table, filters, --json, prune, settings (content logging on and off), bad flags
# exiting 1 with the flag named, and `muse serve` pruning by retention as it starts.
# Usage: audit.sh MUSE_BINARY SEED_BINARY [MODELS_DIR]
set -uo pipefail
muse=$1
seed=$2
models=${3:-}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

no_crash() {  # TEXT: no signal, no sanitizer report
    ! grep -qE "Sanitizer|runtime error|Segmentation|Aborted" <<<"$1"
}
# The number of JSON lines `muse audit --json ARGS...` prints (-1 when one does not parse).
json_rows() {
    "$muse" audit --json "${data[@]}" "$@" 2>/dev/null |
        node -e 'let n = 0; for (const l of require("fs").readFileSync(0, "utf8").split("\n")) if (l) { try { JSON.parse(l); n++ } catch { n = -1; break } } console.log(n)'
}

data=(--data-dir "$tmp/data")
"$seed" "$tmp/data" set
check "seed the store through its API" $? ""

# --- the table and its filters ---------------------------------------------------------------
out=$("$muse" audit "${data[@]}" 2>&1)
rc=$?
digest1=$(printf '%s' "prompt 1" | sha256sum | cut -c1-12)
[ "$rc" -eq 0 ] && head -1 <<<"$out" | grep -qE "^TIME \(UTC\) +USER +KIND +POINT +CATEGORY +ACTION +SOURCE +ROUTE +DIGEST$" &&
    [ "$(wc -l <<<"$out")" -eq 7 ] && grep -qE "ada +refusal +input +S9 +block +rules +chat_completions +$digest1$" <<<"$out" &&
    grep -qE "^2020-06-01 12:00:00 +ada +warn" <<<"$out" && grep -qE "bob +tool_call +- +- +- +- +- +-$" <<<"$out"
check "the table: a header and six rows, the digest's prefix" $? "exit $rc: $out"
# Newest first: the two rows of now (the later one first), then 1 h, 2 d, 30 d ago, then 2020.
kinds=$("$muse" audit "${data[@]}" | tail -n +2 | awk '{print $4}' | tr '\n' ' ')
[ "$kinds" = "export tool_call refusal verdict refusal warn " ]
check "newest first" $? "$kinds"
! grep -q "prompt 1" "$tmp"/data/muse.db*
check "content logging off: no content in the database" $? "found 'prompt 1' in $tmp/data"

[ "$(json_rows)" -eq 6 ]
check "--json: six lines, each JSON" $? "$("$muse" audit --json "${data[@]}" 2>&1)"
line=$("$muse" audit --json --category S1 "${data[@]}")
node -e '
const e = JSON.parse(process.argv[1]);
const want = { user: "ada", kind: "verdict", point: "input", category: "S1", verdict_action: "warn", source: "guard",
               route: "responses", digest: process.argv[2], content: null };
for (const [k, v] of Object.entries(want)) if (e[k] !== v) { console.error(k, e[k]); process.exit(1) }
if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time) || typeof e.created_at !== "number" || typeof e.detail !== "object") process.exit(1)' \
    "$line" "$(printf '%s' "prompt 2" | sha256sum | cut -d' ' -f1)"
check "--json: every field, the full SHA-256 of the content, content null" $? "$line"
line=$("$muse" audit --json --kind tool_call "${data[@]}")
node -e 'const e = JSON.parse(process.argv[1]); if (e.user !== "bob" || e.detail.tool !== "python") process.exit(1)' "$line"
check "--json: an audit_add row, its detail as JSON" $? "$line"

[ "$(json_rows --user ada)" -eq 4 ] && [ "$(json_rows --user bob)" -eq 2 ]
check "--user" $? "ada $(json_rows --user ada), bob $(json_rows --user bob)"
[ "$(json_rows --kind refusal)" -eq 2 ] && [ "$(json_rows --kind refusal --user bob)" -eq 1 ]
check "--kind" $? "$(json_rows --kind refusal)"
[ "$(json_rows --category S9)" -eq 2 ] && [ "$(json_rows --category S14)" -eq 0 ]
check "--category" $? "$(json_rows --category S9)"
[ "$(json_rows --since 7d)" -eq 4 ] && [ "$(json_rows --since 90m)" -eq 3 ] && [ "$(json_rows --since 36h)" -eq 3 ] &&
    [ "$(json_rows --until 1d)" -eq 3 ]
check "--since / --until as a time ago (d, h, m)" $? "7d $(json_rows --since 7d), 90m $(json_rows --since 90m), until 1d $(json_rows --until 1d)"
[ "$(json_rows --since 2020-06-01 --until 2020-06-02)" -eq 1 ] && [ "$(json_rows --until 2021-01-01)" -eq 1 ] &&
    [ "$(json_rows --since 2020-06-01T12:00:00Z --until 2020-06-01T12:00:01Z)" -eq 1 ] &&
    [ "$(json_rows --since 2020-06-01T12:00:01Z --until 2021-01-01)" -eq 0 ]
check "--since inclusive, --until exclusive, as dates and UTC times" $? "$(json_rows --until 2021-01-01)"
out=$("$muse" audit --limit 2 "${data[@]}" 2>&1)
[ "$(grep -cE "^[0-9]{4}-" <<<"$out")" -eq 2 ] && grep -q -- "--limit N shows more" <<<"$out"
check "--limit, with a note that there is more" $? "$out"
out=$("$muse" audit --since 2030-01-01 "${data[@]}" 2>&1)
[ $? -eq 0 ] && grep -q "no audit rows match" <<<"$out"
check "nothing matches: a note, exit 0" $? "$out"

# --- bad flags: exit 1, the flag and the value named ----------------------------------------
expect_error "--since in words"        "--since 'yesterday'"        -- audit "${data[@]}" --since yesterday
expect_error "--since names the forms" "7d"                         -- audit "${data[@]}" --since yesterday
expect_error "--until on no such day"  "--until '2026-02-30'"       -- audit "${data[@]}" --until 2026-02-30
expect_error "--until 25:00"           "--until '2026-02-01T25:00:00Z'" -- audit "${data[@]}" --until 2026-02-01T25:00:00Z
expect_error "--since 7w"              "--since '7w'"               -- audit "${data[@]}" --since 7w
expect_error "--since after --until"   "is not before --until"      -- audit "${data[@]}" --since 1d --until 2d
expect_error "--limit 0"               "--limit"                    -- audit "${data[@]}" --limit 0
expect_error "--limit abc"             "--limit"                    -- audit "${data[@]}" --limit abc
expect_error "an unknown user"         "--user 'zed'"               -- audit "${data[@]}" --user zed
expect_error "an unknown flag"         "--usr"                      -- audit "${data[@]}" --usr ada
expect_error "no store there"          "no store in $tmp/nothing"   -- audit --data-dir "$tmp/nothing"
[ ! -e "$tmp/nothing" ]
check "reading a missing store creates none" $? "$(ls -la "$tmp/nothing" 2>&1)"
expect_error "prune --days 0"          "--days"                     -- audit prune "${data[@]}" --days 0
expect_error "settings --content maybe" "--content"                 -- audit settings "${data[@]}" --content maybe
expect_error "settings --retention-days -1" "--retention-days"      -- audit settings "${data[@]}" --retention-days -1
out=$("$muse" audit "${data[@]}" --since '' 2>&1; "$muse" audit "${data[@]}" --since "$(printf 'x%.0s' {1..5000})" 2>&1)
no_crash "$out"
check "odd values do not crash" $? "$out"

# --- settings ------------------------------------------------------------------------------
out=$("$muse" audit settings "${data[@]}" 2>&1)
grep -qE "^retention-days 90 " <<<"$out" && grep -qE "^content +off " <<<"$out"
check "settings: the defaults, 90 days and content off" $? "$out"
err=$("$muse" audit settings "${data[@]}" --content on 2>&1 >/dev/null)
[ $? -eq 0 ] && grep -q "WARNING" <<<"$err" && grep -q "prompts" <<<"$err"
check "content on warns that prompts will be stored" $? "$err"
"$seed" "$tmp/data" one
line=$("$muse" audit --json --limit 1 "${data[@]}")
node -e 'const e = JSON.parse(process.argv[1]); if (e.content !== "a prompt to keep") process.exit(1)' "$line"
check "content on: the next row keeps its content" $? "$line"
"$muse" audit settings "${data[@]}" --content off --retention-days 30 >/dev/null 2>&1
out=$("$muse" audit settings "${data[@]}" 2>&1)
grep -qE "^retention-days 30 " <<<"$out" && grep -qE "^content +off " <<<"$out"
check "settings persist" $? "$out"

# --- prune ---------------------------------------------------------------------------------
out=$("$muse" audit prune "${data[@]}" 2>&1)
[ $? -eq 0 ] && grep -q "^deleted 2 audit rows older than 30 days" <<<"$out" && [ "$(json_rows)" -eq 5 ] &&
    [ "$(json_rows --until 2021-01-01)" -eq 0 ]
check "prune by the retention setting (30 days: the 2020 row and the 30-day-old one)" $? "$out"
out=$("$muse" audit prune --days 1 "${data[@]}" 2>&1)
[ $? -eq 0 ] && grep -q "^deleted 1 audit row older than 1 day " <<<"$out" && [ "$(json_rows)" -eq 4 ]
check "prune --days N" $? "$out"
"$muse" audit settings "${data[@]}" --retention-days 0 >/dev/null 2>&1
out=$("$muse" audit prune "${data[@]}" 2>&1)
[ $? -eq 0 ] && grep -q "^deleted 0 audit rows: the retention is 0 (keep forever)" <<<"$out" && [ "$(json_rows)" -eq 4 ]
check "retention 0 keeps everything" $? "$out"

# --- muse serve prunes by retention as it starts --------------------------------------------
qwen=$models/qwen3-tiny.gguf
if [ -n "$models" ]; then
    "$seed" "$tmp/serve" set
    "$muse" audit settings --data-dir "$tmp/serve" --retention-days 7 >/dev/null 2>&1
    "$muse" serve -m "$qwen" --no-auth --host 127.0.0.1 --port 0 --ctx-size 512 --max-concurrency 1 \
        --data-dir "$tmp/serve" >"$tmp/serve.out" 2>"$tmp/serve.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 300); do
        grep -q "listening on" "$tmp/serve.out" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    rows=$("$muse" audit --json --data-dir "$tmp/serve" | wc -l)
    grep -q "audit retention: deleted 2 audit rows older than 7 days" "$tmp/serve.err" && [ "$rows" -eq 4 ]
    check "muse serve prunes by retention at start" $? "$rows rows; $(cat "$tmp/serve.out" "$tmp/serve.err")"
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 0 ]
    check "muse serve stops cleanly with its retention thread" $? "exit $rc: $(tail -5 "$tmp/serve.err")"
else
    echo "skip muse serve's retention (no models dir given)"
fi

echo "cli.audit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
