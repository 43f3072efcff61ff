#!/usr/bin/env bash
# Hot standby: a streaming replica of a primary with rollout_ext serves the
# read side (types, routing, backlog, drain status) and refuses claims with a
# clear read-only error. Starts its own primary and standby.
# The last line is "standby: N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/cluster.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
set +e
NAME=standby

start_cluster -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on
PRIMARY_PORT=$PGPORT
STANDBY_DIR=$CLUSTER_DIR/standby
STANDBY_PORT=$(free_port)
stop_standby() {
	as_postgres "$PG_BINDIR/pg_ctl" -D "$STANDBY_DIR" -m immediate stop >/dev/null 2>&1
	stop_cluster
}
trap stop_standby EXIT

psql -qX -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION rollout_ext;
SELECT rollout_define_criteria('SCHEDULE.0001');
SELECT rollout_set_ramp('9.4', '10.1', 10);
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key) SELECT 'SCHEDULE.0001', 'T' || g FROM generate_series(1, 50) g;
SQL

as_postgres "$PG_BINDIR/pg_basebackup" -h "$PGHOST" -p "$PRIMARY_PORT" -U postgres -D "$STANDBY_DIR" -R -X stream >/dev/null 2>&1
as_postgres "$PG_BINDIR/pg_ctl" -D "$STANDBY_DIR" -l "$CLUSTER_DIR/standby.log" -w \
	-o "-c port=$STANDBY_PORT -c unix_socket_directories=$CLUSTER_DIR/socket -c listen_addresses=''" \
	start >/dev/null
standby() { psql -qXAt -p "$STANDBY_PORT" "$@" 2>&1; }

# Wait for the standby to replay the primary's latest change.
psql -qX -c "INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version) VALUES ('SCHEDULE.0001', 'marker', '10.1')" >/dev/null
for _ in $(seq 1 50); do
	[ "$(standby -c "SELECT count(*) FROM rollout_task_q WHERE data_key = 'marker'")" = 1 ] && break
	sleep 0.2
done

check "standby is in recovery" t "$(standby -c 'SELECT pg_is_in_recovery()')"
check "type input and formatting" "10.1.0.11.12.13" "$(standby -c "SELECT rollout_version_format('1010111213')")"
check "routing matches the primary" "$(psql -qXAt -c "SELECT rollout_route('ORDER-42')")" "$(standby -c "SELECT rollout_route('ORDER-42')")"
check "backlog view" "SCHEDULE.0001|1010000000|51" "$(standby -c 'SELECT criteria_id, version, ready FROM rollout_backlog')"
check "drain status" "f|t" "$(standby -c "SELECT rollout_drained('10.1'), rollout_drained('9.4')")"
check "session version" "1010000000" "$(standby -c "SET rollout.version = '10.1'" -c 'SELECT rollout_current_version()')"
claim=$(standby -v VERBOSITY=verbose -c "SELECT count(*) FROM rollout_claim('SCHEDULE.0001', 1, '10.1')")
check "claim refused as read-only (25006)" "25006" "$(grep -oE '25006' <<<"$claim" | head -n1)"
echo "     $(grep -m1 ERROR <<<"$claim")"
check "nothing claimed on the primary" 0 "$(psql -qXAt -c 'SELECT count(*) FROM rollout_task_q WHERE claim_token IS NOT NULL')"

finish
