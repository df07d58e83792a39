#!/usr/bin/env bash
# The table of docs/eval.md: muse's modes on muse-arith, every held-out suite, one run.
#   bench/eval/arith.sh [MODEL] [ITEMS] [OUT_DIR]
# MODEL defaults to models/muse-arith.gguf, ITEMS (per suite) to 100, OUT_DIR to
# build/eval-arith; each suite's JSON (with every item's outcome) lands there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
muse=${MUSE:-$root/build/bin/muse}
model=${1:-$root/models/muse-arith.gguf}
items=${2:-100}
out=${3:-$root/build/eval-arith}
mkdir -p "$out"
modes="instant,thinking:64,thinking:128,thinking:256"
for n in 4 8 16; do modes+=",contemplate:$n:vote,contemplate:$n:confidence"; done
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
for split in easy hard; do
    echo
    echo "== $split =="
    "$muse" eval -m "$model" --suite "$root/data/eval/arith-$split.jsonl" --limit "$items" --modes "$modes" \
        --max-tokens 256 --json "$out/$split.json" --outcomes
done
echo
echo "== tool (big products) =="
"$muse" eval -m "$model" --suite "$root/data/eval/arith-tool.jsonl" --limit "$items" \
    --modes "thinking,thinking+tools" --tools python --max-tokens 256 --json "$out/tool.json" --outcomes
