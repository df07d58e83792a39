#!/usr/bin/env bash
# README command A: set up, build, and run muse on a tiny test model the build generates.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build="$root/${MUSE_BUILD_DIR:-build}"
muse="$build/bin/muse"
models="$build/models/tiny"

echo
echo "== muse info (a random-weight Muse Glimmer built by tools/make-test-models) =="
"$muse" info -m "$models/muse-glimmer-tiny.gguf" --mmproj "$models/muse-glimmer-tiny-mmproj.gguf"
echo
echo "== muse run (random weights: expect gibberish, the mechanics are real) =="
"$muse" run -m "$models/qwen3-tiny.gguf" -p "Why is the sky blue?" -n 48 --seed 1 --stats
echo
echo "== muse run --mode contemplate (4 agents on one shared prompt, combined by vote) =="
"$muse" run -m "$models/qwen3-tiny.gguf" -p "What is 17 * 3?" --mode contemplate --agents 4 -n 24 --seed 1
cat <<EOT

Next, with a real model (download any chat GGUF, e.g. a Qwen3 or Llama 3 instruct build):
  $muse info -m MODEL.gguf
  $muse run  -m MODEL.gguf -p "Why is the sky blue?"
  $muse run  -m MODEL.gguf --mmproj MMPROJ.gguf --image photo.jpg -p "What is in this picture?"
  $muse run  -m MODEL.gguf --json-schema schema.json -p "Describe a person as JSON."
  $muse run  -m MODEL.gguf --mode contemplate --agents 8 --aggregate confidence -p "17 * 23 = ?"
  $muse chat -m MODEL.gguf
EOT
