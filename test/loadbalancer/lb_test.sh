#!/usr/bin/env bash
# The real load balancers agree with the database key by key: nginx
# (split_clients) and HAProxy (crc32,mod(10000)), from Debian, configured by
# rollout_lb_config and started on a local port at ramps of 0.01% to 100%,
# route each of 20,000 keys to the backend whose version rollout_route gives
# (test/loadbalancer/lb_agreement.py). Starts its own cluster; installs what
# it lacks. The last line is "loadbalancer: N passed, N failed".
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
missing=()
for pkg in "${!LB_PACKAGES[@]}"; do
	[ -e "${LB_PACKAGES[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian starts the services it installs where it can; these tests start
# their own, on their own ports.
echo "== $(/usr/sbin/nginx -v 2>&1), $(/usr/sbin/haproxy -v | head -n1 | cut -d' ' -f1-3)"

start_cluster -c fsync=off
WORK=$(mktemp -d /tmp/rollout_lb.XXXXXX)
cleanup() {
	pkill -F "$WORK/nginx.pid" 2>/dev/null
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
cat "$WORK/lb.log"
passed=$(grep -c '^ok - ' "$WORK/lb.log")
failed=$(grep -c '^not ok - ' "$WORK/lb.log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$failed" -eq 0 ]
