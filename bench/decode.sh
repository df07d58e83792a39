#!/usr/bin/env bash
# bench/decode: muse vs llama-bench on the bench models (Qwen3-0.6B- and 1.7B-shaped, Q8_0
# and Q4_0), 2 threads, prompt 512 / generate 128 at depth 0 and 512, median of 5.
# Usage: bench/decode.sh [extra muse-bench-decode args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" >&2
build="$root/${MUSE_BUILD_DIR:-build}"
cmake --build "$build" --target muse-bench-decode llama-bench muse-make-test-models >&2
models="$build/models/bench"
if [ ! -f "$models/qwen3-1.7b-q4_0.gguf" ]; then
    "$build/bin/muse-make-test-models" --size bench --out "$models" >&2
fi
args=()
for m in qwen3-0.6b-q8_0 qwen3-0.6b-q4_0 qwen3-1.7b-q8_0 qwen3-1.7b-q4_0; do args+=(-m "$models/$m.gguf"); done
exec "$build/bin/muse-bench-decode" --llama-bench "$build/bin/llama-bench" -t 2 -r 5 -p 512 -n 128 -d 0,512 "${args[@]}" "$@"
