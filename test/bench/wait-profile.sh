#!/usr/bin/env bash
# Why claim + complete at batch 1 on a vacuumed queue gains less over the
# hand-written SQL than its work would suggest, measured on a throwaway
# cluster (about a minute):
#   1. the share of backend time in each wait event, pg_stat_activity sampled
#      every 5 ms through a run of each (4 clients);
#   2. the throughput of each with fsync on, then with fsync off, where only
#      the work counts.
# run-bench.sh measures the ratios; this shows where the time goes.
#
#   test/bench/wait-profile.sh
#
# Tunables (environment): PROFILE_SECONDS (per run, default 6),
# BENCH_NO_BUILD=1 (use the installed extension as is).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/cluster.sh"

BENCH_DIR=$REPO_ROOT/test/bench
SECS=${PROFILE_SECONDS:-6}
DEPTH=160000                          # due rows per version, as in run-bench.sh
SAMPLES=$((SECS * 150))               # every 5 ms, through most of the run
V1=940000000                          # '9.4'

ensure_dependencies
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then build_and_install; fi
start_cluster

psql_bench() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d bench "$@"; }
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench"
psql_bench -f "$BENCH_DIR/queue_setup.sql" -f "$BENCH_DIR/wait_sampling.sql" >/dev/null
psql_bench -c "SELECT bench_fill('rollout_task_q', $DEPTH, $DEPTH), bench_fill('hand_q', $DEPTH, $DEPTH)" \
	-c "ANALYZE" >/dev/null

# run VARIANT SAMPLE: one 4-client run of claim + complete, batch 1, from a
# refilled, vacuumed queue; prints tasks/s; with SAMPLE=yes, also samples
# its backends' wait events into waits_VARIANT.
run() {
	local variant=$1 sample=$2 table log
	table=$([ "$variant" = ours ] && echo rollout_task_q || echo hand_q)
	log=$CLUSTER_DIR/pgbench-$variant.log
	psql_bench -c "SELECT bench_refill('$table', '9.4', $DEPTH), bench_refill('$table', '10.1', $DEPTH)" \
		-c "VACUUM $table" -c "CHECKPOINT" >/dev/null
	"$PG_BINDIR/pgbench" -n -M prepared -c 4 -j 2 -T "$SECS" -f "$BENCH_DIR/claim_${variant}_1.sql" \
		-D vbase=$V1 -D vmix=1 bench >"$log" 2>&1 &
	local pid=$!
	if [ "$sample" = yes ]; then
		sleep 0.5
		psql_bench -c "CREATE TABLE waits_$variant AS SELECT * FROM bench_wait_shares('pgbench', $SAMPLES, 0.005)"
	fi
	wait "$pid" || { cat "$log"; exit 1; }
	sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$log"
}

echo "== 1. wait events of claim + complete, batch 1, 4 clients, vacuumed queue (% of samples)"
run ours yes >/dev/null
run hand yes >/dev/null
psql_bench -c "SELECT coalesce(o.activity, h.activity) AS activity, o.share AS ours, h.share AS hand
                 FROM waits_ours o FULL JOIN waits_hand h USING (activity)
                ORDER BY coalesce(o.share, 0) + coalesce(h.share, 0) DESC"

echo "== 2. tasks/s, not sampled, with fsync on, then off (only the work counts)"
on_ours=$(run ours no)
on_hand=$(run hand no)
psql_bench -c "ALTER SYSTEM SET fsync = off" -c "SELECT pg_reload_conf()" >/dev/null
off_ours=$(run ours no)
off_hand=$(run hand no)
awk -v a="$on_ours" -v b="$on_hand" -v c="$off_ours" -v d="$off_hand" 'BEGIN {
	printf "   %-6s %8s %8s %7s\n", "fsync", "ours", "hand", "ratio"
	printf "   %-6s %8.0f %8.0f %6.2fx\n", "on", a, b, a / b
	printf "   %-6s %8.0f %8.0f %6.2fx\n", "off", c, d, c / d
}'
