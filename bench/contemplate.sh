#!/usr/bin/env bash
# bench/contemplate: N = 1, 2, 4, 8, 16 agents on one shared ~512-token prompt, 128 tokens each,
# Qwen3-0.6B-shaped Q8_0, 2 threads — muse's contemplate mode vs llama-batched-bench -pps -kvu,
# and vs llama-server --parallel 16 --kv-unified asked for n=N completions (one request each).
# REPS (3) and AGENTS (1,2,4,8,16) narrow a run; arguments go to muse-bench-contemplate (-p 512, -n 128). PORT (18480) is where that llama-server listens while the benchmark runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/serve-util.sh"
"$root/scripts/setup.sh" >&2
build="$root/${MUSE_BUILD_DIR:-build}"
port=${PORT:-18480}
cmake --build "$build" --target muse-bench-contemplate llama-batched-bench llama-server muse-make-test-models >&2
models="$build/models/bench"
[ -f "$models/qwen3-0.6b-q8_0.gguf" ] || "$build/bin/muse-make-test-models" --size bench --out "$models" --only qwen3-0.6b-q8_0.gguf >&2
# One unified KV cache, like batched-bench -kvu: the n=N children share the prompt's cells.
log=$(mktemp)
trap 'server_stop; rm -f "$log"' EXIT
server_start "$port" "$log" "$build/bin/llama-server" -m "$models/qwen3-0.6b-q8_0.gguf" --parallel 16 --kv-unified \
    -c 4096 -t 2 -fa off --host 127.0.0.1 --port "$port"
"$build/bin/muse-bench-contemplate" --batched-bench "$build/bin/llama-batched-bench" -m "$models/qwen3-0.6b-q8_0.gguf" \
    --server-url "http://127.0.0.1:$port" -t 2 ${REPS:+-r "$REPS"} ${AGENTS:+--agents "$AGENTS"} "$@"
