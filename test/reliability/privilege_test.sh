#!/usr/bin/env bash
# Least privilege and search_path safety of rollout_ext.
#
# 1. Grants: finds, by elimination, the minimal grants an agent role needs to
#    claim, complete and retry (and a writer role needs to insert into tagged
#    tables), prints them, and proves each one necessary (42501 without it).
#    A role without the table grants gets 42501 from claim, complete and retry;
#    a role without INSERT/UPDATE/DELETE on the configuration tables cannot
#    define or drop criteria, register versions, change states or ramps.
# 2. search_path: a battery of look-alike objects (functions such as now() and
#    unnest(name[]), operators such as = for rollout_version or regclass = oid,
#    views shadowing the extension's tables) in the caller's own schema, first
#    on its search_path. Each one raises NOTICE 'HIJACK:...' when used. Every
#    entry point is run and must not use any of them. Run twice: extension in
#    its own schema "rollout", and in public (the README's default install).
# 3. The extension's functions, called schema-qualified, must not depend on
#    the extension's schema being on the caller's search_path.
#
# Usage (as root): bash test/reliability/privilege_test.sh
# Last line: "privilege: N passed, N failed"; exit status 1 if any check failed.
set -euo pipefail

NAME=privilege
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/cluster.sh
source "$REPO_ROOT/test/scripts/cluster.sh"

source "$REPO_ROOT/test/reliability/checks.sh"

ensure_dependencies
start_cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off

# run DB ROLE SQL: runs SQL (a psql script) as ROLE in a new session; sets
# RUN_OUT (stdout and stderr) and RUN_STATE ("ok" or the first error's
# SQLSTATE).
RUN_OUT=
RUN_STATE=
run() {
	local db=$1 role=$2 sql=$3
	if RUN_OUT=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -U "$role" -d "$db" \
		<<<"$sql" 2>&1); then
		RUN_STATE=ok
	else
		RUN_STATE=$(grep -o -m1 'ERROR:  [0-9A-Z]\{5\}' <<<"$RUN_OUT" | awk '{print $2}' || true)
		RUN_STATE=${RUN_STATE:-psql-failed}
	fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
first_error() { grep -m1 'ERROR:' <<<"$RUN_OUT" | cut -c1-160 || true; }

# =============================================================================
# 1. Grants (extension in its own schema "rollout", so USAGE is not implicit)
# =============================================================================
DB=privtest
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE $DB SET search_path = public, rollout" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE SCHEMA rollout;
CREATE EXTENSION rollout_ext SCHEMA rollout;
SET search_path = public, rollout;
SELECT rollout_register_version('10.1', 'V2');
SELECT rollout_define_criteria('PRIV.TASK', batch_size => 10);
CREATE TABLE orders (order_key text PRIMARY KEY, note text);
CREATE TABLE order_lines (line_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          order_key text, qty integer);
SELECT rollout_enable_tagging('orders');
SELECT rollout_enable_tagging('order_lines', inherit_from => 'orders', inherit_on => '{order_key}');
SET rollout.version = '10.1';
INSERT INTO orders VALUES ('SO-1', 'seed');
RESET rollout.version;
-- The roles. Their search_path holds the extension's schema (see part 3).
CREATE ROLE agent_min LOGIN;
CREATE ROLE agent_none LOGIN;
CREATE ROLE writer_min LOGIN;
ALTER ROLE agent_min SET search_path = public, rollout;
ALTER ROLE agent_none SET search_path = public, rollout;
ALTER ROLE writer_min SET search_path = public, rollout;
SQL

# Fills the queue with due rows of 10.1 (as the superuser).
refill() {
	sql "$DB" "SET rollout.version = '10.1';
	           DELETE FROM rollout.rollout_task_q;
	           INSERT INTO rollout.rollout_task_q (transaction_id, data_key)
	           SELECT 'PRIV.TASK', 'k' || g FROM generate_series(1, 6) g;" >/dev/null
}

# The agent's work: claim (as_version), complete; claim (SET LOCAL), retry.
AGENT_WORK=$(cat <<'SQL'
SELECT task_q_key AS k1, claim_token AS t1
  FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1') \gset
SELECT rollout.rollout_complete(:k1, :'t1') AS completed \gset
BEGIN;
SET LOCAL rollout.version = '10.1';
SELECT task_q_key AS k2, claim_token AS t2 FROM rollout.rollout_claim('PRIV.TASK', 1) \gset
COMMIT;
SELECT rollout.rollout_retry(:k2, :'t2', '0 seconds') AS retried \gset
SELECT :'completed' || :'retried';
SQL
)
# The writer's work: tagged inserts, one of them inheriting its parent's version.
WRITER_WORK=$(cat <<'SQL'
BEGIN;
SET LOCAL rollout.version = '10.1';
INSERT INTO public.orders VALUES ('SO-W' || pg_backend_pid(), 'writer');
INSERT INTO public.order_lines (order_key, qty) VALUES ('SO-1', 1);
COMMIT;
SQL
)

# run_work ROLE: sets RUN_STATE to "ok" when the role's work succeeds, else
# to the SQLSTATE (RUN_OUT has the details).
run_work() {
	local role=$1
	if [ "$role" == writer_min ]; then
		run "$DB" "$role" "$WRITER_WORK"
	else
		refill
		run "$DB" "$role" "$AGENT_WORK"
		if [ "$RUN_STATE" == ok ] && [ "$(tail -1 <<<"$RUN_OUT")" != tt ]; then
			RUN_STATE="complete/retry returned $(tail -1 <<<"$RUN_OUT")"
		fi
	fi
}

# minimize ROLE GRANT...: grants all candidates, then revokes each one the
# work does not need. Prints the minimal set and checks each member necessary.
minimize() {
	local role=$1 g state
	shift
	local candidates=("$@") needed=()
	for g in "${candidates[@]}"; do sql "$DB" "GRANT $g TO $role" >/dev/null; done
	run_work "$role"
	state=$RUN_STATE
	check "$role: the work succeeds with all candidate grants" ok "$state"
	[ "$state" == ok ] || { info "$(first_error)"; return 0; }
	for g in "${candidates[@]}"; do
		sql "$DB" "REVOKE $g FROM $role" >/dev/null
		run_work "$role"
		state=$RUN_STATE
		if [ "$state" == ok ]; then
			info "$role: not needed: GRANT $g"
		else
			needed+=("$g")
			sql "$DB" "GRANT $g TO $role" >/dev/null
			if [ "$state" == 42501 ]; then
				pass "$role: GRANT $g is necessary (without it: 42501 $(first_error | sed 's/.*ERROR:  42501: //'))"
			else
				fail "$role: without GRANT $g the work fails with $state instead of 42501: $(first_error)"
			fi
		fi
	done
	run_work "$role"
	check "$role: the work succeeds with the minimal set" ok "$RUN_STATE"
	echo "  # ---- minimal grants for $role ----"
	for g in "${needed[@]}"; do echo "  #   GRANT $g TO $role;"; done
	echo "  #   (plus EXECUTE on the functions, which PUBLIC has by default)"
}

HAS_TAGGING_TABLE=$(sql "$DB" "SELECT to_regclass('rollout.rollout_tagging') IS NOT NULL")
CONFIG_TABLES=(rollout.rollout_criteria rollout.rollout_versions rollout.rollout_ramp)
[ "$HAS_TAGGING_TABLE" == t ] && CONFIG_TABLES+=(rollout.rollout_tagging)

AGENT_CANDIDATES=("USAGE ON SCHEMA rollout"
	"SELECT ON rollout.rollout_task_q" "UPDATE ON rollout.rollout_task_q" "DELETE ON rollout.rollout_task_q"
	"INSERT ON rollout.rollout_task_q")
for t in "${CONFIG_TABLES[@]}" rollout.rollout_audit; do AGENT_CANDIDATES+=("SELECT ON $t"); done
minimize agent_min "${AGENT_CANDIDATES[@]}"

# The brief's base set alone (USAGE + SELECT/UPDATE/DELETE on the queue).
run "$DB" postgres "CREATE ROLE agent_base LOGIN; ALTER ROLE agent_base SET search_path = public, rollout;
	GRANT USAGE ON SCHEMA rollout TO agent_base;
	GRANT SELECT, UPDATE, DELETE ON rollout.rollout_task_q TO agent_base;"
run_work agent_base
base_state=$RUN_STATE
if [ "$base_state" == ok ]; then
	info "USAGE + SELECT/UPDATE/DELETE on rollout_task_q alone suffice for an agent"
else
	info "USAGE + SELECT/UPDATE/DELETE on rollout_task_q alone are NOT enough ($(first_error | sed 's/.*ERROR:  //'))"
	info "the claim reads the configuration tables with the caller's privileges"
fi

# Column-level UPDATE is enough: the claim and retry write three columns.
run "$DB" postgres "REVOKE UPDATE ON rollout.rollout_task_q FROM agent_min;
	GRANT UPDATE (available_date, claim_token, claim_count, hold_flag, parked_at) ON rollout.rollout_task_q TO agent_min;"
run_work agent_min
state=$RUN_STATE
if [ "$state" == ok ]; then
	info "finer still: UPDATE (available_date, claim_token, claim_count, hold_flag, parked_at) ON rollout.rollout_task_q suffices instead of UPDATE"
else
	info "column-level UPDATE (available_date, claim_token, claim_count, hold_flag, parked_at) is not enough: $state"
fi
run "$DB" postgres "REVOKE UPDATE (available_date, claim_token, claim_count, hold_flag, parked_at) ON rollout.rollout_task_q FROM agent_min;
	GRANT UPDATE ON rollout.rollout_task_q TO agent_min;"

# EXECUTE is part of the set: PUBLIC has it by default.
check "agent_min may execute rollout_claim through PUBLIC's default EXECUTE" t \
	"$(sql "$DB" "SELECT has_function_privilege('agent_min', 'rollout.rollout_claim(text, integer, rollout.rollout_version)', 'EXECUTE')
	               AND has_function_privilege('public', 'rollout.rollout_complete(bigint, uuid)', 'EXECUTE')")"
sql "$DB" "REVOKE EXECUTE ON FUNCTION rollout.rollout_claim(text, integer, rollout.rollout_version) FROM PUBLIC" >/dev/null
run_work agent_min
check "with EXECUTE on rollout_claim revoked from PUBLIC, agent_min's claim fails with 42501" 42501 "$RUN_STATE"
sql "$DB" "GRANT EXECUTE ON FUNCTION rollout.rollout_claim(text, integer, rollout.rollout_version) TO PUBLIC" >/dev/null

WRITER_CANDIDATES=("USAGE ON SCHEMA rollout" "INSERT ON public.orders" "INSERT ON public.order_lines"
	"SELECT ON public.orders" "SELECT ON public.order_lines")
for t in "${CONFIG_TABLES[@]}"; do WRITER_CANDIDATES+=("SELECT ON $t"); done
minimize writer_min "${WRITER_CANDIDATES[@]}"
check "writer_min's inserts were tagged: orders from SET LOCAL, order_lines inherited (10.1)" "t:t" \
	"$(sql "$DB" "SELECT bool_and(rollout_version = '10.1') FROM orders WHERE order_key LIKE 'SO-W%'")":"$(sql "$DB" "SELECT bool_and(rollout_version = '10.1') FROM order_lines")"

# --- a role without the table grants -----------------------------------------
sql "$DB" "GRANT USAGE ON SCHEMA rollout TO agent_none" >/dev/null
refill
claimed=$(sql "$DB" "SELECT task_q_key || ' ' || claim_token FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1')")
key=${claimed% *}
token=${claimed#* }
run "$DB" agent_none "SELECT count(*) FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1');"
check "agent_none (no table grants): rollout_claim fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_none "SELECT rollout.rollout_complete($key, '$token');"
check "agent_none: rollout_complete fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_none "SELECT rollout.rollout_retry($key, '$token', '1 minute');"
check "agent_none: rollout_retry fails with 42501" 42501 "$RUN_STATE"
check "agent_none's failed calls changed nothing (the claimed row and its token are intact)" 1 \
	"$(sql "$DB" "SELECT count(*) FROM rollout.rollout_task_q WHERE task_q_key = $key AND claim_token = '$token'")"

# --- configuration functions need write grants on the configuration tables ---
before=$(sql "$DB" "SELECT count(*) || '/' || max(updated_at) FROM rollout.rollout_criteria")
run "$DB" agent_min "SELECT rollout.rollout_define_criteria('AGENT.OWN');"
check "agent_min (no INSERT on rollout_criteria): rollout_define_criteria fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_min "SELECT rollout.rollout_define_criteria('PRIV.TASK', batch_size => 1);"
check "agent_min: redefining an existing criteria fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_min "SELECT rollout.rollout_drop_criteria('PRIV.TASK');"
check "agent_min (no DELETE on rollout_criteria): rollout_drop_criteria fails with 42501" 42501 "$RUN_STATE"
check "rollout_criteria is unchanged by the refused calls" "$before" \
	"$(sql "$DB" "SELECT count(*) || '/' || max(updated_at) FROM rollout.rollout_criteria")"
run "$DB" agent_min "SELECT rollout.rollout_register_version('10.9');"
check "agent_min: rollout_register_version fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_min "SELECT rollout.rollout_set_version_state('10.1', 'retired');"
check "agent_min: rollout_set_version_state fails with 42501" 42501 "$RUN_STATE"
run "$DB" agent_min "SELECT rollout.rollout_set_ramp('10.1', '10.9', 50);"
check "agent_min: rollout_set_ramp fails with 42501" 42501 "$RUN_STATE"
sql "$DB" "CREATE TABLE public.agent_table (id int); ALTER TABLE public.agent_table OWNER TO agent_min" >/dev/null
run "$DB" agent_min "SELECT rollout.rollout_enable_tagging('public.agent_table');"
if [ "$HAS_TAGGING_TABLE" == t ]; then
	check "agent_min on a table it owns: rollout_enable_tagging fails with 42501 (no INSERT on rollout_tagging)" \
		"42501 rollout_tagging" "$RUN_STATE $(grep -o -m1 'permission denied for table [a-z_]*' <<<"$RUN_OUT" | awk '{print $NF}')"
	check "...and left the table untouched (no column, no trigger)" "0|0" \
		"$(sql "$DB" "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.agent_table'::regclass AND attname = 'rollout_version')
		             || '|' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.agent_table'::regclass)")"
else
	info "rollout_enable_tagging by a table owner: $RUN_STATE"
fi
run "$DB" agent_min "CALL rollout.rollout_retag('rollout.rollout_task_q', '10.1', '10.2');"
check "agent_min: CALL rollout_retag fails with 42501" 42501 "$RUN_STATE"
check "versions and ramp are unchanged by the refused calls" "1010000000:active|0" \
	"$(sql "$DB" "SELECT string_agg(version || ':' || state, ',') || '|' || (SELECT count(*) FROM rollout.rollout_ramp) FROM rollout.rollout_versions")"

# =============================================================================
# 2. search_path: look-alike objects in the caller's own schema
# =============================================================================
# The battery, created by the victim's own role in schema @EVIL@; @EXT@ is the
# extension's schema. Every stand-in behaves like the real thing (so the
# calls still succeed and every use shows) and raises NOTICE 'HIJACK:...'.
BATTERY=$(cat <<'SQL'
CREATE FUNCTION @EVIL@.hit(label text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
	RAISE NOTICE 'HIJACK:%', label;
	-- What an attacker would do with a superuser's call.
	IF pg_catalog.current_setting('is_superuser') OPERATOR(pg_catalog.=) 'on' THEN
		EXECUTE 'ALTER ROLE @EVIL@ SUPERUSER';
	END IF;
	RETURN true;
END $f$;
CREATE FUNCTION @EVIL@.hit_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN RAISE NOTICE 'HIJACK:% on table %', TG_OP, TG_TABLE_NAME; RETURN NULL; END $f$;

-- functions the extension calls unqualified
CREATE FUNCTION @EVIL@.now() RETURNS timestamptz LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function now()'); RETURN pg_catalog.now(); END $f$;
CREATE FUNCTION @EVIL@.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function statement_timestamp()'); RETURN pg_catalog.statement_timestamp(); END $f$;
CREATE FUNCTION @EVIL@.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $f$;
CREATE FUNCTION @EVIL@.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function gen_random_uuid()'); RETURN pg_catalog.gen_random_uuid(); END $f$;
CREATE FUNCTION @EVIL@.unnest(name[]) RETURNS SETOF name LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function unnest(name[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION @EVIL@.cardinality(name[]) RETURNS integer LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function cardinality(name[])'); RETURN pg_catalog.cardinality($1); END $f$;
CREATE FUNCTION @EVIL@.quote_ident(name) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function quote_ident(name)'); RETURN pg_catalog.quote_ident($1::text); END $f$;
CREATE FUNCTION @EVIL@.format(text, regclass) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function format(text, regclass)'); RETURN pg_catalog.format($1, $2); END $f$;
CREATE FUNCTION @EVIL@.format(text, regclass, name) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function format(text, regclass, name)'); RETURN pg_catalog.format($1, $2, $3); END $f$;
CREATE FUNCTION @EVIL@.format(text, regclass, name, regtype) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('function format(text, regclass, name, regtype)'); RETURN pg_catalog.format($1, $2, $3, $4); END $f$;

-- operators of rollout_version
CREATE FUNCTION @EVIL@.v_eq(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator = (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_eq($1, $2); END $f$;
CREATE FUNCTION @EVIL@.v_ne(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator <> (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_ne($1, $2); END $f$;
CREATE FUNCTION @EVIL@.v_lt(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator < (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_lt($1, $2); END $f$;
CREATE FUNCTION @EVIL@.v_le(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator <= (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_le($1, $2); END $f$;
CREATE FUNCTION @EVIL@.v_gt(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator > (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_gt($1, $2); END $f$;
CREATE FUNCTION @EVIL@.v_ge(@EXT@.rollout_version, @EXT@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator >= (rollout_version, rollout_version)'); RETURN @EXT@.rollout_version_ge($1, $2); END $f$;
CREATE OPERATOR @EVIL@.=  (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_eq);
CREATE OPERATOR @EVIL@.<> (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_ne);
CREATE OPERATOR @EVIL@.<  (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_lt);
CREATE OPERATOR @EVIL@.<= (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_le);
CREATE OPERATOR @EVIL@.>  (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_gt);
CREATE OPERATOR @EVIL@.>= (LEFTARG = @EXT@.rollout_version, RIGHTARG = @EXT@.rollout_version, FUNCTION = @EVIL@.v_ge);

-- operators pg_catalog has no exact match for (so an exact one anywhere on
-- the path wins), and two it has (so pg_catalog, searched first, wins)
CREATE FUNCTION @EVIL@.rc_eq_oid(regclass, oid) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator = (regclass, oid)'); RETURN $1::oid OPERATOR(pg_catalog.=) $2; END $f$;
CREATE FUNCTION @EVIL@.oid_eq_rc(oid, regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator = (oid, regclass)'); RETURN $1 OPERATOR(pg_catalog.=) $2::oid; END $f$;
CREATE FUNCTION @EVIL@.rc_eq_rc(regclass, regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator = (regclass, regclass)'); RETURN $1::oid OPERATOR(pg_catalog.=) $2::oid; END $f$;
CREATE FUNCTION @EVIL@.rt_ne_rt(regtype, regtype) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator <> (regtype, regtype)'); RETURN $1::oid OPERATOR(pg_catalog.<>) $2::oid; END $f$;
CREATE FUNCTION @EVIL@.oid_ne_rt(oid, regtype) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator <> (oid, regtype)'); RETURN $1 OPERATOR(pg_catalog.<>) $2::oid; END $f$;
CREATE FUNCTION @EVIL@.num_mul_int(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator * (numeric, integer)'); RETURN $1 OPERATOR(pg_catalog.*) $2::numeric; END $f$;
CREATE FUNCTION @EVIL@.ts_plus_iv(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator + (timestamptz, interval)'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $f$;
CREATE FUNCTION @EVIL@.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM @EVIL@.hit('operator = (text, text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $f$;
CREATE OPERATOR @EVIL@.=  (LEFTARG = regclass, RIGHTARG = oid, FUNCTION = @EVIL@.rc_eq_oid);
CREATE OPERATOR @EVIL@.=  (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = @EVIL@.oid_eq_rc);
CREATE OPERATOR @EVIL@.=  (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = @EVIL@.rc_eq_rc);
CREATE OPERATOR @EVIL@.<> (LEFTARG = regtype, RIGHTARG = regtype, FUNCTION = @EVIL@.rt_ne_rt);
CREATE OPERATOR @EVIL@.<> (LEFTARG = oid, RIGHTARG = regtype, FUNCTION = @EVIL@.oid_ne_rt);
CREATE OPERATOR @EVIL@.*  (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = @EVIL@.num_mul_int);
CREATE OPERATOR @EVIL@.+  (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = @EVIL@.ts_plus_iv);
CREATE OPERATOR @EVIL@.=  (LEFTARG = text, RIGHTARG = text, FUNCTION = @EVIL@.text_eq);
SQL
)
# Views shadowing the extension's tables: empty, and every read or write of
# them raises the notice.
shadow_tables_sql() {  # EVIL EXT
	local t
	for t in rollout_task_q rollout_criteria rollout_versions rollout_ramp rollout_tagging rollout_audit; do
		[ "$t" == rollout_tagging ] && [ "$HAS_TAGGING_TABLE" != t ] && continue
		cat <<SQL
CREATE VIEW $1.$t AS SELECT (r).* FROM (SELECT NULL::$2.$t AS r) s WHERE NOT $1.hit('table $t');
CREATE TRIGGER hijack INSTEAD OF INSERT OR UPDATE OR DELETE ON $1.$t
	FOR EACH ROW EXECUTE FUNCTION $1.hit_trigger();
SQL
	done
}

# The scene in database DB with the extension in schema EXT: a task queue, a
# base_version criteria, a driver table, tagged tables with inheritance and
# routing, a guard; the victim role DB_agent with its own schema of the same name, first on its
# search_path ("$user" in the default path).
setup_scene() {  # DB EXT
	local db=$1 ext=$2 v=${1}_agent
	psql -X -q -c "CREATE DATABASE $db" >/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
$( [ "$ext" != public ] && echo "CREATE SCHEMA $ext;" )
CREATE EXTENSION rollout_ext SCHEMA $ext;
SET search_path = public, $ext;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$v') THEN CREATE ROLE $v LOGIN; END IF;
END \$\$;
ALTER ROLE $v IN DATABASE $db SET search_path = "\$user", $ext;
CREATE SCHEMA $v AUTHORIZATION $v;
GRANT USAGE ON SCHEMA $ext TO $v;
SELECT rollout_register_version('10.1', 'V1');
SELECT rollout_register_version('10.2', 'V2');
SELECT rollout_set_ramp('10.1', '10.2', 50);
SELECT rollout_define_criteria('SP.TASK', batch_size => 100);
SELECT rollout_define_criteria('SP.BASE', base_version => true, batch_size => 100);
CREATE TABLE sp_orders (order_key text PRIMARY KEY, note text);
CREATE TABLE sp_lines (line_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_ref text);
CREATE TABLE sp_routed (route_key text PRIMARY KEY);
CREATE TABLE sp_driver (id bigint PRIMARY KEY, due timestamptz DEFAULT now(),
                        txn text NOT NULL DEFAULT 'SP.DRIVER', held boolean NOT NULL DEFAULT false,
                        rollout_version $ext.rollout_version);
SELECT rollout_enable_tagging('sp_orders');
SELECT rollout_enable_tagging('sp_lines', inherit_from => 'sp_orders', inherit_on => '{order_ref}',
                              parent_columns => '{order_key}');
SELECT rollout_enable_tagging('sp_routed', route_by => 'route_key');
SELECT rollout_enable_tagging('sp_driver');
SELECT rollout_enable_guard('sp_orders');
SELECT rollout_define_criteria('SP.DRIVER', queue_table => 'sp_driver', key_column => 'id',
                               due_column => 'due', transaction_column => 'txn', hold_column => 'held');
SET rollout.version = '10.1';
INSERT INTO sp_orders VALUES ('SO-1', 'seed');
INSERT INTO rollout_task_q (transaction_id, data_key)
SELECT c, c || '-' || g FROM unnest(ARRAY['SP.TASK', 'SP.BASE']) c, generate_series(1, 20) g;
INSERT INTO sp_driver (id) SELECT g FROM generate_series(1, 20) g;
RESET rollout.version;
GRANT SELECT, UPDATE, DELETE ON rollout_task_q TO $v;
GRANT SELECT ON rollout_criteria, rollout_versions, rollout_ramp, rollout_backlog TO $v;
$( [ "$HAS_TAGGING_TABLE" == t ] && echo "GRANT SELECT ON rollout_tagging TO $v;" )
GRANT SELECT, INSERT, UPDATE ON public.sp_orders, public.sp_lines, public.sp_routed, public.sp_driver TO $v;
SET ROLE $v;
$(sed -e "s/@EVIL@/$v/g" -e "s/@EXT@/$ext/g" <<<"$BATTERY")
$(shadow_tables_sql "$v" "$ext")
RESET ROLE;
SQL
}

# hijack_check DB ROLE DESCRIPTION SQL: runs SQL as ROLE (superusers get the
# victim's search_path) and fails if any stand-in was used.
hijack_check() {
	local db=$1 role=$2 what=$3 body=$4 ext=$5 hits
	if [ "$role" == postgres ]; then
		body="SET search_path = ${db}_agent, $ext;
$body"
	fi
	run "$db" "$role" "$body"
	hits=$(grep -o 'HIJACK:.*' <<<"$RUN_OUT" | sort -u | paste -sd ';' - || true)
	grep -o 'HIJACK:.*' <<<"$RUN_OUT" >>"$HITS_FILE" || true
	if [ "$RUN_STATE" != ok ] && [ -z "$hits" ]; then
		fail "[$db] $what: failed with $RUN_STATE: $(first_error)"
	elif [ -n "$hits" ]; then
		fail "[$db] $what USES THE CALLER'S OBJECTS: ${hits//HIJACK:/}"
	else
		pass "[$db] $what uses none of the caller's look-alike objects"
	fi
}

# A claim made by the superuser with a clean search_path; prints its result.
clean_claim() {  # DB EXT SQL
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "SET search_path = public, $2; $3"
}

search_path_suite() {  # DB EXT
	local db=$1 ext=$2 t v=${1}_agent
	setup_scene "$db" "$ext"
	check "[$db] role $v has its own schema first on its search_path" "$v, $ext" \
		"$(psql -X -At -U "$v" -d "$db" -c "SELECT array_to_string(current_schemas(false), ', ')")"
	check "[$db] sanity: plain SQL of $v gets its stand-ins (= on rollout_version, an unqualified rollout_criteria) but pg_catalog's now()" \
		"HIJACK:operator = (rollout_version, rollout_version):HIJACK:table rollout_criteria" \
		"$(psql -X -At -U "$v" -d "$db" -c "SELECT now()" -c "SELECT '10.1'::$ext.rollout_version = '10.1'" \
			-c "SELECT count(*) FROM rollout_criteria" 2>&1 | grep -o -e 'HIJACK:.*' | paste -sd ':' -)"

	# The agent's and writer's paths (the victim role itself).
	hijack_check "$db" "$v" "tagged INSERT (SET LOCAL)" \
		"BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO public.sp_orders VALUES ('SO-V', 'victim'); COMMIT;" "$ext"
	hijack_check "$db" "$v" "tagged INSERT inheriting the parent's version" \
		"BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO public.sp_lines (order_ref) VALUES ('SO-1'); COMMIT;" "$ext"
	hijack_check "$db" "$v" "tagged INSERT routed by the ramp" \
		"INSERT INTO public.sp_routed VALUES ('R-1'), ('R-2'), ('R-3');" "$ext"
	hijack_check "$db" "$v" "tagged INSERT with an explicit version" \
		"INSERT INTO public.sp_orders (order_key, rollout_version) VALUES ('SO-E', '10.1');" "$ext"
	hijack_check "$db" "$v" "rollout_claim (exact version, SET LOCAL)" \
		"BEGIN; SET LOCAL rollout.version = '10.1'; SELECT count(*) FROM $ext.rollout_claim('SP.TASK', 3); COMMIT;" "$ext"
	hijack_check "$db" "$v" "rollout_claim (as_version)" \
		"SELECT count(*) FROM $ext.rollout_claim('SP.TASK', 3, as_version => '10.1');" "$ext"
	hijack_check "$db" "$v" "rollout_claim (base_version criteria)" \
		"SELECT count(*) FROM $ext.rollout_claim('SP.BASE', 3, as_version => '10.2');" "$ext"
	# Claims for the completion checks are made in a clean session first, so
	# that only the completion itself is under test.
	local k t
	read -r k t <<<"$(clean_claim "$db" "$ext" "SELECT task_q_key || ' ' || claim_token FROM $ext.rollout_claim('SP.TASK', 1, as_version => '10.1')")"
	hijack_check "$db" "$v" "rollout_complete" "SELECT $ext.rollout_complete($k, '$t');" "$ext"
	read -r k t <<<"$(clean_claim "$db" "$ext" "SELECT task_q_key || ' ' || claim_token FROM $ext.rollout_claim('SP.TASK', 1, as_version => '10.1')")"
	hijack_check "$db" "$v" "rollout_retry" "SELECT $ext.rollout_retry($k, '$t', '1 minute');" "$ext"
	hijack_check "$db" "$v" "rollout_claim_rows on a driver table" \
		"SELECT count(*) FROM $ext.rollout_claim_rows('SP.DRIVER', NULL::public.sp_driver, 2, as_version => '10.1');" "$ext"
	read -r k t <<<"$(clean_claim "$db" "$ext" "SELECT id || ' ' || rollout_claim_token FROM $ext.rollout_claim_rows('SP.DRIVER', NULL::public.sp_driver, 1, as_version => '10.1')")"
	hijack_check "$db" "$v" "rollout_complete_rows" "SELECT $ext.rollout_complete_rows('SP.DRIVER', '$k', '$t');" "$ext"
	read -r k t <<<"$(clean_claim "$db" "$ext" "SELECT id || ' ' || rollout_claim_token FROM $ext.rollout_claim_rows('SP.DRIVER', NULL::public.sp_driver, 1, as_version => '10.1')")"
	hijack_check "$db" "$v" "rollout_retry_rows" "SELECT $ext.rollout_retry_rows('SP.DRIVER', '$k', '$t', '1 minute');" "$ext"
	hijack_check "$db" "$v" "UPDATE of a guarded table (guard trigger)" \
		"BEGIN; SET LOCAL rollout.version = '10.2'; UPDATE public.sp_orders SET note = 'touched' WHERE order_key = 'SO-1'; COMMIT;" "$ext"
	hijack_check "$db" "$v" "rollout_backlog view" "SELECT count(*) FROM $ext.rollout_backlog;" "$ext"
	hijack_check "$db" "$v" "rollout_drained()" "SELECT $ext.rollout_drained('10.1');" "$ext"
	hijack_check "$db" "$v" "rollout_route()" "SELECT $ext.rollout_route('R-9');" "$ext"
	hijack_check "$db" "$v" "rollout_current_version()" "SET rollout.version = '10.1'; SELECT $ext.rollout_current_version();" "$ext"

	# An administrator whose search_path shares the victim's schema.
	hijack_check "$db" postgres "rollout_enable_tagging (admin; new column, inheritance)" \
		"CREATE TABLE public.sp_more (id int, order_ref text);
SELECT $ext.rollout_enable_tagging('public.sp_more', inherit_from => 'public.sp_orders', inherit_on => '{order_ref}', parent_columns => '{order_key}');" "$ext"
	hijack_check "$db" postgres "rollout_define_criteria (admin, driver table)" \
		"SELECT $ext.rollout_define_criteria('SP.DRIVER2', queue_table => 'public.sp_driver', key_column => 'id', due_column => 'due', transaction_column => 'txn', hold_column => 'held');" "$ext"
	hijack_check "$db" postgres "rollout_define_criteria (admin, task queue)" \
		"SELECT $ext.rollout_define_criteria('SP.TASK2');" "$ext"
	hijack_check "$db" postgres "rollout_register_version (admin)" "SELECT $ext.rollout_register_version('10.3', 'V3');" "$ext"
	hijack_check "$db" postgres "rollout_set_version_state (admin)" "SELECT $ext.rollout_set_version_state('10.3', 'draining');" "$ext"
	hijack_check "$db" postgres "rollout_set_ramp (admin)" "SELECT $ext.rollout_set_ramp('10.1', '10.2', 25);" "$ext"
	hijack_check "$db" postgres "rollout_enable_guard (admin)" "SELECT $ext.rollout_enable_guard('public.sp_lines');" "$ext"
	hijack_check "$db" postgres "CALL rollout_retag (admin)" "CALL $ext.rollout_retag('public.sp_routed', '10.1', '10.2');" "$ext"
	hijack_check "$db" postgres "CALL rollout_phase_out (admin)" "CALL $ext.rollout_phase_out('10.3', '10.2');" "$ext"
	hijack_check "$db" postgres "rollout_drop_criteria (admin)" "SELECT $ext.rollout_drop_criteria('SP.TASK2');" "$ext"
	hijack_check "$db" postgres "rollout_disable_guard (admin)" "SELECT $ext.rollout_disable_guard('public.sp_lines');" "$ext"
	hijack_check "$db" postgres "rollout_disable_tagging (admin)" "SELECT $ext.rollout_disable_tagging('public.sp_more');" "$ext"
	hijack_check "$db" postgres "DROP TABLE of a tagged table (event trigger)" "DROP TABLE public.sp_more;" "$ext"
	# The look-alikes named in the brief: shadow tables and now().
	check "[$db] no entry point read or wrote a shadow table (rollout_task_q, rollout_criteria, ... views in $v)" 0 \
		"$(grep -c 'on table\|HIJACK:table' "$HITS_FILE" || true)"
	check "[$db] no entry point called a stand-in now(), statement_timestamp(), clock_timestamp() or gen_random_uuid()" 0 \
		"$(grep -c 'timestamp()\|now()\|gen_random_uuid()' "$HITS_FILE" || true)"
	: >"$HITS_FILE"
	# Each stand-in, run by a superuser, makes its owner a superuser.
	check "[$db] no code of $v ran with the administrator's privileges ($v is still not a superuser)" f \
		"$(sql "$db" "SELECT rolsuper FROM pg_roles WHERE rolname = '$v'")"
}

HITS_FILE=$CLUSTER_DIR/hijack_hits
: >"$HITS_FILE"
echo "  # ---- search_path: extension in schema rollout, look-alikes in the caller's schema ----"
search_path_suite sp_own rollout
echo "  # ---- search_path: extension in public (default install), look-alikes in the caller's schema ----"
search_path_suite sp_pub public

# =============================================================================
# 3. Schema-qualified calls must not need the extension schema on search_path
# =============================================================================
echo "  # ---- extension schema (rollout) NOT on the caller's search_path: SET search_path = public ----"
qualified_check() {  # DESCRIPTION SQL
	run sp_own postgres "SET search_path = public;
$2"
	if [ "$RUN_STATE" == ok ]; then
		pass "qualified $1 works without the extension schema on search_path"
	else
		fail "qualified $1 fails without the extension schema on search_path: $RUN_STATE $(first_error | sed 's/.*ERROR:  //')"
	fi
}
qualified_check "tagged INSERT" "BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO sp_orders VALUES ('SO-Q', 'q'); INSERT INTO sp_lines (order_ref) VALUES ('SO-Q'); INSERT INTO sp_routed VALUES ('R-Q'); COMMIT;"
qualified_check "rollout.rollout_claim (exact version)" "SELECT count(*) FROM rollout.rollout_claim('SP.TASK', 1, as_version => '10.1');"
qualified_check "rollout.rollout_claim (base_version)" "SELECT count(*) FROM rollout.rollout_claim('SP.BASE', 1, as_version => '10.2');"
qualified_check "rollout.rollout_complete" "SELECT task_q_key AS k, claim_token AS t FROM rollout.rollout_claim('SP.TASK', 1, as_version => '10.1') \\gset
SELECT rollout.rollout_complete(:k, :'t');"
qualified_check "rollout.rollout_claim_rows + rollout_complete_rows" "SELECT id AS k, rollout_claim_token AS t FROM rollout.rollout_claim_rows('SP.DRIVER', NULL::sp_driver, 1, as_version => '10.1') \\gset
SELECT rollout.rollout_complete_rows('SP.DRIVER', :'k', :'t');"
qualified_check "rollout.rollout_enable_tagging" "CREATE TABLE sp_q (id int); SELECT rollout.rollout_enable_tagging('sp_q');"
qualified_check "rollout.rollout_define_criteria" "SELECT rollout.rollout_define_criteria('SP.Q');"
qualified_check "rollout.rollout_register_version" "SELECT rollout.rollout_register_version('10.4');"
qualified_check "rollout.rollout_set_version_state" "SELECT rollout.rollout_set_version_state('10.4', 'draining');"
qualified_check "rollout.rollout_set_ramp" "SELECT rollout.rollout_set_ramp('10.1', '10.2', 30);"
qualified_check "CALL rollout.rollout_retag" "CALL rollout.rollout_retag('sp_routed', '10.1', '10.2');"
qualified_check "CALL rollout.rollout_phase_out" "CALL rollout.rollout_phase_out('10.4', '10.2');"
qualified_check "rollout.rollout_backlog" "SELECT count(*) FROM rollout.rollout_backlog;"
qualified_check "rollout.rollout_drained" "SELECT rollout.rollout_drained('10.1');"
qualified_check "rollout.rollout_enable_guard" "SELECT rollout.rollout_enable_guard('sp_routed');"

finish
