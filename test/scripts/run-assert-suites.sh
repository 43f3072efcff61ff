#!/usr/bin/env bash
# The suites on a PostgreSQL of the major given: an assert-enabled 15 (the
# default) or 18 that test/scripts/assert_build.sh builds, or, inside the
# trixie root of test/scripts/run-pg17.sh, Debian's own 17: pg_regress, the
# isolation specs, pgTAP where the server has it, the claim stress and the
# TAP tests (crash, standby, dump and restore, privileges, pg_cron); on 17
# and 18 also the demo, the pooler, the clients, the load balancers and the
# quick benchmark. Assertions in heapam, the buffer manager and the executor check
# that the direct claim and completion use them only in supported modes; a
# failed assertion aborts the backend, which the suites see as a failure. The
# last line is "assert-pgMAJOR: N passed, N failed" (17: "pg17: ...").
#   bash test/scripts/run-assert-suites.sh [MAJOR]
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"
MAJOR=${1:-15}
# Debian's 17 is not assert-enabled: its suite is pg17.
label=assert-pg$MAJOR
[ "$MAJOR" != 17 ] || label=pg17

source test/scripts/counts.sh
COUNT_LABEL=$label
summary() { echo "$label: $passed passed, $failed failed"; }
trap summary EXIT

if [ "$MAJOR" = 17 ]; then
	# Inside the trixie root (test/scripts/run-pg17.sh): Debian's own
	# postgresql-17, without assertions; the extension is built here.
	bindir=/usr/lib/postgresql/17/bin
	if ! { make -s -j"$(nproc)" PG_CONFIG="$bindir/pg_config" &&
		make -s install PG_CONFIG="$bindir/pg_config" >/dev/null; }; then
		echo "FAIL: rollout_ext did not build for PostgreSQL 17"
		failed=$((failed + 1))
		exit 1
	fi
elif ! bindir=$(bash test/scripts/assert_build.sh "$MAJOR"); then
	echo "FAIL: the assert-enabled build of PostgreSQL $MAJOR failed"
	failed=$((failed + 1))
	exit 1
fi
export PG_BINDIR=$bindir
# Inside the trixie root, Debian's packages are 17's.
[ "$MAJOR" != 17 ] || export SERVER_MAJOR=17
PG_CONFIG=$bindir/../bin/pg_config
source test/scripts/cluster.sh
set +e
# A failed assertion prints TRAP: and aborts the backend (signal 6).
no_failed_assertion() {
	local suite=$1
	shift
	if [ $# -eq 0 ] || [ ! -s "$1" ]; then
		record "$suite: server logs read" 0 1
	elif grep -qE 'TRAP:|terminated by signal 6' "$@"; then
		grep -E -A3 'TRAP:|terminated by signal 6' "$@" | head -n 20
		record "$suite: no failed assertion" 0 1
	else
		record "$suite: no failed assertion" 1 0
	fi
}

log=$(mktemp /tmp/rollout_assert.XXXXXX)
# pg_regress, the specs and the claim stress twice: with the library loaded
# at each backend's first call (the installation without
# shared_preload_libraries, version_setting_1.out and outcome_stats_1.out),
# then preloaded, where rollout_stats counts in shared memory.
for loading in lazy preloaded; do
	lazy_specs=()
	if [ "$loading" = lazy ]; then
		start_cluster -c fsync=off -c shared_preload_libraries=
		# Plans need rollout_stats: pg_regress shows their refusal, the spec
		# is skipped.
		lazy_specs=(ISOLATION_NEEDS_PRELOAD=)
	else
		start_cluster -c fsync=off
	fi
	trap 'stop_cluster; summary' EXIT
	make -s installcheck-regress PG_CONFIG="$PG_CONFIG" >"$log" 2>&1
	count_pg_regress "pg_regress ($loading)" "$log"
	[ -s regression.diffs ] && cat regression.diffs
	make -s installcheck-isolation PG_CONFIG="$PG_CONFIG" "${lazy_specs[@]}" >"$log" 2>&1
	count_pg_regress "isolation ($loading)" "$log"
	[ -s output_iso/regression.diffs ] && cat output_iso/regression.diffs
	# pgTAP where the server has it (Debian's 17 in the trixie root).
	if [ "$loading" = preloaded ] && command -v pg_prove >/dev/null &&
		[ -e "$("$PG_CONFIG" --sharedir)/extension/pgtap.control" ]; then
		"$bindir/psql" -q -X -v ON_ERROR_STOP=1 -c 'CREATE DATABASE rollout_tap' \
			-c '\c rollout_tap' -c 'CREATE EXTENSION pgtap' >/dev/null
		PATH="$bindir:$PATH" pg_prove --verbose -d rollout_tap test/pgtap/*.sql >"$log" 2>&1
		grep -E '^not ok|^Result' "$log"
		count_prove pgtap "$log"
	fi
	bash test/stress/claim_stress.sh >"$log" 2>&1
	grep -E '^(ok|FAIL)' "$log"
	count_script stress "$log"
	no_failed_assertion "regress, isolation, stress ($loading)" "$CLUSTER_DIR/server.log"
	stop_cluster
done
# The TAP tests on PostgreSQL::Test::Cluster: crash, standby, dump and
# restore, privileges, pg_cron driving a plan (it skips where this server
# has no pg_cron). Their server logs are kept to look for failed assertions.
tap_logs=$(mktemp -d /tmp/rollout_assert_tap.XXXXXX)
TAP_KEEP_LOGS=$tap_logs bash test/scripts/run-tap.sh >"$log" 2>&1
grep -E '^not ok|^Result|skipped' "$log"
count_prove tap "$log"
no_failed_assertion tap "$tap_logs"/*.log
# The demo and the programs around the server against this major:
# PgBouncer, the drivers, nginx and HAProxy, and the benchmark's quick mode, whose checks say that
# every workload ran (on 15 run-tests.sh runs them against Debian's server;
# an assert-enabled server's throughput means nothing).
if [ "$MAJOR" != 15 ]; then
	bench_results=$(mktemp -d /tmp/rollout_bench.XXXXXX)
	for suite in demo:test/scripts/run-demo.sh pooler:test/reliability/pooler_test.sh \
		clients:test/clients/run-clients.sh loadbalancer:test/loadbalancer/lb_test.sh \
		bench:test/bench/run-bench.sh; do
		DEMO_NO_BUILD=1 QUICK=1 BENCH_NO_BUILD=1 BENCH_RESULTS=$bench_results \
			bash "${suite#*:}" >"$log" 2>&1
		grep -E '^(FAIL|not ok)' "$log"
		# A suite that stopped before its count line: show where.
		grep -q "^${suite%%:*}: [0-9]* passed" "$log" || tail -n 30 "$log"
		count_script "${suite%%:*}" "$log"
	done
	rm -rf "$bench_results"
fi
rm -rf "$log" "$tap_logs"
[ "$failed" -eq 0 ]
