#!/usr/bin/env bash
# The real load balancers agree with the database key by key: nginx
# (split_clients) and HAProxy (crc32,mod(10000)), from Debian, configured by
# rollout_lb_config and started on a local port at ramps of 0.01% to 100%,
# route each of 20,000 keys to the backend whose version rollout_route gives
# (test/loadbalancer/lb_agreement.py). Then the README's ramp-up and rollback
# runbooks, walked with nginx live in front of a V1 and a V2 server writing
# guarded orders: no RV001, nothing left on V2 (runbook_walk.py). Starts its
# own cluster; installs what it lacks. The last line is
# "loadbalancer: N passed, N failed".
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)/cluster.sh"
set +e
set -u -o pipefail

passed=0
failed=0
summary() { echo "loadbalancer: $passed passed, $failed failed"; }

ensure_dependencies
declare -A LB_PACKAGES=(
	[nginx-light]=/usr/sbin/nginx
	[haproxy]=/usr/sbin/haproxy
	[python3-psycopg]=/usr/lib/python3/dist-packages/psycopg/__init__.py
)
ensure_packages LB_PACKAGES
# The tests start their own nginx and HAProxy, on ports of their own.
echo "== $(/usr/sbin/nginx -v 2>&1), $(/usr/sbin/haproxy -v | head -n1 | cut -d' ' -f1-3)"

export PYTHONPATH=$REPO_ROOT/test/python:$REPO_ROOT/test/loadbalancer
start_cluster -c fsync=off
WORK=$(mktemp -d /tmp/rollout_lb.XXXXXX)
cleanup() {
	pkill -F "$WORK/nginx.pid" 2>/dev/null
	pkill -F "$WORK/walk-nginx.pid" 2>/dev/null
	rm -rf "$WORK"
	stop_cluster
	summary
}
trap cleanup EXIT

# UTF-8, so that a key's bytes in the database are the bytes in the header.
psql -X -q -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE lb TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" \
	-c '\c lb' -c 'CREATE EXTENSION rollout_ext'
/usr/bin/python3 "$REPO_ROOT/test/loadbalancer/lb_agreement.py" \
	"host=$PGHOST port=$PGPORT dbname=lb user=postgres" "$WORK" "$(free_port)" >"$WORK/lb.log" 2>&1
status=$?
psql -X -q -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE walk TEMPLATE template0 ENCODING 'UTF8'" -c '\c walk' -c 'CREATE EXTENSION rollout_ext'
/usr/bin/python3 "$REPO_ROOT/test/loadbalancer/runbook_walk.py" \
	"host=$PGHOST port=$PGPORT dbname=walk user=postgres" "$WORK" \
	"$(free_port)" "$(free_port)" "$(free_port)" >"$WORK/walk.log" 2>&1
walk_status=$?
for log in lb walk; do
	cat "$WORK/$log.log"
	passed=$((passed + $(grep -c '^ok - ' "$WORK/$log.log")))
	failed=$((failed + $(grep -c '^not ok - ' "$WORK/$log.log")))
done
if [ $((status + walk_status)) -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$failed" -eq 0 ]
