#!/usr/bin/env bash
# make test: every suite on throwaway clusters, on PostgreSQL 15, 17 and 18.
# The last line is "N passed, N failed"; the exit status is non-zero on any
# failure. PG_MAJOR=17 or PG_MAJOR=18 runs only that major's suites (15's
# are the rest: PG_MAJOR=15 runs everything but 17 and 18).
requested_major=${PG_MAJOR:-all}
case $requested_major in
all | 15 | 17 | 18) ;;
*)
	echo "PG_MAJOR=$requested_major: this project supports 15, 17 and 18 (16 cannot be had here)" >&2
	exit 2
	;;
esac
unset PG_MAJOR
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
cd "$REPO_ROOT"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
source test/scripts/counts.sh

# A script that ends with "NAME: N passed, N failed".
run_counted_suite() {
	local suite=$1
	local log=$suite.log
	shift
	"$@" >"$log" 2>&1 || true
	cat "$log"
	count_script "$suite" "$log"
	rm -f "$log"
}

# The other majors' suites, on servers of their own (see README ->
# Development): 18 assert-enabled, built from Debian's source (about 5
# minutes the first time, cached in /var/cache/rollout_ext); 17 from Debian
# trixie's packages in a debootstrap root (about 3 minutes the first time).
other_majors() {
	if [ "$requested_major" = all ] || [ "$requested_major" = 18 ]; then
		echo "== PostgreSQL 18, assert-enabled"
		run_counted_suite assert-pg18 bash test/scripts/run-assert-suites.sh 18
	fi
	if [ "$requested_major" = all ] || [ "$requested_major" = 17 ]; then
		echo "== PostgreSQL 17, Debian trixie's packages in a debootstrap root"
		run_counted_suite pg17 bash test/scripts/run-pg17.sh
	fi
}

finish() {
	rm -f fuzz.log regress.log isolation.log pgtap.log tap.log
	echo
	[ ${#failed_suites[@]} -eq 0 ] || echo "failed suites: ${failed_suites[*]}"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

ensure_dependencies
if [ "$requested_major" = 17 ] || [ "$requested_major" = 18 ]; then
	other_majors
	finish
	exit
fi
build_and_install
start_cluster -c fsync=off

echo "== unit tests of the C++ core"
run_counted_suite unit make -s unit

echo "== fuzzing the version parser for ${FUZZ_SECONDS}s"
# libFuzzer comes with clang's runtime.
declare -A FUZZ_PACKAGES=([clang]=/usr/bin/clang++
	[libclang-rt-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a)
ensure_packages FUZZ_PACKAGES
if make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS" >fuzz.log 2>&1; then
	tail -n 3 fuzz.log
	record fuzz 1 0
else
	tail -n 40 fuzz.log
	record fuzz 0 1
fi

echo "== pg_regress"
make -s installcheck-regress >regress.log 2>&1 || true
cat regress.log
count_pg_regress pg_regress regress.log
[ -s regression.diffs ] && cat regression.diffs

echo "== isolation"
make -s installcheck-isolation >isolation.log 2>&1 || true
cat isolation.log
count_pg_regress isolation isolation.log
[ -s output_iso/regression.diffs ] && cat output_iso/regression.diffs

echo "== pgTAP"
psql -q -X -v ON_ERROR_STOP=1 -c 'CREATE DATABASE rollout_tap' \
	-c '\c rollout_tap' -c 'CREATE EXTENSION pgtap'
pg_prove --verbose -d rollout_tap test/pgtap/*.sql >pgtap.log 2>&1 || true
grep -vE '^\s*ok ' pgtap.log || true
count_prove pgtap pgtap.log

echo "== TAP (PostgreSQL::Test::Cluster)"
bash test/scripts/run-tap.sh >tap.log 2>&1 || true
grep -vE '^\s*ok ' tap.log || true
count_prove tap tap.log

echo "== demo: two progressive rollouts (a bad release caught, a good one to 100%)"
make -s -C test/demo/driver -j"$(nproc)"
psql -q -X -v ON_ERROR_STOP=1 -c 'CREATE DATABASE rollout_demo'
psql -q -X -v ON_ERROR_STOP=1 -d rollout_demo -o /dev/null -c 'CREATE EXTENSION rollout_ext' \
	-f test/demo/reference_schema.sql -f test/demo/demo_audit.sql
run_counted_suite demo test/demo/driver/rollout_demo --dsn dbname=rollout_demo

echo "== claim stress"
run_counted_suite stress bash test/stress/claim_stress.sh

# Each of these starts clusters of its own.
echo "== benchmark, quick mode (reports, asserts only that every workload ran)"
bench_results=$(mktemp -d /tmp/rollout_bench.XXXXXX)
run_counted_suite bench env QUICK=1 BENCH_NO_BUILD=1 BENCH_RESULTS="$bench_results" \
	bash test/bench/run-bench.sh
rm -rf "$bench_results"

echo "== load balancers: nginx and HAProxy route every key as the database does"
run_counted_suite loadbalancer bash test/loadbalancer/lb_test.sh

echo "== clients: PgJDBC, psycopg, psycopg2, direct and through PgBouncer"
run_counted_suite clients bash test/clients/run-clients.sh

# rollout.version behind PgBouncer: a shell script, as the pooler is no
# PostgreSQL server the TAP framework knows.
echo "== pooler"
run_counted_suite pooler bash test/reliability/pooler_test.sh

# Builds PostgreSQL 15 with assertions the first time (about 5 minutes,
# cached in /var/cache/rollout_ext), then runs the racing and crashing
# suites on it.
echo "== assert-enabled PostgreSQL 15"
run_counted_suite assert-pg15 bash test/scripts/run-assert-suites.sh 15

[ "$requested_major" = 15 ] || other_majors
finish
