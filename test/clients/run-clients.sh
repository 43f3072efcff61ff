#!/usr/bin/env bash
# make clients: the agents and servers of test/clients, on the drivers they are
# written with (PgJDBC, psycopg 3, psycopg2), against a throwaway cluster
# (library preloaded), directly and through PgBouncer in transaction mode.
#
#   1. each driver's checks: tagging per transaction, typed version
#      parameters, the claim/complete/retry cycle, reading versions and
#      tokens, COPY, the procedures with autocommit, and behind PgBouncer the
#      prepared-statement settings and a leaked session SET refused;
#   2. a concurrent run: 4 PgJDBC agent threads and 2 Python agents (psycopg
#      3 and psycopg2) over two versions, 20,000 tasks, every tenth failing
#      its first attempt; afterwards SQL checks that every task was completed
#      exactly once, by an agent of its own version, and none was lost.
#
# Installs what it lacks (Debian packages). The last line is
# "clients: N passed, N failed", counted from the "ok" / "not ok" lines the
# clients print and the checks below.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)/cluster.sh"
source "$REPO_ROOT/test/scripts/pgbouncer.sh"
set +e
set -u -o pipefail
HERE=$REPO_ROOT/test/clients
TASKS_PER_VERSION=${CLIENTS_TASKS_PER_VERSION:-10000}

passed=0
failed=0
summary() { echo "clients: $passed passed, $failed failed"; }
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1 (expected [$2], got [$3])"; fi; }
# Counts the "ok" / "not ok" lines of a client's output.
count_lines() {
	local log=$1 n
	cat "$log"
	n=$(grep -c '^ok - ' "$log")
	passed=$((passed + n))
	n=$(grep -c '^not ok - ' "$log")
	failed=$((failed + n))
}
# A client that exited non-zero without a "not ok" line died: one failure.
ran() {
	local status=$1 log=$2 what=$3
	if [ "$status" -ne 0 ] && ! grep -q '^not ok - ' "$log"; then
		not_ok "$what exited with status $status"
		tail -n 20 "$log"
	fi
}

ensure_dependencies
declare -A CLIENT_PACKAGES=(
	[default-jdk-headless]=/usr/bin/javac
	[libpostgresql-jdbc-java]=/usr/share/java/postgresql.jar
	[python3-psycopg]=/usr/lib/python3/dist-packages/psycopg/__init__.py
	[python3-psycopg2]=/usr/lib/python3/dist-packages/psycopg2/__init__.py
	[pgbouncer]=/usr/sbin/pgbouncer
)
ensure_packages CLIENT_PACKAGES
JAR=/usr/share/java/postgresql.jar
# Debian's python3 and its packages, not another python earlier on PATH.
PYTHON=/usr/bin/python3
export PYTHONPATH=$HERE/python:$REPO_ROOT/test/python

start_cluster -c fsync=off
WORK=$(mktemp -d /tmp/rollout_clients.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	stop_pgbouncer
	rm -rf "$WORK"
	stop_cluster
	summary
}
trap cleanup EXIT

DB=clients
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4', 'V1'), rollout_register_version('10.1', 'V2'),
       rollout_register_version('11.0', 'V3');
CREATE TABLE orders (order_key text PRIMARY KEY);
SELECT rollout_enable_tagging('orders');
SELECT rollout_define_criteria('CLIENT.CHECK', batch_size => 10);
SELECT rollout_define_criteria('CLIENT.RUN', batch_size => 50, lease => '1 minute');
-- What the concurrent run's agents did: completions commit with their row
-- here, retries with theirs.
CREATE TABLE client_done (task_q_key bigint, data_key text, task_version rollout_version,
                          agent text, agent_version rollout_version);
CREATE TABLE client_retried (task_q_key bigint, agent text);
-- The pooled role: a version set before the transaction is refused.
CREATE ROLE app LOGIN;
GRANT SELECT, INSERT ON orders TO app;
GRANT SELECT, INSERT, UPDATE, DELETE ON rollout_task_q TO app;
GRANT SELECT ON rollout_criteria, rollout_versions, rollout_ramp, rollout_tagging TO app;
ALTER ROLE app SET rollout.version_scope = 'transaction';
SQL

# PgBouncer 1.18, transaction mode, one server connection for all clients.
start_pgbouncer "$WORK/pgbouncer" "$DB" app
check "PgBouncer started in transaction mode" 1 \
	"$(psql -X -At -h 127.0.0.1 -p "$BOUNCER_PORT" -U app -d "$DB" -c 'SELECT 1' 2>&1)"

DIRECT_URL="jdbc:postgresql://127.0.0.1:$PGPORT/$DB?user=postgres"
POOLED_URL="jdbc:postgresql://127.0.0.1:$BOUNCER_PORT/$DB?user=app"
DIRECT_DSN="host=127.0.0.1 port=$PGPORT dbname=$DB user=postgres"
POOLED_DSN="host=127.0.0.1 port=$BOUNCER_PORT dbname=$DB user=app"

echo "== PgJDBC $(unzip -p "$JAR" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Implementation-Version: //p' | tr -d '\r')"
javac -d "$WORK/classes" -cp "$JAR" "$HERE"/java/*.java
check "the Java clients compile" 0 $?
java -cp "$WORK/classes:$JAR" ClientChecks checks "$DIRECT_URL" "$POOLED_URL" >"$WORK/java.log" 2>&1
status=$?
count_lines "$WORK/java.log"
ran $status "$WORK/java.log" "ClientChecks checks"

echo "== psycopg $($PYTHON -c 'import psycopg; print(psycopg.__version__)')"
$PYTHON "$HERE/python/psycopg3_client.py" checks "$DIRECT_DSN" "$POOLED_DSN" \
	>"$WORK/psycopg.log" 2>&1
status=$?
count_lines "$WORK/psycopg.log"
ran $status "$WORK/psycopg.log" "psycopg3_client.py checks"

echo "== psycopg2 $($PYTHON -c 'import psycopg2; print(psycopg2.__version__)')"
$PYTHON "$HERE/python/psycopg2_client.py" checks "$DIRECT_DSN" "$POOLED_DSN" >"$WORK/psycopg2.log" 2>&1
status=$?
count_lines "$WORK/psycopg2.log"
ran $status "$WORK/psycopg2.log" "psycopg2_client.py checks"

echo "== concurrent run: $TASKS_PER_VERSION tasks per version, 4 PgJDBC threads, psycopg and psycopg2 agents"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT 'CLIENT.RUN', 'R-' || v || '-' || g, v::rollout_version
  FROM unnest(ARRAY['9.4', '10.1']) v, generate_series(1, $TASKS_PER_VERSION) g;
CREATE TABLE client_seeded AS
SELECT task_q_key, data_key, rollout_version FROM rollout_task_q WHERE transaction_id = 'CLIENT.RUN';
SQL
started=$SECONDS
java -cp "$WORK/classes:$JAR" ClientChecks agents "$DIRECT_URL" CLIENT.RUN 9.4 2 >"$WORK/java94.log" 2>&1 &
pid_java94=$!
java -cp "$WORK/classes:$JAR" ClientChecks agents "$DIRECT_URL" CLIENT.RUN 10.1 2 >"$WORK/java101.log" 2>&1 &
pid_java101=$!
$PYTHON "$HERE/python/psycopg3_client.py" agent "$DIRECT_DSN" CLIENT.RUN 9.4 psycopg-9.4 \
	>"$WORK/py94.log" 2>&1 &
pid_py94=$!
$PYTHON "$HERE/python/psycopg2_client.py" agent "$DIRECT_DSN" CLIENT.RUN 10.1 psycopg2-10.1 \
	>"$WORK/py101.log" 2>&1 &
pid_py101=$!
for agent in java94 java101 py94 py101; do
	pid_var=pid_$agent
	wait "${!pid_var}"
	status=$?
	count_lines "$WORK/$agent.log"
	ran $status "$WORK/$agent.log" "agent $agent"
done
echo "   .. $((SECONDS - started)) s"

q() { psql -X -At -d "$DB" -c "$1"; }
total=$((2 * TASKS_PER_VERSION))
check "every task completed exactly once" "$total|$total" \
	"$(q "SELECT count(*), count(DISTINCT task_q_key) FROM client_done d JOIN client_seeded USING (task_q_key)")"
check "no task lost: none left in the queue, none missing from the completions" "0|0" \
	"$(q "SELECT (SELECT count(*) FROM rollout_task_q WHERE transaction_id = 'CLIENT.RUN'),
	             (SELECT count(*) FROM client_seeded s WHERE NOT EXISTS
	                 (SELECT FROM client_done d WHERE d.task_q_key = s.task_q_key))")"
check "every task done by an agent of its own version, which the claim reported" 0 \
	"$(q "SELECT count(*) FROM client_done d JOIN client_seeded s USING (task_q_key)
	       WHERE d.agent_version <> s.rollout_version OR d.task_version <> s.rollout_version")"
check "every retried task was completed later, by its own version" 0 \
	"$(q "SELECT count(*) FROM client_retried r LEFT JOIN client_done d USING (task_q_key)
	       WHERE d.task_q_key IS NULL")"
check "each kind of agent did work, and retries happened" "t" \
	"$(q "SELECT count(DISTINCT split_part(agent, '-', 1)) = 3 AND (SELECT count(*) FROM client_retried) > 0
	        FROM client_done")"
q "SELECT '   .. ' || agent || ': ' || count(*) || ' completed' FROM client_done
    JOIN client_seeded USING (task_q_key) GROUP BY agent ORDER BY agent"
[ "$failed" -eq 0 ]
