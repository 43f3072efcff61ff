# Shared by run-tests.sh and run-assert-suites.sh (sourced): adds up the
# runners' own results. COUNT_LABEL, when set, prefixes each suite's line.
#   record SUITE PASSED FAILED   add a suite's counts
#   count_pg_regress SUITE LOG   pg_regress's or the isolation tester's summary
#   count_prove SUITE LOG        prove's (or pg_prove's) verbose output
#   count_script SUITE LOG       a script's last "SUITE: N passed, N failed"
passed=0
failed=0
failed_suites=()

record() {
	passed=$((passed + $2))
	failed=$((failed + $3))
	[ "$3" -eq 0 ] || failed_suites+=("$1")
	echo "-- ${COUNT_LABEL:+$COUNT_LABEL }$1: $2 passed, $3 failed"
}

# "All 3 tests passed." / "1 of 3 tests failed.", and the TAP style of
# pg_regress 16 and later ("# All 3 tests passed.").
count_pg_regress() {
	local suite=$1 log=$2 total bad
	if total=$(grep -oE '^(# )? ?All [0-9]+ tests passed' "$log" | grep -oE '[0-9]+'); then
		record "$suite" "$total" 0
	elif read -r bad total < <(grep -oE '^(# )? ?[0-9]+ of [0-9]+ tests failed' "$log" |
		grep -oE '[0-9]+' | xargs); then
		record "$suite" $((total - bad)) "$bad"
	else
		record "$suite" 0 1
	fi
}

# One "ok" or "not ok" line per test; a file that died or missed its plan
# fails without a "not ok" line, so the summary must say PASS.
count_prove() {
	local suite=$1 log=$2 ok not_ok
	ok=$(grep -cE '^\s*ok ' "$log" || true)
	not_ok=$(grep -cE '^\s*not ok ' "$log" || true)
	if ! grep -q '^Result: PASS' "$log" && [ "$not_ok" -eq 0 ]; then not_ok=1; fi
	record "$suite" "$ok" "$not_ok"
}

count_script() {
	local suite=$1 log=$2 p f
	if read -r p f < <(sed -nE "s/^$suite: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p" "$log" | tail -n1); then
		record "$suite" "$p" "$f"
	else
		record "$suite" 0 1
	fi
}
