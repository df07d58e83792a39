# Sourced by the CLI test scripts: pass/fail counters, check and expect_error. Needs $muse.
failed=0
passed=0

check() {  # NAME CONDITION-RESULT DETAIL
    if [ "$2" -eq 0 ]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1: $3"; failed=$((failed + 1)); fi
}

expect_error() {  # NAME NEEDLE -- ARGS...: muse ARGS exits 1 and says NEEDLE on stderr
    local name=$1 needle=$2
    shift 3
    local out rc
    out=$("$muse" "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq 1 ] && grep -qF -- "$needle" <<<"$out"
    check "$name" $? "exit $rc: $out"
}
