#!/usr/bin/env bash
# make demo: builds and installs rollout_ext, builds the demo driver
# (test/demo/driver), starts a throwaway cluster, loads the reference schema
# and plays a whole staged rollout of the reference agents, live, ending with
# an audit whose invariants decide the exit status.
#
# Driver options come from DEMO_ARGS and from this script's arguments:
#   make demo DEMO_ARGS="--orders 300 --duration 30"
#   bash test/scripts/run-demo.sh --orders 200 --duration 20 --no-kill
# With --dsn CONNINFO no cluster is started: the schema is loaded into that
# database (which must not hold it yet) and the driver runs there.
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
cd "$REPO_ROOT"

# DEMO_ARGS is split like a shell command line (quotes group words) without
# being evaluated.
DEMO_ARGV=()
if [ -n "${DEMO_ARGS:-}" ]; then
	mapfile -t DEMO_ARGV < <(printf '%s' "$DEMO_ARGS" | xargs -r -n1 printf '%s\n')
fi
DEMO_ARGV+=("$@")

dsn=
for ((i = 0; i < ${#DEMO_ARGV[@]}; i++)); do
	case ${DEMO_ARGV[$i]} in
	--dsn) dsn=${DEMO_ARGV[$((i + 1))]:-} ;;
	--dsn=*) dsn=${DEMO_ARGV[$i]#--dsn=} ;;
	esac
done

DRIVER=test/demo/driver/rollout_demo

ensure_dependencies
# DEMO_NO_BUILD=1: the extension is installed already, for the server of
# PG_BINDIR (run-assert-suites.sh runs the demo on other majors so).
[ "${DEMO_NO_BUILD:-0}" = 1 ] || build_and_install
echo "== building the demo driver"
make -C test/demo/driver -s -j"$(nproc)"
# Bad options (exit 2) and --help stop here, before any cluster starts.
"$DRIVER" --check-args "${DEMO_ARGV[@]}" || exit $?
for arg in "${DEMO_ARGV[@]}"; do
	case $arg in -h | --help) exec "$DRIVER" --help ;; esac
done

if [ -z "$dsn" ]; then
	start_cluster
	PSQL=(psql -X -q -v ON_ERROR_STOP=1)
else
	echo "== using the database of --dsn"
	PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$dsn")
fi

if [ "$("${PSQL[@]}" -At -c "SELECT to_regclass('yfs_order_header') IS NOT NULL")" = t ]; then
	echo "error: the database already holds the demo schema; use a fresh database" >&2
	exit 1
fi
echo "== loading the reference schema and the demo's audit table"
"${PSQL[@]}" -o /dev/null -c 'CREATE EXTENSION IF NOT EXISTS rollout_ext' \
	-f test/demo/reference_schema.sql -f test/demo/demo_audit.sql

status=0
"$DRIVER" "${DEMO_ARGV[@]}" || status=$?
if [ "$status" -eq 0 ]; then
	echo "== demo finished: every invariant holds"
else
	echo "== demo FAILED (exit status $status)"
fi
exit "$status"
