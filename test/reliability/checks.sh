# Shared by the reliability suites (sourced): counting checks and the closing
# "NAME: N passed, N failed" line. Set NAME before calling finish.
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
info() { echo "  # $*"; }
check() {  # DESCRIPTION EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1 (expected [$2], got [$3])"; fi
}
finish() {
	echo "$NAME: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
