#!/usr/bin/env bash
# bench/serve: 16 concurrent streaming chat clients, ~256-token prompts, 128-token answers,
# Qwen3-0.6B-shaped Q8_0, 2 threads — `muse serve` vs `llama-server --parallel 16` from the
# pinned tree. Each server is started fresh for each rep, the order alternates; median of 3.
# Usage: bench/serve.sh [reps]
# Environment: CLIENTS, PROMPT_TOKENS, GEN_TOKENS, PORT (18480: the first of 2 x reps ports used);
#   SERVE_SECOND=llama-server runs a second llama-server where muse would run (checks the script);
#   MUSE_SERVE_ARGS adds options to muse serve (e.g. "--prefill-budget 0"); LLAMA_FA=on runs
#   llama-server with flash attention (pair it with MUSE_SERVE_ARGS=--flash-attn).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/serve-util.sh"
"$root/scripts/setup.sh" >&2
build="$root/${MUSE_BUILD_DIR:-build}"
reps=${1:-3}
clients=${CLIENTS:-16}
prompt=${PROMPT_TOKENS:-256}
gen=${GEN_TOKENS:-128}
base_port=${PORT:-18480}
second=${SERVE_SECOND:-muse}
targets=(muse-bench-serve-load llama-server muse-make-test-models)
[ "$second" = muse ] && targets+=(muse)
cmake --build "$build" --target "${targets[@]}" >&2
models="$build/models/bench"
model="$models/qwen3-0.6b-q8_0.gguf"
[ -f "$model" ] || "$build/bin/muse-make-test-models" --size bench --out "$models" --only qwen3-0.6b-q8_0.gguf >&2

# Room for every client's prompt and answer plus the template's turn markers: 8192 at the
# defaults, which llama-server splits into 16 slots of 512 (it keeps one KV stream per slot).
ctx=$((clients * (prompt + gen + 128)))
work=$(mktemp -d)
trap 'server_stop; rm -rf "$work"' EXIT

# Every start gets a port of its own: Debian's cpp-httplib binds with SO_REUSEPORT only, which
# fails while the previous server's closed connections on that port linger in TIME_WAIT.
runs=0
server_run() {  # NAME: start it, run the load, stop it
    local name=$1
    local port=$((base_port + runs++))
    case "$name" in
        llama-server*) server_start "$port" "$work/$name.log" "$build/bin/llama-server" -m "$model" \
                           --parallel "$clients" -c "$ctx" -t 2 -fa "${LLAMA_FA:-off}" --host 127.0.0.1 --port "$port" ;;
        muse) server_start "$port" "$work/$name.log" "$build/bin/muse" serve -m "$model" \
                  --max-concurrency "$clients" --ctx-size "$ctx" --threads 2 --host 127.0.0.1 --port "$port" \
                  --no-auth --data-dir "$work/data-$port" ${MUSE_SERVE_ARGS:-} ;;
    esac
    echo "$name: load average $(cut -d' ' -f1-3 /proc/loadavg) before the run" >&2
    "$build/bin/muse-bench-serve-load" --url "http://127.0.0.1:$port" -m "$model" --label "$name" \
        --clients "$clients" --prompt-tokens "$prompt" --gen-tokens "$gen" 2>"$work/load.log" >>"$work/runs.jsonl" ||
        { cat "$work/load.log" >&2; echo "--- the end of $name's log:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
    grep "^$name" "$work/load.log" >&2 || true
    server_stop
}

label2=$second
[ "$second" = llama-server ] && label2=llama-server-2
for ((r = 1; r <= reps; r++)); do
    if ((r % 2)); then order=(llama-server "$label2"); else order=("$label2" llama-server); fi
    for name in "${order[@]}"; do server_run "$name"; done
done
echo
echo "bench/serve: $clients streaming clients, model $(basename "$model"), 2 threads"
"$build/bin/muse-bench-serve-load" --table "$work/runs.jsonl"
