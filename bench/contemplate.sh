#!/usr/bin/env bash
# bench/contemplate: N = 1, 2, 4, 8, 16 agents on one shared ~512-token prompt, 128 tokens each,
# Qwen3-0.6B-shaped Q8_0, 2 threads — muse's contemplate mode vs llama-batched-bench -pps -kvu.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" >&2
build="$root/${MUSE_BUILD_DIR:-build}"
cmake --build "$build" --target muse-bench-contemplate llama-batched-bench muse-make-test-models >&2
models="$build/models/bench"
[ -f "$models/qwen3-0.6b-q8_0.gguf" ] || "$build/bin/muse-make-test-models" --size bench --out "$models" --only qwen3-0.6b-q8_0.gguf >&2
exec "$build/bin/muse-bench-contemplate" --batched-bench "$build/bin/llama-batched-bench" -m "$models/qwen3-0.6b-q8_0.gguf" \
    -t 2 -r 3 -p 512 -n 128 --agents 1,2,4,8,16 "$@"
