#!/usr/bin/env bash
# `muse keys` on a temporary data directory: create prints the key once (stdout, one line),
# list shows it without the secret, revoke marks it, an unknown id exits 1 with a message.
# Usage: keys.sh MUSE_BINARY
set -uo pipefail
muse=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
passed=0

check() {  # NAME CONDITION-EXIT-CODE DETAIL
    if [ "$2" -eq 0 ]; then
        echo "ok   $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1: $3"
        failed=$((failed + 1))
    fi
}

no_crash() {  # TEXT: no signal, no sanitizer report
    ! grep -qE "Sanitizer|runtime error|Segmentation|Aborted" <<<"$1"
}

data=(--data-dir "$tmp/data")

key=$("$muse" keys create --user ada --admin "${data[@]}" 2>"$tmp/create.err")
rc=$?
err=$(cat "$tmp/create.err")
[ "$rc" -eq 0 ] && [ "$(wc -l <<<"$key")" -eq 1 ] && [[ "$key" =~ ^muse_k_[0-9a-f]{8}_[0-9a-f]{64}$ ]]
check "create prints one key line" $? "exit $rc, stdout '$key', stderr '$err'"
grep -q "not shown again" <<<"$err"
check "create hints on stderr" $? "$err"
key_id=${key:5:10}

"$muse" keys create --user bob "${data[@]}" >"$tmp/bob.key" 2>/dev/null
check "second key" $? "$(cat "$tmp/bob.key")"

list=$("$muse" keys list "${data[@]}" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && grep -q "$key_id" <<<"$list" && grep -q "ada" <<<"$list" && grep -q "bob" <<<"$list"
check "list shows both keys" $? "exit $rc: $list"
! grep -q "${key:16}" <<<"$list"
check "list never shows the secret" $? "$list"

json=$("$muse" keys list --json "${data[@]}")
node -e 'const k = JSON.parse(process.argv[1]); if (k.length !== 2 || k[0].user !== "ada" || !k[0].admin || k[1].admin || k[0].revoked) process.exit(1)' "$json"
check "list --json" $? "$json"
! grep -q "${key:16}" "$tmp"/data/muse.db*
check "the database holds no secret" $? "found the secret in $tmp/data"

out=$("$muse" keys revoke "$key_id" "${data[@]}" 2>&1)
check "revoke" $? "$out"
json=$("$muse" keys list --json "${data[@]}")
node -e 'const k = JSON.parse(process.argv[1]); if (!k[0].revoked || k[1].revoked) process.exit(1)' "$json"
check "list shows it revoked" $? "$json"

out=$("$muse" keys revoke k_00000000 "${data[@]}" 2>&1)
rc=$?
[ "$rc" -eq 1 ] && grep -q "no key with id 'k_00000000'" <<<"$out" && no_crash "$out"
check "unknown id exits 1 with a message" $? "exit $rc: $out"

out=$("$muse" keys create "${data[@]}" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q -- "--user" <<<"$out"
check "create without --user" $? "exit $rc: $out"

out=$("$muse" keys create --user "a b" "${data[@]}" 2>&1)
rc=$?
[ "$rc" -eq 1 ] && grep -q "space" <<<"$out"
check "bad user name" $? "exit $rc: $out"

echo x >"$tmp/a-file"
out=$("$muse" keys list --data-dir "$tmp/a-file/sub" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q -- "--data-dir" <<<"$out" && no_crash "$out"
check "unusable data dir names the fix" $? "exit $rc: $out"

out=$(MUSE_DATA_DIR="$tmp/env-data" "$muse" keys create --user carol 2>&1 >/dev/null)
[ -f "$tmp/env-data/muse.db" ]
check "MUSE_DATA_DIR is the default" $? "$out"

echo "cli.keys: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
