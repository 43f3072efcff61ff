#!/usr/bin/env bash
# rollout.version behind PgBouncer in transaction pool mode, pool size 1, so
# every client shares ONE server connection (one backend).
#
# Shows that the documented pooler-safe forms work (SET LOCAL,
# set_config(..., true), the as_version argument of rollout_claim), that they
# leave nothing behind for the next client (which then fails closed with
# SQLSTATE 55000), and demonstrates, loudly, the misuse the README warns about:
# a session-level SET by one client leaks to another client on the same server
# connection.
#
# Usage (as root): bash test/reliability/pooler_test.sh
# Last line: "pooler: N passed, N failed"; exit status 1 if any check failed.
set -euo pipefail

NAME=pooler
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/cluster.sh
source "$REPO_ROOT/test/scripts/cluster.sh"
source "$REPO_ROOT/test/scripts/pgbouncer.sh"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
info() { echo "  # $*"; }
# check DESCRIPTION EXPECTED ACTUAL
check() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1 (expected [$2], got [$3])"; fi
}

finish() {
	echo "$NAME: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

ensure_dependencies
declare -A POOLER_PACKAGES=([pgbouncer]=/usr/sbin/pgbouncer)
ensure_packages POOLER_PACKAGES

start_cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off
DB=pooltest

# Everything of ours lives under WORK; removed at exit with the cluster.
WORK=$(mktemp -d /tmp/rollout_ext_pooler.XXXXXX)
chmod 755 "$WORK"
CLIENT_PIDS=()

cleanup() {
	local pid
	for fd in "${CLIENT_FDS[@]:-}"; do
		[ -n "$fd" ] && eval "exec $fd>&-" 2>/dev/null || true
	done
	for pid in "${CLIENT_PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	stop_pgbouncer
	rm -rf "$WORK"
	stop_cluster
}
trap cleanup EXIT

# Direct (not pooled) superuser access, for set-up and verification.
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION rollout_ext;
CREATE TABLE orders (order_key text PRIMARY KEY, note text);
SELECT rollout_enable_tagging('orders');
SELECT rollout_define_criteria('POOL.TASK', batch_size => 100);
SQL

# --- PgBouncer: transaction pooling, one server connection for everyone ------
# No reset query: what a client leaves in the session is what the next one
# gets, which is the point of this suite.
start_pgbouncer "$WORK/pgbouncer" "$DB" postgres min_pool_size=0 reserve_pool_size=0 \
	max_db_connections=1 "server_reset_query =" server_reset_query_always=0 admin_users=postgres

# --- Long-lived pooled clients, driven line by line through FIFOs ------------
declare -A CLIENT_FD
CLIENT_FDS=()
client_start() {  # NAME
	local name=$1 fd
	mkfifo "$WORK/$name.in"
	PGHOST=127.0.0.1 PGPORT=$BOUNCER_PORT PGAPPNAME="client_$name" \
		psql -X -q -At -v ON_ERROR_STOP=0 -d "$DB" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	CLIENT_PIDS+=($!)
	exec {fd}>"$WORK/$name.in"
	CLIENT_FD[$name]=$fd
	CLIENT_FDS+=("$fd")
	echo 0 >"$WORK/$name.seq"
	echo '\set VERBOSITY verbose' >&"$fd"
}
# client NAME SQL: runs SQL on that client, prints what psql printed (errors
# included, as "ERROR:  SQLSTATE: message").
client() {
	# Called inside $(...), so the sequence number lives in a file.
	local name=$1 sql=$2 fd=${CLIENT_FD[$1]} seq
	seq=$(($(cat "$WORK/$name.seq") + 1))
	echo "$seq" >"$WORK/$name.seq"
	local begin="__begin_${seq}__" end="__end_${seq}__"
	printf '\\echo %s\n%s\n\\echo %s\n' "$begin" "$sql" "$end" >&"$fd"
	local waited=0
	until grep -qx "$end" "$WORK/$name.out"; do
		sleep 0.02
		waited=$((waited + 1))
		if [ "$waited" -gt 1000 ]; then
			echo "$name: $sql" >>"$WORK/timeouts"
			echo "__timeout__"
			return 0
		fi
	done
	sed -n "/^${begin}\$/,/^${end}\$/p" "$WORK/$name.out" | sed '1d;$d'
}
# The SQLSTATE of the first error in some client output, or "none".
sqlstate() { grep -o -m1 'ERROR:  [0-9A-Z]\{5\}' <<<"$1" | awk '{print $2}' || true; }
state_of() { local s; s=$(sqlstate "$1"); echo "${s:-none}"; }
# The value printed by the last SELECT of some client output (its last line
# that is not a notice, warning or error).
last_value() { grep -v -e '^WARNING' -e '^NOTICE' -e '^ERROR' -e '^LOCATION' -e '^HINT' -e '^DETAIL' -e '^CONTEXT' -e '^QUERY' <<<"$1" | tail -1; }

client_start A
client_start B

# --- 0. the two clients really share one server connection ------------------
pid_a=$(last_value "$(client A 'SELECT pg_backend_pid();')")
pid_b=$(last_value "$(client B 'SELECT pg_backend_pid();')")
info "client A is on backend $pid_a, client B on backend $pid_b"
check "pooled clients A and B share one server connection (backend pid)" "$pid_a" "$pid_b"
check "the server has exactly one pooled backend" "1" \
	"$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")"
SERVER_PID=$pid_a

# --- (a) BEGIN; SET LOCAL rollout.version; INSERT; COMMIT from two clients ---
for round in 1 2 3; do
	client A "BEGIN; SET LOCAL rollout.version = '10.1'; INSERT INTO orders VALUES ('A-$round', 'from A'); COMMIT;" >/dev/null
	client B "BEGIN; SET LOCAL rollout.version = '10.2.0.1'; INSERT INTO orders VALUES ('B-$round', 'from B'); COMMIT;" >/dev/null
done
check "(a) SET LOCAL: 3 rows of client A tagged 10.1 (1010000000)" "3" \
	"$(sql "SELECT count(*) FROM orders WHERE order_key LIKE 'A-%' AND rollout_version = '10.1'")"
check "(a) SET LOCAL: 3 rows of client B tagged 10.2.0.1 (1020010000)" "3" \
	"$(sql "SELECT count(*) FROM orders WHERE order_key LIKE 'B-%' AND rollout_version = '10.2.0.1'")"
check "(a) SET LOCAL: no row carries the other client's version" "0" \
	"$(sql "SELECT count(*) FROM orders WHERE (order_key LIKE 'A-%') = (rollout_version = '10.2.0.1')")"
out=$(client A "BEGIN; SET LOCAL rollout.version = '10.1'; INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('POOL.TASK', 'task-A') RETURNING rollout_version; COMMIT;")
check "(a) SET LOCAL: task row inserted by client A into rollout_task_q is tagged 10.1" "1010000000" "$(last_value "$out")"
check "(a) after client A's SET LOCAL transaction, client B sees no version (SHOW)" "" \
	"$(last_value "$(client B 'SHOW rollout.version;')")"

# --- (b) set_config('rollout.version', v, true) ------------------------------
out=$(client A "BEGIN; SELECT set_config('rollout.version', '10.1', true); INSERT INTO orders VALUES ('A-cfg', 'set_config') RETURNING rollout_version; COMMIT;")
check "(b) set_config(..., true) in a transaction tags client A's row 10.1" "1010000000" "$(last_value "$out")"
out=$(client B "BEGIN; SELECT set_config('rollout.version', '1020010000', true); INSERT INTO orders VALUES ('B-cfg', 'set_config') RETURNING rollout_version; COMMIT;")
check "(b) set_config(..., true) in a transaction tags client B's row 10.2.0.1" "1020010000" "$(last_value "$out")"
check "(b) set_config(..., true) does not outlive the transaction (client A sees none)" "" \
	"$(last_value "$(client A "SELECT current_setting('rollout.version');")")"
# Outside a transaction block, SET LOCAL / set_config(..., true) last one
# statement only: the following insert must fail closed, not use a stale value.
out=$(client A "SET LOCAL rollout.version = '10.1';")
grep -q 'WARNING:  25P01' <<<"$out" && pass "(b) SET LOCAL outside a transaction block draws WARNING 25P01 through the pooler" ||
	fail "(b) SET LOCAL outside a transaction block: expected WARNING 25P01, got [$out]"
out=$(client A "INSERT INTO orders VALUES ('A-nolocal', 'no version');")
check "(b) ...and the next autocommit INSERT fails closed with 55000" "55000" "$(state_of "$out")"

# --- (c) as_version: claim with no session setting ---------------------------
sql "SET rollout.version = '10.1'; INSERT INTO rollout_task_q (transaction_id, data_key) SELECT 'POOL.TASK', 'v1-' || g FROM generate_series(1, 5) g;
     SET rollout.version = '10.2.0.1'; INSERT INTO rollout_task_q (transaction_id, data_key) SELECT 'POOL.TASK', 'v2-' || g FROM generate_series(1, 4) g;"
check "(c) client A has no session version before claiming" "" "$(last_value "$(client A 'SHOW rollout.version;')")"
out=$(client A "SELECT count(*) || ':' || count(*) FILTER (WHERE rollout_version = '10.1') FROM rollout_claim('POOL.TASK', as_version => '10.1');")
check "(c) client A claims with as_version => '10.1': 6 rows, all 10.1" "6:6" "$(last_value "$out")"
out=$(client B "SELECT count(*) || ':' || count(*) FILTER (WHERE rollout_version = '10.2.0.1') FROM rollout_claim('POOL.TASK', as_version => '10.2.0.1');")
check "(c) client B claims with as_version => '10.2.0.1': 4 rows, all 10.2.0.1" "4:4" "$(last_value "$out")"
check "(c) every claimed row holds a claim token" "10" \
	"$(sql "SELECT count(*) FROM rollout_task_q WHERE claim_token IS NOT NULL")"
out=$(client B "SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) FROM rollout_task_q WHERE rollout_version = '10.2.0.1';")
check "(c) client B completes its 4 rows through the pooler" "4" "$(last_value "$out")"
out=$(client A "SELECT count(*) FROM rollout_claim('POOL.TASK');")
check "(c) a claim with neither as_version nor rollout.version fails closed (55000)" "55000" "$(state_of "$out")"

# --- (d) transaction-local settings leave nothing behind ----------------------
client A "BEGIN; SET LOCAL rollout.version = '10.1'; SELECT 1; COMMIT;" >/dev/null
pid_b=$(last_value "$(client B 'SELECT pg_backend_pid();')")
check "(d) client B is on the same server connection client A just used" "$SERVER_PID" "$pid_b"
check "(d) after A's SET LOCAL, B's rollout_current_version() is NULL" "<null>" \
	"$(last_value "$(client B "SELECT coalesce(rollout_current_version()::text, '<null>');")")"
out=$(client B "INSERT INTO orders VALUES ('B-none', 'B forgot its version');")
check "(d) after A's SET LOCAL, B's tagged INSERT with no version fails closed (55000)" "55000" "$(state_of "$out")"
out=$(client B "SELECT count(*) FROM rollout_claim('POOL.TASK');")
check "(d) after A's SET LOCAL, B's claim with no version fails closed (55000)" "55000" "$(state_of "$out")"
check "(d) the refused insert wrote nothing" "0" "$(sql "SELECT count(*) FROM orders WHERE order_key = 'B-none'")"

# --- (d) MISUSE: session-level SET leaks to the next client -------------------
echo "  # ---- MISUSE DEMONSTRATION: a session-level SET behind a transaction pooler ----"
client A "SET rollout.version = '10.1';" >/dev/null
pid_b=$(last_value "$(client B 'SELECT pg_backend_pid();')")
leaked=$(last_value "$(client B "SELECT coalesce(rollout_current_version()::text, '<null>');")")
check "(d) misuse: client B is on the server connection where client A ran a session SET" "$SERVER_PID" "$pid_b"
if [ "$leaked" == "1010000000" ]; then
	pass "(d) misuse detected: client A's session 'SET rollout.version = 10.1' LEAKED to client B (B sees $leaked); this is the misuse the README warns against"
	echo "  # WARNING: behind a transaction-mode pooler a session SET of rollout.version is"
	echo "  #          inherited by whichever client gets the server connection next; the"
	echo "  #          extension cannot see pooler clients. Use SET LOCAL, set_config(..., true)"
	echo "  #          or the as_version argument in every transaction."
else
	fail "(d) misuse demonstration: expected client A's session SET to be visible to B, got [$leaked]"
fi
out=$(client B "INSERT INTO orders VALUES ('B-leaked', 'B set no version') RETURNING rollout_version;")
check "(d) misuse: B's INSERT without any version of its own is silently tagged with A's leaked 10.1" "1010000000" "$(last_value "$out")"
echo "  # ^ the row B-leaked now belongs to 10.1 although client B never set a version"
# The documented defences still hold while the leak is present.
sql "SET rollout.version = '10.2.0.1'; INSERT INTO rollout_task_q (transaction_id, data_key) SELECT 'POOL.TASK', 'v2b-' || g FROM generate_series(1, 3) g;"
out=$(client B "SELECT count(*) || ':' || count(*) FILTER (WHERE rollout_version = '10.2.0.1') FROM rollout_claim('POOL.TASK', as_version => '10.2.0.1');")
check "(d) defence: B's claim with as_version => '10.2.0.1' ignores the leaked 10.1 (3 rows, all 10.2.0.1)" "3:3" "$(last_value "$out")"
out=$(client B "BEGIN; SET LOCAL rollout.version = '10.2.0.1'; INSERT INTO orders VALUES ('B-local', 'SET LOCAL over leak') RETURNING rollout_version; COMMIT;")
check "(d) defence: B's SET LOCAL overrides the leaked session value for its transaction" "1020010000" "$(last_value "$out")"
check "(d) ...and the leaked session value is back afterwards (it is still a leak)" "1010000000" \
	"$(last_value "$(client B "SELECT coalesce(rollout_current_version()::text, '<null>');")")"
client B "RESET rollout.version;" >/dev/null
check "(d) RESET by any client clears it for all clients on that connection (A sees none)" "<null>" \
	"$(last_value "$(client A "SELECT coalesce(rollout_current_version()::text, '<null>');")")"
out=$(client A "INSERT INTO orders VALUES ('A-after-reset', 'no version');")
check "(d) after RESET the connection fails closed again (55000)" "55000" "$(state_of "$out")"

# A session SET made at connect time (PGOPTIONS / startup packet) is a session
# setting too. PgBouncer keeps only a few startup parameters per client; a
# rollout.version option is refused rather than applied to the shared backend.
out=$(PGHOST=127.0.0.1 PGPORT=$BOUNCER_PORT PGOPTIONS='-c rollout.version=10.1' \
	psql -X -q -At -d "$DB" -c "SELECT coalesce(rollout_current_version()::text, '<null>')" 2>&1 || true)
if grep -qi 'unsupported startup parameter' <<<"$out"; then
	pass "(d) a connect-time rollout.version (PGOPTIONS) is refused by PgBouncer, not applied to the shared backend"
elif [ "$(last_value "$out")" == "<null>" ]; then
	pass "(d) a connect-time rollout.version (PGOPTIONS) is not applied to the shared backend"
else
	fail "(d) a connect-time rollout.version reached the shared backend: [$out]"
fi

check "no client request timed out" "0" "$(cat "$WORK/timeouts" 2>/dev/null | wc -l)"
check "the shared backend never changed (pool size 1 held)" "$SERVER_PID" \
	"$(last_value "$(client A 'SELECT pg_backend_pid();')")"

finish
