#!/usr/bin/env bash
# `muse run --tools`: the agent loop from the command line on the test models — a forced call
# runs the real tool (python in bubblewrap, an artifact written to the workdir, an MCP server
# from npm), its output is printed, the model goes on; bad tool options exit 1 before the
# model loads. Usage: agent.sh MUSE_BINARY MODELS_DIR REPO_ROOT
set -uo pipefail
muse=$1
models=$2
root=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MUSE_DATA_DIR=$tmp/data
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

qwen=$models/qwen3-tiny.gguf
common=(--max-argument-chars 24 --max-steps 2 -n 300 --no-think --temp 0 --stats)

# python: the forced call runs in the sandbox; gibberish code is a Python error the model reads.
out=$("$muse" run -m "$qwen" --tools python --tool-choice python --workdir "$tmp/w1" "${common[@]}" -p "Compute 2+2" 2>"$tmp/err")
rc=$?
check "python: exit 0" $rc "exit $rc: $(cat "$tmp/err")"
grep -q '^\[tool call\] python(' <<<"$out"; check "python: the call is shown" $? "$out"
grep -qE '^\[tool (output|error)\] python \([0-9.]+ s\)' <<<"$out"; check "python: its result is shown" $? "$out"
grep -q 'agent | 2 steps | 1 tool calls' "$tmp/err"; check "python: the model went on after the call" $? "$(cat "$tmp/err")"

# artifacts: written under the workdir, path printed.
out=$("$muse" run -m "$qwen" --tools artifacts --tool-choice create_artifact --workdir "$tmp/w2" "${common[@]}" -p "Make a page" 2>"$tmp/err")
rc=$?
check "artifacts: exit 0" $rc "exit $rc: $(cat "$tmp/err")"
path=$(sed -n 's/^\[artifact\] .* version 1: //p' <<<"$out" | head -1)
if grep -q '^\[tool output\] create_artifact' <<<"$out"; then
    [ -n "$path" ] && [ -s "$path" ] && [[ "$path" == "$tmp/w2/artifacts/art_"* ]]
    check "artifacts: the document is a file in the workdir" $? "path '$path' in: $out"
else
    # Random weights may write an svg without <svg>: refused, and nothing written.
    [ ! -d "$tmp/w2/artifacts" ]; check "artifacts: a refused document writes nothing" $? "$out"
fi

# mcp: server-everything from the project's node_modules, its echo tool forced.
everything=$root/node_modules/@modelcontextprotocol/server-everything/dist/index.js
printf '{"mcpServers": {"everything": {"command": "%s", "args": ["%s", "stdio"]}}}' "$(command -v node)" "$everything" >"$tmp/mcp.json"
out=$("$muse" run -m "$qwen" --tools mcp --mcp "$tmp/mcp.json" --tool-choice everything.echo --workdir "$tmp/w3" "${common[@]}" -c 4096 -p "Echo hi" 2>"$tmp/err")
rc=$?
check "mcp: exit 0" $rc "exit $rc: $(cat "$tmp/err")"
grep -q '^\[tool output\] everything.echo' <<<"$out"; check "mcp: everything.echo answered" $? "$out $(cat "$tmp/err")"
grep -q '^Echo: ' <<<"$out"; check "mcp: its text is shown" $? "$out"

# muse chat: every turn runs the loop; the second turn goes on from the first's messages.
out=$(printf 'Compute 2+2\nAnd again\n' | "$muse" chat -m "$qwen" --tools python --tool-choice python --workdir "$tmp/w4" \
      --max-argument-chars 24 --max-steps 2 -n 300 --no-think --temp 0 2>"$tmp/err")
rc=$?
check "chat: exit 0" $rc "exit $rc: $(cat "$tmp/err")"
[ "$(grep -c '^\[tool call\] python(' <<<"$out")" -eq 2 ]; check "chat: a call in each of two turns" $? "$out"

# Bad tool options: exit 1, named, before the model loads.
printf '{"mcpServers": {"x": {"args": []}}}' >"$tmp/bad-mcp.json"
printf 'not json' >"$tmp/garbage.json"
expect_error "--tools mcp without --mcp"  "--mcp FILE"     -- run -m "$qwen" --tools mcp -p hi
expect_error "--mcp without mcp"          "--tools mcp"    -- run -m "$qwen" --tools python --mcp "$tmp/mcp.json" -p hi
expect_error "--mcp missing file"         "nope.json"      -- run -m "$qwen" --tools mcp --mcp "$tmp/nope.json" -p hi
expect_error "--mcp server without command" "bad-mcp.json" -- run -m "$qwen" --tools mcp --mcp "$tmp/bad-mcp.json" -p hi
expect_error "--mcp not JSON"             "garbage.json"   -- run -m "$qwen" --tools mcp --mcp "$tmp/garbage.json" -p hi
expect_error "--tools unknown names"      "python, artifacts, spawn_agent, mcp" -- run -m "$qwen" --tools python,shell -p hi
expect_error "--tool-choice without tools" "--tool-choice" -- run -m "$qwen" --tool-choice python -p hi
expect_error "--tools with --mode"        "--mode"         -- run -m "$qwen" --tools python --mode contemplate -p hi
expect_error "forced tool not offered"    "nosuch"         -- run -m "$qwen" --tools python --tool-choice nosuch -p hi
expect_error "serve --tools unknown"      "--tools"        -- serve -m "$qwen" --tools shell --port 0 --data-dir "$tmp/d"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
