#!/usr/bin/env bash
# README command B: set up, build, and run every test — the release build runs all of them,
# the ASan+UBSan build runs the bad-input tests again, and each fuzz target (clang) runs 20 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
MUSE_SANITIZE=1 "$root/scripts/setup.sh"
jobs=$(nproc)

echo "== tests (release build) =="
ctest --test-dir "$root/build" --output-on-failure -j "$jobs" --timeout 900

echo "== bad-input tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" --timeout 1800 -L sanitize

echo "== fuzz targets, a short run each (libFuzzer; docs/fuzzing.md) =="
ctest --test-dir "$root/build-fuzz" --output-on-failure -j "$jobs" --timeout 300 -L fuzz
