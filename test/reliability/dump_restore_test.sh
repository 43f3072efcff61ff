#!/usr/bin/env bash
# Dump and restore: pg_dump (custom format) of a database in the middle of a
# staged rollout, pg_restore into a new database, then prove the copy is the
# same rollout:
#   - the extension and its configuration: rollout_criteria, rollout_versions,
#     rollout_ramp, rollout_audit (and rollout_tagging when the extension has
#     it), row for row;
#   - tagged user tables (plain, inheriting, partitioned, custom column) with
#     their versions, and their rollout_tag / rollout_guard triggers;
#   - rollout_task_q with versions, holds, leases and claim tokens, and its
#     key sequence;
#   - after the restore: tagging (session version, inheritance, routing,
#     partitions), routing answers, guards, claims by version (task queue and
#     driver table), completion with tokens handed out before the dump, retry,
#     and audited control functions all work;
#   - a parallel restore (-j 4) gives the same database;
#   - edge cases: untagged legacy task rows, and task rows of a retired version
#     restored in another order (pg_restore -L), survive the restore.
#
# Starts its own throwaway cluster (test/scripts/cluster.sh), needs the
# extension installed (make install). Prints one line per check; the last line
# is "dump_restore: N passed, N failed"; exits non-zero on any failure.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)/cluster.sh"
set +e  # every check runs; failures are counted, not fatal
set -u -o pipefail

NAME=dump_restore
passed=0
failed=0
reported=

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1: expected [$2], got [$3]"
	fi
}
# check_same NAME VALUE_IN_SOURCE VALUE_IN_COPY: equal and not an error.
check_same() {
	if [ "$2" == "$3" ] && [[ "$2" != ERROR* ]] && [ -n "$2" ]; then
		pass "$1"
	else
		fail "$1: source [$2], restored [$3]"
	fi
}
finish() {
	if [ -z "$reported" ]; then
		echo "FAIL - $NAME test aborted before all checks ran"
		echo "$NAME: $passed passed, $((failed + 1)) failed"
	fi
	stop_cluster
}

# q DB SQL: the output of SQL (unaligned, tuples only), or "ERROR: ..." on
# failure, on one line. Never fails.
q() {
	local db=$1 out
	shift
	if out=$("$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$@" 2>&1); then
		printf '%s' "$out"
	else
		printf 'ERROR: %s' "$(printf '%s' "$out" | tr '\n' ' ')"
	fi
}
# qf DB: like q, with the SQL script on stdin.
qf() {
	local db=$1 out
	if out=$("$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f - 2>&1); then
		printf '%s' "$out"
	else
		printf 'ERROR: %s' "$(printf '%s' "$out" | tr '\n' ' ')"
	fi
}

start_cluster -c fsync=off
trap finish EXIT
WORK=$CLUSTER_DIR/dump_restore
mkdir -p "$WORK"

# ---------------------------------------------------------------------------
# The source database: two versions side by side, mid-ramp.
# ---------------------------------------------------------------------------
q postgres "CREATE DATABASE src" >/dev/null
setup=$(qf src <<'SQL'
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4', 'V1');
SELECT rollout_register_version('10.1', 'V2');
SELECT rollout_register_version('8.2', 'V0');
SELECT rollout_set_version_state('8.2', 'retired');
SELECT rollout_set_ramp('9.4', '10.1', 10);
SELECT rollout_set_ramp('9.4', '10.1', 25);

SELECT rollout_define_criteria('SCHEDULE.0001', batch_size => 500, lease => '10 minutes');
SELECT rollout_define_criteria('RELEASE.0001', base_version => true, batch_size => 500,
                               lease => '10 minutes');

CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	document_type text NOT NULL,
	status integer NOT NULL DEFAULT 1100,
	next_alert_ts timestamptz
);
SELECT rollout_enable_tagging('order_header', route_by => 'order_header_key');
SELECT rollout_enable_guard('order_header');
SELECT rollout_define_criteria('MONITOR', queue_table => 'order_header',
                               key_column => 'order_header_key', due_column => 'next_alert_ts',
                               batch_size => 100, lease => '10 minutes');

CREATE TABLE order_line (
	order_line_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_header_key text NOT NULL REFERENCES order_header,
	item text NOT NULL
);
SELECT rollout_enable_tagging('order_line', inherit_from => 'order_header',
                              inherit_on => '{order_header_key}');

CREATE TABLE order_invoice (
	invoice_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hdr_key text,
	amount numeric NOT NULL
);
SELECT rollout_enable_tagging('order_invoice', inherit_from => 'order_header',
                              inherit_on => '{hdr_key}', parent_columns => '{order_header_key}');
SELECT rollout_enable_guard('order_invoice');

CREATE TABLE order_event (
	event_id bigint GENERATED ALWAYS AS IDENTITY,
	order_header_key text NOT NULL,
	kind text NOT NULL,
	PRIMARY KEY (kind, event_id)
) PARTITION BY LIST (kind);
CREATE TABLE order_event_create PARTITION OF order_event FOR VALUES IN ('create');
CREATE TABLE order_event_other PARTITION OF order_event DEFAULT;
SELECT rollout_enable_tagging('order_event', inherit_from => 'order_header',
                              inherit_on => '{order_header_key}');

CREATE TABLE app_note (note_id serial PRIMARY KEY, body text NOT NULL,
                       created_version rollout_version);
SELECT rollout_enable_tagging('app_note', column_name => 'created_version', if_unset => 'null');

-- 300 orders routed by the ramp (25% to 10.1), 20 with explicit versions.
INSERT INTO order_header (order_header_key, document_type, next_alert_ts)
SELECT 'SO-' || g, '0001', now() - interval '1 hour' FROM generate_series(1, 300) g;
INSERT INTO order_header (order_header_key, document_type, rollout_version, next_alert_ts)
SELECT 'PO-' || g, '0005', CASE WHEN g % 2 = 0 THEN '9.4' ELSE '10.1' END::rollout_version,
       now() - interval '1 hour'
  FROM generate_series(1, 20) g;

-- Derived rows inherit their order's version whatever the session's is.
SET rollout.version = '9.4';
INSERT INTO order_line (order_header_key, item)
SELECT order_header_key, 'ITEM-' || i FROM order_header, generate_series(1, 3) i;
INSERT INTO order_invoice (hdr_key, amount)
SELECT order_header_key, 10 + length(order_header_key) FROM order_header;
INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER', 1);  -- session version
INSERT INTO order_event (order_header_key, kind)
SELECT order_header_key, CASE WHEN length(order_header_key) % 2 = 0 THEN 'create' ELSE 'ship' END
  FROM order_header;
INSERT INTO app_note (body) VALUES ('written by 9.4'), ('moved to 10.1 by retag');
RESET rollout.version;
INSERT INTO app_note (body) VALUES ('untagged');
CALL rollout_retag('app_note', '9.4', '10.1', 1);  -- audited; moves both 9.4 notes
SET rollout.version = '9.4';
INSERT INTO app_note (body) VALUES ('written by 9.4 after the retag');
RESET rollout.version;

-- Tasks carry their order's version; some held, some due later.
INSERT INTO rollout_task_q (transaction_id, data_key, data_type, rollout_version)
SELECT t, h.order_header_key, 'order', h.rollout_version
  FROM order_header h, unnest('{SCHEDULE.0001,RELEASE.0001}'::text[]) t
 ORDER BY h.order_header_key, t;
UPDATE rollout_task_q SET hold_flag = true WHERE data_key IN ('SO-1', 'SO-2', 'PO-3');
UPDATE rollout_task_q SET available_date = now() + interval '1 day'
 WHERE data_key IN ('SO-4', 'SO-5', 'PO-4');

-- Leases handed out before the dump; their tokens are kept in a user table.
CREATE TABLE src_lease (task_q_key bigint, claim_token uuid, version rollout_version);
INSERT INTO src_lease SELECT task_q_key, claim_token, rollout_version
  FROM rollout_claim('SCHEDULE.0001', 7, '9.4');
INSERT INTO src_lease SELECT task_q_key, claim_token, rollout_version
  FROM rollout_claim('SCHEDULE.0001', 5, '10.1');
-- One lease spent before the dump: completed with its token.
SELECT rollout_complete(task_q_key, claim_token) FROM src_lease
 WHERE task_q_key = (SELECT min(task_q_key) FROM src_lease WHERE version = '10.1');
DELETE FROM src_lease WHERE task_q_key NOT IN (SELECT task_q_key FROM rollout_task_q);

-- Leases on the driver table (order_header), claimed by a 10.1 monitor agent.
SET rollout.version = '10.1';
CREATE TABLE src_monitor_lease AS
SELECT order_header_key, rollout_claim_token AS claim_token, rollout_version AS version
  FROM rollout_claim_rows('MONITOR', NULL::order_header, 4);
RESET rollout.version;
SELECT 'setup done';
SQL
)
check "source database set up" "setup done" "$(printf '%s' "$setup" | tail -n1)"
[ "$(printf '%s' "$setup" | tail -n1)" == "setup done" ] || printf '%s\n' "$setup" | head -20

# Answers the source gives before the dump, for comparison with the copy.
ROUTE_KEYS="SELECT 'NEW-' || g AS k FROM generate_series(1, 400) g"
src_routes=$(q src "SELECT string_agg(k || '=' || rollout_route(k)::text, ',' ORDER BY k) FROM ($ROUTE_KEYS) s")

# ---------------------------------------------------------------------------
# Fingerprints compared between the source and its copies.
# ---------------------------------------------------------------------------
# fingerprint of a relation: row count and md5 of every row's text, sorted.
rel_fp() {
	echo "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM $1 t"
}
declare -a FP_NAMES=() FP_SQL=()
add_fp() { FP_NAMES+=("$1"); FP_SQL+=("$2"); }
add_fp "extension and its version" \
	"SELECT extname || ' ' || extversion || ' ' || n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'rollout_ext'"
add_fp "extension configuration tables marked for dump" \
	"SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM pg_extension, unnest(extconfig) c WHERE extname = 'rollout_ext'"
for t in rollout_criteria rollout_versions rollout_ramp rollout_audit; do
	add_fp "config table $t, row for row" "$(rel_fp "$t")"
done
if [[ "$(q src "SELECT to_regclass('rollout_tagging') IS NOT NULL")" == t ]]; then
	add_fp "config table rollout_tagging, row for row" "$(rel_fp rollout_tagging)"
fi
add_fp "rollout_task_q rows (versions, holds, leases, tokens, counts)" "$(rel_fp rollout_task_q)"
add_fp "rollout_task_q versions per transaction" \
	"SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT transaction_id || '/' || coalesce(rollout_version::text, 'untagged') || '=' || count(*) AS x FROM rollout_task_q GROUP BY transaction_id, rollout_version) s"
add_fp "rollout_task_q key sequence" "SELECT last_value || '/' || is_called FROM rollout_task_q_task_q_key_seq"
for t in order_header order_line order_invoice order_event order_event_create order_event_other app_note src_lease src_monitor_lease; do
	add_fp "user table $t, row for row" "$(rel_fp "$t")"
done
add_fp "order versions (count per version)" \
	"SELECT string_agg(v || '=' || n, ',' ORDER BY v) FROM (SELECT coalesce(rollout_version::text, 'none') AS v, count(*) AS n FROM order_header GROUP BY 1) s"
add_fp "rollout_tag and rollout_guard triggers (definitions)" \
	"SELECT string_agg(c.relname || ': ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text, E'\\n' ORDER BY c.relname, t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname IN ('rollout_tag', 'rollout_guard')"
add_fp "rollout_tagged_tables" \
	"SELECT string_agg(tbl::text || '.' || column_name, ',' ORDER BY tbl::text) FROM rollout_tagged_tables"
add_fp "rollout_backlog counts" \
	"SELECT string_agg(concat_ws('/', criteria_id, version, ready, claimed, scheduled, held), ',' ORDER BY criteria_id, version) FROM rollout_backlog"
add_fp "rollout_drained per version" \
	"SELECT rollout_drained('9.4') || '/' || rollout_drained('10.1') || '/' || rollout_drained('8.2')"
add_fp "routing answers for 400 keys" \
	"SELECT string_agg(k || '=' || rollout_route(k)::text, ',' ORDER BY k) FROM ($ROUTE_KEYS) s"
add_fp "route buckets for 400 keys" \
	"SELECT md5(string_agg(k || '=' || rollout_route_bucket(k), ',' ORDER BY k)) FROM ($ROUTE_KEYS) s"

declare -a SRC_FP=()
for i in "${!FP_SQL[@]}"; do
	SRC_FP[i]=$(q src "${FP_SQL[i]}")
done

# ---------------------------------------------------------------------------
# Dump, restore.
# ---------------------------------------------------------------------------
dump_out=$("$PG_BINDIR/pg_dump" -Fc -f "$WORK/src.dump" src 2>&1)
check "pg_dump -Fc succeeds" "0" "$?${dump_out:+ $dump_out}"

q postgres "CREATE DATABASE dst" >/dev/null
restore_out=$("$PG_BINDIR/pg_restore" -d dst "$WORK/src.dump" 2>&1)
check "pg_restore into a new database succeeds without errors" "0" "$?${restore_out:+ $restore_out}"

q postgres "CREATE DATABASE dst_parallel" >/dev/null
restore_out=$("$PG_BINDIR/pg_restore" -j 4 -d dst_parallel "$WORK/src.dump" 2>&1)
check "parallel pg_restore (-j 4) succeeds without errors" "0" "$?${restore_out:+ $restore_out}"

for i in "${!FP_SQL[@]}"; do
	check_same "restored: ${FP_NAMES[i]}" "${SRC_FP[i]}" "$(q dst "${FP_SQL[i]}")"
done
par_diff=()
for i in "${!FP_SQL[@]}"; do
	[ "${SRC_FP[i]}" == "$(q dst_parallel "${FP_SQL[i]}")" ] || par_diff+=("${FP_NAMES[i]}")
done
check "parallel restore: all ${#FP_SQL[@]} fingerprints equal the source" "" "${par_diff[*]}"

# ---------------------------------------------------------------------------
# The restored database works.
# ---------------------------------------------------------------------------
D=dst
# The definition of pg_temp.sqlstate_of(stmt): the SQLSTATE the statement
# raises, or "ok".
sqlstate_sql() {
	cat <<SQL
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
\$f\$;
SQL
}

# Tagging: inheritance (parent versions 9.4 for even PO keys, 10.1 for odd),
# the session version, the custom column, untagged refusal.
check "tagging: child inherits its parent's version, not the session's" "940000000,1010000000" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
INSERT INTO order_line (order_header_key, item) VALUES ('PO-2', 'after restore');
SET rollout.version = '9.4';
INSERT INTO order_line (order_header_key, item) VALUES ('PO-1', 'after restore');
SELECT string_agg(rollout_version::text, ',' ORDER BY order_header_key DESC) FROM order_line WHERE item = 'after restore';
SQL
)"
check "tagging: inheritance through differently named key columns (parent_columns)" "940000000|1010000000" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
INSERT INTO order_invoice (hdr_key, amount) VALUES ('PO-2', -1);
INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER-2', -2);
SELECT max(rollout_version::text) FILTER (WHERE amount = -1) || '|' ||
       max(rollout_version::text) FILTER (WHERE amount = -2)
  FROM order_invoice;
SQL
)" 
check "tagging: partitions of a tagged partitioned table inherit" "1010000000,1010000000" \
	"$(qf $D <<'SQL'
SET rollout.version = '9.4';
WITH ins AS (INSERT INTO order_event (order_header_key, kind)
             VALUES ('PO-1', 'create'), ('PO-1', 'restore-check') RETURNING rollout_version)
SELECT string_agg(rollout_version::text, ',') FROM ins;
SQL
)"
check "tagging: custom column takes the session version, untagged when allowed" "1010000000|" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
INSERT INTO app_note (body) VALUES ('restored 10.1');
RESET rollout.version;
INSERT INTO app_note (body) VALUES ('restored untagged');
SELECT coalesce(max(created_version::text) FILTER (WHERE body = 'restored 10.1'), 'missing') || '|' ||
       coalesce(max(created_version::text) FILTER (WHERE body = 'restored untagged'), '')
  FROM app_note;
SQL
)"
check "tagging: a row with no version source fails closed (55000)" "55000" \
	"$( { sqlstate_sql; echo "SELECT pg_temp.sqlstate_of(\$\$INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER-3', 0)\$\$);"; } | qf $D | tail -n1)"

# Routing: new orders in the copy get the versions the source's ramp gave.
dst_new_orders=$(qf $D <<SQL
SET rollout.version = '9.4';
INSERT INTO order_header (order_header_key, document_type) SELECT k, '0001' FROM ($ROUTE_KEYS) s;
SELECT string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key)
  FROM order_header WHERE order_header_key LIKE 'NEW-%';
SQL
)
check_same "routing: new orders routed in the copy get the source's answers" "$src_routes" "$dst_new_orders"
check "routing: the ramp split is still 25%" "25.00" "$(q $D "SELECT percent FROM rollout_ramp")"

# Guards.
check "guard: a 9.4 session may not update a 10.1 order (RV001)" "RV001" \
	"$( { sqlstate_sql; echo "SET rollout.version = '9.4';"; echo "SELECT pg_temp.sqlstate_of(\$\$UPDATE order_header SET status = 1500 WHERE order_header_key = 'PO-1'\$\$);"; } | qf $D | tail -n1)"
check "guard: nobody changes the version column by UPDATE (RV002)" "RV002" \
	"$( { sqlstate_sql; echo "SET rollout.version = '10.1';"; echo "SELECT pg_temp.sqlstate_of(\$\$UPDATE order_header SET rollout_version = '9.4' WHERE order_header_key = 'PO-1'\$\$);"; } | qf $D | tail -n1)"
check "guard: a 10.1 session may update a 9.4 order" "ok" \
	"$( { sqlstate_sql; echo "SET rollout.version = '10.1';"; echo "SELECT pg_temp.sqlstate_of(\$\$UPDATE order_header SET status = 1500 WHERE order_header_key = 'PO-2'\$\$);"; } | qf $D | tail -n1)"
check "guard: on the inheriting invoice table too (RV001)" "RV001" \
	"$( { sqlstate_sql; echo "SET rollout.version = '9.4';"; echo "SELECT pg_temp.sqlstate_of(\$\$DELETE FROM order_invoice WHERE hdr_key = 'PO-1'\$\$);"; } | qf $D | tail -n1)"

# Claims on the task queue: each version gets exactly its own due, unheld,
# unleased rows; the leases from before the dump still hold.
claim_check() {  # version
	qf $D <<SQL
BEGIN;
CREATE TEMP TABLE expected ON COMMIT DROP AS
SELECT task_q_key FROM rollout_task_q
 WHERE transaction_id = 'SCHEDULE.0001' AND rollout_version = '$1'
   AND NOT hold_flag AND available_date <= now();
SET LOCAL rollout.version = '$1';
CREATE TEMP TABLE got ON COMMIT DROP AS SELECT * FROM rollout_claim('SCHEDULE.0001', 100000);
SELECT (SELECT count(*) FROM expected) > 0,
       (SELECT count(*) FROM got) = (SELECT count(*) FROM expected),
       NOT EXISTS (SELECT task_q_key FROM expected EXCEPT SELECT task_q_key FROM got),
       (SELECT bool_and(rollout_version = '$1' AND claim_token IS NOT NULL) FROM got),
       NOT EXISTS (SELECT FROM got JOIN src_lease USING (task_q_key)),
       (SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) FROM got)
         = (SELECT count(*) FROM got);
COMMIT;
SQL
}
check "claim as 9.4: exactly its due rows, none leased before the dump, all completed" "t|t|t|t|t|t" "$(claim_check 9.4)"
check "claim as 10.1: exactly its due rows, none leased before the dump, all completed" "t|t|t|t|t|t" "$(claim_check 10.1)"
check "claim as 9.4 again: nothing left for it" "0" \
	"$(q $D "SELECT count(*) FROM rollout_claim('SCHEDULE.0001', 100, '9.4')")"
check "claims found nothing of the other version left behind" "0|0" \
	"$(q $D "SELECT count(*) FILTER (WHERE rollout_version = '9.4'), count(*) FILTER (WHERE rollout_version = '10.1') FROM rollout_task_q WHERE transaction_id = 'SCHEDULE.0001' AND NOT hold_flag AND available_date <= now()")"
check "base-version claim as 10.1 takes 9.4 and 10.1 rows" "t|t|t" \
	"$(qf $D <<'SQL'
BEGIN;
CREATE TEMP TABLE got ON COMMIT DROP AS SELECT * FROM rollout_claim('RELEASE.0001', 100000, '10.1');
SELECT count(*) FILTER (WHERE rollout_version = '9.4') > 0,
       count(*) FILTER (WHERE rollout_version = '10.1') > 0,
       count(*) = (SELECT count(*) FROM rollout_task_q WHERE transaction_id = 'RELEASE.0001'
                    AND NOT hold_flag AND claim_token IS NOT NULL AND available_date > now())
  FROM got;
ROLLBACK;
SQL
)"
check "a lease handed out before the dump completes with its old token" "11|0" \
	"$(q $D "SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) FROM src_lease")|$(q $D "SELECT count(*) FROM rollout_task_q WHERE task_q_key IN (SELECT task_q_key FROM src_lease)")"
check "completion is still fenced: a wrong token changes nothing" "f|1" \
	"$(q $D "SELECT rollout_complete((SELECT min(task_q_key) FROM rollout_task_q WHERE hold_flag), gen_random_uuid()), (SELECT count(*) FROM rollout_task_q WHERE task_q_key = (SELECT min(task_q_key) FROM rollout_task_q WHERE hold_flag))")"
check "retry works: a retried row is claimed again with a higher claim count" "t|t" \
	"$(qf $D <<'SQL'
CREATE TEMP TABLE c1 AS SELECT * FROM rollout_claim('RELEASE.0001', 1, '9.4');
CREATE TEMP TABLE r AS SELECT rollout_retry(task_q_key, claim_token, '0') AS ok FROM c1;
-- The retried row is due again now, behind the older due rows: claim them all.
CREATE TEMP TABLE c2 AS SELECT * FROM rollout_claim('RELEASE.0001', 100000, '9.4');
SELECT (SELECT ok FROM r),
       EXISTS (SELECT FROM c1 JOIN c2 USING (task_q_key)
                WHERE c2.claim_count = c1.claim_count + 1 AND c2.claim_token <> c1.claim_token);
SQL
)"
check "new tasks get fresh keys and the session's version" "t|1010000000" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'after-restore');
SELECT task_q_key > (SELECT max(task_q_key) FROM rollout_task_q WHERE data_key <> 'after-restore'),
       rollout_version
  FROM rollout_task_q WHERE data_key = 'after-restore';
SQL
)"

# Claims on the driver table (order_header, due column next_alert_ts).
check "driver-table claim as 10.1: only 10.1 orders, none leased before the dump" "t|t|t" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
CREATE TEMP TABLE got AS SELECT * FROM rollout_claim_rows('MONITOR', NULL::order_header, 100000);
SELECT count(*) > 0, bool_and(rollout_version = '10.1'),
       NOT EXISTS (SELECT FROM got g JOIN src_monitor_lease USING (order_header_key))
  FROM got;
SQL
)"
check "driver-table lease from before the dump completes with its old token" "t|0" \
	"$(qf $D <<'SQL'
SET rollout.version = '10.1';
CREATE TEMP TABLE done AS
SELECT bool_and(rollout_complete_rows('MONITOR', order_header_key, claim_token)) AS ok
  FROM src_monitor_lease;
SELECT (SELECT ok FROM done),
       (SELECT count(*) FROM order_header h JOIN src_monitor_lease l USING (order_header_key)
         WHERE h.rollout_claim_token IS NOT NULL OR h.next_alert_ts IS NOT NULL);
SQL
)"

# Control functions write rollout_audit; its key sequence must have come along.
check "audited control functions work after the restore (register, ramp)" "t" \
	"$(qf $D <<'SQL' | tail -n1
SELECT rollout_register_version('11.0', 'V3');
SELECT rollout_set_ramp('9.4', '10.1', 50);
SELECT count(*) = 2 FROM rollout_audit
 WHERE (action = 'register' AND version = '11.0')
    OR (action = 'set_ramp' AND (detail ->> 'percent')::numeric = 50);
SQL
)"
check "rollout_audit key sequence restored (next id above existing ids)" "t" \
	"$(q $D "SELECT (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM rollout_audit_audit_id_seq) >= (SELECT max(audit_id) FROM rollout_audit)")"
check "phase-out works on the copy: 9.4 rows move to 10.1 (leased ones stay)" "t|t|0" \
	"$(qf $D <<'SQL'
SET client_min_messages = warning;
SET rollout.version = '10.1';
CREATE TEMP TABLE po (moved bigint, remaining bigint, state text);
CALL rollout_phase_out('9.4', '10.1', 1000, NULL, NULL, NULL) \gset po_
INSERT INTO po VALUES (:po_moved, :po_remaining, :'po_state');
SELECT moved > 0, state IN ('draining', 'retired'),
       (SELECT count(*) FROM order_header WHERE rollout_version = '9.4')
  FROM po;
SQL
)"

# ---------------------------------------------------------------------------
# Edge cases, each in a small database of its own.
# ---------------------------------------------------------------------------
# Untagged legacy tasks (written while rollout_task_q allowed untagged rows,
# which base-version criteria are documented to claim) must survive.
q postgres "CREATE DATABASE edge_untagged" >/dev/null
qf edge_untagged >/dev/null <<'SQL'
CREATE EXTENSION rollout_ext;
SELECT rollout_define_criteria('CLOSE_ORDER.0001', base_version => true);
SELECT rollout_enable_tagging('rollout_task_q', if_unset => 'null');
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('CLOSE_ORDER.0001', 'legacy-1');
SELECT rollout_enable_tagging('rollout_task_q');
SET rollout.version = '9.4';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('CLOSE_ORDER.0001', 'tagged-1');
SQL
"$PG_BINDIR/pg_dump" -Fc -f "$WORK/edge_untagged.dump" edge_untagged
q postgres "CREATE DATABASE edge_untagged_copy" >/dev/null
# Rows the source accepted (untagged, or of a since-retired version) are
# restored as they are with rollout.restoring, as the README says.
restore_out=$(PGOPTIONS='-c rollout.restoring=on' "$PG_BINDIR/pg_restore" -d edge_untagged_copy "$WORK/edge_untagged.dump" 2>&1)
rc=$?
check "edge: untagged legacy task rows survive dump/restore" "0|legacy-1=,tagged-1=940000000" \
	"$rc|$(q edge_untagged_copy "SELECT string_agg(data_key || '=' || coalesce(rollout_version::text, ''), ',' ORDER BY data_key) FROM rollout_task_q")"
[ $rc -eq 0 ] || printf '       %s\n' "$(printf '%s' "$restore_out" | grep -m1 ERROR)"

# Tasks of a retired version (V2 rolled back and retired, rows kept for
# analysis) must restore in any order of the data sections, as a parallel
# restore may load them: here rollout_versions before rollout_task_q.
q postgres "CREATE DATABASE edge_retired" >/dev/null
qf edge_retired >/dev/null <<'SQL'
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4');
SELECT rollout_register_version('10.1');
SELECT rollout_define_criteria('SCHEDULE.0001');
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
VALUES ('SCHEDULE.0001', 'v1-task', '9.4'), ('SCHEDULE.0001', 'v2-task', '10.1');
SELECT rollout_set_ramp('9.4', '10.1', 0);
SELECT rollout_set_version_state('10.1', 'retired');
SQL
"$PG_BINDIR/pg_dump" -Fc -f "$WORK/edge_retired.dump" edge_retired
"$PG_BINDIR/pg_restore" -l "$WORK/edge_retired.dump" >"$WORK/toc.list"
# The same TOC with the rollout_versions data entry moved before rollout_task_q's.
awk '/TABLE DATA .*rollout_versions /{next} /TABLE DATA .*rollout_task_q /{print v} {print}' \
	v="$(grep 'TABLE DATA .*rollout_versions ' "$WORK/toc.list")" "$WORK/toc.list" >"$WORK/toc_reordered.list"
q postgres "CREATE DATABASE edge_retired_copy" >/dev/null
restore_out=$(PGOPTIONS='-c rollout.restoring=on' "$PG_BINDIR/pg_restore" -L "$WORK/toc_reordered.list" -d edge_retired_copy "$WORK/edge_retired.dump" 2>&1)
rc=$?
check "edge: tasks of a retired version survive a restore that loads rollout_versions first" \
	"0|v1-task=940000000,v2-task=1010000000" \
	"$rc|$(q edge_retired_copy "SELECT string_agg(data_key || '=' || rollout_version::text, ',' ORDER BY data_key) FROM rollout_task_q")"
[ $rc -eq 0 ] || printf '       %s\n' "$(printf '%s' "$restore_out" | grep -m1 ERROR)"

reported=1
echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
