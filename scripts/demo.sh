#!/usr/bin/env bash
# README command A: set up, build, and run muse on a tiny test model the build generates.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build="$root/${MUSE_BUILD_DIR:-build}"
muse="$build/bin/muse"
models="$build/models/tiny"

arith="$root/models/muse-arith.gguf"

echo
echo "== muse-arith: a tiny model muse trained itself on arithmetic (docs/eval.md) =="
echo "It knows sums, differences, products by one digit and short word problems, nothing else;"
echo "for a real assistant pull a real model (muse pull, below)."
echo "\$ MUSE_MODELS_DIR=models muse list"
MUSE_MODELS_DIR="$root/models" "$muse" list
echo
echo "\$ muse run -m models/muse-arith.gguf --temp 0 \"What is 4738 + 2956?\""
"$muse" run -m "$arith" --temp 0 --stats "What is 4738 + 2956?"
echo
echo "\$ muse run -m models/muse-arith.gguf --mode contemplate --agents 8 \"What is 5087 - 1969?\""
"$muse" run -m "$arith" --mode contemplate --agents 8 --temp 0.7 --seed 1 "What is 5087 - 1969?"

echo
echo "== muse info (a random-weight Muse Glimmer built by tools/make-test-models) =="
"$muse" info -m "$models/muse-glimmer-tiny.gguf" --mmproj "$models/muse-glimmer-tiny-mmproj.gguf"
echo
echo "== muse run (random weights: expect gibberish, the mechanics are real) =="
"$muse" run -m "$models/qwen3-tiny.gguf" -p "Why is the sky blue?" -n 48 --seed 1 --stats
echo
echo "== muse run --mode contemplate (4 agents on one shared prompt, combined by vote) =="
"$muse" run -m "$models/qwen3-tiny.gguf" -p "What is 17 * 3?" --mode contemplate --agents 4 -n 24 --seed 1

echo
echo "== muse serve: the OpenAI- and Anthropic-compatible API (docs/api.md) =="
data="$build/demo-data"
port=${MUSE_PORT:-8080}
mkdir -p "$data"
log="$data/serve.log"
OMP_WAIT_POLICY=PASSIVE "$muse" serve -m "$arith" --port "$port" --data-dir "$data" >"$log" 2>"$data/serve.err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 300); do
    grep -q "listening on" "$log" 2>/dev/null && break
    kill -0 $server 2>/dev/null || { cat "$data/serve.err" >&2; exit 1; }
    sleep 0.1
done
# On the first run the server creates an admin key and prints it once; the demo keeps a copy.
if grep -q "^MUSE_API_KEY=" "$log"; then
    (umask 077; sed -n 's/^MUSE_API_KEY=//p' "$log" >"$data/demo-key")
    echo "first run: created the API key $(cat "$data/demo-key") (kept in $data/demo-key)"
elif [ ! -s "$data/demo-key" ]; then
    (umask 077; "$muse" keys create --user demo --data-dir "$data" >"$data/demo-key")
fi
MUSE_API_KEY=$(cat "$data/demo-key")
url="http://127.0.0.1:$port"
echo "$(grep "listening on" "$log")"
grep -q "web app at" "$log" && echo "$(grep "web app at" "$log") — open it in a browser and sign in with the key above (docs/web.md)"
echo
echo "\$ curl $url/v1/chat/completions -H \"Authorization: Bearer \$MUSE_API_KEY\" -d '{...}'"
curl -sS "$url/v1/chat/completions" -H "Authorization: Bearer $MUSE_API_KEY" -H 'content-type: application/json' \
     -d '{"model":"muse","messages":[{"role":"user","content":"What is 306 * 7?"}],"temperature":0}'
echo
echo
echo "\$ MUSE_URL=$url/v1 MUSE_API_KEY=... node examples/openai-client.mjs   # the official openai npm client, on muse-arith"
MUSE_URL="$url/v1" MUSE_API_KEY="$MUSE_API_KEY" node "$root/examples/openai-client.mjs"

cat <<EOT

Next, with a real model (download any chat GGUF, e.g. a Qwen3 or Llama 3 instruct build):
  $muse info -m MODEL.gguf
  $muse run  -m MODEL.gguf -p "Why is the sky blue?"
  $muse run  -m MODEL.gguf --mmproj MMPROJ.gguf --image photo.jpg -p "What is in this picture?"
  $muse run  -m MODEL.gguf --json-schema schema.json -p "Describe a person as JSON."
  $muse run  -m MODEL.gguf --mode contemplate --agents 8 --aggregate confidence -p "17 * 23 = ?"
  $muse chat -m MODEL.gguf
  $muse serve -m MODEL.gguf [--mmproj MMPROJ.gguf]      # then any OpenAI or Anthropic client
  $muse keys create --user alice                       # one key per person
EOT
if [ -t 0 ]; then
    echo
    echo "muse serve keeps running at $url (the web app: $url/, key: $MUSE_API_KEY). Ctrl-C stops it."
    wait $server
fi
