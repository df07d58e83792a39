#!/usr/bin/env bash
# `muse info --system` against what /proc/cpuinfo says of this machine; `muse info -m` and the
# size on disk; and the report a fatal signal prints: a running `muse serve` killed with
# SIGSEGV and with SIGILL writes one line naming the signal, muse's version and the CPU, then
# a backtrace with function names, and dies by that signal (exit status 128 + N).
# Usage: system.sh MUSE_BINARY MODELS_DIR native|portable
set -uo pipefail
muse=$1
models=$2
build=${3:-native}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
passed=0
check() {  # NAME CONDITION-EXIT-CODE DETAIL
    if [ "$2" -eq 0 ]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1: $3"; failed=$((failed + 1)); fi
}
qwen="$models/qwen3-tiny.gguf"

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | sed -E 's/^[^:]*:[[:space:]]*//; s/[[:space:]]+$//')
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | sed -E 's/^[^:]*://') "
cpu_has() { [[ "$cpu_flags" == *" $1 "* ]]; }
field() {  # LABEL TEXT: the value on the line "LABEL   value" (labels fill 15 columns)
    awk -v label="$1" '{ l = substr($0, 1, 15); sub(/ +$/, "", l) } l == label { print substr($0, 16); exit }' <<<"$2"
}

# --- muse info --system ----------------------------------------------------------------
out=$("$muse" info --system 2>"$tmp/system.err")
rc=$?
[ "$rc" -eq 0 ] && [ -n "$out" ]
check "info --system exits 0" $? "exit $rc: $out $(cat "$tmp/system.err")"

[ "$(field cpu "$out")" = "$cpu_model" ]
check "info --system names the CPU as /proc/cpuinfo does ('$cpu_model')" $? "$out"

features=" $(field 'cpu features' "$out") "
if cpu_has avx512f; then [[ "$features" == *" avx512f "* ]]; else [[ "$features" != *" avx512f "* ]]; fi
check "info --system lists avx512f iff /proc/cpuinfo has it" $? "features:$features"

for f in avx2 amx_int8; do
    if cpu_has "$f"; then [[ "$features" == *" $f "* ]]; else [[ "$features" != *" $f "* ]]; fi
    check "info --system lists $f iff /proc/cpuinfo has it" $? "features:$features"
done

built=" $(field 'kernels built' "$out") "
in_use=" $(field 'kernels in use' "$out") "
amx=$(field amx "$out")
if [ "$build" = native ]; then
    if cpu_has amx_int8; then
        [[ "$built" == *" AMX_INT8 "* ]] && [[ "$in_use" == *" AMX "* ]] && [ "$amx" = "built and in use" ]
        check "native build on an AMX CPU: AMX built and in use" $? "$out"
    else
        [[ "$built" != *" AMX_INT8 "* ]] && [[ "$in_use" != *" AMX "* ]] && [[ "$amx" == "not built"* ]]
        check "native build on a CPU without AMX: AMX not built" $? "$out"
    fi
    if cpu_has avx512f; then [[ "$built" == *" AVX512 "* ]]; else [[ "$built" != *" AVX512 "* ]]; fi
    check "native build: AVX512 kernels built iff the CPU has avx512f" $? "kernels built:$built"
    ! grep -q "^WARNING" <<<"$out"
    check "native build: no features this CPU lacks" $? "$out"
fi
[[ "$in_use" == *" CPU_REPACK "* ]] || [ "$(uname -m)" != x86_64 ]
check "the repacked CPU kernels are in use" $? "kernels in use:$in_use"
grep -qE "^llama\.cpp +([0-9a-f]{40}|unknown)$" <<<"$out" && grep -qE "^muse +[0-9]+\.[0-9]+\.[0-9]+" <<<"$out"
check "info --system shows muse's version and the llama.cpp commit" $? "$out"

json=$("$muse" info --system --json 2>/dev/null)
node -e '
    const [text, model, cores] = process.argv.slice(1);
    const j = JSON.parse(text);
    const ok = typeof j.version === "string" && /^\d+\.\d+\.\d+$/.test(j.version) &&
               typeof j.llama_cpp?.commit === "string" && Array.isArray(j.llama_cpp.patches) &&
               j.cpu?.model === model && Array.isArray(j.cpu.features) && Array.isArray(j.cpu.lacks) &&
               j.cpu.logical_cores === Number(cores) && Number.isInteger(j.threads_default) && j.threads_default >= 1 &&
               Array.isArray(j.kernels?.built) && Array.isArray(j.kernels.in_use) &&
               typeof j.summary === "string" && !j.summary.includes("\n") && j.summary.includes(model);
    if (!ok) process.exit(1);' "$json" "$cpu_model" "$(getconf _NPROCESSORS_ONLN)"
check "info --system --json has the fields" $? "$json"
version=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).version)' "$json" 2>/dev/null)
node -e '
    const [text, flags] = process.argv.slice(1);
    const j = JSON.parse(text);
    const has = (f) => flags.includes(` ${f} `);
    if (j.cpu.features.includes("avx512f") !== has("avx512f") || j.cpu.features.includes("amx_int8") !== has("amx_int8")) process.exit(1);' \
    "$json" "$cpu_flags"
check "info --system --json: features match /proc/cpuinfo" $? "$json"

out=$("$muse" info 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q -- "--model" <<<"$out"
check "info without -m or --system names --model" $? "exit $rc: $out"
out=$("$muse" info --system -m "$qwen" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]
check "info --system with -m is refused" $? "exit $rc: $out"

# --- muse info -m: the size on disk -------------------------------------------------------
bytes=$(stat -c %s "$qwen")
out=$("$muse" info -m "$qwen" 2>/dev/null)
grep -qE "^size on disk +.*\($bytes bytes\)$" <<<"$out" && grep -qE "^size +[0-9.]+ (MiB|GiB)$" <<<"$out"
check "info -m shows the size on disk ($bytes bytes) next to the tensor size" $? "$out"
json=$("$muse" info -m "$qwen" --json 2>/dev/null)
node -e 'const j = JSON.parse(process.argv[1]); if (j.file_bytes !== Number(process.argv[2]) || !(j.size_bytes > 0)) process.exit(1)' "$json" "$bytes"
check "info -m --json: file_bytes is the size on disk" $? "$json"

# --- the fatal-signal report ----------------------------------------------------------------
for sig in SEGV ILL; do
    "$muse" serve -m "$qwen" --no-auth --host 127.0.0.1 --port 0 --ctx-size 512 --max-concurrency 1 \
        --data-dir "$tmp/data-$sig" >"$tmp/$sig.out" 2>"$tmp/$sig.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 600); do
        grep -q "listening on" "$tmp/$sig.out" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    grep -q "listening on" "$tmp/$sig.out"
    check "muse serve starts (for SIG$sig)" $? "$(cat "$tmp/$sig.out" "$tmp/$sig.err")"
    kill -"$sig" "$pid"
    wait "$pid" 2>/dev/null  # bash's own "Segmentation fault" notice: the test says it below
    rc=$?
    err=$(cat "$tmp/$sig.err")
    n=$(kill -l "$sig")
    [ "$rc" -eq $((128 + n)) ]
    check "SIG$sig: muse serve dies by the signal (exit $((128 + n)))" $? "exit $rc"
    line=$(grep "fatal signal" <<<"$err")
    [ "$(grep -c "fatal signal" <<<"$err")" -eq 1 ] && grep -qE "^muse: fatal signal SIG$sig \([A-Z][^)]*\)" <<<"$line" &&
        [[ "$line" == *"muse $version ("* ]] && [[ "$line" == *"$cpu_model"* ]] && [[ "$line" == *"kernels: "* ]]
    check "SIG$sig: one line names the signal, muse $version and the CPU" $? "$err"
    trace=$(sed -n '/^backtrace/,$p' <<<"$err")
    [ "$(grep -cE '\[0x[0-9a-f]+\]$' <<<"$trace")" -ge 3 ] && grep -qE '\((main|_Z[A-Za-z0-9_]+)\+0x[0-9a-f]+\)' <<<"$trace"
    check "SIG$sig: a backtrace with function names follows" $? "$err"
done

echo "cli.system: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
