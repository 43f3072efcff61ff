#!/usr/bin/env bash
# Crash test: the durability claims of claims and completions, proved by
# killing the server under load.
#
# Agents of two versions (9.4 and 10.1, pgbench) claim small batches from
# rollout_task_q with a 2-second lease, log every claimed row in the claim's
# own transaction, and complete or retry each row in a later transaction that
# logs the result and marks the task's order done. Producers add orders with
# their tasks. Meanwhile:
#   A. kill -9 of a backend that holds committed claims (an agent picked in
#      pg_stat_activity by application_name): the postmaster kills every
#      backend and recovers; the agents start again.
#   B. pg_ctl stop -m immediate of the whole server mid-run, then start.
# After recovery, with the leases over and the queue drained, it checks that
# every task was completed exactly once or is still queued, that no committed
# claim was lost or duplicated (claim counts, leases, fencing), that no row was
# ever claimed by the wrong version, that tagged orders kept their versions,
# and that the rows left behind by dead claimers are claimable again by their
# own version only.
#
# Log rows written by transactions the crash killed vanish together with the
# claim or completion they describe (same transaction); the checks rely on
# that: every committed claim has exactly one log row, and the reverse.
#
# Starts its own throwaway cluster (fsync on), needs the extension installed
# (make install). Prints one line per check; the last line is
# "crash: N passed, N failed"; exits non-zero on any failure.
# CRASH_ROUNDS sets the rounds of A and B (2), CRASH_SEED the tasks per
# version (1000 per round + 500); CRASH_KEEP_LOGS=DIR keeps the pgbench, holder and server logs.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)/cluster.sh"
set +e  # every check runs; failures are counted, not fatal
set -u -o pipefail

NAME=crash
DB=crashdb
ROUNDS=${CRASH_ROUNDS:-2}              # rounds of scenario A then B
# SCHEDULE.0001 tasks per version: each round's two phases take about 800
# completions; the rest is a backlog that keeps the agents off the holders'
# rows until the crash.
SEED_PER_VERSION=${CRASH_SEED:-$((1000 * ROUNDS + 500))}
CLOSE_PER_VERSION=12                   # CLOSE_ORDER.0001 tasks per version
LEASE='2 seconds'                      # the agents' criteria
CLOSE_LEASE='10 seconds'               # the criteria of scenario B's holders
HOLD_ROWS=4                            # rows each claim holder takes
# The server settings of start_cluster, plus ours; reused to restart after B.
EXTRA_SETTINGS=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on
	-c restart_after_crash=on)

passed=0
failed=0
reported=

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
# check_zero NAME SQL: SQL returns "violations|detail"; passes on 0 violations.
check_zero() {
	local row
	row=$(q "$2")
	if [[ "$row" == 0\|* ]]; then
		pass "$1 (${row#*|})"
	else
		fail "$1: $row"
	fi
}
note() { echo "   .. $*"; }
# Ends the background jobs of this script (pgbench, psql) still running.
stop_background() {
	local pid
	for pid in $(jobs -pr); do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}
finish() {
	stop_background
	# CRASH_KEEP_LOGS=DIR keeps the agents' and the server's logs.
	if [ -n "${CRASH_KEEP_LOGS:-}" ] && [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		mkdir -p "$CRASH_KEEP_LOGS" && cp "$WORK"/*.log "$CLUSTER_DIR/server.log" "$CRASH_KEEP_LOGS/"
	fi
	if [ -z "$reported" ]; then
		echo "FAIL - $NAME test aborted before all checks ran"
		echo "$NAME: $passed passed, $((failed + 1)) failed"
	fi
	stop_cluster
}

psql_db() { "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# q SQL: the output, or "ERROR: ..." on one line. Never fails.
q() {
	local out
	if out=$(psql_db -c "$1" 2>&1); then
		printf '%s' "$out"
	else
		printf 'ERROR: %s' "$(printf '%s' "$out" | tr '\n' ' ')"
	fi
}
# qf: q with the script on stdin.
qf() {
	local out
	if out=$(psql_db -f - 2>&1); then
		printf '%s' "$out"
	else
		printf 'ERROR: %s' "$(printf '%s' "$out" | tr '\n' ' ')"
	fi
}

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2s.
wait_for() {
	local timeout=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			note "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}
server_accepts() { "$PG_BINDIR/psql" -X -q -At -d "$DB" -c "SELECT 1" >/dev/null 2>&1; }
sql_true() { [ "$(q "$1")" == t ]; }
log_count() { grep -c "$1" "$CLUSTER_DIR/server.log" 2>/dev/null; }
log_count_above() { [ "$(log_count "$1")" -gt "$2" ]; }
processes_gone() {
	local pid
	for pid in "$@"; do
		kill -0 "$pid" 2>/dev/null && return 1
	done
	return 0
}

start_cluster "${EXTRA_SETTINGS[@]}"
trap finish EXIT
WORK=$CLUSTER_DIR/crash_work
mkdir -p "$WORK"
# Exactly the options start_cluster gave pg_ctl (see test/scripts/cluster.sh).
START_SETTINGS=(-c "port=$PGPORT" -c "unix_socket_directories=$CLUSTER_DIR/socket"
	-c "listen_addresses=127.0.0.1" -c "max_connections=100" "${EXTRA_SETTINGS[@]}")
check "server runs with fsync on" "on" "$("$PG_BINDIR/psql" -X -At -c 'SHOW fsync')"

# ---------------------------------------------------------------------------
# Schema and seed
# ---------------------------------------------------------------------------
"$PG_BINDIR/psql" -X -q -c "CREATE DATABASE $DB" >/dev/null
setup=$(qf <<SQL
SET client_min_messages = warning;
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4', 'V1');
SELECT rollout_register_version('10.1', 'V2');
SELECT rollout_define_criteria('SCHEDULE.0001', batch_size => 5, lease => '$LEASE');
SELECT rollout_define_criteria('CLOSE_ORDER.0001', batch_size => 50, lease => '$CLOSE_LEASE');

-- Orders are tagged by the session's version and guarded: an agent may touch
-- only orders of its version or older.
CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	status integer NOT NULL DEFAULT 1100,
	touched integer NOT NULL DEFAULT 0
);
SELECT rollout_enable_tagging('order_header');
SELECT rollout_enable_guard('order_header');

-- Every task the test created, each with its own order, and the version
-- both must have. Producers add rows in the transaction that creates them.
CREATE TABLE task_expect (
	task_q_key bigint PRIMARY KEY,
	transaction_id text NOT NULL,
	data_key text NOT NULL UNIQUE,
	version rollout_version NOT NULL,
	source text NOT NULL
);
CREATE TABLE order_expect (order_header_key text PRIMARY KEY, version rollout_version NOT NULL);

-- Every claimed row, logged in the claim's own transaction.
CREATE TABLE claim_log (
	claim_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_xact bigint NOT NULL DEFAULT txid_current(),
	task_q_key bigint NOT NULL,
	claim_token uuid NOT NULL,
	claim_count integer NOT NULL,
	claimer_version rollout_version NOT NULL,   -- the version the agent runs as
	session_version rollout_version,            -- rollout_current_version() in the claim
	row_version rollout_version,                -- the claimed row's tag
	lease_until timestamptz NOT NULL,           -- the returned available_date
	claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	agent text NOT NULL DEFAULT current_setting('application_name'),
	state text NOT NULL DEFAULT 'pending'
);
CREATE INDEX ON claim_log (claim_xact) WHERE state = 'pending';
CREATE INDEX ON claim_log (task_q_key);
-- Every completion and retry with its result, in the acting transaction.
CREATE TABLE completion_log (
	completion_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_id bigint NOT NULL,
	task_q_key bigint NOT NULL,
	claim_token uuid NOT NULL,
	action text NOT NULL,
	result boolean NOT NULL,
	completer_version rollout_version NOT NULL,
	agent text NOT NULL DEFAULT current_setting('application_name'),
	completed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON completion_log (task_q_key);

-- Seed: one order and one task each, per version.
SET rollout.version = '9.4';
INSERT INTO order_header (order_header_key) SELECT 'SO94-' || g FROM generate_series(1, $SEED_PER_VERSION) g;
INSERT INTO order_header (order_header_key) SELECT 'CO94-' || g FROM generate_series(1, $CLOSE_PER_VERSION) g;
SET rollout.version = '10.1';
INSERT INTO order_header (order_header_key) SELECT 'SO101-' || g FROM generate_series(1, $SEED_PER_VERSION) g;
INSERT INTO order_header (order_header_key) SELECT 'CO101-' || g FROM generate_series(1, $CLOSE_PER_VERSION) g;
RESET rollout.version;
-- Tasks inherit their order's version (given explicitly, as a server would).
WITH t AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, data_type, rollout_version)
	SELECT CASE WHEN order_header_key LIKE 'SO%' THEN 'SCHEDULE.0001' ELSE 'CLOSE_ORDER.0001' END,
	       order_header_key, 'order', rollout_version
	  FROM order_header ORDER BY random()
	RETURNING task_q_key, transaction_id, data_key, rollout_version)
INSERT INTO task_expect SELECT task_q_key, transaction_id, data_key, rollout_version, 'seeded' FROM t;
INSERT INTO order_expect SELECT order_header_key, rollout_version FROM order_header;
-- The checksum of the orders' versions before any crash.
CREATE TABLE order_snapshot AS
SELECT md5(string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key)) AS sum,
       count(*) AS n
  FROM order_header;
ANALYZE;
SELECT 'setup done';
SQL
)
check "schema and seed" "setup done" "$(printf '%s' "$setup" | tail -n1)"
check "seeded tasks per version" "1010000000=$((SEED_PER_VERSION + CLOSE_PER_VERSION)),940000000=$((SEED_PER_VERSION + CLOSE_PER_VERSION))" \
	"$(q "SELECT string_agg(version || '=' || n, ',' ORDER BY version DESC) FROM (SELECT version, count(*) n FROM task_expect GROUP BY 1) s")"

# ---------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------
# agent_script VERSION: claim a batch of 1-4 rows and log it (one
# transaction); pause; then complete each row, or about 1 in 10 hand it back
# with rollout_retry, logging the result and marking the order done (a
# second transaction).
agent_script() {
	cat <<SQL
\\set n random(1, 4)
BEGIN;
SELECT set_config('rollout.version', '$1', true);
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until)
SELECT task_q_key, claim_token, claim_count, '$1', rollout_current_version(), rollout_version,
       available_date
  FROM rollout_claim('SCHEDULE.0001', :n);
SELECT txid_current() AS cx \\gset
COMMIT;
\\sleep 15 ms
BEGIN;
SELECT set_config('rollout.version', '$1', true);
WITH picked AS MATERIALIZED (
	SELECT c.claim_id, c.task_q_key, c.claim_token, e.data_key, random() < 0.1 AS do_retry
	  FROM claim_log c JOIN task_expect e USING (task_q_key)
	 WHERE c.claim_xact = :cx AND c.state = 'pending'
	 ORDER BY c.claim_id FOR UPDATE OF c),
acted AS MATERIALIZED (
	SELECT p.*, CASE WHEN p.do_retry THEN rollout_retry(p.task_q_key, p.claim_token, interval '0')
	                 ELSE rollout_complete(p.task_q_key, p.claim_token) END AS result
	  FROM picked p),
logged AS (
	INSERT INTO completion_log (claim_id, task_q_key, claim_token, action, result, completer_version)
	SELECT claim_id, task_q_key, claim_token, CASE WHEN do_retry THEN 'retry' ELSE 'complete' END,
	       result, '$1'
	  FROM acted),
marked AS (
	UPDATE claim_log c SET state = 'done' FROM acted a WHERE c.claim_id = a.claim_id)
UPDATE order_header h SET status = 9000, touched = h.touched + 1
  FROM acted a WHERE a.result AND NOT a.do_retry AND h.order_header_key = a.data_key;
COMMIT;
SQL
}
# produce_script VERSION: a new order and its task, tagged by the session.
produce_script() {
	cat <<SQL
BEGIN;
SELECT set_config('rollout.version', '$1', true);
WITH o AS (
	INSERT INTO order_header (order_header_key) VALUES ('NEW' || replace('$1', '.', '') || '-' || gen_random_uuid())
	RETURNING order_header_key),
oe AS (
	INSERT INTO order_expect SELECT order_header_key, '$1' FROM o),
t AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, data_type)
	SELECT 'SCHEDULE.0001', order_header_key, 'order' FROM o
	RETURNING task_q_key, transaction_id, data_key)
INSERT INTO task_expect SELECT task_q_key, transaction_id, data_key, '$1', 'produced' FROM t;
COMMIT;
SQL
}
for v in 9.4 10.1; do
	agent_script "$v" >"$WORK/agent_$v.sql"
	produce_script "$v" >"$WORK/produce_$v.sql"
done

declare -a AGENT_PIDS=()
# start_agents TAG [pgbench options]: one pgbench per version, 3 clients each,
# application_name crash_agent_<version>. Logs go to $WORK/pgbench_<TAG>_<v>.log.
start_agents() {
	local tag=$1 v
	shift
	AGENT_PIDS=()
	for v in 9.4 10.1; do
		PGAPPNAME="crash_agent_$v" "$PG_BINDIR/pgbench" -n -c 3 -j 1 -T 300 "$@" \
			-f "$WORK/agent_$v.sql@12" ${PRODUCE:+-f "$WORK/produce_$v.sql@1"} \
			"$DB" >"$WORK/pgbench_${tag}_$v.log" 2>&1 &
		AGENT_PIDS+=($!)
	done
}
# Waits for the agents to die with their connections (a crash), else ends them.
reap_agents() {
	local pid
	if ! wait_for 30 "agents to exit" processes_gone "${AGENT_PIDS[@]}"; then
		for pid in "${AGENT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	fi
	for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}
stop_agents() {
	local pid
	for pid in "${AGENT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	wait_for 30 "agent backends to end" sql_true \
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'crash_agent%'"
}

# start_holder NAME VERSION CRITERIA: an agent that claims HOLD_ROWS rows,
# logs them, commits, and then sits on its lease (pg_sleep) until killed.
start_holder() {
	cat >"$WORK/holder_$1.sql" <<SQL
BEGIN;
SET LOCAL rollout.version = '$2';
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until)
SELECT task_q_key, claim_token, claim_count, '$2', rollout_current_version(), rollout_version,
       available_date
  FROM rollout_claim('$3', $HOLD_ROWS);
COMMIT;
SELECT pg_sleep(600);
SQL
	PGAPPNAME="$1" "$PG_BINDIR/psql" -X -q -d "$DB" -v ON_ERROR_STOP=1 -f "$WORK/holder_$1.sql" \
		>"$WORK/holder_$1.log" 2>&1 &
	wait_for 20 "holder $1 to commit its claims" sql_true \
		"SELECT count(*) = $HOLD_ROWS FROM claim_log WHERE agent = '$1'
		   AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1' AND query LIKE '%pg_sleep%')"
}

completions() { q "SELECT count(*) FROM completion_log"; }
# Progress: at least N more completions than BASE.
progressed() { [ "$(completions)" -ge $(($1 + $2)) ]; }

# Invariants that hold whenever no agent is running: the claim count of every
# queued row equals its committed (logged) claims, and its token is its latest
# claim's unless that claim handed the row back (rollout_retry clears it).
quiescent_checks() {
	local label=$1
	check_zero "$label: every queued row's claim_count equals its logged claims" "
		SELECT count(*), format('%s queued rows, %s with a claim', (SELECT count(*) FROM rollout_task_q),
		                        (SELECT count(*) FROM rollout_task_q WHERE claim_count > 0))
		  FROM rollout_task_q q
		 WHERE q.claim_count <> (SELECT count(*) FROM claim_log c WHERE c.task_q_key = q.task_q_key)"
	check_zero "$label: every queued row's token is its latest logged claim's" "
		SELECT count(*), format('%s rows carry a token', (SELECT count(*) FROM rollout_task_q WHERE claim_token IS NOT NULL))
		  FROM rollout_task_q q
		 WHERE q.claim_token IS DISTINCT FROM (
		       SELECT c.claim_token FROM claim_log c WHERE c.task_q_key = q.task_q_key
		        ORDER BY c.claim_count DESC LIMIT 1)
		   AND NOT EXISTS (SELECT FROM completion_log l WHERE l.task_q_key = q.task_q_key
		                    AND l.action = 'retry' AND l.result
		                    AND l.claim_token = (SELECT c.claim_token FROM claim_log c
		                                          WHERE c.task_q_key = q.task_q_key
		                                          ORDER BY c.claim_count DESC LIMIT 1))"
}

# scenario_a ROUND VERSION: agents and producers at a steady pace, with a
# holder of VERSION sitting on committed claims; once the agents made
# progress, kill -9 the holder's backend (found by its application_name). The
# postmaster kills every backend, the agents die with their connections.
scenario_a() {
	local round=$1 version=$2 holder=crash_holder_A$1 victim reinit_before ready_before base
	local label="round $1, scenario A (kill -9)"
	PRODUCE=1
	start_agents "a$round" -R 60
	base=$(completions)
	wait_for 30 "agents' progress" progressed "$base" 800
	start_holder "$holder" "$version" SCHEDULE.0001
	note "round $round: $(completions) completions logged, $(q "SELECT count(*) FROM claim_log WHERE state = 'pending'") claims pending"

	victim=$(q "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND application_name = '$holder'")
	check "$label: the victim's $HOLD_ROWS claims are committed" "$HOLD_ROWS" \
		"$(q "SELECT count(*) FROM claim_log c JOIN rollout_task_q q USING (task_q_key, claim_token) WHERE c.agent = '$holder'")"
	reinit_before=$(log_count "all server processes terminated; reinitializing")
	ready_before=$(log_count "database system is ready to accept connections")
	if [[ "$victim" =~ ^[0-9]+$ ]]; then
		kill -9 "$victim"
		note "killed backend $victim (application_name $holder) with SIGKILL"
	else
		fail "$label: no victim backend found ($victim)"
	fi
	wait_for 60 "crash restart" log_count_above "all server processes terminated; reinitializing" "$reinit_before"
	check "$label: the postmaster restarted every backend" "yes" \
		"$(log_count_above "all server processes terminated; reinitializing" "$reinit_before" && echo yes)"
	wait_for 60 "recovery after the crash" log_count_above "database system is ready to accept connections" "$ready_before"
	wait_for 60 "connections after the crash" server_accepts
	check "$label: the server accepts connections again" "yes" "$(server_accepts && echo yes)"
	reap_agents
	note "$(cat "$WORK"/pgbench_a"$round"_*.log | grep -c 'aborted in command') pgbench clients lost their connection"
	check "$label: the victim's claims survived the crash (token on the row)" "$HOLD_ROWS" \
		"$(q "SELECT count(*) FROM claim_log c JOIN rollout_task_q q USING (task_q_key, claim_token) WHERE c.agent = '$holder'")"
	quiescent_checks "$label, after recovery"
}

# scenario_b ROUND [close]: agents and producers at a steady pace, then
# pg_ctl stop -m immediate of the whole server and a start with the options
# start_cluster used. With "close", a holder per version first claims
# CLOSE_ORDER.0001 tasks (a criteria no agent runs) and dies in the stop: its
# rows stay leased, for the final checks.
scenario_b() {
	local round=$1 close=${2:-} base pending unclean_before
	local label="round $1, scenario B (immediate stop)"
	PRODUCE=1
	start_agents "b$round" -R 60
	base=$(completions)
	wait_for 30 "agents' progress" progressed "$base" 800
	if [ -n "$close" ]; then
		start_holder crash_holder_B94 9.4 CLOSE_ORDER.0001
		start_holder crash_holder_B101 10.1 CLOSE_ORDER.0001
	fi
	pending=$(q "SELECT count(*) FROM claim_log WHERE state = 'pending'")
	note "round $round: $(completions) completions logged, $pending claims pending"

	unclean_before=$(log_count "not properly shut down")
	as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1
	check "$label: pg_ctl stop -m immediate" "0" "$?"
	reap_agents
	as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w -t 60 \
		-o "${START_SETTINGS[*]}" start >/dev/null 2>&1
	check "$label: pg_ctl start after the immediate stop" "0" "$?"
	wait_for 60 "connections after the restart" server_accepts
	check "$label: the server recovered and accepts connections" "yes" "$(server_accepts && echo yes)"
	check "$label: crash recovery ran (server log)" "yes" \
		"$(log_count_above "not properly shut down" "$unclean_before" && echo yes)"
	if [ -n "$close" ]; then
		check "$label: the holders' claims and leases survived the restart" "$((2 * HOLD_ROWS))|$((2 * HOLD_ROWS))" \
			"$(q "SELECT count(*) || '|' || count(*) FILTER (WHERE q.available_date > now() AND q.available_date = c.lease_until)
			        FROM claim_log c JOIN rollout_task_q q USING (task_q_key, claim_token)
			       WHERE c.agent LIKE 'crash_holder_B%'")"
		check "$label: a live lease is respected after the restart (own version claims none of them)" "0|0" \
			"$(qf <<'SQL'
BEGIN;
CREATE TEMP TABLE got ON COMMIT DROP AS
SELECT * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4')
UNION ALL SELECT * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1');
SELECT count(*) FILTER (WHERE task_q_key IN (SELECT task_q_key FROM claim_log WHERE agent LIKE 'crash_holder_B%')),
       count(*) FILTER (WHERE claim_count > 1)
  FROM got;
ROLLBACK;
SQL
)"
	fi
	quiescent_checks "$label, after recovery"
}

# ---------------------------------------------------------------------------
# The crashes: ROUNDS rounds of A then B; the holder of A alternates versions.
# ---------------------------------------------------------------------------
for round in $(seq 1 "$ROUNDS"); do
	if [ $((round % 2)) -eq 1 ]; then scenario_a "$round" 9.4; else scenario_a "$round" 10.1; fi
	if [ "$round" -eq "$ROUNDS" ]; then scenario_b "$round" close; else scenario_b "$round"; fi
done

# ---------------------------------------------------------------------------
# Drain: agents at full speed until no SCHEDULE.0001 task is left. The rows
# the crashes orphaned come due when their leases end.
# ---------------------------------------------------------------------------
PRODUCE=
start_agents drain
wait_for 60 "the agents to drain SCHEDULE.0001" sql_true \
	"SELECT NOT EXISTS (SELECT FROM rollout_task_q WHERE transaction_id = 'SCHEDULE.0001')"
stop_agents
check "drain: agents emptied the SCHEDULE.0001 queue" "0" \
	"$(q "SELECT count(*) FROM rollout_task_q WHERE transaction_id = 'SCHEDULE.0001'")"
# The holders' psql processes died with the server; collect them.
stop_background

errors=$(cat "$WORK"/pgbench_*.log | grep -E 'ERROR: |aborted in command' | grep -v 'perhaps the backend died' | sort | uniq -c | head -5)
check "agents: every aborted pgbench client lost its backend to a crash, none hit an SQL error" "" "$errors"
check "server log: no ERROR or PANIC" "" "$(grep -E '(ERROR|PANIC):' "$CLUSTER_DIR/server.log" | head -5)"

# ---------------------------------------------------------------------------
# Invariants after recovery
# ---------------------------------------------------------------------------
OK_COMPLETES="SELECT task_q_key, count(*) AS n FROM completion_log WHERE action = 'complete' AND result GROUP BY task_q_key"
check_zero "no task lost: each is completed exactly once or still queued" "
	WITH done AS ($OK_COMPLETES)
	SELECT count(*) FILTER (WHERE coalesce(d.n, 0) + (q.task_q_key IS NOT NULL)::int <> 1),
	       format('%s tasks: %s completed, %s queued', count(*), count(d.n), count(q.task_q_key))
	  FROM task_expect e LEFT JOIN done d USING (task_q_key) LEFT JOIN rollout_task_q q USING (task_q_key)"
check_zero "no task completed twice" "
	WITH done AS ($OK_COMPLETES) SELECT count(*), 'max ' || coalesce(max(n), 0) || ' per task' FROM done WHERE n > 1"
check_zero "no task both completed and still queued" "
	WITH done AS ($OK_COMPLETES)
	SELECT count(*), 'checked ' || (SELECT count(*) FROM done) || ' completed tasks' FROM done JOIN rollout_task_q USING (task_q_key)"
check_zero "no unknown task in the queue or the logs" "
	SELECT (SELECT count(*) FROM rollout_task_q WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect))
	     + (SELECT count(*) FROM claim_log WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect))
	     + (SELECT count(*) FROM completion_log WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect)),
	       (SELECT count(*) FROM task_expect WHERE source = 'produced') || ' tasks produced during the run'"
check "audit: successful completions = tasks - queued" "yes" \
	"$(q "SELECT CASE WHEN (SELECT count(*) FROM completion_log WHERE action = 'complete' AND result)
	                     = (SELECT count(*) FROM task_expect) - (SELECT count(*) FROM rollout_task_q)
	             THEN 'yes' ELSE 'no' END")"
check_zero "no row ever claimed by the wrong version" "
	SELECT count(*) FILTER (WHERE c.row_version IS DISTINCT FROM c.claimer_version
	                           OR c.session_version IS DISTINCT FROM c.claimer_version
	                           OR e.version IS DISTINCT FROM c.claimer_version),
	       format('%s claims by 9.4, %s by 10.1', count(*) FILTER (WHERE c.claimer_version = '9.4'),
	              count(*) FILTER (WHERE c.claimer_version = '10.1'))
	  FROM claim_log c JOIN task_expect e USING (task_q_key)"
check_zero "no completion by another version than the task's" "
	SELECT count(*) FILTER (WHERE l.completer_version <> e.version), count(*) || ' completions and retries'
	  FROM completion_log l JOIN task_expect e USING (task_q_key)"
check_zero "claim counts run 1, 2, 3... per task: no committed claim lost or duplicated" "
	SELECT count(*), format('%s tasks claimed, %s of them more than once', (SELECT count(DISTINCT task_q_key) FROM claim_log),
	                        (SELECT count(*) FROM (SELECT 1 FROM claim_log GROUP BY task_q_key HAVING count(*) > 1) s))
	  FROM (SELECT task_q_key FROM claim_log GROUP BY task_q_key
	         HAVING count(*) <> max(claim_count) OR count(DISTINCT claim_count) <> count(*)
	            OR count(DISTINCT claim_token) <> count(*)) bad"
check_zero "no row claimed again while an earlier claim's lease was live (unless handed back)" "
	WITH c AS (
		SELECT c.*, lag(claim_token) OVER w AS prev_token, lag(lease_until) OVER w AS prev_lease_until
		  FROM claim_log c WINDOW w AS (PARTITION BY task_q_key ORDER BY claim_count))
	SELECT count(*) FILTER (WHERE claimed_at < prev_lease_until
	                          AND NOT EXISTS (SELECT FROM completion_log l WHERE l.task_q_key = c.task_q_key
	                                           AND l.claim_token = c.prev_token
	                                           AND l.action = 'retry' AND l.result)),
	       count(*) FILTER (WHERE prev_token IS NOT NULL) || ' re-claims'
	  FROM c"
# A claim token is one per rollout_claim call, shared by its batch: tokens are
# matched together with the task key.
check_zero "every successful completion or retry used a committed claim's token, once, while current" "
	SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT FROM claim_log c WHERE c.claim_token = l.claim_token
	                                           AND c.task_q_key = l.task_q_key)
	                          OR EXISTS (SELECT FROM completion_log o WHERE o.task_q_key = l.task_q_key
	                                      AND o.claim_token = l.claim_token
	                                      AND o.result AND o.completion_id <> l.completion_id)
	                          OR (l.action = 'complete' AND l.claim_token <> (
	                              SELECT c.claim_token FROM claim_log c WHERE c.task_q_key = l.task_q_key
	                               ORDER BY c.claim_count DESC LIMIT 1))),
	       format('%s completions, %s retries', count(*) FILTER (WHERE action = 'complete'),
	              count(*) FILTER (WHERE action = 'retry'))
	  FROM completion_log l WHERE l.result"
check_zero "the victims of A's rows were taken over after the lease by their own version" "
	SELECT count(*) FILTER (WHERE NOT EXISTS (
	           SELECT FROM claim_log n WHERE n.task_q_key = c.task_q_key AND n.claim_count > c.claim_count
	              AND n.claimer_version = c.claimer_version AND n.claimed_at >= c.lease_until)),
	       count(*) || ' rows'
	  FROM claim_log c WHERE c.agent LIKE 'crash_holder_A%'"
check_zero "completed tasks' orders are done, queued tasks' orders are not (same transaction)" "
	SELECT count(*) FILTER (WHERE (h.status = 9000) <> (q.task_q_key IS NULL) OR h.touched > 1),
	       count(*) FILTER (WHERE h.status = 9000) || ' orders done'
	  FROM task_expect e JOIN order_header h ON h.order_header_key = e.data_key
	  LEFT JOIN rollout_task_q q USING (task_q_key)"
check_zero "tagged orders kept their versions (and produced ones got their session's)" "
	SELECT (SELECT count(*) FROM (SELECT order_header_key, rollout_version FROM order_header
	                              EXCEPT SELECT order_header_key, version FROM order_expect) a)
	     + (SELECT count(*) FROM (SELECT order_header_key, version FROM order_expect
	                              EXCEPT SELECT order_header_key, rollout_version FROM order_header) b),
	       (SELECT count(*) FROM order_header) || ' orders'"
check "tagged seeded orders: version checksum equals the one taken before the crashes" "yes" \
	"$(q "SELECT CASE WHEN (SELECT sum FROM order_snapshot) =
	        (SELECT md5(string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key))
	           FROM order_header WHERE order_header_key NOT LIKE 'NEW%') THEN 'yes' ELSE 'no' END")"
check "queued tasks keep their versions" "0" \
	"$(q "SELECT count(*) FROM rollout_task_q q JOIN task_expect e USING (task_q_key) WHERE q.rollout_version IS DISTINCT FROM e.version")"
check "the run did what it claims (re-claims after the crash, retries, produced tasks)" "t|t|t" \
	"$(q "SELECT (SELECT count(*) FROM claim_log WHERE claim_count > 1) > 0,
	             (SELECT count(*) FROM completion_log WHERE action = 'retry' AND result) > 0,
	             (SELECT count(*) FROM task_expect WHERE source = 'produced') > 0")"

# ---------------------------------------------------------------------------
# The rows dead claimers left behind: once their leases end, their own
# version claims them again, the other version none of them.
# ---------------------------------------------------------------------------
left=$(q "SELECT count(*) FILTER (WHERE rollout_version = '9.4') || '|' || count(*) FILTER (WHERE rollout_version = '10.1') FROM rollout_task_q")
check "left behind: each version has queued tasks, some orphaned by scenario B" \
	"$CLOSE_PER_VERSION|$CLOSE_PER_VERSION|$((2 * HOLD_ROWS))" \
	"$left|$(q "SELECT count(*) FROM rollout_task_q WHERE claim_count > 0")"
wait_for 40 "the leases to end" sql_true "SELECT NOT EXISTS (SELECT FROM rollout_task_q WHERE available_date > now())"
final=$(qf <<'SQL'
BEGIN;
CREATE TEMP TABLE left_rows ON COMMIT DROP AS SELECT * FROM rollout_task_q;
CREATE TEMP TABLE got (claimer rollout_version, LIKE rollout_task_q) ON COMMIT DROP;
INSERT INTO got SELECT '10.1', * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1');
INSERT INTO got SELECT '9.4', * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4');
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until, agent)
SELECT task_q_key, claim_token, claim_count, claimer, claimer, rollout_version, available_date, 'final_check'
  FROM got;
CREATE TEMP TABLE stale ON COMMIT DROP AS
SELECT c.task_q_key, rollout_complete(c.task_q_key, c.claim_token) AS result
  FROM claim_log c WHERE c.agent LIKE 'crash_holder_B%';
CREATE TEMP TABLE fresh ON COMMIT DROP AS
SELECT g.task_q_key, g.claim_token, g.rollout_version, rollout_complete(g.task_q_key, g.claim_token) AS result
  FROM got g;
INSERT INTO completion_log (claim_id, task_q_key, claim_token, action, result, completer_version, agent)
SELECT c.claim_id, f.task_q_key, f.claim_token, 'complete', f.result, f.rollout_version, 'final_check'
  FROM fresh f JOIN claim_log c USING (task_q_key, claim_token);
-- Orders are guarded: write them as 10.1, which may touch 9.4's too.
SET LOCAL rollout.version = '10.1';
UPDATE order_header h SET status = 9000, touched = h.touched + 1
  FROM fresh f JOIN task_expect e USING (task_q_key)
 WHERE f.result AND h.order_header_key = e.data_key AND h.rollout_version = f.rollout_version;
SELECT
  -- 10.1 got exactly its own left-behind rows, none of 9.4's; and the reverse
  (SELECT count(*) FROM got WHERE claimer = '10.1') = (SELECT count(*) FROM left_rows WHERE rollout_version = '10.1')
  AND NOT EXISTS (SELECT FROM got WHERE claimer <> rollout_version),
  NOT EXISTS (SELECT task_q_key FROM left_rows EXCEPT SELECT task_q_key FROM got),
  (SELECT count(*) FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4'))
    + (SELECT count(*) FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1')) = 0,
  -- the orphaned rows were claimed anew: count + 1, new token
  (SELECT count(*) FROM got g JOIN left_rows b USING (task_q_key)
    WHERE b.claim_count > 0 AND g.claim_count = b.claim_count + 1 AND g.claim_token <> b.claim_token),
  -- the dead holders' tokens are stale now
  (SELECT count(*) FILTER (WHERE result) FROM stale),
  (SELECT bool_and(result) FROM fresh),
  (SELECT count(*) FROM rollout_task_q);
COMMIT;
SQL
)
check "left behind: claimable by own version only, orphans re-claimed, stale tokens refused, all completed" \
	"t|t|t|$((2 * HOLD_ROWS))|0|t|0" "$final"
check_zero "finally every task was completed exactly once" "
	WITH done AS ($OK_COMPLETES)
	SELECT count(*) FILTER (WHERE coalesce(d.n, 0) <> 1) + (SELECT count(*) FROM rollout_task_q),
	       count(*) || ' tasks, ' || (SELECT count(*) FROM claim_log) || ' claims'
	  FROM task_expect e LEFT JOIN done d USING (task_q_key)"
check_zero "finally every order is done and kept its version" "
	SELECT count(*) FILTER (WHERE h.status <> 9000 OR h.touched <> 1 OR h.rollout_version <> e.version),
	       count(*) || ' orders'
	  FROM task_expect e JOIN order_header h ON h.order_header_key = e.data_key"

reported=1
echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
