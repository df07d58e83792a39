#!/usr/bin/env bash
# A newcomer's first hour with `muse` (issue: "a newcomer's first hour goes right"): exit codes
# and "did you mean", --version and `muse help`, small contexts, prompts from every place,
# inputs checked before the model loads, --show-prompt and --stats in every mode, reasoning
# flags on a model without reasoning, models by name and `muse list`, a failed pull.
# Usage: first-hour.sh MUSE_BINARY MODELS_DIR
set -uo pipefail
muse=$1
models=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
passed=0
check() {  # NAME CONDITION-EXIT-CODE DETAIL
    if [ "$2" -eq 0 ]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1: $3"; failed=$((failed + 1)); fi
}
# run_rc ARGS...: runs muse with stdin closed; sets $out (stdout), $err (stderr), $rc.
run_rc() {
    "$muse" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
qwen="$models/qwen3-tiny.gguf"
llama="$models/llama-tiny.gguf"

# --- exit codes and "did you mean" --------------------------------------------------------
run_rc run -m "$qwen" -p hi --frobnicate
[ "$rc" -eq 1 ] && grep -q -- "--frobnicate" <<<"$err"
check "an unknown flag exits 1 and is named" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi --temperature 0.5
[ "$rc" -eq 1 ] && grep -q -- "did you mean --temp?" <<<"$err"
check "--temperature suggests --temp" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi --max-token 3
[ "$rc" -eq 1 ] && grep -q -- "did you mean --max-tokens?" <<<"$err"
check "--max-token suggests --max-tokens" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi -n -5
[ "$rc" -eq 1 ] && grep -q -- "--max-tokens" <<<"$err"
check "-n -5 exits 1 naming --max-tokens" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi --seed -2
[ "$rc" -eq 1 ] && grep -q -- "--seed" <<<"$err"
check "--seed -2 exits 1 naming --seed" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi -n 4 --seed -1 --stats
[ "$rc" -eq 0 ] && grep -qE "\| seed [0-9]+$" <<<"$err"
check "--seed -1 is a random seed, shown by --stats" $? "rc=$rc $err"
seed=$(sed -nE 's/.*\| seed ([0-9]+)$/\1/p' <<<"$err")
a=$out
run_rc run -m "$qwen" -p hi -n 4 --seed "$seed"
[ -n "$seed" ] && [ "$out" = "$a" ]
check "the seed --stats shows reproduces the run" $? "seed=$seed '$a' vs '$out'"
run_rc frob
[ "$rc" -eq 1 ] && grep -q "'frob' is not a muse command" <<<"$err"
check "an unknown command exits 1" $? "rc=$rc $err"
run_rc rn -m "$qwen"
[ "$rc" -eq 1 ] && grep -q "did you mean 'run'" <<<"$err"
check "'rn' suggests 'run'" $? "rc=$rc $err"
run_rc
[ "$rc" -eq 1 ] && grep -q "serve" <<<"$err"
check "muse alone lists the commands and exits 1" $? "rc=$rc $err"
run_rc --version
[ "$rc" -eq 0 ] && grep -qE "^muse [0-9]+\.[0-9]+\.[0-9]+ .*llama\.cpp [0-9a-f]{7}" <<<"$out"
check "--version names muse's version and the llama.cpp commit" $? "rc=$rc $out"
run_rc help
[ "$rc" -eq 0 ] && grep -q "run" <<<"$out" && grep -q "list" <<<"$out"
check "muse help lists the commands" $? "rc=$rc $out"
run_rc help run
[ "$rc" -eq 0 ] && grep -q -- "--think-budget" <<<"$out"
check "muse help run shows run's options" $? "rc=$rc"
run_rc help frob
[ "$rc" -eq 1 ]
check "muse help frob exits 1" $? "rc=$rc"
run_rc run --help
[ "$rc" -eq 0 ] && grep -qE -- "--max-tokens.*=-1" <<<"$out" && grep -qE -- "--agents.*=4" <<<"$out" &&
    grep -qE -- "--think-budget.*=-1" <<<"$out" && grep -qE -- "default: one pass" <<<"$out" &&
    grep -qE -- "--temp.*=0\.8" <<<"$out"
check "run --help shows the defaults" $? "$out"

# --- small contexts -------------------------------------------------------------------------
for c in 8 64; do
    run_rc run -m "$qwen" -c "$c" -n 4 -p "hi there, how are you doing today, my dear old friend?"
    [ "$rc" -eq 0 ] && [ "$(grep -c "raised to 256" <<<"$err")" -eq 1 ]
    check "-c $c runs, and says once that it was raised to 256" $? "rc=$rc $err"
done

# --- prompts from every place ---------------------------------------------------------------
run_rc run -m "$qwen" -n 6 --temp 0 -p "Tell me a story"; want=$out
run_rc run -m "$qwen" -n 6 --temp 0 "Tell me a story"
[ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$out" = "$want" ]
check "a positional prompt is the -p prompt" $? "'$out' vs '$want'"
got=$(echo "Tell me a story" | "$muse" run -m "$qwen" -n 6 --temp 0 2>/dev/null)
[ "$got" = "$want" ]
check "a prompt on stdin is the -p prompt" $? "'$got' vs '$want'"
got=$(echo "Tell me a story" | "$muse" run -m "$qwen" -n 6 --temp 0 -f - 2>/dev/null)
[ "$got" = "$want" ]
check "-f - reads the prompt from stdin" $? "'$got' vs '$want'"
run_rc run -m "$qwen" -n 6 -p one "two"
[ "$rc" -eq 1 ] && grep -q "given twice" <<<"$err"
check "two prompts are refused" $? "rc=$rc $err"

# --- inputs checked before the model loads (no "loading" line), messages name the flag --------
expect_early() {  # NAME NEEDLE ARGS...
    local name=$1 needle=$2; shift 2
    run_rc "$@"
    [ "$rc" -eq 1 ] && grep -qF -- "$needle" <<<"$err" && ! grep -q "loading" <<<"$err"
    check "$name" $? "rc=$rc $err"
}
printf '{"type": "object",\n  "properties": {"a": }}\n' >"$tmp/bad.json"
expect_early "a missing --image is refused before loading" "--image $tmp/none.png" run -m "$qwen" -p hi --image "$tmp/none.png"
expect_early "a missing --audio is refused before loading" "--audio $tmp/none.wav" run -m "$qwen" -p hi --audio "$tmp/none.wav"
expect_early "a missing --json-schema file is refused before loading" "$tmp/none.json" run -m "$qwen" -p hi --json-schema "$tmp/none.json"
expect_early "malformed --json-schema names its file, line and column" "$tmp/bad.json: line 2, column 23" run -m "$qwen" -p hi --json-schema "$tmp/bad.json"
expect_early "a missing --grammar file is refused before loading" "$tmp/none.gbnf" run -m "$qwen" -p hi --grammar "$tmp/none.gbnf"
expect_early "a missing --tools file is refused before loading" "$tmp/none-tools.json" run -m "$qwen" -p hi --tools "$tmp/none-tools.json"
expect_early "--temp -1 names --temp" "--temp" run -m "$qwen" -p hi --temp -1
expect_early "--top-k -3 names --top-k" "--top-k" run -m "$qwen" -p hi --top-k -3
expect_early "--min-p 2 names --min-p" "--min-p" run -m "$qwen" -p hi --min-p 2
expect_early "--total-budget 0 names --total-budget" "--total-budget" run -m "$qwen" -p hi --mode contemplate --total-budget 0
expect_early "--keep-percent 0 names --keep-percent" "--keep-percent" run -m "$qwen" -p hi --mode contemplate --keep-percent 0
expect_early "--warmup-agents over --agents names both" "--warmup-agents 5 is more than --agents 2" run -m "$qwen" -p hi --mode contemplate --agents 2 --warmup-agents 5
expect_early "a missing -f file is refused before loading" "$tmp/none.txt" run -m "$qwen" -f "$tmp/none.txt"

# --- --show-prompt and --stats in every mode, one summary format --------------------------------
summary='^[a-z]+ \| prompt [0-9]+ tok( \(\+[0-9]+ reused\))?( \(shared\))?( [0-9.]+ tok/s)? \| reasoning [0-9]+ tok \| answer [0-9]+ tok( [0-9.]+ tok/s)? \| first token [0-9.]+ s \| wall [0-9.]+ s( \| [a-z_]+)?( \| agreement [0-9]+%)? \| seed [0-9]+$'
for mode in "" instant thinking contemplate orchestrate; do
    run_rc run -m "$qwen" -p "Name three rivers" -n 6 --seed 3 --agents 2 --max-subtasks 2 --show-prompt --stats ${mode:+--mode $mode}
    line=$(tail -1 <<<"$err")
    [ "$rc" -eq 0 ] && grep -q "Name three rivers" <<<"$err" && grep -qE "$summary" <<<"$line" &&
        grep -q "^${mode:-[a-z]}" <<<"$line"
    check "--show-prompt and --stats with ${mode:-no} --mode" $? "rc=$rc last line: $line"
done
run_rc run -m "$qwen" -p "Plan a picnic." --mode orchestrate --max-subtasks 2 -n 12 --seed 4
printed=$(sed -n '/^final answer: /,$p' <<<"$err")
printed=${printed#final answer: }
[ "$rc" -eq 0 ] && [ -n "$out" ] && [ "$printed" = "$out" ]
check "orchestrate's final answer line is the answer as printed" $? "line: '$printed' printed: '$out'"

# --- reasoning flags on a model without reasoning ---------------------------------------------
run_rc run -m "$llama" -p hi -n 3 --think-budget 4
[ "$rc" -eq 0 ] && [ "$(grep -c "warning: --think-budget has no effect" <<<"$err")" -eq 1 ]
check "--think-budget on a model without reasoning warns once" $? "rc=$rc $err"
run_rc run -m "$llama" -p hi -n 3 --mode thinking --no-think
[ "$rc" -eq 0 ] && [ "$(grep -c "warning: --mode thinking, --no-think have no effect" <<<"$err")" -eq 1 ]
check "--mode thinking and --no-think on a model without reasoning warn once" $? "rc=$rc $err"
run_rc run -m "$qwen" -p hi -n 3 --think-budget 4
[ "$rc" -eq 0 ] && ! grep -q "warning" <<<"$err"
check "--think-budget on a reasoning model does not warn" $? "rc=$rc $err"

# --- models by name, muse list --------------------------------------------------------------
export MUSE_MODELS_DIR="$models"
run_rc run -m qwen3-tiny -n 6 --temp 0 -p "Tell me a story"
[ "$rc" -eq 0 ] && [ "$out" = "$want" ]
check "-m NAME finds NAME.gguf in the models dir" $? "rc=$rc $err"
node "$(dirname "$0")/make-png.js" "$tmp/pic.png" 48 32
run_rc run -m muse-glimmer-tiny --image "$tmp/pic.png" -p "What is this?" -n 4 --stats
[ "$rc" -eq 0 ]
check "-m NAME finds its mmproj too (an image works without --mmproj)" $? "rc=$rc $err"
run_rc run -m no-such-model -p hi
[ "$rc" -eq 1 ] && grep -qF "$models" <<<"$err" && grep -q "muse list" <<<"$err"
check "an unknown -m NAME says where muse looked" $? "rc=$rc $err"
run_rc list
[ "$rc" -eq 0 ] && [ "$(grep -cE '^(qwen3|llama|muse-glimmer)-tiny ' <<<"$out")" -eq 3 ] &&
    grep -E '^muse-glimmer-tiny ' <<<"$out" | grep -q "vision" && ! grep -q "mmproj" <<<"$out"
check "muse list shows the three models, the projectors as capabilities" $? "$out"
run_rc list --json
node -e 'const a = JSON.parse(process.argv[1]); const q = a.find(m => m.name === "qwen3-tiny");
  const e = a.find(m => m.name === "qwen3-embed-tiny");
  if (a.length !== 5 || !a.find(m => m.name === "muse-arith-init") || !q || q.architecture !== "qwen3" || !(q.size_bytes > 0) || !q.capabilities.includes("reasoning")) process.exit(1);
  if (!e || e.capabilities.join() !== "embedding") process.exit(1)' "$out"
check "muse list --json" $? "$out"
run_rc list --models-dir "$tmp/empty-dir"
[ "$rc" -eq 0 ] && grep -q "no models" <<<"$err"
check "muse list on an empty dir says how to pull one" $? "rc=$rc $err"
unset MUSE_MODELS_DIR

# --- a failed pull leaves no empty .part ----------------------------------------------------------
run_rc pull "http://127.0.0.1:9/model.gguf" --models-dir "$tmp/pulled" --retries 0
[ "$rc" -ne 0 ] && [ -z "$(ls -A "$tmp/pulled" 2>/dev/null)" ]
check "a failed pull leaves no file behind" $? "rc=$rc $(ls -la "$tmp/pulled" 2>&1)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
