#!/usr/bin/env bash
# Claim stress test: concurrent claimers of two versions, completers, late
# completers, token replays and producers hammer one transaction's task queue
# through pgbench; afterwards SQL checks that no row was handed to the wrong
# version or to two live claims, none was lost or completed twice, and stale
# tokens were refused, and rows out of attempts were parked.
#
# Needs a running cluster in the environment (PGHOST, PGPORT, PGUSER) with
# rollout_ext installed. Drops and re-creates the database rollout_stress.
# The last line is "stress: N passed, N failed"; the exit status is non-zero
# on any failure. Tunables: STRESS_SECONDS (16), STRESS_CLIENTS (8),
# STRESS_SEED (10000 tasks per version), STRESS_MIN_CLAIMS (1000).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DB=rollout_stress
SECONDS_TO_RUN=${STRESS_SECONDS:-16}
CLIENTS=${STRESS_CLIENTS:-8}
SEED_PER_VERSION=${STRESS_SEED:-10000}
MIN_CLAIMS=${STRESS_MIN_CLAIMS:-1000}
LEASE='200 milliseconds'
MAX_ATTEMPTS=4
# Most seeded tasks fall due at random over this window, so that claimers
# never sit on a long backlog and expired leases are re-claimed promptly.
SPREAD=$((SECONDS_TO_RUN > 6 ? SECONDS_TO_RUN - 4 : 2))

passed=0
failed=0
reported=
pgbench_log=
# Whatever stops the script early still ends with the summary line.
finish() {
	if [ -n "$pgbench_log" ]; then rm -f "$pgbench_log"; fi
	if [ -z "$reported" ]; then
		echo "FAIL stress test aborted before all checks ran"
		echo "stress: $passed passed, $((failed + 1)) failed"
	fi
}
trap finish EXIT

psql_maint() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" "$@"; }
psql_db() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# One value (or one |-separated row) from a query.
value() { psql_db -At -c "$1"; }

echo "== stress: database $DB, $CLIENTS clients for ${SECONDS_TO_RUN}s, lease $LEASE"
psql_maint -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"

psql_db >/dev/null <<SQL
CREATE EXTENSION rollout_ext;
-- Rows claimed four times are parked by their next retry.
SELECT rollout_define_criteria('STRESS.0001', lease => '$LEASE', batch_size => 5, max_attempts => $MAX_ATTEMPTS);
SELECT rollout_stats_reset() WHERE current_setting('shared_preload_libraries') ~ 'rollout_ext';

-- Every task key the test created; each must end up completed exactly once or
-- still be queued.
CREATE TABLE stress_key (
	task_q_key bigint PRIMARY KEY,
	source text NOT NULL,
	version rollout_version,
	due_at timestamptz
);
-- Every claimed row, logged in the claim's own transaction.
CREATE TABLE stress_claim (
	claim_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_xact bigint NOT NULL DEFAULT txid_current(),
	task_q_key bigint NOT NULL,
	transaction_id text,
	claim_token uuid,
	claim_count integer,
	claimer_version rollout_version,  -- what the claimer asked for
	session_version rollout_version,  -- rollout_current_version() in the claim
	row_version rollout_version,      -- the claimed row's tag
	claimed_at timestamptz,           -- the claim statement's start, where leases count from
	lease_until timestamptz,          -- the returned available_date
	returned_at timestamptz,          -- clock_timestamp() after the claim
	kind text NOT NULL,               -- normal, late or abandon
	state text NOT NULL DEFAULT 'pending'
);
CREATE INDEX stress_claim_pending ON stress_claim (kind, claim_id) WHERE state = 'pending';
CREATE INDEX stress_claim_key ON stress_claim (task_q_key, claim_count);
-- Every complete, retry and replay of a spent token, with its result.
CREATE TABLE stress_action (
	action_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_id bigint NOT NULL,
	task_q_key bigint NOT NULL,
	claim_token uuid,
	action text NOT NULL,
	delay interval,
	late boolean NOT NULL DEFAULT false,  -- acted on a second after the claim
	result boolean NOT NULL,
	acted_at timestamptz NOT NULL
);
CREATE INDEX stress_action_claim ON stress_action (claim_id);

-- Seed: half V1, half V2; a quarter of each due at once, the rest falling
-- due over the run.
SET rollout.version = '9.4';
WITH ins AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
	SELECT 'STRESS.0001', 'S1-' || g,
	       CASE WHEN g % 4 = 0 THEN now() - random() * interval '1 second'
	            ELSE now() + random() * interval '$SPREAD seconds' END
	  FROM generate_series(1, $SEED_PER_VERSION) g
	RETURNING task_q_key, rollout_version, available_date)
INSERT INTO stress_key SELECT task_q_key, 'seeded', rollout_version, available_date FROM ins;
SET rollout.version = '10.1';
WITH ins AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
	SELECT 'STRESS.0001', 'S2-' || g,
	       CASE WHEN g % 4 = 0 THEN now() - random() * interval '1 second'
	            ELSE now() + random() * interval '$SPREAD seconds' END
	  FROM generate_series(1, $SEED_PER_VERSION) g
	RETURNING task_q_key, rollout_version, available_date)
INSERT INTO stress_key SELECT task_q_key, 'seeded', rollout_version, available_date FROM ins;
-- Another transaction's due tasks, which the criteria must never touch.
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
SELECT 'OTHER.0001', 'O-' || g, now() - interval '1 minute' FROM generate_series(1, 200) g;
RESET rollout.version;
ANALYZE rollout_task_q, stress_key, stress_claim, stress_action;
SQL
echo "== seeded $(value "SELECT string_agg(rollout_version_format(version) || ': ' || n, ', ' ORDER BY version)
                        FROM (SELECT version, count(*) AS n FROM stress_key GROUP BY 1) s")"

echo "== pgbench"
pgbench_log=$(mktemp /tmp/claim_stress.pgbench.XXXXXX)
pgbench_rc=0
"$PG_BINDIR/pgbench" -n --failures-detailed -c "$CLIENTS" -j 2 -T "$SECONDS_TO_RUN" \
	-f "$HERE/claim.sql@8" -f "$HERE/complete.sql@3" -f "$HERE/late_complete.sql@1" \
	-f "$HERE/replay.sql@1" -f "$HERE/produce.sql@1" \
	"$DB" >"$pgbench_log" 2>&1 || pgbench_rc=$?
grep -E '^(number of (transactions actually processed|failed transactions|serialization failures|deadlock failures)|tps|SQL script [0-9]|.* - weight|.*abort|.*ERROR|.*error)' \
	"$pgbench_log" | sed 's/^/   /' | head -40 || true

# result OK LABEL DETAIL
result() {
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok   $2: $3"
	else
		failed=$((failed + 1))
		echo "FAIL $2: $3"
	fi
}
# check LABEL SQL: SQL returns "violations|detail"; passes when violations = 0.
check() {
	local row violations detail
	if ! row=$(value "$2" 2>&1); then
		result fail "$1" "query failed: $row"
		return
	fi
	violations=${row%%|*}
	detail=${row#*|}
	if [ "$violations" = 0 ]; then result ok "$1" "$detail"; else result fail "$1" "$violations violations; $detail"; fi
}

failed_txns=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$pgbench_log")
processed=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$pgbench_log")
if [ "$pgbench_rc" -eq 0 ] && [ "${failed_txns:-1}" = 0 ] && ! grep -q 'aborted' "$pgbench_log"; then
	result ok "pgbench" "$processed transactions, none failed, no client aborted"
else
	result fail "pgbench" "exit $pgbench_rc, ${failed_txns:-?} failed transactions"
	sed 's/^/   /' "$pgbench_log" | tail -20
fi

echo "== verifying"
psql_db -c "ANALYZE stress_key, stress_claim, stress_action, rollout_task_q" >/dev/null

# Attempts with the claim they used and the time that claim was superseded:
# the next claim of the same key (claim_count + 1), if any.
ATTEMPTS="WITH att AS (
	SELECT a.*, s.claim_count,
	       (SELECT n.claimed_at FROM stress_claim n
	         WHERE n.task_q_key = s.task_q_key AND n.claim_count = s.claim_count + 1
	         ORDER BY n.claim_id LIMIT 1) AS next_claimed_at
	  FROM stress_action a JOIN stress_claim s USING (claim_id))"

check "(a) version isolation" "
SELECT (SELECT count(*) FROM stress_claim
         WHERE row_version IS DISTINCT FROM claimer_version
            OR session_version IS DISTINCT FROM claimer_version
            OR transaction_id IS DISTINCT FROM 'STRESS.0001')
     + (SELECT count(*) FROM stress_claim s JOIN stress_key k USING (task_q_key)
         WHERE k.version IS DISTINCT FROM s.row_version)
     + (SELECT count(*) FROM rollout_task_q
         WHERE transaction_id = 'OTHER.0001' AND (claim_count > 0 OR claim_token IS NOT NULL)),
       format('%s claims by V1, %s by V2; every row of the claimer''s version, untouched other transaction',
              count(*) FILTER (WHERE claimer_version = '9.4'),
              count(*) FILTER (WHERE claimer_version = '10.1'))
  FROM stress_claim"

check "(b) no overlapping claims" "
WITH c AS (
	SELECT claim_id, task_q_key, claim_count, claimed_at, lease_until,
	       row_number() OVER w AS rn,
	       lag(claim_id) OVER w AS prev_id,
	       lag(lease_until) OVER w AS prev_lease_until
	  FROM stress_claim WINDOW w AS (PARTITION BY task_q_key ORDER BY claim_count, claim_id)),
bad AS (
	SELECT * FROM c
	 WHERE claim_count IS DISTINCT FROM rn   -- claim_count must run 1, 2, 3 ... per key
	    OR lease_until IS DISTINCT FROM claimed_at + interval '$LEASE'
	    OR (prev_id IS NOT NULL AND claimed_at < prev_lease_until
	        AND NOT EXISTS (SELECT FROM stress_action a
	                         WHERE a.claim_id = c.prev_id AND a.action = 'retry' AND a.result
	                           AND c.claimed_at >= a.acted_at + a.delay)))
SELECT (SELECT count(*) FROM bad),
       format('%s reclaims of %s keys (%s after an expired lease, %s after a retry); first bad: %s',
              count(*) FILTER (WHERE prev_id IS NOT NULL), count(DISTINCT task_q_key),
              count(*) FILTER (WHERE prev_id IS NOT NULL AND claimed_at >= prev_lease_until),
              count(*) FILTER (WHERE prev_id IS NOT NULL AND claimed_at < prev_lease_until),
              coalesce((SELECT format('key %s claim %s at %s, previous lease until %s',
                                      task_q_key, claim_count, claimed_at, prev_lease_until)
                          FROM bad ORDER BY claim_id LIMIT 1), 'none'))
  FROM c"

check "(c) single fenced completion" "
WITH ok AS (
	SELECT a.action_id, a.claim_id, s.task_q_key, s.claim_count FROM stress_action a
	  JOIN stress_claim s USING (claim_id)
	 WHERE a.result AND a.action IN ('complete', 'replay')),
latest AS (SELECT task_q_key, max(claim_count) AS max_count FROM stress_claim GROUP BY 1)
SELECT (SELECT count(*) FROM (SELECT task_q_key FROM ok GROUP BY 1 HAVING count(*) > 1) twice)
     + (SELECT count(*) FROM ok JOIN latest l USING (task_q_key) WHERE ok.claim_count <> l.max_count)
     + (SELECT count(*) FROM (SELECT claim_id FROM stress_action WHERE result
                               GROUP BY 1 HAVING count(*) > 1) token_used_twice),
       format('%s successful completions, each once per key with the key''s latest token',
              (SELECT count(*) FROM ok))"

check "(d) no lost rows" "
WITH done AS (
	SELECT task_q_key, count(*) AS n FROM stress_action
	 WHERE result AND action IN ('complete', 'replay') GROUP BY 1),
state AS (
	SELECT k.task_q_key, coalesce(d.n, 0) AS completed,
	       EXISTS (SELECT FROM rollout_task_q q WHERE q.task_q_key = k.task_q_key) AS queued
	  FROM stress_key k LEFT JOIN done d USING (task_q_key))
SELECT count(*) FILTER (WHERE completed + queued::int <> 1)
     + (SELECT count(*) FROM rollout_task_q q
         WHERE q.transaction_id = 'STRESS.0001'
           AND NOT EXISTS (SELECT FROM stress_key k WHERE k.task_q_key = q.task_q_key)),
       format('%s keys (%s seeded, %s produced): %s completed once, %s still queued',
              count(*), (SELECT count(*) FROM stress_key WHERE source = 'seeded'),
              (SELECT count(*) FROM stress_key WHERE source = 'produced'),
              count(*) FILTER (WHERE completed = 1 AND NOT queued),
              count(*) FILTER (WHERE completed = 0 AND queued))
  FROM state"

check "(e) stale tokens refused" "
$ATTEMPTS,
stale AS (
	SELECT * FROM att
	 WHERE action = 'replay'
	    OR (next_claimed_at IS NOT NULL
	        AND NOT (action = 'retry' AND result AND next_claimed_at >= acted_at + delay)))
SELECT count(*) FILTER (WHERE result),
       format('%s stale attempts returned false (%s late completions, %s late retries, %s other completions, %s other retries, %s replays)',
              count(*) FILTER (WHERE NOT result),
              count(*) FILTER (WHERE late AND action = 'complete' AND NOT result),
              count(*) FILTER (WHERE late AND action = 'retry' AND NOT result),
              count(*) FILTER (WHERE NOT late AND action = 'complete' AND NOT result),
              count(*) FILTER (WHERE NOT late AND action = 'retry' AND NOT result),
              count(*) FILTER (WHERE action = 'replay' AND NOT result))
  FROM stale"

check "(f) enough work done" "
SELECT (count(*) < $MIN_CLAIMS)::int
     + ((SELECT count(*) FROM stress_action WHERE result AND action = 'complete') < 100)::int
     + (count(*) FILTER (WHERE kind = 'abandon') = 0)::int
     + ((SELECT count(*) FROM stress_claim n JOIN stress_claim p
           ON p.task_q_key = n.task_q_key AND p.claim_count = n.claim_count - 1
         WHERE n.claimed_at >= p.lease_until) = 0)::int,
       format('%s claims in %s claim calls (min %s), %s abandoned, %s late, %s successful completions, %s successful retries',
              count(*), count(DISTINCT claim_xact), $MIN_CLAIMS,
              count(*) FILTER (WHERE kind = 'abandon'), count(*) FILTER (WHERE kind = 'late'),
              (SELECT count(*) FROM stress_action WHERE result AND action <> 'retry'),
              (SELECT count(*) FROM stress_action WHERE result AND action = 'retry'))
  FROM stress_claim"

check "(g) one fresh token per claim call" "
SELECT (SELECT count(*) FROM (SELECT claim_xact FROM stress_claim GROUP BY 1
                               HAVING count(DISTINCT claim_token) <> 1
                                   OR count(DISTINCT claimed_at) <> 1) x)
     + (SELECT count(*) FROM (SELECT claim_token FROM stress_claim GROUP BY 1
                               HAVING count(DISTINCT claim_xact) > 1) y)
     + (SELECT count(*) FROM stress_claim WHERE claim_token IS NULL),
       format('%s distinct tokens for %s claim calls', count(DISTINCT claim_token),
              count(DISTINCT claim_xact))
  FROM stress_claim"

check "(h) current tokens accepted" "
$ATTEMPTS
SELECT count(*) FILTER (WHERE NOT result),
       format('%s first actions on a still-current claim, all true (%s completions, %s retries)',
              count(*), count(*) FILTER (WHERE action <> 'retry'), count(*) FILTER (WHERE action = 'retry'))
  FROM att WHERE action <> 'replay' AND next_claimed_at IS NULL"

check "(j) parked exactly the rows a successful retry found claimed $MAX_ATTEMPTS times or more" "
WITH last_retry AS (
	SELECT DISTINCT ON (s.task_q_key) s.task_q_key, s.claim_count
	  FROM stress_action a JOIN stress_claim s USING (claim_id)
	 WHERE a.action = 'retry' AND a.result
	 ORDER BY s.task_q_key, s.claim_count DESC),
should AS (SELECT task_q_key FROM last_retry WHERE claim_count >= $MAX_ATTEMPTS),
parked AS (SELECT task_q_key FROM rollout_task_q
            WHERE transaction_id = 'STRESS.0001' AND parked_at IS NOT NULL)
SELECT (SELECT count(*) FROM (SELECT * FROM should EXCEPT SELECT * FROM parked) missing)
     + (SELECT count(*) FROM (SELECT * FROM parked EXCEPT SELECT * FROM should) extra)
     + (SELECT count(*) FROM stress_claim c JOIN last_retry r USING (task_q_key)
         WHERE r.claim_count >= $MAX_ATTEMPTS AND c.claim_count > r.claim_count),
       format('%s rows parked, none claimed after its parking retry', (SELECT count(*) FROM parked))"

# rollout_stats (where the library is preloaded) agrees with the logs: per
# version, the claims counted are the claims logged, and every claim ended
# exactly one way: completed, retried, parked (a retry out of attempts),
# expired (claimed again after its lease) or still on its row.
if [ "$(value "SELECT current_setting('shared_preload_libraries') ~ 'rollout_ext'")" = t ]; then
	check "(i) rollout_stats per version: claimed = claims logged = completed + retried + parked + expired + tokens still on rows; parked = rows parked" "
	WITH stats AS (
		SELECT version, claimed, completed, retried, parked, expired FROM rollout_stats
		 WHERE queue_table = 'rollout_task_q'::regclass AND transaction_id = 'STRESS.0001'),
	logged AS (SELECT row_version AS version, count(*) AS claims FROM stress_claim GROUP BY 1),
	holding AS (
		SELECT rollout_version AS version, count(*) FILTER (WHERE claim_token IS NOT NULL) AS tokens,
		       count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked_rows
		  FROM rollout_task_q WHERE transaction_id = 'STRESS.0001' GROUP BY 1)
	SELECT count(*) FILTER (WHERE s.claimed IS DISTINCT FROM l.claims
	                           OR s.claimed <> s.completed + s.retried + s.parked + s.expired
	                                          + coalesce(h.tokens, 0)
	                           OR s.parked <> coalesce(h.parked_rows, 0)),
	       string_agg(format('%s: %s claimed (%s logged) = %s completed + %s retried + %s parked + %s expired + %s held',
	                         rollout_version_format(l.version), s.claimed, l.claims, s.completed,
	                         s.retried, s.parked, s.expired, coalesce(h.tokens, 0)),
	                  '; ' ORDER BY l.version)
	  FROM logged l LEFT JOIN stats s USING (version) LEFT JOIN holding h USING (version)"
else
	echo "   info: the library is not preloaded here, so rollout_stats is not checked"
fi

# Not a check: how often a lease measured from the claim transaction's start
# had already run out by the time the claim returned.
echo "   info: $(value "SELECT format('%s claims returned after their lease had already ended; max claim latency %s',
                                   count(*) FILTER (WHERE returned_at > lease_until),
                                   max(returned_at - claimed_at)) FROM stress_claim")"
echo "   info: $(value "SELECT format('%s rows still queued for STRESS.0001 (%s due now, %s currently leased)',
                                   count(*), count(*) FILTER (WHERE available_date <= now() AND claim_token IS NULL),
                                   count(*) FILTER (WHERE claim_token IS NOT NULL AND available_date > now()))
                              FROM rollout_task_q WHERE transaction_id = 'STRESS.0001'")"
echo "   elapsed ${SECONDS}s"

reported=yes
echo "stress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
