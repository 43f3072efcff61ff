#!/usr/bin/env bash
# rollout_ext benchmarks against hand-written SQL, on a throwaway cluster with
# default settings (fsync on).
#
#   test/bench/run-bench.sh            full mode, about 14½ minutes
#   QUICK=1 test/bench/run-bench.sh    sanity mode, under 2 minutes
#
# Workloads, each compared with its baselines in the same run, on the same
# cluster, interleaved (A, B, C, A, B, C ...; the order rotates each
# repetition) and repeated, every run starting from the same state (queues
# refilled to the same depth, vacuumed, checkpointed):
#   claim    claim + complete cycles, batches 1 and 10, 1/4/16 clients, two
#            versions: ours (rollout_claim, rollout_complete), hand (prepared
#            SKIP LOCKED claim + fenced DELETE on an identical table); at 4
#            clients also floor (prepared single-row UPDATE by primary key),
#            lease-floor (the row write of a claim, by primary key, with no
#            search: the least any claim can cost), cycle-floor (lease-floor's
#            write, then floor's: the least any claim + complete can cost),
#            ours-churned and hand-churned (the same cycles on a queue whose
#            oldest tenth was processed since its last VACUUM, as between two
#            autovacuum passes), ours-claim-only and hand-claim-only (the
#            claim alone, 100 ms lease, batch 1: one row write, like floor),
#            and ours-nostats (ours with rollout.track_stats off)
#   skew     99% of rows V1, 1% V2: V2 claimers' claims/s against V1's, both
#            groups running at once
#   depth    claim-only latency at queue depths 10k, 100k, 1M, 10M (QUICK: 10k,
#            100k)
#   soak     producers and consumers for 5 minutes (QUICK: 20 s), ours and hand
#            side by side, default autovacuum: first against last minute
#            (QUICK: 10 s), table and index sizes at the end
#   tagging  inserts/s: no tagging, column default, PL/pgSQL trigger (equivalent to
#            ours, with the registry check, and bare, without it), our
#            trigger; PL/pgSQL and our trigger inheriting from a parent
#
# Output: a table on stdout (kept in results/bench.txt); results/bench.csv
# (summary), results/bench_runs.csv (every run), results/soak.csv and
# soak_timeline.csv, results/*.png charts, results/logs/ (pgbench output of
# every run). Medians, min-max spreads and
# paired ratios are reported; performance is never asserted. The last line is
# "bench: N passed, N failed", counting sanity checks only: every workload and
# variant produced a positive throughput, and hand_q has rollout_task_q's shape.
#
# Tunables (environment): QUICK, BENCH_REPS, BENCH_SECONDS (per run),
# BENCH_CLAIM_CLIENTS, BENCH_CLAIM_BATCHES, BENCH_DEPTHS (e.g. add 10000000),
# BENCH_SOAK_SECONDS, BENCH_SOAK_WINDOW, BENCH_RESULTS (output directory),
# BENCH_NO_BUILD=1 (use the installed extension as is).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/cluster.sh"

BENCH_DIR=$REPO_ROOT/test/bench
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${BENCH_REPS:-2}
	SECS=${BENCH_SECONDS:-2}
	CLAIM_CLIENTS=${BENCH_CLAIM_CLIENTS:-4}
	DEPTHS=${BENCH_DEPTHS:-10000 100000}
	SOAK_SECONDS=${BENCH_SOAK_SECONDS:-20}
	SOAK_WINDOW=${BENCH_SOAK_WINDOW:-10}
	TAG_SECS=1
else
	REPS=${BENCH_REPS:-3}
	SECS=${BENCH_SECONDS:-4}
	CLAIM_CLIENTS=${BENCH_CLAIM_CLIENTS:-1 4 16}
	DEPTHS=${BENCH_DEPTHS:-10000 100000 1000000 10000000}
	SOAK_SECONDS=${BENCH_SOAK_SECONDS:-300}
	SOAK_WINDOW=${BENCH_SOAK_WINDOW:-60}
	TAG_SECS=3                        # inserts are CPU-bound: steady within 3 s
fi
CLAIM_BATCHES=${BENCH_CLAIM_BATCHES:-1 10}
# The churned variants: batch 1 only in QUICK mode, to stay under 2 minutes.
CHURN_BATCHES=$([ "$QUICK" = 1 ] && echo 1 || echo "$CLAIM_BATCHES")
# Due rows per version at the start of every claim run: more than the fastest
# variant (~60k rows/s in all) can take in a run.
CLAIM_DEPTH=$((SECS * 40000 > 60000 ? SECS * 40000 : 60000))
CHURN_ROWS=$((CLAIM_DEPTH / 10))       # per version: dead rows ahead of the live ones
SKEW_CLIENTS=2                        # per version
SKEW_V2_ROWS=$((SECS * 4000))         # 1%; V1 gets 99 times as many
DEPTH_CLIENTS=4
SOAK_CLIENTS=4                        # per variant; both variants run at once
SOAK_BACKLOG=20000                    # due rows per version at the start
TAG_CLIENTS=4
TAG_ROWS=100                          # rows per INSERT statement (and transaction)
TAG_PARENTS=10000
V1=940000000                          # '9.4'
V2=1010000000                         # '10.1'

passed=0
failed=0
reported=
WORK=
TEE_PID=
finish() {
	stop_cluster
	if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
	if [ -z "$reported" ]; then
		echo "FAIL benchmark aborted"
		echo "bench: $passed passed, $((failed + 1)) failed"
	fi
	# Let tee write the last lines before the caller reads the output.
	if [ -n "${TEE_PID:-}" ]; then
		exec >&- 2>&-
		wait "$TEE_PID" || true
	fi
}

ensure_dependencies
# The charts, and column(1) for the soak table.
declare -A BENCH_PACKAGES=([gnuplot-nox]=/usr/bin/gnuplot [bsdextrautils]=/usr/bin/column)
ensure_packages BENCH_PACKAGES
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then build_and_install; fi
start_cluster
trap finish EXIT
WORK=$(mktemp -d /tmp/rollout_bench.XXXXXX)
mkdir -p "$RESULTS/logs"
rm -f "$RESULTS"/logs/*.log "$RESULTS"/*.png "$RESULTS"/*.csv "$RESULTS"/bench.txt
# Everything printed from here on is also kept in results/bench.txt.
exec > >(tee "$RESULTS/bench.txt") 2>&1
TEE_PID=$!

echo "== mode: $([ "$QUICK" = 1 ] && echo QUICK || echo full); $REPS reps of ${SECS}s;" \
	"claim clients: $CLAIM_CLIENTS; batches: $CLAIM_BATCHES; depths: $DEPTHS; soak ${SOAK_SECONDS}s"

psql_db() {
	local db=$1
	shift
	"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}
value() { psql_db "$1" -At -c "$2"; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

RAW=$RESULTS/bench_runs.csv
echo "workload,variant,clients,batch,param,rep,tps,latency_ms,rows_per_s,metric,value,note" >"$RAW"
# record WORKLOAD VARIANT CLIENTS BATCH PARAM REP TPS LATENCY ROWS_PER_S METRIC VALUE NOTE
record() {
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$@" >>"$RAW"
	printf '   %-8s %-15s c=%-3s b=%-4s %-9s rep %s: %9.1f tps%s\n' \
		"$1" "$2" "$3" "$4" "${5:+d=$5}" "$6" "$7" "${12:+  (${12})}"
}

# parse_pgbench LOG EXIT_STATUS: sets TPS and LAT, or TPS=0 and NOTE on failure.
parse_pgbench() {
	local log=$1 rc=$2
	TPS=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$log")
	LAT=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$log")
	NOTE=
	if [ "$rc" -ne 0 ] || [ -z "$TPS" ] || grep -qE 'aborted|^number of failed transactions: [1-9]' "$log"; then
		NOTE="pgbench failed (exit $rc), see logs/$(basename "$log")"
		TPS=0
		LAT=
		tail -n 3 "$log" | sed 's/^/     /'
	fi
}

# pgbench_start LOG DB CLIENTS SECONDS ARGS...: pgbench in the background; PID in BG_PID.
pgbench_start() {
	local log=$1 db=$2 clients=$3 secs=$4
	shift 4
	"$PG_BINDIR/pgbench" -n -M prepared -c "$clients" -j $((clients < 2 ? 1 : 2)) -T "$secs" \
		"$@" "$db" >"$log" 2>&1 &
	BG_PID=$!
}
# pgbench_wait PID LOG: waits, then parses the log.
pgbench_wait() {
	local rc=0
	wait "$1" || rc=$?
	parse_pgbench "$2" "$rc"
}
pgbench_run() {
	pgbench_start "$@"
	pgbench_wait "$BG_PID" "$1"
}

# rotate REP ITEMS...: the items, starting at a different one each repetition.
rotate() {
	local rep=$1
	shift
	local items=("$@") n=$# i
	for ((i = 0; i < n; i++)); do echo "${items[$(((rep - 1 + i) % n))]}"; done
}

# prepare DB TABLE V1_ROWS V2_ROWS: the equal starting state of a queue run.
prepare() {
	psql_db "$1" -c "SELECT bench_refill('$2', '9.4', $3), bench_refill('$2', '10.1', $4)" \
		-c "VACUUM $2" -c "CHECKPOINT" >/dev/null
}
# fill DB TABLE V1_ROWS V2_ROWS: an empty queue filled, then prepared.
fill() {
	psql_db "$1" -c "SELECT bench_fill('$2', $3, $4)" >/dev/null
	prepare "$@"
}
# seed DB V1_ROWS V2_ROWS: both queues of a database, filled side by side.
seed() {
	local pid rc=0
	fill "$1" rollout_task_q "$2" "$3" &
	pid=$!
	fill "$1" hand_q "$2" "$3" || rc=$?
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || exit "$rc"
	psql_db "$1" -c "ANALYZE" -c "CHECKPOINT" >/dev/null
}
dry_note() {
	local left
	left=$(value "$1" "SELECT bench_min_due('$2')")
	if [ "$left" -le 0 ]; then
		NOTE="${NOTE:+$NOTE; }queue ran dry"
		echo "     WARNING: $2 ran out of due rows; this run's throughput is not valid"
	fi
}
new_queue_db() {
	psql_db postgres -c "CREATE DATABASE $1" >/dev/null
	psql_db "$1" -f "$BENCH_DIR/queue_setup.sql" >/dev/null
}

# ---------------------------------------------------------------------------
echo "== set-up"
new_queue_db bench
shape_ours=$(value bench "SELECT bench_table_shape('rollout_task_q')")
for copy in hand_q lease_floor_t; do
	shape_copy=$(value bench "SELECT bench_table_shape('$copy')")
	if [ "$shape_ours" = "$shape_copy" ]; then
		passed=$((passed + 1))
		echo "ok   $copy has the columns, primary key and indexes of rollout_task_q"
	else
		failed=$((failed + 1))
		echo "FAIL $copy differs from rollout_task_q:"
		diff <(echo "$shape_ours" | tr ',' '\n') <(echo "$shape_copy" | tr ',' '\n') | sed 's/^/     /' || true
	fi
done
seed bench "$CLAIM_DEPTH" "$CLAIM_DEPTH"

# ---------------------------------------------------------------------------
echo "== 1. claim + complete: clients $CLAIM_CLIENTS, batches $CLAIM_BATCHES, $CLAIM_DEPTH due rows per version [${SECONDS}s]"
for rep in $(seq 1 "$REPS"); do
	for clients in $CLAIM_CLIENTS; do
		cases=()
		for batch in $CLAIM_BATCHES; do cases+=("ours:$batch" "hand:$batch"); done
		# At the targets' 4 clients: the floors, the claim alone, as a floor
		# is one row write (a 100 ms lease brings the rows back, so nothing
		# needs completing), and a busy queue between autovacuum passes.
		# QUICK mode, a sanity run, measures the floors once.
		if [ "$clients" = 4 ]; then
			if [ "$QUICK" != 1 ] || [ "$rep" = 1 ]; then cases+=("floor:1" "lease-floor:1" "cycle-floor:1"); fi
			cases+=("ours-claim-only:1" "hand-claim-only:1")
			# The same cycles with rollout.track_stats off: what counting
			# in rollout_stats costs.
			for batch in $CLAIM_BATCHES; do cases+=("ours-nostats:$batch"); done
			for batch in $CHURN_BATCHES; do cases+=("ours-churned:$batch" "hand-churned:$batch"); done
		fi
		for c in $(rotate "$rep" "${cases[@]}"); do
			variant=${c%%:*}
			batch=${c#*:}
			log=$RESULTS/logs/claim-$variant-c$clients-b$batch-r$rep.log
			shape=$([ "$batch" = 1 ] && echo 1 || echo n)
			# A floor's pgbench transaction is one of its writes: cycle-floor
			# alternates (at random, in equal shares) the lease write and the
			# floor's, so two of its transactions make one claim + complete.
			writes_per_cycle=1
			case $variant in
			ours | ours-churned | ours-nostats)
				table=rollout_task_q scripts=(-f "$BENCH_DIR/claim_ours_$shape.sql") ;;
			hand | hand-churned) table=hand_q scripts=(-f "$BENCH_DIR/claim_hand_$shape.sql") ;;
			ours-claim-only) table=rollout_task_q scripts=(-f "$BENCH_DIR/depth_ours.sql") ;;
			hand-claim-only) table=hand_q scripts=(-f "$BENCH_DIR/depth_hand.sql") ;;
			floor) table= scripts=(-f "$BENCH_DIR/floor.sql") ;;
			lease-floor) table= scripts=(-f "$BENCH_DIR/lease_floor.sql") ;;
			cycle-floor)
				table= writes_per_cycle=2
				scripts=(-f "$BENCH_DIR/lease_floor.sql@1" -f "$BENCH_DIR/floor.sql@1") ;;
			esac
			# The best hand-written claim has its LIMIT as a literal, so that
			# the prepared statement keeps a cheap generic plan; pgbench would
			# pass :batch as a parameter.
			if [ "${variant%-churned}" = hand ] && [ "$shape" = n ]; then
				sed "s/LIMIT :batch /LIMIT $batch /" "$BENCH_DIR/claim_hand_n.sql" >"$WORK/claim_hand_$batch.sql"
				scripts=(-f "$WORK/claim_hand_$batch.sql")
			fi
			if [ -z "$table" ]; then
				psql_db bench -c "VACUUM floor_t, lease_floor_t" -c "CHECKPOINT" >/dev/null
			else
				prepare bench "$table" "$CLAIM_DEPTH" "$CLAIM_DEPTH"
			fi
			if [ "${variant%-churned}" != "$variant" ]; then
				psql_db bench -c "SELECT bench_churn('$table', '9.4', $CHURN_ROWS), bench_churn('$table', '10.1', $CHURN_ROWS)" \
					-c "CHECKPOINT" >/dev/null
			fi
			options=
			if [ "$variant" = ours-nostats ]; then options="-c rollout.track_stats=off"; fi
			PGOPTIONS=$options pgbench_run "$log" bench "$clients" "$SECS" "${scripts[@]}" \
				-D vbase=$V1 -D vmix=1 -D batch="$batch"
			if [ -n "$table" ]; then dry_note bench "$table"; fi
			TPS=$(calc "$TPS / $writes_per_cycle")
			if [ -n "$LAT" ]; then LAT=$(calc "$LAT * $writes_per_cycle"); fi
			record claim "$variant" "$clients" "$batch" "${table:+$CLAIM_DEPTH}" \
				"$rep" "$TPS" "$LAT" "$(calc "$TPS * $batch")" "" "" "$NOTE"
		done
	done
done

# ---------------------------------------------------------------------------
V1_ROWS=$((99 * SKEW_V2_ROWS))
echo "== 2. skew: $V1_ROWS V1 rows, $SKEW_V2_ROWS V2 rows; $SKEW_CLIENTS claimers of each version at once [${SECONDS}s]"
new_queue_db bench_skew
seed bench_skew "$V1_ROWS" "$SKEW_V2_ROWS"
for rep in $(seq 1 "$REPS"); do
	for variant in $(rotate "$rep" ours hand); do
		table=$([ "$variant" = ours ] && echo rollout_task_q || echo hand_q)
		prepare bench_skew "$table" "$V1_ROWS" "$SKEW_V2_ROWS"
		log1=$RESULTS/logs/skew-$variant-V1-r$rep.log
		log2=$RESULTS/logs/skew-$variant-V2-r$rep.log
		pgbench_start "$log1" bench_skew "$SKEW_CLIENTS" "$SECS" -f "$BENCH_DIR/claim_${variant}_1.sql" \
			-D vbase=$V1 -D vmix=0
		pid1=$BG_PID
		pgbench_start "$log2" bench_skew "$SKEW_CLIENTS" "$SECS" -f "$BENCH_DIR/claim_${variant}_1.sql" \
			-D vbase=$V2 -D vmix=0
		pid2=$BG_PID
		pgbench_wait "$pid1" "$log1"
		tps1=$TPS lat1=$LAT note1=$NOTE
		pgbench_wait "$pid2" "$log2"
		dry_note bench_skew "$table"
		record skew "$variant-V1" "$SKEW_CLIENTS" 1 "$V1_ROWS" "$rep" "$tps1" "$lat1" "$tps1" "" "" "$note1"
		record skew "$variant-V2" "$SKEW_CLIENTS" 1 "$SKEW_V2_ROWS" "$rep" "$TPS" "$LAT" "$TPS" "" "" "$NOTE"
	done
done

# ---------------------------------------------------------------------------
echo "== 3. depth: claim only, batch 1, $DEPTH_CLIENTS clients, depths $DEPTHS (a 100 ms lease keeps the depth) [${SECONDS}s]"
for depth in $DEPTHS; do
	db=bench_depth_$depth
	new_queue_db "$db"
	seed "$db" $((depth / 2)) $((depth - depth / 2))
	echo "   seeded $depth rows in each table of $db (${SECONDS}s elapsed)"
done
for rep in $(seq 1 "$REPS"); do
	for depth in $DEPTHS; do
		db=bench_depth_$depth
		for variant in $(rotate "$rep" ours hand); do
			table=$([ "$variant" = ours ] && echo rollout_task_q || echo hand_q)
			prepare "$db" "$table" $((depth / 2)) $((depth - depth / 2))
			log=$RESULTS/logs/depth-$variant-d$depth-r$rep.log
			pgbench_run "$log" "$db" "$DEPTH_CLIENTS" "$SECS" -f "$BENCH_DIR/depth_$variant.sql" \
				-D vbase=$V1 -D vmix=1
			dry_note "$db" "$table"
			record depth "$variant" "$DEPTH_CLIENTS" 1 "$depth" "$rep" "$TPS" "$LAT" "$TPS" "" "" "$NOTE"
		done
	done
done

# ---------------------------------------------------------------------------
echo "== 4. soak: ${SOAK_SECONDS}s, ours and hand side by side, $SOAK_CLIENTS clients each" \
	"(consume:produce 1:1), first vs last ${SOAK_WINDOW}s [${SECONDS}s]"
new_queue_db bench_soak
seed bench_soak "$SOAK_BACKLOG" "$SOAK_BACKLOG"
declare -A soak_pid
for variant in ours hand; do
	pgbench_start "$RESULTS/logs/soak-$variant.log" bench_soak "$SOAK_CLIENTS" "$SOAK_SECONDS" \
		-f "$BENCH_DIR/claim_${variant}_1.sql@1" -f "$BENCH_DIR/produce_$variant.sql@1" \
		-D vbase=$V1 -D vmix=1 -l --log-prefix="$WORK/soak_$variant"
	soak_pid[$variant]=$BG_PID
done
echo "second,variant,consumed,produced" >"$RESULTS/soak_timeline.csv"
echo "variant,consumed_per_s,first_window_per_s,last_window_per_s,last_over_first,slowest_second,fastest_second,backlog_end,heap_bytes,index_bytes,total_bytes,live_tuples,dead_tuples,autovacuums" \
	>"$RESULTS/soak.csv"
for variant in ours hand; do
	pgbench_wait "${soak_pid[$variant]}" "$RESULTS/logs/soak-$variant.log"
	table=$([ "$variant" = ours ] && echo rollout_task_q || echo hand_q)
	dry_note bench_soak "$table"
	# Per-transaction log lines: client_id transaction_no time script_no time_epoch time_us.
	# Script 0 consumes (claim + complete), script 1 produces.
	cat "$WORK"/soak_"$variant".* | awk -v v="$variant" -v T="$SOAK_SECONDS" -v W="$SOAK_WINDOW" \
		-v timeline="$RESULTS/soak_timeline.csv" '
		{ t = $5 + $6 / 1e6; if (start == "" || t < start) start = t; n++; ts[n] = t; sc[n] = $4; lat[n] = $3 }
		END {
			for (i = 1; i <= n; i++) {
				s = int(ts[i] - start)
				if (sc[i] == 0) { c[s]++; total++; latsum += lat[i]
				                  if (s < W) first++; if (s >= T - W - 1 && s < T - 1) last++ }
				else p[s]++
			}
			for (s = 0; s < T; s++) printf "%d,%s,%d,%d\n", s, v, c[s], p[s] >> timeline
			# Slowest and fastest whole second (the last one may be cut short).
			lo = hi = c[0] + 0
			for (s = 1; s < T - 1; s++) { if (c[s] < lo) lo = c[s]; if (c[s] > hi) hi = c[s] }
			printf "%.1f %.1f %.1f %.3f %d %d\n", total / T, first / W, last / W,
			       (total ? latsum / total / 1000 : 0), lo, hi
		}' >"$WORK/soak_$variant.sum"
	read -r consumed first last lat slowest fastest <"$WORK/soak_$variant.sum"
	sizes=$(value bench_soak "SELECT bench_min_due('$table'), pg_relation_size('$table'), pg_indexes_size('$table'),
	                                 pg_total_relation_size('$table'), n_live_tup, n_dead_tup, autovacuum_count
	                            FROM pg_stat_user_tables WHERE relid = '$table'::regclass")
	IFS='|' read -r backlog heap idx total live dead avac <<<"$sizes"
	ratio=$(calc "$last / ($first > 0 ? $first : 1)")
	echo "$variant,$consumed,$first,$last,$ratio,$slowest,$fastest,$backlog,$heap,$idx,$total,$live,$dead,$avac" \
		>>"$RESULTS/soak.csv"
	[ "$TPS" = 0 ] && consumed=0
	record soak "$variant" "$SOAK_CLIENTS" 1 "" 1 "$consumed" "$lat" "$consumed" "last/first ${SOAK_WINDOW}s" "$ratio" \
		"${NOTE:+$NOTE; }first ${SOAK_WINDOW}s $first/s, last $last/s, seconds $slowest..$fastest/s; end: heap $((heap / 1048576)) MB, indexes $((idx / 1048576)) MB, $dead dead, $avac autovacuums"
done

# ---------------------------------------------------------------------------
echo "== 5. tagging: INSERT of $TAG_ROWS rows per statement, $TAG_CLIENTS clients, ${TAG_SECS}s runs [${SECONDS}s]"
psql_db postgres -c "CREATE DATABASE bench_tag" >/dev/null
psql_db bench_tag -v parents=$TAG_PARENTS -f "$BENCH_DIR/tagging_setup.sql" >/dev/null
declare -A tag_schema=([none]=tag_none [default]=tag_default [plpgsql]=tag_plpgsql
	[plpgsql-bare]=tag_plpgsql_bare [ours]=tag_ours [plpgsql-inherit]=tag_plpgsql_inherit
	[ours-inherit]=tag_inherit)
for rep in $(seq 1 "$REPS"); do
	for variant in $(rotate "$rep" none default plpgsql plpgsql-bare ours plpgsql-inherit ours-inherit); do
		schema=${tag_schema[$variant]}
		psql_db bench_tag -c "TRUNCATE $schema.task" -c "CHECKPOINT" >/dev/null
		log=$RESULTS/logs/tagging-$variant-r$rep.log
		PGOPTIONS="-c search_path=$schema,public -c rollout.version=$V2" \
			pgbench_run "$log" bench_tag "$TAG_CLIENTS" "$TAG_SECS" -f "$BENCH_DIR/tag_insert.sql" \
			-D parents=$TAG_PARENTS -D rows=$TAG_ROWS
		if [ "$TPS" != 0 ]; then
			tagged=$(value bench_tag "SELECT count(*) FILTER (WHERE rollout_version IS NOT NULL) || '/' || count(*) FROM $schema.task")
			NOTE="tagged $tagged"
		fi
		record tagging "$variant" "$TAG_CLIENTS" "$TAG_ROWS" "" "$rep" "$TPS" "$LAT" "$(calc "$TPS * $TAG_ROWS")" "" "" "$NOTE"
	done
done

# ---------------------------------------------------------------------------
echo
echo "== results [${SECONDS}s] (median of $REPS runs; ratios are medians of per-repetition ratios)"
psql_db postgres <<SQL
CREATE TEMP TABLE runs (workload text, variant text, clients int, batch int, param bigint, rep int,
                        tps float8, latency_ms float8, rows_per_s float8, metric text, value float8, note text);
\copy runs FROM '$RAW' CSV HEADER
\i $BENCH_DIR/report.sql
\copy (SELECT * FROM summary_ordered) TO '$RESULTS/bench.csv' CSV HEADER
\copy (SELECT 'floor', clients, median_tps, min_tps, max_tps FROM summary WHERE workload = 'claim' AND variant = 'floor' UNION ALL SELECT variant || ' b' || batch, clients, rows_per_s, min_tps * batch, max_tps * batch FROM summary WHERE workload = 'claim' AND variant NOT LIKE '%floor' ORDER BY 1, 2) TO '$WORK/claim.csv' CSV
\copy (SELECT variant, param, latency_ms, median_tps FROM summary WHERE workload = 'depth' ORDER BY 1, 2) TO '$WORK/depth.csv' CSV
\copy (SELECT variant, rows_per_s, min_tps * batch, max_tps * batch FROM summary_ordered WHERE workload = 'tagging') TO '$WORK/tagging.csv' CSV
SQL
echo "   soak (results/soak.csv):"
column -s, -t <"$RESULTS/soak.csv" | sed 's/^/   /'

# ---------------------------------------------------------------------------
# Charts. Each series of the claim chart is a block of its own (blank lines
# between blocks), addressed by index.
claim_series=$(cut -d, -f1 "$WORK/claim.csv" | uniq)
awk -F, 'NR > 1 && $1 != prev { print ""; print "" } { prev = $1; print }' "$WORK/claim.csv" >"$WORK/claim.dat"
# Up to a dozen series: each gets its own colour and point shape.
claim_colours=(black '#d62728' '#1f77b4' '#2ca02c' '#ff7f0e' '#9467bd' '#8c564b' '#e377c2' '#7f7f7f'
	'#bcbd22' '#17becf' '#aec7e8')
plot_claim=
i=0
while read -r s; do
	plot_claim+="${plot_claim:+, }'$WORK/claim.dat' index $i using 2:3:4:5 with yerrorlines lw 2"
	plot_claim+=" lc rgb '${claim_colours[$((i % ${#claim_colours[@]}))]}' pt $((i % 13 + 1)) title '$s'"
	i=$((i + 1))
done <<<"$claim_series"
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set datafile separator ','
set grid
set key outside right
set output '$RESULTS/claim_throughput.png'
set title 'claims: rows/s (floor: UPDATEs/s) by clients; median, bars min..max'
set logscale xy
set xrange [0.7:24]
set xtics (1, 2, 4, 8, 16)
set xlabel 'clients'
set ylabel 'rows per second'
plot $plot_claim
GP
awk -F, 'NR > 1 && $1 != prev { print ""; print "" } { prev = $1; print }' "$WORK/depth.csv" >"$WORK/depth.dat"
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set datafile separator ','
set grid
set key outside right
set output '$RESULTS/depth.png'
set title 'claim (batch 1, $DEPTH_CLIENTS clients) vs queue depth; medians'
set logscale x
set xrange [5000:*]
set format x '%.0s%c'
set xlabel 'rows in the queue'
set ylabel 'latency per claim, ms'
set y2label 'claims per second'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot '$WORK/depth.dat' index 0 using 2:3 with linespoints lw 2 title 'hand latency', \
     '$WORK/depth.dat' index 1 using 2:3 with linespoints lw 2 title 'ours latency', \
     '$WORK/depth.dat' index 0 using 2:4 axes x1y2 with linespoints dt 2 title 'hand claims/s', \
     '$WORK/depth.dat' index 1 using 2:4 axes x1y2 with linespoints dt 2 title 'ours claims/s'
GP
awk -F, 'NR > 1 && $2 == "ours"' "$RESULTS/soak_timeline.csv" >"$WORK/soak_ours.dat"
awk -F, 'NR > 1 && $2 == "hand"' "$RESULTS/soak_timeline.csv" >"$WORK/soak_hand.dat"
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set datafile separator ','
set grid
set key outside right
set output '$RESULTS/soak.png'
set title 'soak: claim+complete cycles/s (solid) and inserts/s (dotted) per second, side by side'
set xlabel 'seconds'
set ylabel 'per second'
set yrange [0:*]
plot '$WORK/soak_ours.dat' using 1:3 with lines lw 2 title 'ours consumed', \
     '$WORK/soak_hand.dat' using 1:3 with lines lw 2 title 'hand consumed', \
     '$WORK/soak_ours.dat' using 1:4 with lines dt 3 title 'ours produced', \
     '$WORK/soak_hand.dat' using 1:4 with lines dt 3 title 'hand produced'
GP
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set datafile separator ','
set grid y
set output '$RESULTS/tagging.png'
set title 'tagging on insert ($TAG_ROWS rows per INSERT, $TAG_CLIENTS clients): rows/s, median, bars = min..max'
set style fill solid 0.5
set boxwidth 0.6
set yrange [0:*]
set ylabel 'rows per second'
unset key
plot '$WORK/tagging.csv' using 0:2:xtic(1) with boxes, '' using 0:2:3:4 with yerrorbars lc black pt 0
GP
echo "   charts: $(cd "$RESULTS" && ls ./*.png | tr '\n' ' ')"

# ---------------------------------------------------------------------------
echo
echo "== sanity checks (every workload and variant produced a positive throughput)"
# The first seven columns of bench.csv hold no commas.
while IFS=, read -r workload variant clients batch param _ median; do
	label="$workload $variant c=$clients b=$batch${param:+ d=$param}"
	if awk "BEGIN { exit !(${median:-0} > 0) }"; then
		passed=$((passed + 1))
		echo "ok   $label: $median tps"
	else
		failed=$((failed + 1))
		echo "FAIL $label: no throughput"
	fi
done < <(tail -n +2 "$RESULTS/bench.csv" | cut -d, -f1-7)
echo "   elapsed ${SECONDS}s; results in ${RESULTS#$REPO_ROOT/}/"
reported=yes
echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
