#!/usr/bin/env bash
# SQL injection and odd identifiers through every text, name and regclass
# argument of rollout_ext.
#
# Legitimate odd names (quotes, spaces, mixed case, semicolons, comment
# markers, schema-qualified) must work everywhere: tagging with inheritance
# and routing, criteria on a driver table, rollout_claim_rows,
# rollout_complete_rows/rollout_retry_rows, rollout_retag, rollout_phase_out,
# guards, the backlog view. Strings crafted as SQL must be treated as data: a
# canary table keeps its rows, event triggers log every DDL command and every
# dropped object (only the extension's own ALTER TABLE ADD COLUMN and
# CREATE/DROP TRIGGER may appear). Names that do not exist get their
# documented SQLSTATEs.
#
# Usage (as root): bash test/reliability/injection_test.sh
# Last line: "injection: N passed, N failed"; exit status 1 if any check failed.
set -euo pipefail

NAME=injection
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/cluster.sh
source "$REPO_ROOT/test/scripts/cluster.sh"

source "$REPO_ROOT/test/reliability/checks.sh"

ensure_dependencies
start_cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off
DB=injtest

# --- the odd names and malicious strings, as psql variables -------------------
# Identifiers are interpolated as :"name" (quoted by psql), strings as :'name'.
LONG_ASCII=$(printf 'C%.0s' $(seq 1 200))            # 200 characters: the maximum
TOO_LONG=$(printf 'C%.0s' $(seq 1 201))              # 201 characters
HUGE=$(printf 'X%.0s' $(seq 1 10000))                # far beyond any limit
MB_ID=$(printf 'é%.0s' $(seq 1 150))                 # 150 characters, 300 bytes
MB_TXN=$(printf '日%.0s' $(seq 1 100))               # 100 characters, 300 bytes
VARS=(
	-v "sch=My Schema"
	-v "tbl=Odd \"Table\" ; DROP"
	-v "vw=Odd \"View\" ; DROP"
	-v "psch=Other \"Schema\"; DROP TABLE public.canary; --"
	-v "ptbl=Parent 'Orders' ); DROP TABLE public.canary; --"
	-v "pkey=Order Key's"
	-v "key=Key \"Col\"; DROP TABLE public.canary; --"
	-v "due=Due Date"
	-v "txn=Txn ID"
	-v "hold=Hold?"
	-v "pref=Parent Ref \"x\""
	-v "route=Route \"Key\""
	-v "ver=Ver'sion \"V\""
	-v "tok=Tok\"en; DELETE FROM public.canary"
	-v "crit=CRIT'; DROP TABLE public.canary; --"
	-v "txnid=TXN \"x\"); DELETE FROM public.canary; --"
	-v "okey=O'Brien\"; DROP TABLE public.canary; --"
	-v "rkey=R'\"; DELETE FROM public.canary; --"
	-v "uni=Критерий ✓ 日本 🚀 \"'"
	-v "long=$LONG_ASCII"
	-v "toolong=$TOO_LONG"
	-v "huge=$HUGE"
	-v "mbid=$MB_ID"
	-v "mbtxn=$MB_TXN"
	-v "evil_label=V1'); DROP TABLE public.canary; --"
)

# q SQL: runs a psql script with the variables; sets OUT and STATE ("ok" or
# the first error's SQLSTATE).
OUT=
STATE=
q() {
	if OUT=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "${VARS[@]}" -d "$DB" <<<"$1" 2>&1); then
		STATE=ok
	else
		STATE=$(grep -o -m1 'ERROR:  [0-9A-Z]\{5\}' <<<"$OUT" | awk '{print $2}' || true)
		STATE=${STATE:-psql-failed}
	fi
}
# value SQL: the last line printed (fails the check on error).
value() { q "$1"; if [ "$STATE" == ok ]; then tail -1 <<<"$OUT"; else echo "ERROR $STATE: $(grep -m1 ERROR <<<"$OUT" | cut -c1-200)"; fi; }
# expect DESCRIPTION SQLSTATE SQL
expect() {
	q "$3"
	if [ "$STATE" == "$2" ]; then
		pass "$1 (SQLSTATE $STATE)"
	else
		fail "$1: expected SQLSTATE $2, got $STATE: $(grep -m1 'ERROR' <<<"$OUT" | cut -c1-200)"
	fi
}
ok() {  # DESCRIPTION SQL
	q "$2"
	if [ "$STATE" == ok ]; then pass "$1"; else fail "$1: $STATE $(grep -m1 'ERROR' <<<"$OUT" | cut -c1-200)"; fi
}
# Every check also verifies the canary.
canary() { value "SELECT count(*) FROM public.canary"; }

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
q "
CREATE EXTENSION rollout_ext;
CREATE TABLE public.canary (id int PRIMARY KEY);
INSERT INTO public.canary VALUES (1), (2), (3);
CREATE SCHEMA :\"sch\";
CREATE SCHEMA :\"psch\";
CREATE TABLE :\"psch\".:\"ptbl\" (:\"pkey\" text PRIMARY KEY, note text);
CREATE TABLE :\"sch\".:\"tbl\" (
	:\"key\" text PRIMARY KEY,
	:\"due\" timestamptz DEFAULT now(),  -- NULL: no further work (rollout_complete_rows)
	:\"txn\" text NOT NULL DEFAULT :'txnid',
	:\"hold\" boolean NOT NULL DEFAULT false,
	:\"pref\" text,
	:\"route\" text,
	payload text);
CREATE VIEW :\"sch\".:\"vw\" AS SELECT 1 AS x;
SELECT rollout_register_version('10.1');
SELECT rollout_register_version('10.2');
SELECT rollout_register_version('10.3');
-- 0 %: every routed key goes to the base 10.1 (the rows' versions stay predictable).
SELECT rollout_set_ramp('10.1', '10.2', 0);
-- Every DDL command and every dropped object from here on is logged.
CREATE TABLE public.ddl_log (tag text, obj text);
CREATE TABLE public.drop_log (type text, obj text);
CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
BEGIN
	INSERT INTO public.ddl_log SELECT command_tag, object_identity FROM pg_event_trigger_ddl_commands();
END \$\$;
CREATE FUNCTION public.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
BEGIN
	INSERT INTO public.drop_log SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects();
END \$\$;
CREATE EVENT TRIGGER inj_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl();
CREATE EVENT TRIGGER inj_drop ON sql_drop EXECUTE FUNCTION public.log_drop();
"
[ "$STATE" == ok ] || { echo "$OUT"; echo "error: set-up failed" >&2; exit 1; }
TBL=$(value "SELECT format('%I.%I', :'sch', :'tbl')")
PTBL=$(value "SELECT format('%I.%I', :'psch', :'ptbl')")
info "driver table: $TBL"
info "parent table: $PTBL"
# psql variables for the regclass texts and the qualified names
VARS+=(-v "qtbl=$TBL" -v "qptbl=$PTBL")

# =============================================================================
# Tagging with odd names: parent, child with inheritance and routing
# =============================================================================
ok "rollout_enable_tagging on $PTBL with column_name $(value "SELECT quote_ident(:'ver')")" \
	"SELECT rollout_enable_tagging(:'qptbl', column_name => :'ver');"
check "the odd version column was added to the parent with type rollout_version" "rollout_version" \
	"$(value "SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = :'qptbl'::regclass AND attname = :'ver'")"
ok "rollout_enable_tagging on $TBL: inherit_from, inherit_on, parent_columns, route_by, column_name all odd" \
	"SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
	        inherit_on => ARRAY[:'pref']::name[], parent_columns => ARRAY[:'pkey']::name[],
	        route_by => :'route');"
check "rollout_version_column() gives the odd column name back" "$(value "SELECT :'ver'")" \
	"$(value "SELECT rollout_version_column(:'qtbl')")"
check "rollout_tagged_tables lists both odd tables" 2 \
	"$(value "SELECT count(*) FROM rollout_tagged_tables WHERE tbl IN (:'qtbl'::regclass, :'qptbl'::regclass) AND column_name = :'ver'")"

ok "tagged INSERT of a parent row whose key is an injection string" \
	"SET rollout.version = '10.1'; INSERT INTO :\"psch\".:\"ptbl\" (:\"pkey\", note) VALUES (:'okey', 'parent');"
check "...stored verbatim and tagged 10.1" "1010000000" \
	"$(value "SELECT :\"ver\" FROM :\"psch\".:\"ptbl\" WHERE :\"pkey\" = :'okey'")"
ok "tagged INSERTs into the driver table: inherited, routed, session" "
SET rollout.version = '10.2';
INSERT INTO :\"sch\".:\"tbl\" (:\"key\", :\"pref\", payload) VALUES
	('inherit ''1''', :'okey', 'inherits 10.1 from the odd parent key');
INSERT INTO :\"sch\".:\"tbl\" (:\"key\", :\"route\", payload) VALUES
	('route 1', :'rkey', 'routed by a quoted key');
INSERT INTO :\"sch\".:\"tbl\" (:\"key\", payload)
	SELECT 'session ' || g, 'session version' FROM generate_series(1, 4) g;"
check "a child whose parent key is an injection string inherits the parent's 10.1" "1010000000" \
	"$(value "SELECT :\"ver\" FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'inherit ''1'''")"
check "a child routed by a quoted route key gets rollout_route(key) (10.1 at 0 %)" true:true \
	"$(value "SELECT (:\"ver\" = rollout_route(:'rkey')) || ':' || (:\"ver\" = '10.1') FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'route 1'")"
check "rows with neither parent nor route key get the session's 10.2" 4 \
	"$(value "SELECT count(*) FROM :\"sch\".:\"tbl\" WHERE :\"key\" LIKE 'session %' AND :\"ver\" = '10.2'")"
check "COPY into the odd table is tagged too" 1010000000 \
	"$(value "SET rollout.version = '10.1';
COPY :\"sch\".:\"tbl\" (:\"key\", payload) FROM STDIN;
copied	via COPY
\\.
SELECT :\"ver\" FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'copied'")"

# --- routing with quoted keys --------------------------------------------------
check "rollout_route agrees with rollout_route_bucket for keys with quotes, semicolons and unicode (50 %)" t \
	"$(value "SELECT rollout_set_ramp('10.1', '10.2', 50); SELECT bool_and(rollout_route(k) = CASE WHEN rollout_route_bucket(k) < 5000 THEN '10.2'::rollout_version ELSE '10.1' END)
	          FROM unnest(ARRAY[:'rkey', :'okey', :'uni', '''', '\"', ';', '--', E'\\\\', '']) k")"
check "rollout_route_bucket of a quoted key is stable across calls and sessions" \
	"$(value "SELECT rollout_route_bucket(:'rkey')")" "$(value "SELECT rollout_route_bucket(:'rkey')")"

# =============================================================================
# Criteria on the odd driver table
# =============================================================================
ok "rollout_define_criteria: odd criteria id, transaction id, table and every column" \
	"SELECT rollout_define_criteria(:'crit', transaction_id => :'txnid', queue_table => :'qtbl',
	        key_column => :'key', due_column => :'due', version_column => :'ver',
	        transaction_column => :'txn', hold_column => :'hold', token_column => :'tok');"
check "the criteria row holds every string verbatim" t \
	"$(value "SELECT transaction_id = :'txnid' AND queue_table = :'qtbl'::regclass AND key_column = :'key'
	                 AND due_column = :'due' AND version_column = :'ver' AND transaction_column = :'txn'
	                 AND hold_column = :'hold' AND token_column = :'tok'
	            FROM rollout_criteria WHERE criteria_id = :'crit'")"
check "the odd token column was added with type uuid" uuid \
	"$(value "SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = :'qtbl'::regclass AND attname = :'tok'")"

CLAIM="SELECT * FROM rollout_claim_rows(:'crit', NULL:::\"sch\".:\"tbl\", 10, as_version => '10.2')"
check "rollout_claim_rows with the odd row type claims the 4 rows of 10.2" 4 \
	"$(value "SELECT count(*) FROM ($CLAIM) c")"
check "...each claimed row got a token in the odd token column" 4 \
	"$(value "SELECT count(*) FROM :\"sch\".:\"tbl\" WHERE :\"tok\" IS NOT NULL")"
check "rollout_backlog reports the odd criteria: 4 claimed of 10.2, 3 ready of 10.1" "10.2:0:4|10.1:3:0" \
	"$(value "SELECT string_agg(rollout_version_format(version)::text || ':' || ready || ':' || claimed, '|' ORDER BY version DESC)
	          FROM rollout_backlog WHERE criteria_id = :'crit' AND queue_table = :'qtbl'::regclass" |
		sed 's/\.0\.0\.0\.0//g')"
ok "rollout_complete_rows with the odd criteria and a key with quotes ends the claim" "
SELECT :\"key\" AS k, :\"tok\" AS t FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'session 1' \\gset
SELECT rollout_complete_rows(:'crit', :'k', :'t') AS done \\gset
\\if :done
\\else
SELECT 1/0;
\\endif"
check "...the completed row has no token and no due date" "t" \
	"$(value "SELECT :\"tok\" IS NULL AND :\"due\" IS NULL FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'session 1'")"
ok "rollout_retry_rows with the odd criteria hands a row back" "
SELECT :\"key\" AS k, :\"tok\" AS t FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'session 2' \\gset
SELECT rollout_retry_rows(:'crit', :'k', :'t', '1 hour') AS done \\gset
\\if :done
\\else
SELECT 1/0;
\\endif"
check "...the retried row is due in an hour, token cleared" t \
	"$(value "SELECT :\"tok\" IS NULL AND :\"due\" > now() + interval '59 minutes' FROM :\"sch\".:\"tbl\" WHERE :\"key\" = 'session 2'")"
check "rollout_complete_rows with an injection string as key changes nothing (false)" f \
	"$(value "SELECT rollout_complete_rows(:'crit', :'okey', gen_random_uuid())")"
check "rollout_complete_rows with key \"x' OR '1'='1\" changes nothing (false)" f \
	"$(value "SELECT rollout_complete_rows(:'crit', \$\$x' OR '1'='1\$\$, gen_random_uuid())")"
check "rollout_drained('10.2') sees the odd queue's unfinished rows (false)" f \
	"$(value "SELECT rollout_drained('10.2')")"

# --- guards ------------------------------------------------------------------
ok "rollout_enable_guard on the odd table (version column taken from the tagging configuration)" \
	"SELECT rollout_enable_guard(:'qtbl');"
expect "guard: a 10.1 session updating a 10.2 row of the odd table is refused" RV001 \
	"SET rollout.version = '10.1'; UPDATE :\"sch\".:\"tbl\" SET payload = 'x' WHERE :\"key\" = 'session 3';"
expect "guard: changing the odd version column by UPDATE is refused" RV002 \
	"SET rollout.version = '10.2'; UPDATE :\"sch\".:\"tbl\" SET :\"ver\" = '10.1' WHERE :\"key\" = 'session 3';"
ok "guard: a 10.2 session may update its own row" \
	"SET rollout.version = '10.2'; UPDATE :\"sch\".:\"tbl\" SET payload = 'ok' WHERE :\"key\" = 'session 3';"

# --- retag and phase-out through the odd names -----------------------------------
# session 3 loses its lease, session 4 stays leased.
ok "(set-up) session 3's lease ends" \
	"SET rollout.version = '10.2'; UPDATE :\"sch\".:\"tbl\" SET :\"tok\" = NULL, :\"due\" = now() WHERE :\"key\" = 'session 3';"
q "CALL rollout_retag(:'qtbl', '10.2', '10.3');"
check "CALL rollout_retag on the odd table moves the unleased 10.2 rows (3 moved, 1 leased skipped)" "3|1" \
	"$( [ "$STATE" == ok ] && tail -1 <<<"$OUT" || echo "ERROR $STATE: $(grep -m1 ERROR <<<"$OUT")")"
check "...the moved rows carry 10.3 in the odd version column" 3 \
	"$(value "SELECT count(*) FROM :\"sch\".:\"tbl\" WHERE :\"ver\" = '10.3'")"
check "the retag audit row names the odd table verbatim" t \
	"$(value "SELECT bool_or(detail->>'table' = :'qtbl') FROM rollout_audit WHERE action = 'retag'")"
q "CALL rollout_phase_out('10.3', '10.2');"
check "CALL rollout_phase_out walks the odd tables (moves the 3 rows of 10.3 on to 10.2, retires 10.3)" "3|0|retired" \
	"$( [ "$STATE" == ok ] && tail -1 <<<"$OUT" || echo "ERROR $STATE: $(grep -m1 ERROR <<<"$OUT")")"

# =============================================================================
# Criteria ids and other strings
# =============================================================================
for id_var in uni long; do
	ok "rollout_define_criteria with id :'$id_var' ($(value "SELECT length(:'$id_var') || ' chars, ' || octet_length(:'$id_var') || ' bytes'"))" \
		"SELECT rollout_define_criteria(:'$id_var', transaction_id => :'$id_var');"
	check "rollout_claim finds criteria :'$id_var' and claims its task" 1 \
		"$(value "SET rollout.version = '10.1'; INSERT INTO rollout_task_q (transaction_id) VALUES (:'$id_var');
		          SELECT count(*) FROM rollout_claim(:'$id_var')")"
	ok "rollout_drop_criteria with id :'$id_var'" "SELECT rollout_drop_criteria(:'$id_var');"
done
expect "a criteria id of 201 characters is refused" 22023 "SELECT rollout_define_criteria(:'toolong');"
expect "rollout_claim with a 10000-character id: undefined_object" 42704 "SELECT * FROM rollout_claim(:'huge', as_version => '10.1');"
expect "rollout_claim with an injection string that names no criteria: undefined_object" 42704 \
	"SELECT * FROM rollout_claim('x''); DROP TABLE public.canary; --', as_version => '10.1');"
expect "rollout_complete_rows with an unknown criteria: undefined_object" 42704 \
	"SELECT rollout_complete_rows('nope\"; DROP TABLE public.canary', 'k', gen_random_uuid());"
expect "rollout_drop_criteria with an unknown odd id: undefined_object" 42704 \
	"SELECT rollout_drop_criteria(:'okey');"
check "rollout_drop_criteria(..., if_exists => true) with an odd id is a no-op" ok \
	"$(q "SELECT rollout_drop_criteria(:'okey', if_exists => true);"; echo "$STATE")"

# Multi-byte ids: CHECK (length(...) BETWEEN 1 AND 200) counts characters.
ok "rollout_define_criteria with a 150-character, 300-byte id" "SELECT rollout_define_criteria(:'mbid');"
q "SET rollout.version = '10.1'; INSERT INTO rollout_task_q (transaction_id) VALUES (:'mbid'); SELECT count(*) FROM rollout_claim(:'mbid');"
if [ "$STATE" == ok ] && [ "$(tail -1 <<<"$OUT")" == 1 ]; then
	pass "rollout_claim finds a criteria whose 150-character id is 300 bytes long"
else
	fail "rollout_claim on a defined criteria with a 150-character (300-byte) id: $STATE $(grep -m1 ERROR <<<"$OUT" | cut -c1-120)"
fi
ok "rollout_define_criteria with a 100-character, 300-byte transaction id" \
	"SELECT rollout_define_criteria('MB.TXN', transaction_id => :'mbtxn');"
q "SET rollout.version = '10.1'; INSERT INTO rollout_task_q (transaction_id) VALUES (:'mbtxn');
   SELECT count(*) FROM rollout_claim('MB.TXN');"
ready=$(value "SELECT coalesce(sum(ready + claimed), 0) FROM rollout_backlog WHERE criteria_id = 'MB.TXN'")
if [ "$STATE" == ok ] && [ "$(tail -1 <<<"$OUT")" == 1 ]; then
	pass "rollout_claim claims the task of a criteria whose transaction id is 300 bytes long"
else
	fail "rollout_claim with a 300-byte transaction id claimed [$(tail -1 <<<"$OUT")] rows ($STATE) while rollout_backlog shows $ready ready/claimed"
fi

ok "rollout_register_version with an injection string as label" \
	"SELECT rollout_register_version('10.4', :'evil_label');"
check "...label stored verbatim, and verbatim in the audit's JSON" t \
	"$(value "SELECT (SELECT label FROM rollout_versions WHERE version = '10.4') = :'evil_label'
	             AND (SELECT bool_or(detail->>'label' = :'evil_label') FROM rollout_audit WHERE action = 'register')")"
expect "rollout_set_version_state with an injection string as state" 22023 \
	"SELECT rollout_set_version_state('10.4', 'active''); DROP TABLE public.canary; --');"
expect "rollout_enable_tagging with an injection string as if_unset" 22023 \
	"SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', if_unset => 'error''); DROP TABLE public.canary; --');"
expect "rollout.version set to an injection string is refused (library loaded)" 22P02 \
	"SELECT rollout_current_version(); SET rollout.version = '10.1''; DROP TABLE public.canary; --';"
# The test clusters preload the library (the documented installation), so on
# a new connection the SET itself is refused too, and nothing runs under it.
# (Without preloading, the load drops the value with a warning:
# test/tap/t/001_version_setting.pl.)
expect "rollout.version set to an injection string on a new connection is refused at once (preloaded)" 22P02 \
	"SET rollout.version = '10.1''; DROP TABLE public.canary; --';
	 INSERT INTO :\"psch\".:\"ptbl\" (:\"pkey\") VALUES ('never');"

# =============================================================================
# Names that do not exist, and strings that are not names
# =============================================================================
expect "rollout_enable_tagging on a missing table in the odd schema: undefined_table" 42P01 \
	"SELECT rollout_enable_tagging(format('%I.%I', :'sch', 'No Such \"Table\"'));"
expect "rollout_enable_tagging in a missing schema: invalid_schema_name" 3F000 \
	"SELECT rollout_enable_tagging('\"No Such Schema\".t');"
expect "rollout_enable_tagging('public.canary; DROP TABLE public.canary'): not a name" 42602 \
	"SELECT rollout_enable_tagging('public.canary; DROP TABLE public.canary');"
expect "rollout_enable_tagging on a view with an odd name: wrong_object_type" 42809 \
	"SELECT rollout_enable_tagging(format('%I.%I', :'sch', :'vw'));"
expect "rollout_enable_tagging with a missing inherit_on column: undefined_column" 42703 \
	"SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
	        inherit_on => ARRAY['no such \"col\"; DROP TABLE public.canary']::name[], parent_columns => ARRAY[:'pkey']::name[]);"
expect "rollout_enable_tagging with a missing parent column: undefined_column" 42703 \
	"SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
	        inherit_on => ARRAY[:'pref']::name[], parent_columns => ARRAY['nope'';--']::name[]);"
expect "rollout_enable_tagging with a missing route_by column: undefined_column" 42703 \
	"SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', route_by => 'no such \"route\"');"
expect "rollout_define_criteria with a missing key column: undefined_column" 42703 \
	"SELECT rollout_define_criteria('X.1', queue_table => :'qtbl', key_column => 'nope\"; --', due_column => :'due');"
expect "rollout_define_criteria with a due column that is not timestamptz: datatype_mismatch" 42804 \
	"SELECT rollout_define_criteria('X.2', queue_table => :'qtbl', key_column => :'key', due_column => :'key');"
expect "rollout_define_criteria on a missing odd table: undefined_table" 42P01 \
	"SELECT rollout_define_criteria('X.3', queue_table => format('%I.%I', :'sch', 'gone'';--'), key_column => 'k', due_column => 'd');"
expect "rollout_enable_guard with a missing column: undefined_column" 42703 \
	"SELECT rollout_enable_guard(:'qtbl', column_name => 'nope\"; DROP TABLE public.canary');"
expect "CALL rollout_retag on a missing odd table: undefined_table" 42P01 \
	"CALL rollout_retag(format('%I.%I', :'sch', 'gone'), '10.1', '10.2');"
expect "rollout_claim_rows with another table's row type: datatype_mismatch" 42804 \
	"SELECT * FROM rollout_claim_rows(:'crit', NULL::public.canary, 1, as_version => '10.1');"
q "SELECT * FROM rollout_claim_rows(:'crit', NULL::public.canary, 1, as_version => '10.1');"
hint=$(grep -m1 '^HINT' <<<"$OUT" || true)
info "its hint: $hint"
if grep -qF "NULL::$TBL" <<<"$hint"; then
	pass "the row-type hint quotes the odd table name so it can be pasted"
else
	fail "the row-type hint does not quote the odd table name (cannot be pasted): $hint"
fi

# =============================================================================
# Switching things off, and the verdict on injection
# =============================================================================
ok "rollout_disable_guard on the odd table" "SELECT rollout_disable_guard(:'qtbl');"
ok "rollout_disable_tagging on the odd tables" "SELECT rollout_disable_tagging(:'qtbl'); SELECT rollout_disable_tagging(:'qptbl');"
check "no rollout trigger is left on the odd tables" 0 \
	"$(value "SELECT count(*) FROM pg_trigger WHERE tgrelid IN (:'qtbl'::regclass, :'qptbl'::regclass) AND tgname LIKE 'rollout%'")"

check "the canary table still has its 3 rows" 3 "$(canary)"
check "the odd tables are intact (7 driver rows, 1 parent row)" "7|1" \
	"$(value "SELECT (SELECT count(*) FROM :\"sch\".:\"tbl\") || '|' || (SELECT count(*) FROM :\"psch\".:\"ptbl\")")"
check "no object but the extension's triggers and version-column defaults was dropped" "" \
	"$(value "SELECT string_agg(type || ' ' || obj, '; ') FROM public.drop_log WHERE type NOT IN ('trigger', 'default value')")"
check "every dropped default is the odd version column's (rollout_enable_tagging gave it)" "" \
	"$(value "SELECT string_agg(obj, '; ') FROM public.drop_log WHERE type = 'default value' AND right(obj, length(quote_ident(:'ver')) + 1) <> '.' || quote_ident(:'ver')")"
check "every dropped trigger is one of the extension's (rollout_tag, rollout_guard)" "" \
	"$(value "SELECT string_agg(obj, '; ') FROM public.drop_log WHERE type = 'trigger' AND obj !~ '^rollout_(tag|guard) on '")"
check "the only DDL run was ALTER TABLE (new columns, version-column defaults) and CREATE TRIGGER" "" \
	"$(value "SELECT string_agg(DISTINCT tag, ', ') FROM public.ddl_log WHERE tag NOT IN ('ALTER TABLE', 'CREATE TRIGGER')")"
info "DDL log: $(value "SELECT string_agg(tag || ' ' || coalesce(obj, ''), ' | ') FROM public.ddl_log")"

finish
