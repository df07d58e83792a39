#!/usr/bin/env bash
# `muse` used as a person would: info, run (text, image, JSON schema, raw), chat over stdin.
# Usage: usage.sh MUSE_BINARY MODELS_DIR
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

qwen="$models/qwen3-tiny.gguf"
glimmer=(-m "$models/muse-glimmer-tiny.gguf" --mmproj "$models/muse-glimmer-tiny-mmproj.gguf")

out=$("$muse" info "${glimmer[@]}" --json 2>/dev/null)
node -e 'const j = JSON.parse(process.argv[1]); if (j.architecture !== "muse-glimmer" || !j.capabilities.vision || !j.capabilities.tools) process.exit(1)' "$out"
check "info --json reports muse-glimmer with vision and tools" $? "$out"

a=$("$muse" run -m "$qwen" -p "Hello there" -n 24 --temp 0 2>/dev/null)
b=$("$muse" run -m "$qwen" -p "Hello there" -n 24 --temp 0 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ]
check "run is deterministic with --temp 0" $? "'$a' vs '$b'"

a=$("$muse" run -m "$qwen" -p "Hello there" -n 24 --seed 5 2>/dev/null)
b=$("$muse" run -m "$qwen" -p "Hello there" -n 24 --seed 5 2>/dev/null)
[ "$a" = "$b" ]
check "run is reproducible with --seed" $? "'$a' vs '$b'"

node "$(dirname "$0")/make-png.js" "$tmp/pic.png" 48 32
stats=$("$muse" run "${glimmer[@]}" --image "$tmp/pic.png" -p "What is this?" -n 8 --stats 2>&1 >/dev/null | tail -1)
plain=$("$muse" run "${glimmer[@]}" -p "What is this?" -n 8 --stats 2>&1 >/dev/null | tail -1)
n_img=$(sed -E 's/.*\| prompt ([0-9]+) tok.*/\1/' <<<"$stats"); n_txt=$(sed -E 's/.*\| prompt ([0-9]+) tok.*/\1/' <<<"$plain")
[ "$n_img" -gt "$n_txt" ] 2>/dev/null
check "an image adds prompt tokens ($n_txt -> $n_img)" $? "$stats / $plain"

cat >"$tmp/schema.json" <<'JSON'
{"type":"object","properties":{"city":{"type":"string","maxLength":10},"rank":{"type":"integer"}},"required":["city","rank"],"additionalProperties":false}
JSON
for seed in 1 2 3; do
    out=$("$muse" run -m "$qwen" --no-think --json-schema "$tmp/schema.json" -p "A city as JSON" --seed "$seed" -n 300 2>/dev/null)
    node -e 'const j = JSON.parse(process.argv[1]); if (typeof j.city !== "string" || !Number.isInteger(j.rank) || Object.keys(j).length !== 2) process.exit(1)' "$out"
    check "--json-schema output is valid JSON of the schema (seed $seed)" $? "$out"
done

out=$("$muse" run -m "$qwen" --raw -p "Once upon a time" -n 10 --temp 0 2>/dev/null)
[ -n "$out" ]
check "--raw completes text without the template" $? "empty output"

transcript=$(printf 'Hello\n/image %s\n/reset\nWho are you?\n/save %s\n/exit\n' "$tmp/missing.png" "$tmp/chat.json" |
             "$muse" chat -m "$qwen" -n 8 --temp 0 2>"$tmp/chat.err")
rc=$?
[ "$rc" -eq 0 ] && node -e 'const j = require(process.argv[1]); if (j.length !== 2 || j[0].role !== "user" || j[0].content !== "Who are you?" || j[1].role !== "assistant") process.exit(1)' "$tmp/chat.json" &&
    grep -q "cannot open the media file" "$tmp/chat.err" && grep -q "conversation cleared" "$tmp/chat.err"
check "chat: history, /image error kept the chat alive, /reset, /save" $? "rc=$rc $(cat "$tmp/chat.err" | tail -3)"

out=$("$muse" run -m "$qwen" -p "What is 2+2?" --mode contemplate --agents 3 -n 12 --seed 4 2>&1)
grep -q "final answer:" <<<"$out" && [ "$(grep -cE '^[0-9]+ +agent ' <<<"$out")" -eq 3 ]
check "run --mode contemplate prints a table of 3 agents" $? "$out"

out=$("$muse" run -m "$qwen" -p "Plan a picnic." --mode orchestrate --max-subtasks 2 -n 12 --seed 4 2>&1)
grep -qE '^0 +planner' <<<"$out" && grep -qE 'merger' <<<"$out"
check "run --mode orchestrate shows planner, sub-agents and merger" $? "$out"

out=$("$muse" run -m "$qwen" -p "hi" --mode thinking --think-budget 4 -n 12 --seed 4 --stats 2>&1 >/dev/null | tail -1)
grep -qE "^thinking \| prompt [0-9]+ tok \| reasoning [0-9]+ tok \| answer [0-9]+ tok" <<<"$out"
check "run --mode thinking reports reasoning and answer tokens" $? "$out"

"$muse" run -m "$qwen" -p "x" --mode contemplate --agents 40 >/dev/null 2>&1
[ $? -ne 0 ]
check "run --agents 40 is refused" $? "accepted"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
