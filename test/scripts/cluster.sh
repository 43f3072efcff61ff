# Shared by the scripts that start throwaway clusters (sourced, not run):
#   ensure_dependencies   install the Debian packages a fresh machine lacks
#   ensure_packages NAME  the same for a suite's own packages
#   build_and_install     make && make install, warnings as errors
#   start_cluster         a throwaway cluster owned by postgres, on a free port
#                         with a private socket directory; stopped on exit
set -euo pipefail

# The major of Debian's server packages: 15 on Debian 12; 17 inside the
# trixie root (test/scripts/run-pg17.sh).
SERVER_MAJOR=${SERVER_MAJOR:-15}
# PG_BINDIR may name another build (an assert-enabled one).
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/$SERVER_MAJOR/bin}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# package -> a file it installs
declare -A REQUIRED_PACKAGES=(
	[postgresql-$SERVER_MAJOR]=$PG_BINDIR/initdb
	[postgresql-server-dev-$SERVER_MAJOR]=/usr/include/postgresql/$SERVER_MAJOR/server/postgres.h
	[postgresql-$SERVER_MAJOR-pgtap]=/usr/share/postgresql/$SERVER_MAJOR/extension/pgtap.control
	# the scheduler that drives rollout_advance() in t/003_progressive_rollout.pl
	[postgresql-$SERVER_MAJOR-cron]=/usr/share/postgresql/$SERVER_MAJOR/extension/pg_cron.control
	[libtap-parser-sourcehandler-pgtap-perl]=/usr/bin/pg_prove
	[libpq-dev]=/usr/include/postgresql/libpq-fe.h
	[zlib1g-dev]=/usr/include/zlib.h
	[g++]=/usr/bin/g++
	[make]=/usr/bin/make
	# PostgreSQL::Test::Cluster, for the TAP tests
	[libipc-run-perl]=/usr/share/perl5/IPC/Run.pm
)

ensure_dependencies() {
	ensure_packages REQUIRED_PACKAGES
}

# ensure_packages NAME: installs the packages of the associative array NAME
# (package -> a file it installs) whose file is missing.
ensure_packages() {
	local -n wanted=$1
	local missing=() pkg
	for pkg in "${!wanted[@]}"; do
		[ -e "${wanted[$pkg]}" ] || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: missing packages ${missing[*]}; run as root or install them first" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_and_install() {
	echo "== building rollout_ext"
	make -C "$REPO_ROOT" -s
	make -C "$REPO_ROOT" -s install >/dev/null
}

# Runs a command as the cluster's owner.
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "error: no free port found" >&2
	return 1
}

stop_cluster() {
	if [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ]; then
		as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$CLUSTER_DIR"
	fi
}

# start_cluster [extra postgres -c settings...]
start_cluster() {
	CLUSTER_DIR=$(mktemp -d /tmp/rollout_ext.XXXXXX)
	trap stop_cluster EXIT
	mkdir -p "$CLUSTER_DIR/socket"
	chown -R postgres:postgres "$CLUSTER_DIR" 2>/dev/null || true
	chmod 755 "$CLUSTER_DIR"
	PGPORT=$(free_port)
	as_postgres "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust --no-sync \
		>"$CLUSTER_DIR/initdb.log" 2>&1 || { cat "$CLUSTER_DIR/initdb.log"; exit 1; }
	# Preloaded, as README -> Installation recommends: every SET of a
	# rollout.* setting is checked when it is made. A later
	# -c shared_preload_libraries= in the arguments overrides it.
	local settings=(-c "port=$PGPORT" -c "unix_socket_directories=$CLUSTER_DIR/socket"
		-c "listen_addresses=127.0.0.1" -c "max_connections=100"
		-c "shared_preload_libraries=rollout_ext" "$@")
	as_postgres "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
		-o "${settings[*]}" start >/dev/null || { cat "$CLUSTER_DIR/server.log"; exit 1; }
	export PGHOST=$CLUSTER_DIR/socket PGPORT PGUSER=postgres PGDATABASE=postgres
	echo "== throwaway cluster on port $PGPORT (socket $PGHOST)"
}
