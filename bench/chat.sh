#!/usr/bin/env bash
# bench/chat: 16 users, each a 6-turn streaming conversation (a ~600-token system prompt shared by
# all, ~60 new user tokens and 64-token answers a turn), users staggered and thinking between turns
# so that the turns interleave — `muse serve` (prefix cache) vs `llama-server --parallel 4` and
# `--parallel 16` (cache_prompt on, --cache-ram default) from the pinned tree, Qwen3-0.6B-shaped
# Q8_0, 2 threads, flash attention off, the same total context (KV cells) for all three. Each
# server is started fresh for each rep, the order rotating; the table pools the reps' requests.
# Usage: bench/chat.sh [reps] (1)
# Environment: USERS (16), TURNS (6), SYSTEM_TOKENS (600), USER_TOKENS (60), GEN_TOKENS (64),
#   CONCURRENCY (16: users in flight at once), PORT (18520: the first of a port per server and rep);
#   SERVERS ("muse llama-server-p4 llama-server-p16") picks and orders the servers;
#   MUSE_SERVE_ARGS adds options to muse serve (e.g. --no-cache); MUSE_SHARED=0 runs muse without
#   --shared-prefix (the system prompt is then decoded once per user); MUSE_AUTH=none runs muse with
#   --no-auth (every user is 'local': one owner for all entries) instead of a key per user;
#   SKIP_SETUP=1 skips scripts/setup.sh (a build folder set up already, e.g. MUSE_BUILD_DIR=build-bench);
#   KEEP_RUNS=FILE keeps the runs (JSON lines, per request too) for muse-bench-chat-load --table FILE.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/serve-util.sh"
[ "${SKIP_SETUP:-0}" = 1 ] || "$root/scripts/setup.sh" >&2
build="$root/${MUSE_BUILD_DIR:-build}"
reps=${1:-1}
users=${USERS:-16}
turns=${TURNS:-6}
system=${SYSTEM_TOKENS:-600}
user=${USER_TOKENS:-60}
gen=${GEN_TOKENS:-64}
concurrency=${CONCURRENCY:-16}
base_port=${PORT:-18520}
read -r -a servers <<<"${SERVERS:-muse llama-server-p4 llama-server-p16}"
cmake --build "$build" --target muse muse-bench-chat-load llama-server muse-make-test-models >&2
models="$build/models/bench"
model="$models/qwen3-0.6b-q8_0.gguf"
[ -f "$model" ] || "$build/bin/muse-make-test-models" --size bench --out "$models" --only qwen3-0.6b-q8_0.gguf >&2

# One conversation's cells: the system prompt, every turn's message and answer, ~16 template
# tokens a turn and some slack, in llama.cpp's steps of 256 (1536 at the defaults). Every server
# gets 16 of those in all (24576 cells): llama-server --parallel 16 a conversation a slot,
# --parallel 4 four conversations' worth a slot, muse --max-concurrency 16 (split KV) the same
# per sequence as --parallel 16.
slots=16
per_conv=$(((system + turns * (user + gen + 16) + 64 + 255) / 256 * 256))
ctx=$((slots * per_conv))
work=$(mktemp -d)
trap 'server_stop; rm -rf "$work"' EXIT
started=$(date +%s)

# Every start gets a port of its own: Debian's cpp-httplib binds with SO_REUSEPORT only, which
# fails while the previous server's closed connections on that port linger in TIME_WAIT.
runs=0
key_create() {  # DATA_DIR OPTIONS...: a muse key on stdout
    local data=$1
    shift
    "$build/bin/muse" keys create "$@" --data-dir "$data" 2>>"$work/keys.log" || { cat "$work/keys.log" >&2; return 1; }
}
server_run() {  # NAME: start it, run the load, stop it
    local name=$1
    local port=$((base_port + runs++))
    local serve_auth=() load=()  # muse serve's options for keys; the load generator's for the server
    case "$name" in
        llama-server-p*)
            server_start "$port" "$work/$name.log" "$build/bin/llama-server" -m "$model" \
                --parallel "${name#llama-server-p}" -c "$ctx" -t 2 -fa off --host 127.0.0.1 --port "$port"
            load=(--kv-cells "$(sed -n 's/.*n_slots = \([0-9]*\), n_ctx_slot = \([0-9]*\).*/\1 \2/p' "$work/$name.log" |
                awk '{ print $1 * $2; exit }')") ;;
        muse)
            local data="$work/data-$port"
            if [ "${MUSE_AUTH:-keys}" = none ]; then
                serve_auth=(--no-auth)
            else
                # A key for every user: muse keeps each user's cached conversations apart. An admin
                # reads /metrics (the prefix cache's counters) after the run.
                : >"$work/keys"
                for ((u = 0; u < users; u++)); do key_create "$data" --user "user$u" >>"$work/keys"; done
                load=(--api-keys "$work/keys" --metrics-key "$(key_create "$data" --user bench-admin --admin)")
            fi
            # The operator shares the system prompt every user's conversation starts with (llama-server
            # shares any prefix across users; muse only what the operator names).
            local shared=()
            if [ "${MUSE_SHARED:-1}" = 1 ]; then
                "$build/bin/muse-bench-chat-load" -m "$model" --system-tokens "$system" --system-out "$work/system.txt"
                shared=(--shared-prefix "$work/system.txt")
            fi
            server_start "$port" "$work/$name.log" "$build/bin/muse" serve -m "$model" \
                --max-concurrency "$slots" --ctx-size "$ctx" --threads 2 --host 127.0.0.1 --port "$port" \
                --data-dir "$data" "${serve_auth[@]}" "${shared[@]}" ${MUSE_SERVE_ARGS:-}
            load+=(--kv-cells "$(sed -n 's/.*(\([0-9]*\) KV cells.*/\1/p' "$work/$name.log" | head -1)") ;;
        *) echo "unknown server '$name' in SERVERS (muse, llama-server-pN)" >&2; exit 1 ;;
    esac
    echo "$name: load average $(cut -d' ' -f1-3 /proc/loadavg) before the run, $(date +%H:%M:%S)" >&2
    "$build/bin/muse-bench-chat-load" --url "http://127.0.0.1:$port" -m "$model" --label "$name" \
        --users "$users" --turns "$turns" --system-tokens "$system" --user-tokens "$user" --gen-tokens "$gen" \
        --concurrency "$concurrency" --server-pid "$server_pid" "${load[@]}" 2>"$work/load.log" >>"$work/runs.jsonl" ||
        { cat "$work/load.log" >&2; echo "--- the end of $name's log:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
    grep "^$name" "$work/load.log" >&2 || true
    server_stop
}

for ((r = 0; r < reps; r++)); do
    n=${#servers[@]}
    for ((i = 0; i < n; i++)); do server_run "${servers[(i + r) % n]}"; done
done
echo
echo "bench/chat: model $(basename "$model"), 2 threads, -fa off, $ctx KV cells per server ($slots x $per_conv)," \
     "$reps rep(s), $(($(date +%s) - started)) s in all"
"$build/bin/muse-bench-chat-load" --table "$work/runs.jsonl"
[ -z "${KEEP_RUNS:-}" ] || cp "$work/runs.jsonl" "$KEEP_RUNS"
