#!/usr/bin/env bash
# The TAP tests (test/tap/t/*.pl) on PostgreSQL's own framework
# (PostgreSQL::Test::Cluster), run by prove as the postgres user: the
# framework starts clusters as the user it runs as, and PostgreSQL refuses
# root. Each test makes its clusters under a private directory, removed
# afterwards. PG_BINDIR picks the server build (Debian's PostgreSQL 15 by
# default; the assert-enabled one works too), with rollout_ext installed.
#   bash test/scripts/run-tap.sh [t/NNN_name.pl ...]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
# Debian's PostgreSQL 15 ships the framework's modules with its PGXS.
PERL_LIB=/usr/lib/postgresql/15/lib/pgxs/src/test/perl

work=$(mktemp -d /tmp/rollout_tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$REPO_ROOT/test/tap/t" "$work/"
chown -R postgres:postgres "$work"
cd "$work"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t/*.pl)
status=0
runuser -u postgres -- env PATH="$PG_BINDIR:$PATH" TESTDIR="$work" \
	PG_REGRESS="$PG_BINDIR/../lib/pgxs/src/test/regress/pg_regress" \
	prove --verbose -I "$PERL_LIB" "${tests[@]}" || status=$?
# The servers' logs, for a failure.
if [ "$status" -ne 0 ] && [ -d tmp_check/log ]; then
	tail -n 30 tmp_check/log/*.log
fi
exit "$status"
