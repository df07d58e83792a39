#!/usr/bin/env bash
# `muse` on bad input: a clear "error:" line naming the input, exit code 1 (the README's
# promise for bad input), never a crash (no signal, no sanitizer report). Usage: bad-input.sh MUSE_BINARY MODELS_DIR
set -uo pipefail
muse=$1
models=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
passed=0

# expect_error NAME NEEDLE -- ARGS...: the command must exit 1 and print NEEDLE on stderr.
expect_error() {
    local name=$1 needle=$2
    shift 3
    local out rc
    out=$("$muse" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -ne 1 ] || ! grep -qF -- "$needle" <<<"$out" || grep -qE "Sanitizer|runtime error|Segmentation|Aborted" <<<"$out"; then
        echo "FAIL $name (exit $rc): $out"
        failed=$((failed + 1))
    else
        echo "ok   $name: ${out##*$'\n'}"
        passed=$((passed + 1))
    fi
}

model="$models/llama-tiny.gguf"
: >"$tmp/empty.gguf"
head -c 1000 "$model" >"$tmp/truncated.gguf"
head -c $(( $(stat -c %s "$model") / 2 )) "$model" >"$tmp/half.gguf"
{ printf 'XXXX'; tail -c +5 "$model"; } >"$tmp/magic.gguf"
cp "$model" "$tmp/flipped.gguf"; printf '\xff\xff\xff\x7f' | dd of="$tmp/flipped.gguf" bs=1 seek=8 conv=notrunc status=none
echo "hello" >"$tmp/notes.txt"
printf 'RIFF\0\0\0\0WEBPVP8 ' >"$tmp/photo.webp"
"$muse" --help >/dev/null 2>&1 || true

expect_error "missing model"      "not found"          -- run -m "$tmp/none.gguf" -p hi
expect_error "zero-byte model"    "empty (0 bytes)"    -- run -m "$tmp/empty.gguf" -p hi
expect_error "truncated model"    "truncated.gguf"     -- run -m "$tmp/truncated.gguf" -p hi
expect_error "half a model"       "half.gguf"          -- run -m "$tmp/half.gguf" -p hi
expect_error "wrong magic"        "not a GGUF file"    -- run -m "$tmp/magic.gguf" -p hi
expect_error "bit-flipped header" "flipped.gguf"       -- run -m "$tmp/flipped.gguf" -p hi
expect_error "text file as model" "not a GGUF file"    -- info -m "$tmp/notes.txt"
expect_error "no prompt"          "no prompt"          -- run -m "$model" -n 1

glimmer=(-m "$models/muse-glimmer-tiny.gguf" --mmproj "$models/muse-glimmer-tiny-mmproj.gguf")
node "$(dirname "$0")/make-png.js" "$tmp/full.png" 64 64 "$tmp/half.png"
expect_error "image without projector" "--mmproj"      -- run -m "$model" -p hi --image "$tmp/full.png"
expect_error "PNG cut in half"    "could not be decoded" -- run "${glimmer[@]}" -p hi --image "$tmp/half.png"
expect_error "WebP image"         "WebP"               -- run "${glimmer[@]}" -p hi --image "$tmp/photo.webp"
expect_error "text as image"      "unsupported media"  -- run "${glimmer[@]}" -p hi --image "$tmp/notes.txt"
expect_error "missing image"      "--image $tmp/nope.png" -- run "${glimmer[@]}" -p hi --image "$tmp/nope.png"
long=$(printf 'word%d ' $(seq 1 400))
expect_error "prompt over context" "context"           -- run -m "$model" -c 256 -p "$long"
expect_error "bad top-p"          "--top-p"            -- run -m "$model" -p hi --top-p 2
expect_error "bad schema"         "--json-schema"      -- run -m "$model" -p hi --json-schema '{ nope'
echo 'root ::= (' >"$tmp/bad.gbnf"
expect_error "bad grammar"        "grammar"            -- run -m "$model" -p hi --grammar "$tmp/bad.gbnf"
# A grammar that parses but that no token can finish: the sampler fails, muse says so (was exit 3).
printf '%s\n' 'root ::= "a" [^\x00-\U0010FFFF]' >"$tmp/dead-end.gbnf"
expect_error "dead-end grammar"   "sampling failed"    -- run -m "$model" -p hi -n 5 --no-think --grammar "$tmp/dead-end.gbnf"
expect_error "unknown flag"       "--frobnicate"       -- run -m "$model" -p hi --frobnicate

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
