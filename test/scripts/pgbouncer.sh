# Shared by the pooler suite and the clients (sourced, after cluster.sh): a
# PgBouncer of Debian's package in front of the throwaway cluster, transaction
# pooling with one server connection for every client, listening on
# 127.0.0.1 only, run as postgres.
#   start_pgbouncer DIR DB USER [INI_LINE...]  sets BOUNCER_PORT, BOUNCER_PID
#   stop_pgbouncer
# The caller installs the package (ensure_packages) and removes DIR.
PGBOUNCER=/usr/sbin/pgbouncer
BOUNCER_PID=

start_pgbouncer() {
	local dir=$1 db=$2 user=$3 line
	shift 3
	BOUNCER_PORT=$(free_port)
	mkdir -p "$dir"
	echo "\"$user\" \"\"" >"$dir/userlist.txt"
	{
		echo "[databases]"
		echo "$db = host=127.0.0.1 port=$PGPORT dbname=$db user=$user"
		echo "[pgbouncer]"
		echo "listen_addr = 127.0.0.1"
		echo "listen_port = $BOUNCER_PORT"
		echo "unix_socket_dir ="
		echo "auth_type = trust"
		echo "auth_file = $dir/userlist.txt"
		echo "pool_mode = transaction"
		echo "default_pool_size = 1"
		echo "max_client_conn = 20"
		# PgJDBC sends extra_float_digits at startup, which PgBouncer does
		# not pass on.
		echo "ignore_startup_parameters = extra_float_digits"
		echo "logfile = $dir/pgbouncer.log"
		echo "pidfile = $dir/pgbouncer.pid"
		for line in "$@"; do echo "$line"; done
	} >"$dir/pgbouncer.ini"
	chown -R postgres:postgres "$dir"
	as_postgres "$PGBOUNCER" -d -q "$dir/pgbouncer.ini" ||
		{ cat "$dir/pgbouncer.log" 2>/dev/null; echo "error: pgbouncer did not start" >&2; return 1; }
	for _ in $(seq 1 100); do
		[ -s "$dir/pgbouncer.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$BOUNCER_PORT") 2>/dev/null && break
		sleep 0.05
	done
	BOUNCER_PID=$(cat "$dir/pgbouncer.pid")
	echo "== pgbouncer $("$PGBOUNCER" --version | head -1 | awk '{print $2}') on 127.0.0.1:$BOUNCER_PORT, pool_mode=transaction, default_pool_size=1"
}

stop_pgbouncer() {
	[ -n "$BOUNCER_PID" ] || return 0
	kill "$BOUNCER_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$BOUNCER_PID" 2>/dev/null || break; sleep 0.1; done
	BOUNCER_PID=
}
