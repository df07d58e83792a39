#!/usr/bin/env bash
# `muse train` and `muse eval` from the command line: suites written from a seed, a few real
# training steps on muse-arith-init with the Q8_0 copy, an eval of every mode kind with its table
# and JSON, and bad input refused with exit 1.
# Usage: train-eval.sh MUSE_BINARY MODELS_DIR SOURCE_DIR
set -uo pipefail
muse=$1
models=$2
src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MUSE_DATA_DIR=$tmp/data
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

# Suites: the same seed writes the same file; every line is an item muse eval reads.
"$muse" train --write-suite "$tmp/a.jsonl" --split hard --count 30 --seed 9 2>/dev/null &&
    "$muse" train --write-suite "$tmp/b.jsonl" --split hard --count 30 --seed 9 2>/dev/null &&
    cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" && [ "$(wc -l <"$tmp/a.jsonl")" -eq 30 ]
check "a suite is written from its seed, the same twice" $? "$(head -2 "$tmp/a.jsonl")"
expect_error "the train split is not a suite" "--split train is what training draws" -- \
    train --write-suite "$tmp/c.jsonl" --split train

# A few real steps: the progress line, the summary, an F32 and a Q8_0 model that load.
out=$("$muse" train -m "$models/muse-arith-init.gguf" -o "$tmp/m.gguf" --q8 "$tmp/m-q8.gguf" --examples 200 \
      --ctx 256 --max-steps 3 --threads 2 2>"$tmp/err")
grep -q "trained 3 steps" <<<"$out" && grep -q "step 3/3 .* loss [0-9.]* .* tok/s  ETA" "$tmp/err"
check "muse train runs its steps and shows loss, tokens/s and the ETA" $? "$out $(cat "$tmp/err")"
info=$("$muse" info -m "$tmp/m-q8.gguf" 2>/dev/null)
grep -q "name *muse-arith$" <<<"$info" && grep -q "Q8_0" <<<"$info" && grep -q "4096 tokens" <<<"$info"
check "the Q8_0 copy is named muse-arith with a 4096-token context" $? "$info"
expect_error "an F16 model is refused for training" "is not F32" -- \
    train -m "$models/qwen3-tiny.gguf" -o "$tmp/x.gguf" --max-steps 1
expect_error "a bad window size is refused" "--ctx 100 is out of range" -- \
    train -m "$models/muse-arith-init.gguf" -o "$tmp/x.gguf" --ctx 100

# The compression stage samples before it trains: from random weights no sample is right, and
# it says so instead of fine-tuning on nothing.
expect_error "compression with no right sample" "problems got a correct sample" -- \
    train --compress -m "$models/muse-arith-init.gguf" -o "$tmp/c.gguf" --problems 4 --samples 2 --sample-tokens 16
expect_error "compression from a quantized model is refused before it samples" "is not F32" -- \
    train --compress -m "$src/models/muse-arith.gguf" -o "$tmp/c.gguf"
expect_error "compression needs two samples or more" "--samples must be from 2" -- \
    train --compress -m "$models/muse-arith-init.gguf" -o "$tmp/c.gguf" --samples 1

# muse eval: every mode kind on a real (random-weight) model, the table and the JSON.
printf '%s\n' '{"id":"a","question":"What is 2 + 2?","answer":"4"}' \
              '{"id":"b","question":"Name the model.","answer":"muse","checker":"exact"}' >"$tmp/s.jsonl"
out=$("$muse" eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/s.jsonl" --modes instant,thinking:8,contemplate:2:confidence \
      --max-tokens 16 --json "$tmp/r.json" --outcomes 2>/dev/null)
grep -q "^| instant | " <<<"$out" && grep -q "^| thinking:8 | " <<<"$out" && grep -q "^| contemplate:2:confidence | " <<<"$out" &&
    /usr/bin/python3 -c "
import json, sys
r = json.load(open('$tmp/r.json'))
assert [m['mode'] for m in r['modes']] == ['instant', 'thinking:8', 'contemplate:2:confidence'], r
assert all(m['n'] == 2 and len(m['outcomes']) == 2 for m in r['modes']), r
assert r['cpu'] and r['items'] == 2"
check "muse eval prints a row per mode and writes the JSON" $? "$out"
expect_error "a missing suite" "cannot read the suite" -- eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/none.jsonl"
printf '%s\n' '{"question":"q","answer":"1"}' 'oops' >"$tmp/bad.jsonl"
expect_error "a bad suite line names the line" "bad.jsonl:2: not a JSON object" -- \
    eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/bad.jsonl"
expect_error "an unknown mode" "unknown mode \"fast\"" -- \
    eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/s.jsonl" --modes fast
expect_error "a +tools mode without --tools" "needs --tools" -- \
    eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/s.jsonl" --modes thinking+tools

# The shipped model (models/muse-arith.gguf, docs/eval.md) answers the held-out easy suite:
# greedy, with reasoning, the first 40 items (29 of them, and 149 of all 200, on AMD EPYC when it was trained).
arith=$src/models/muse-arith.gguf
out=$("$muse" eval -m "$arith" --suite "$src/data/eval/arith-easy.jsonl" --limit 40 --modes thinking --temperature 0 \
      --max-tokens 320 --json "$tmp/arith.json" 2>/dev/null)
right=$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/arith.json'))['modes'][0]['correct'])" 2>/dev/null || echo 0)
[ "$right" -ge 24 ]
check "muse-arith answers at least 24 of 40 held-out sums, differences and products ($right right)" $? "$out"

# Staged confidence on a model whose agents agree: the staged default starts fewer agents than
# vote, and --consensus above 1 starts all of them, so it spends what vote spends.
tokens() { /usr/bin/python3 -c "import json; print(' '.join('%.1f' % m['reasoning_tokens'] for m in json.load(open('$1'))['modes']))"; }
"$muse" eval -m "$arith" --suite "$src/data/eval/arith-easy.jsonl" --limit 20 --modes contemplate:8:vote,contemplate:8:confidence \
    --max-tokens 256 --json "$tmp/staged.json" >/dev/null 2>&1 &&
"$muse" eval -m "$arith" --suite "$src/data/eval/arith-easy.jsonl" --limit 20 --modes contemplate:8:confidence \
    --consensus 1.5 --max-tokens 256 --json "$tmp/all.json" >/dev/null 2>&1
read -r vote staged <<<"$(tokens "$tmp/staged.json")"
all=$(tokens "$tmp/all.json")
/usr/bin/python3 -c "import sys; v, s, a = map(float, sys.argv[1:]); sys.exit(0 if s < 0.8 * v and a == v else 1)" "$vote" "$staged" "$all"
check "staged confidence spends less than vote ($staged < $vote reasoning tokens), --consensus 1.5 the same ($all)" $?
expect_error "a consensus of 0" "--consensus must be above 0" -- \
    eval -m "$models/qwen3-tiny.gguf" --suite "$tmp/s.jsonl" --modes contemplate:2:confidence --consensus 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
