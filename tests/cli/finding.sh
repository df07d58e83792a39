#!/usr/bin/env bash
# Seeing and finding from the command line on the test models, each through a forced call:
# read_text on an image a text-only model cannot see (real tesseract), file_search over --files
# (indexed for the run and gone after it), remember and the memory the next run uses (said on
# stderr), and open_url refusing what it cannot open; bad options exit 1 before the model loads.
# Usage: finding.sh MUSE_BINARY MODELS_DIR
set -uo pipefail
muse=$1
models=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MUSE_DATA_DIR=$tmp/data
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

qwen=$models/qwen3-tiny.gguf
common=(--max-argument-chars 24 --max-steps 2 -n 300 --no-think --temp 0 --stats)
/usr/bin/python3 -c "
from PIL import Image, ImageDraw, ImageFont
im = Image.new('RGB', (480, 120), 'white')
f = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 36)
ImageDraw.Draw(im).text((20, 30), 'Invoice 4711 paid', fill='black', font=f)
im.save('$tmp/invoice.png')"

# read_text: the model has no projector; the image goes to the tools and OCR reads it.
out=$("$muse" run -m "$qwen" --tools vision --tool-choice read_text --image "$tmp/invoice.png" "${common[@]}" -p "Read it" 2>"$tmp/err")
grep -q '^\[tool output\] read_text' <<<"$out" && grep -q 'Invoice 4711' <<<"$out"
check "read_text reads the image a text-only model cannot see" $? "$out $(tail -3 "$tmp/err")"
grep -q '"image"' <<<"$out" && ! grep -q 'no image' <<<"$out"
check "its image argument can only be the one image there is" $? "$out"

# file_search over --files: indexed for the run, removed from the store after it.
printf 'The spare key is under the blue pot.\n' >"$tmp/notes.md"
out=$("$muse" run -m "$qwen" --tools file_search --files "$tmp/notes.md" --tool-choice file_search "${common[@]}" -p "Where is the key?" 2>"$tmp/err")
grep -q '^\[tool output\] file_search' <<<"$out" && grep -q 'notes.md (text) 1 chunks' "$tmp/err"
check "file_search runs over the --files, indexed at start" $? "$out $(cat "$tmp/err")"
[ -z "$(find "$tmp/data/files" -type f 2>/dev/null)" ]
check "the --files are gone from the store after the run" $? "$(find "$tmp/data/files" -type f)"

# remember, then the next run puts the item in its prompt and says so.
out=$("$muse" run -m "$qwen" --tools memory --tool-choice remember "${common[@]}" -p "Remember that I like tea" 2>"$tmp/err")
grep -q '^\[tool output\] remember' <<<"$out"
check "remember stores a memory item" $? "$out"
"$muse" run -m "$qwen" --tools memory --max-steps 1 -n 2 --no-think -p "What do I like?" >/dev/null 2>"$tmp/err"
grep -q '^memory: using mem_' "$tmp/err"
check "the next run uses the item and says which" $? "$(cat "$tmp/err")"

# open_url: a random model's URL is refused or fails, and the model reads why.
out=$("$muse" run -m "$qwen" --web --tool-choice open_url "${common[@]}" -p "Open it" 2>"$tmp/err")
grep -q '^\[tool error\] open_url' <<<"$out" && grep -q 'open_url failed' <<<"$out"
check "open_url with a random model's URL is an error the model reads" $? "$out"

expect_error "--web-allow without the web tools" "needs the web tools" -- run -m "$qwen" --web-allow 127.0.0.1 -p hi
expect_error "--files without file_search" "--files needs --tools file_search" -- run -m "$qwen" --files "$tmp/notes.md" -p hi
expect_error "a search URL that does not parse" "search URL" -- run -m "$qwen" --web --search-url "not a url" -p hi
expect_error "--image without a projector or the vision tools" "--mmproj" -- run -m "$qwen" --image "$tmp/invoice.png" -p hi
printf 'not an image' >"$tmp/fake.png"
expect_error "a file that is not an image, with the vision tools" "not a PNG, JPEG" -- run -m "$qwen" --tools vision --image "$tmp/fake.png" -p hi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
