#!/usr/bin/env bash
# Longer fuzzing runs: bench/fuzz/run.sh [SECONDS] [TARGETS...]
# Runs each libFuzzer target (all of them when none is named) for SECONDS (default 300) on a
# copy of its corpus plus its regressions, merges the new inputs that add coverage into the
# repo's corpus (tests/fuzz/corpus/TARGET, libFuzzer's -merge=1; MUSE_FUZZ_MERGE=0 skips it),
# and prints one table: executions, exec/s, coverage (cov: edges, ft: features, from libFuzzer's
# last status line), corpus size before and after the merge, crashes. A crash's input is kept in
# $MUSE_FUZZ_BUILD/fuzz-artifacts/TARGET/ (see docs/fuzzing.md for turning it into a regression).
# Environment: MUSE_FUZZ_BUILD (default build-fuzz, the tree scripts/setup.sh builds with
# MUSE_SANITIZE=1), MUSE_FUZZ_JOBS (targets run side by side, default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-300}
[ $# -gt 0 ] && shift
build=${MUSE_FUZZ_BUILD:-$root/build-fuzz}
fuzz_dir=$root/tests/fuzz
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(ls "$fuzz_dir"/*_fuzz.cpp | xargs -n1 basename | sed 's/_fuzz\.cpp$//')
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/muse-fuzz-run.XXXXXX")
trap 'rm -rf "$out"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_WAIT_POLICY=PASSIVE

run_one() {  # target
    local t=$1 bin=$build/bin/muse-fuzz-$1 w=$out/$1
    if [ ! -x "$bin" ]; then
        echo "$t: $bin is missing; build it with: ninja -C $build muse-fuzz" >&2
        echo "$t missing" >"$out/$t.row"
        return
    fi
    mkdir -p "$w/corpus" "$build/fuzz-artifacts/$t"
    cp "$fuzz_dir/corpus/$t"/* "$w/corpus/" 2>/dev/null || true
    local dirs=("$w/corpus") flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
                                     -artifact_prefix="$build/fuzz-artifacts/$t/")
    [ -d "$fuzz_dir/regressions/$t" ] && dirs+=("$fuzz_dir/regressions/$t")
    [ -f "$fuzz_dir/dict/$t.dict" ] && flags+=(-dict="$fuzz_dir/dict/$t.dict")
    case $t in
        chat_template) flags+=(-max_len=2048) ;;
        tool_call_parse) flags+=(-max_len=1024) ;;
    esac
    local before after crashes=0 rc=0
    before=$(ls "$fuzz_dir/corpus/$t" 2>/dev/null | wc -l)
    (cd "$w" && "$bin" "${flags[@]}" "${dirs[@]}") >"$w/log" 2>&1 || rc=$?
    [ $rc -ne 0 ] && crashes=1
    if [ "${MUSE_FUZZ_MERGE:-1}" = 1 ] && [ $rc -eq 0 ]; then
        mkdir -p "$fuzz_dir/corpus/$t"
        (cd "$w" && "$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 "$fuzz_dir/corpus/$t" "$w/corpus") >"$w/merge.log" 2>&1 || true
    fi
    after=$(ls "$fuzz_dir/corpus/$t" 2>/dev/null | wc -l)
    local execs rate status cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$w/log" | tail -1)
    status=$(grep -E '^#[0-9]+.*cov: ' "$w/log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    echo "$t ${execs:-?} ${rate:-?} ${cov:-?} ${ft:-?} $before $after $crashes" >"$out/$t.row"
    if [ $rc -ne 0 ]; then
        echo "== $t: crashed (exit $rc); the last lines of its log:" >&2
        tail -40 "$w/log" >&2
        echo "   input kept in $build/fuzz-artifacts/$t/" >&2
    fi
}

jobs=${MUSE_FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    echo "fuzzing $t for ${seconds}s" >&2
    run_one "$t" &
done
wait

echo
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
grep -qw avx512f /proc/cpuinfo && cpu="$cpu, AVX-512"
echo "fuzzing ${seconds}s per target on $cpu ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-22s %12s %8s %7s %7s %8s %8s %8s\n' target executions exec/s cov ft corpus merged crashes
failed=0
for t in "${targets[@]}"; do
    read -r name execs rate cov ft before after crashes <"$out/$t.row" || true
    if [ "${execs:-}" = missing ]; then
        printf '%-22s %12s\n' "$t" "(not built)"
        failed=1
        continue
    fi
    printf '%-22s %12s %8s %7s %7s %8s %8s %8s\n' "$name" "$execs" "$rate" "$cov" "$ft" "$before" "$after" "$crashes"
    [ "$crashes" = 0 ] || failed=1
done
exit $failed
