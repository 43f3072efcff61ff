#!/usr/bin/env bash
# The TAP tests (test/tap/t/*.pl) on PostgreSQL's own framework
# (PostgreSQL::Test::Cluster), run by prove; as root, as the postgres user:
# the framework starts clusters as the user it runs as, and PostgreSQL
# refuses root. Each test makes its clusters under a private directory, removed
# afterwards. PG_BINDIR picks the server build (Debian's PostgreSQL 15 by
# default; the assert-enabled one works too), with rollout_ext installed.
#   bash test/scripts/run-tap.sh [t/NNN_name.pl ...]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
# The framework's modules and pg_regress come with the server's PGXS
# (Debian's server-dev packages; the assert-enabled builds install them).
PGXS_SRC=$(dirname "$(dirname "$("$PG_BINDIR/pg_config" --pgxs)")")
PERL_LIB=$PGXS_SRC/test/perl

work=$(mktemp -d /tmp/rollout_tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$REPO_ROOT/test/tap/t" "$work/"
# PostgreSQL refuses to run as root: as root, the tests run as postgres.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres:postgres "$work"
	as_owner=(runuser -u postgres --)
fi
cd "$work"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t/*.pl)
status=0
# 15 puts its clusters and logs under TESTDIR/tmp_check; 16 and later where
# TESTDATADIR and TESTLOGDIR say: the same place.
"${as_owner[@]}" env PATH="$PG_BINDIR:$PATH" TESTDIR="$work" \
	TESTDATADIR="$work/tmp_check" TESTLOGDIR="$work/tmp_check/log" \
	PG_REGRESS="$PGXS_SRC/test/regress/pg_regress" \
	prove --verbose -I "$PERL_LIB" "${tests[@]}" || status=$?
# The servers' logs: the tail for a failure; TAP_KEEP_LOGS=DIR keeps them.
if [ -d tmp_check/log ]; then
	[ "$status" -eq 0 ] || tail -n 30 tmp_check/log/*.log
	[ -z "${TAP_KEEP_LOGS:-}" ] || cp tmp_check/log/*.log "$TAP_KEEP_LOGS/"
fi
exit "$status"
