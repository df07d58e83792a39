#!/usr/bin/env bash
# One fuzz target's short run for ctest (label fuzz):
#   run-short.sh BINARY TARGET SECONDS DICT ARTIFACTS_DIR [libFuzzer flags...]
# Fuzzes a temporary copy of tests/fuzz/corpus/TARGET (the repo's corpus is never written),
# replaying tests/fuzz/regressions/TARGET first. A crash, leak, timeout, out-of-memory or any
# sanitizer report makes libFuzzer exit non-zero: the crashing input is kept in
# ARTIFACTS_DIR/TARGET/ and its path printed. The seed is fixed (MUSE_FUZZ_SEED, default 1) so
# that a CI run explores what every other run of the same commit explores, and a failure replays
# here: finding new inputs with random seeds is bench/fuzz/run.sh's job.
set -euo pipefail
bin=$(realpath "$1") target=$2 seconds=$3 dict=${4:+$(realpath "$4")} artifacts=$(realpath -m "$5")
shift 5
fuzz_dir=${MUSE_FUZZ_DIR:-$(cd "$(dirname "$0")" && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/muse-fuzz-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts/$target"
cp "$fuzz_dir/corpus/$target"/* "$work/corpus/" 2>/dev/null || true
dirs=("$work/corpus")
if [ -d "$fuzz_dir/regressions/$target" ]; then
    dirs+=("$fuzz_dir/regressions/$target")
fi
flags=(-max_total_time="$seconds" -seed="${MUSE_FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
       -artifact_prefix="$artifacts/$target/")
[ -n "$dict" ] && flags+=(-dict="$dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$work"
if ! "$bin" "${flags[@]}" "$@" "${dirs[@]}"; then
    echo "fuzz.$target failed: the input is in $artifacts/$target/ (replay: $bin FILE; docs/fuzzing.md)" >&2
    exit 1
fi
