#!/usr/bin/env bash
# A direct claim racing DDL on its queue table. The claim's plan (its index,
# its columns) is cached per backend; a DROP INDEX or ALTER TABLE that commits
# while a claim waits for the table invalidates it for the next claim, and the
# waiting claim itself must notice and run the statement, instead of opening
# an index that no longer exists or writing its token into a dropped column.
#
# The claimer uses a prepared statement, as agents do, so nothing locks the
# table before the claim itself. The DDL session holds its lock for 3 seconds,
# during which the claimer's third claim starts and waits.
#
# Usage (as root): bash test/reliability/ddl_race_test.sh
# Last line: "ddl_race: N passed, N failed".
set -euo pipefail
NAME=ddl_race
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/cluster.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

ensure_dependencies
start_cluster
PSQL=("$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
WORK=$(mktemp -d /tmp/rollout_ext_ddl_race.XXXXXX)
trap 'rm -rf "$WORK"; stop_cluster' EXIT

"${PSQL[@]}" <<'SQL'
CREATE EXTENSION rollout_ext;
CREATE TABLE driver (id bigint PRIMARY KEY, txn text NOT NULL, due timestamptz NOT NULL,
                     ver rollout_version, token uuid);
CREATE INDEX driver_claim ON driver (txn, ver, due, id);
INSERT INTO driver SELECT g, 'DRIVER', '2026-01-01'::timestamptz + g * interval '1 second', '10.1'
  FROM generate_series(1, 10) g;
SELECT rollout_define_criteria('DRIVER', queue_table => 'driver', key_column => 'id',
	due_column => 'due', version_column => 'ver', transaction_column => 'txn',
	token_column => 'token', batch_size => 1);
SQL

# claimer: two claims that plan and use the direct claim, then one that
# starts while the DDL holds the table, then one after.
claim() {
	"${PSQL[@]}" -At -c "SET rollout.version = '10.1'" -c "SET plan_cache_mode = force_generic_plan" \
		-c "SET client_min_messages = debug1" \
		-c "PREPARE claim AS SELECT id FROM rollout_claim_rows('DRIVER', NULL::driver)" \
		-c "EXECUTE claim" -c "EXECUTE claim" -c "SELECT pg_sleep(2)" \
		-c "EXECUTE claim" -c "EXECUTE claim"
}
# race DDL DESCRIPTION TOKENS: DDL runs in a transaction that holds the table
# for 3 seconds; TOKENS rows must then hold a token in the token column.
race() {
	"${PSQL[@]}" -c "UPDATE driver SET due = '2026-01-01'::timestamptz + id * interval '1 second', token = NULL"
	claim >"$WORK/claim.out" 2>&1 &
	local claimer=$!
	sleep 1
	"${PSQL[@]}" -c "BEGIN" -c "$1" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null
	local rc=0
	wait "$claimer" || rc=$?
	check "$2: the waiting claim succeeds" "0" "$rc"
	check "$2: four claims, four different rows" "1 2 3 4" \
		"$(grep -E '^[0-9]+$' "$WORK/claim.out" | tr '\n' ' ' | sed 's/ $//')"
	check "$2: the waiting claim ran the statement" "1" \
		"$(grep -c 'claims with a statement: the table changed since the claim was planned' "$WORK/claim.out" || true)"
	check "$2: every claim after the change wrote the current token column" "$3" \
		"$("${PSQL[@]}" -At -c "SELECT count(*) FROM driver WHERE token IS NOT NULL")"
	if [ "$rc" -ne 0 ]; then sed 's/^/     /' "$WORK/claim.out"; fi
}

# Only the drop: building an index updates pg_class in place, which other
# backends see before the commit, so they would reload the plan first.
race "DROP INDEX driver_claim" "claim index dropped" 4
"${PSQL[@]}" -c "CREATE INDEX driver_claim ON driver (txn, ver, due, id)"
# The two claims before the change wrote the column that is dropped.
race "ALTER TABLE driver DROP COLUMN token; ALTER TABLE driver ADD COLUMN token uuid" \
	"token column dropped and added again" 2

finish
