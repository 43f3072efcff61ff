# Least privilege and search_path safety.
#
# 1. Grants: finds, by elimination, the least grants an agent role needs to
#    claim, complete and retry (and a writer role to insert into tagged
#    tables), and proves each one necessary (42501 without it). A role
#    without the table grants gets 42501 from claim, complete and retry; a
#    role without write grants on the configuration tables cannot define or
#    drop criteria, register versions, change states or ramps, tag or retag.
# 2. search_path: look-alike objects (functions such as now() and
#    unnest(name[]), operators such as = for rollout_version or
#    regclass = oid, views shadowing the extension's tables) in the caller's
#    own schema, first on its search_path. Each raises NOTICE 'HIJACK:...'
#    when used, and would make its owner a superuser if a superuser ran it.
#    Every entry point runs and uses none of them; twice: the extension in a
#    schema of its own, and in public (the README's default install).
# 3. Functions called schema-qualified work without the extension's schema
#    on the caller's search_path.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('privileges');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'rollout_ext'");
$node->start;

# run DB ROLE SQL: SQL as ROLE in a new session; returns "ok" or the first
# error's SQLSTATE, and everything psql printed.
sub run
{
	my ($db, $role, $sql) = @_;
	my ($rc, $stdout, $stderr) = $node->psql($db, $sql,
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	my $state = 'ok';
	if ($rc != 0)
	{
		$state = $stderr =~ /ERROR:  ([0-9A-Z]{5})/ ? $1 : "psql exit $rc";
	}
	return ($state, "$stdout\n$stderr");
}
sub first_error { return $_[0] =~ /(ERROR:.*)/ ? substr($1, 0, 160) : ''; }
sub sql { return $node->safe_psql(@_); }

#
# 1. Grants (the extension in a schema of its own, so USAGE is not implicit)
#
my $db = 'privtest';
sql('postgres', "CREATE DATABASE $db");
sql('postgres', "ALTER DATABASE $db SET search_path = public, rollout");
sql(
	$db, q{
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
});

# Fills the queue with due rows of 10.1 (as the superuser).
sub refill
{
	sql(
		$db, q{SET rollout.version = '10.1';
		       DELETE FROM rollout.rollout_task_q;
		       INSERT INTO rollout.rollout_task_q (transaction_id, data_key)
		       SELECT 'PRIV.TASK', 'k' || g FROM generate_series(1, 6) g;});
}

# The agent's work: claim (as_version), complete; claim (SET LOCAL), retry.
my $agent_work = q{
SELECT task_q_key AS k1, claim_token AS t1
  FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1') \gset
SELECT rollout.rollout_complete(:k1, :'t1') AS completed \gset
BEGIN;
SET LOCAL rollout.version = '10.1';
SELECT task_q_key AS k2, claim_token AS t2 FROM rollout.rollout_claim('PRIV.TASK', 1) \gset
COMMIT;
SELECT rollout.rollout_retry(:k2, :'t2', '0 seconds') AS retried \gset
SELECT :'completed' || :'retried';
};
# The writer's work: tagged inserts, one of them inheriting its parent's version.
my $writer_work = q{
BEGIN;
SET LOCAL rollout.version = '10.1';
INSERT INTO public.orders VALUES ('SO-W' || pg_backend_pid(), 'writer');
INSERT INTO public.order_lines (order_key, qty) VALUES ('SO-1', 1);
COMMIT;
};

# The role's work: "ok" when it succeeds, else the SQLSTATE; and the output.
sub run_work
{
	my ($role) = @_;
	return run($db, $role, $writer_work) if $role eq 'writer_min';
	refill();
	my ($state, $out) = run($db, $role, $agent_work);
	if ($state eq 'ok' && $out !~ /^tt$/m)
	{
		$state = 'complete or retry returned false';
	}
	return ($state, $out);
}

# minimize ROLE GRANT...: grants every candidate, then revokes each one the
# work does not need; each one kept must be necessary (42501 without it).
sub minimize
{
	my ($role, @candidates) = @_;
	my @needed;
	sql($db, "GRANT $_ TO $role") for @candidates;
	my ($state, $out) = run_work($role);
	is($state, 'ok', "$role: the work succeeds with every candidate grant")
	  or return diag(first_error($out));
	for my $grant (@candidates)
	{
		sql($db, "REVOKE $grant FROM $role");
		($state, $out) = run_work($role);
		if ($state eq 'ok')
		{
			note("$role: not needed: GRANT $grant");
			next;
		}
		push @needed, $grant;
		sql($db, "GRANT $grant TO $role");
		is($state, '42501', "$role: GRANT $grant is necessary (without it: " . first_error($out) . ')');
	}
	($state) = run_work($role);
	is($state, 'ok', "$role: the work succeeds with the least set");
	note("least grants for $role:\n" . join("\n", map { "  GRANT $_ TO $role;" } @needed)
		  . "\n  (and EXECUTE on the functions, which PUBLIC has by default)");
}

my @config_tables = map { "rollout.$_" } qw(rollout_criteria rollout_versions rollout_ramp rollout_tagging);
minimize('agent_min',
	'USAGE ON SCHEMA rollout',
	(map { "$_ ON rollout.rollout_task_q" } qw(SELECT UPDATE DELETE INSERT)),
	map { "SELECT ON $_" } @config_tables, 'rollout.rollout_audit');

# Column-level UPDATE is enough: the claim and the retry write these columns.
my $columns = 'available_date, claim_token, claim_count, hold_flag, parked_at';
sql($db, "REVOKE UPDATE ON rollout.rollout_task_q FROM agent_min;
          GRANT UPDATE ($columns) ON rollout.rollout_task_q TO agent_min;");
is((run_work('agent_min'))[0], 'ok', "UPDATE ($columns) on rollout_task_q suffices instead of UPDATE");
sql($db, "REVOKE UPDATE ($columns) ON rollout.rollout_task_q FROM agent_min;
          GRANT UPDATE ON rollout.rollout_task_q TO agent_min;");

# EXECUTE is part of the set: PUBLIC has it by default.
is( sql($db,
		q{SELECT has_function_privilege('agent_min', 'rollout.rollout_claim(text, integer, rollout.rollout_version)', 'EXECUTE')
		     AND has_function_privilege('public', 'rollout.rollout_complete(bigint, uuid)', 'EXECUTE')}),
	't',
	'agent_min may execute rollout_claim through PUBLIC\'s default EXECUTE');
sql($db, 'REVOKE EXECUTE ON FUNCTION rollout.rollout_claim(text, integer, rollout.rollout_version) FROM PUBLIC');
is((run_work('agent_min'))[0], '42501', 'with EXECUTE on rollout_claim revoked from PUBLIC, the claim fails with 42501');
sql($db, 'GRANT EXECUTE ON FUNCTION rollout.rollout_claim(text, integer, rollout.rollout_version) TO PUBLIC');

minimize('writer_min',
	'USAGE ON SCHEMA rollout',
	(map { "$_ ON public.orders" } qw(INSERT SELECT)),
	(map { "$_ ON public.order_lines" } qw(INSERT SELECT)),
	map { "SELECT ON $_" } @config_tables);
is( sql($db, q{SELECT bool_and(rollout_version = '10.1') FROM orders WHERE order_key LIKE 'SO-W%'}) . ':'
	  . sql($db, q{SELECT bool_and(rollout_version = '10.1') FROM order_lines}),
	't:t',
	'writer_min\'s rows were tagged: orders from SET LOCAL, order_lines inherited');

# A role without the table grants.
sql($db, 'GRANT USAGE ON SCHEMA rollout TO agent_none');
refill();
my ($key, $token) = split /\|/,
  sql($db, q{SELECT task_q_key, claim_token FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1')});
is((run($db, 'agent_none', q{SELECT count(*) FROM rollout.rollout_claim('PRIV.TASK', 1, as_version => '10.1')}))[0],
	'42501', 'agent_none (no table grants): rollout_claim fails with 42501');
is((run($db, 'agent_none', "SELECT rollout.rollout_complete($key, '$token')"))[0],
	'42501', 'agent_none: rollout_complete fails with 42501');
is((run($db, 'agent_none', "SELECT rollout.rollout_retry($key, '$token', '1 minute')"))[0],
	'42501', 'agent_none: rollout_retry fails with 42501');
is(sql($db, "SELECT count(*) FROM rollout.rollout_task_q WHERE task_q_key = $key AND claim_token = '$token'"),
	'1', 'agent_none\'s refused calls changed nothing (the claimed row keeps its token)');

# The configuration functions need write grants on the configuration tables.
my $criteria_before = sql($db, q{SELECT count(*) || '/' || max(updated_at) FROM rollout.rollout_criteria});
for my $refused (
	[ q{SELECT rollout.rollout_define_criteria('AGENT.OWN')},                  'rollout_define_criteria' ],
	[ q{SELECT rollout.rollout_define_criteria('PRIV.TASK', batch_size => 1)}, 'redefining a criteria' ],
	[ q{SELECT rollout.rollout_drop_criteria('PRIV.TASK')},                    'rollout_drop_criteria' ],
	[ q{SELECT rollout.rollout_register_version('10.9')},                      'rollout_register_version' ],
	[ q{SELECT rollout.rollout_set_version_state('10.1', 'retired')},          'rollout_set_version_state' ],
	[ q{SELECT rollout.rollout_set_ramp('10.1', '10.9', 50)},                  'rollout_set_ramp' ],
	[ q{CALL rollout.rollout_retag('rollout.rollout_task_q', '10.1', '10.2')}, 'CALL rollout_retag' ])
{
	is((run($db, 'agent_min', $refused->[0]))[0], '42501', "agent_min: $refused->[1] fails with 42501");
}
is(sql($db, q{SELECT count(*) || '/' || max(updated_at) FROM rollout.rollout_criteria}),
	$criteria_before, 'rollout_criteria is unchanged by the refused calls');
is( sql($db,
		q{SELECT string_agg(version || ':' || state, ',') || '|' || (SELECT count(*) FROM rollout.rollout_ramp)
		    FROM rollout.rollout_versions}),
	'1010000000:active|0',
	'the versions and the ramp are unchanged by the refused calls');
sql($db, 'CREATE TABLE public.agent_table (id int); ALTER TABLE public.agent_table OWNER TO agent_min');
my ($state, $out) = run($db, 'agent_min', q{SELECT rollout.rollout_enable_tagging('public.agent_table')});
like("$state $out", qr/^42501 .*permission denied for table rollout_tagging/s,
	'agent_min on a table it owns: rollout_enable_tagging fails with 42501 (no INSERT on rollout_tagging)');
is( sql($db,
		q{SELECT (SELECT count(*) FROM pg_attribute
		           WHERE attrelid = 'public.agent_table'::regclass AND attname = 'rollout_version')
		         || '|' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.agent_table'::regclass)}),
	'0|0',
	'...and left the table untouched (no column, no trigger)');

#
# 2. search_path: look-alike objects in the caller's own schema
#
# Created by the victim's own role in schema @EVIL@; @EXT@ is the
# extension's schema. Every stand-in behaves like the real thing (so calls
# still succeed and every use shows) and raises NOTICE 'HIJACK:...'.
my $battery = q{
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
};
# The comparison operators of rollout_version, each a stand-in for the
# extension's own.
for my $operator ([ 'eq', '=' ], [ 'ne', '<>' ], [ 'lt', '<' ], [ 'le', '<=' ], [ 'gt', '>' ], [ 'ge', '>=' ])
{
	my ($name, $symbol) = @$operator;
	$battery .= qq{
CREATE FUNCTION \@EVIL\@.v_$name(\@EXT\@.rollout_version, \@EXT\@.rollout_version) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM \@EVIL\@.hit('operator $symbol (rollout_version, rollout_version)'); RETURN \@EXT\@.rollout_version_$name(\$1, \$2); END \$f\$;
CREATE OPERATOR \@EVIL\@.$symbol (LEFTARG = \@EXT\@.rollout_version, RIGHTARG = \@EXT\@.rollout_version, FUNCTION = \@EVIL\@.v_$name);};
}
# Views shadowing the extension's tables: empty, and every read or write of
# them raises the notice.
for my $table (qw(rollout_task_q rollout_criteria rollout_versions rollout_ramp rollout_tagging rollout_audit))
{
	$battery .= qq{
CREATE VIEW \@EVIL\@.$table AS SELECT (r).* FROM (SELECT NULL::\@EXT\@.$table AS r) s WHERE NOT \@EVIL\@.hit('table $table');
CREATE TRIGGER hijack INSTEAD OF INSERT OR UPDATE OR DELETE ON \@EVIL\@.$table
	FOR EACH ROW EXECUTE FUNCTION \@EVIL\@.hit_trigger();};
}

# The scene in database DB with the extension in schema EXT: a task queue, a
# base_version criteria, a driver table, tagged tables with inheritance and
# routing, a guard; the victim role DB_agent with its own schema of that
# name, first on its search_path ("$user" in the default path).
sub setup_scene
{
	my ($db, $ext) = @_;
	my $victim = "${db}_agent";
	(my $victim_battery = $battery) =~ s/\@EVIL\@/$victim/g;
	$victim_battery =~ s/\@EXT\@/$ext/g;
	sql('postgres', "CREATE DATABASE $db");
	sql($db, ($ext eq 'public' ? '' : "CREATE SCHEMA $ext;") . qq{
CREATE EXTENSION rollout_ext SCHEMA $ext;
SET search_path = public, $ext;
CREATE ROLE $victim LOGIN;
ALTER ROLE $victim IN DATABASE $db SET search_path = "\$user", $ext;
CREATE SCHEMA $victim AUTHORIZATION $victim;
GRANT USAGE ON SCHEMA $ext TO $victim;
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
GRANT SELECT, UPDATE, DELETE ON rollout_task_q TO $victim;
GRANT SELECT ON rollout_criteria, rollout_versions, rollout_ramp, rollout_backlog, rollout_tagging TO $victim;
GRANT SELECT, INSERT, UPDATE ON public.sp_orders, public.sp_lines, public.sp_routed, public.sp_driver TO $victim;
SET ROLE $victim;
$victim_battery
RESET ROLE;
});
}

my @hits;
# hijack_check DB ROLE DESCRIPTION SQL EXT: SQL as ROLE (a superuser gets
# the victim's search_path) must use none of the stand-ins.
sub hijack_check
{
	my ($db, $role, $what, $body, $ext) = @_;
	$body = "SET search_path = ${db}_agent, $ext;\n$body" if $role eq 'postgres';
	my ($state, $out) = run($db, $role, $body);
	my %used = map { $_ => 1 } $out =~ /HIJACK:(.*)/g;
	push @hits, keys %used;
	if (%used)
	{
		fail("[$db] $what USES THE CALLER'S OBJECTS: " . join('; ', sort keys %used));
	}
	else
	{
		is($state, 'ok', "[$db] $what uses none of the caller's look-alike objects")
		  or diag(first_error($out));
	}
}

# A claim by the superuser with a clean search_path, so that only the
# completion after it is under test: "key|token".
sub clean_claim
{
	my ($db, $ext, $sql) = @_;
	return split /\|/, sql($db, "SET search_path = public, $ext; $sql");
}

sub search_path_suite
{
	my ($db, $ext) = @_;
	my $victim = "${db}_agent";
	@hits = ();
	setup_scene($db, $ext);
	is($node->safe_psql($db, 'SELECT array_to_string(current_schemas(false), \', \')', extra_params => [ '-U', $victim ]),
		"$victim, $ext", "[$db] role $victim has its own schema first on its search_path");
	my ($rc, $stdout, $stderr) = $node->psql($db,
		"SELECT now(); SELECT '10.1'::$ext.rollout_version = '10.1'; SELECT count(*) FROM rollout_criteria;",
		extra_params => [ '-U', $victim ]);
	is( join(':', $stderr =~ /(HIJACK:.*)/g),
		'HIJACK:operator = (rollout_version, rollout_version):HIJACK:table rollout_criteria',
		"[$db] sanity: $victim's own SQL gets its stand-ins (= on rollout_version, rollout_criteria) but pg_catalog's now()");

	# The agent's and writer's paths (the victim role itself).
	my @victim_paths = (
		[ 'tagged INSERT (SET LOCAL)',
		  q{BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO public.sp_orders VALUES ('SO-V', 'victim'); COMMIT;} ],
		[ 'tagged INSERT inheriting the parent\'s version',
		  q{BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO public.sp_lines (order_ref) VALUES ('SO-1'); COMMIT;} ],
		[ 'tagged INSERT routed by the ramp', q{INSERT INTO public.sp_routed VALUES ('R-1'), ('R-2'), ('R-3');} ],
		[ 'tagged INSERT with an explicit version',
		  q{INSERT INTO public.sp_orders (order_key, rollout_version) VALUES ('SO-E', '10.1');} ],
		[ 'rollout_claim (exact version, SET LOCAL)',
		  "BEGIN; SET LOCAL rollout.version = '10.1'; SELECT count(*) FROM $ext.rollout_claim('SP.TASK', 3); COMMIT;" ],
		[ 'rollout_claim (as_version)', "SELECT count(*) FROM $ext.rollout_claim('SP.TASK', 3, as_version => '10.1');" ],
		[ 'rollout_claim (base_version criteria)',
		  "SELECT count(*) FROM $ext.rollout_claim('SP.BASE', 3, as_version => '10.2');" ]);
	hijack_check($db, $victim, $_->[0], $_->[1], $ext) for @victim_paths;
	my $task_claim = "SELECT task_q_key, claim_token FROM $ext.rollout_claim('SP.TASK', 1, as_version => '10.1')";
	my $row_claim =
	  "SELECT id, rollout_claim_token FROM $ext.rollout_claim_rows('SP.DRIVER', NULL::public.sp_driver, 1, as_version => '10.1')";
	my ($k, $t) = clean_claim($db, $ext, $task_claim);
	hijack_check($db, $victim, 'rollout_complete', "SELECT $ext.rollout_complete($k, '$t');", $ext);
	($k, $t) = clean_claim($db, $ext, $task_claim);
	hijack_check($db, $victim, 'rollout_retry', "SELECT $ext.rollout_retry($k, '$t', '1 minute');", $ext);
	hijack_check($db, $victim, 'rollout_claim_rows on a driver table',
		"SELECT count(*) FROM $ext.rollout_claim_rows('SP.DRIVER', NULL::public.sp_driver, 2, as_version => '10.1');", $ext);
	($k, $t) = clean_claim($db, $ext, $row_claim);
	hijack_check($db, $victim, 'rollout_complete_rows', "SELECT $ext.rollout_complete_rows('SP.DRIVER', '$k', '$t');", $ext);
	($k, $t) = clean_claim($db, $ext, $row_claim);
	hijack_check($db, $victim, 'rollout_retry_rows',
		"SELECT $ext.rollout_retry_rows('SP.DRIVER', '$k', '$t', '1 minute');", $ext);
	my @more_victim_paths = (
		[ 'UPDATE of a guarded table (guard trigger)',
		  q{BEGIN; SET LOCAL rollout.version = '10.2'; UPDATE public.sp_orders SET note = 'touched' WHERE order_key = 'SO-1'; COMMIT;} ],
		[ 'the rollout_backlog view',   "SELECT count(*) FROM $ext.rollout_backlog;" ],
		[ 'rollout_drained()',          "SELECT $ext.rollout_drained('10.1');" ],
		[ 'rollout_route()',            "SELECT $ext.rollout_route('R-9');" ],
		[ 'rollout_current_version()', "SET rollout.version = '10.1'; SELECT $ext.rollout_current_version();" ]);
	hijack_check($db, $victim, $_->[0], $_->[1], $ext) for @more_victim_paths;

	# An administrator whose search_path shares the victim's schema.
	my @admin_paths = (
		[ 'rollout_enable_tagging (admin; new column, inheritance)',
		  "CREATE TABLE public.sp_more (id int, order_ref text);
		   SELECT $ext.rollout_enable_tagging('public.sp_more', inherit_from => 'public.sp_orders',
		          inherit_on => '{order_ref}', parent_columns => '{order_key}');" ],
		[ 'rollout_define_criteria (admin, driver table)',
		  "SELECT $ext.rollout_define_criteria('SP.DRIVER2', queue_table => 'public.sp_driver', key_column => 'id',
		          due_column => 'due', transaction_column => 'txn', hold_column => 'held');" ],
		[ 'rollout_define_criteria (admin, task queue)',  "SELECT $ext.rollout_define_criteria('SP.TASK2');" ],
		[ 'rollout_register_version (admin)',             "SELECT $ext.rollout_register_version('10.3', 'V3');" ],
		[ 'rollout_set_version_state (admin)',            "SELECT $ext.rollout_set_version_state('10.3', 'draining');" ],
		[ 'rollout_set_ramp (admin)',                     "SELECT $ext.rollout_set_ramp('10.1', '10.2', 25);" ],
		[ 'rollout_enable_guard (admin)',                 "SELECT $ext.rollout_enable_guard('public.sp_lines');" ],
		[ 'CALL rollout_retag (admin)',                   "CALL $ext.rollout_retag('public.sp_routed', '10.1', '10.2');" ],
		[ 'CALL rollout_phase_out (admin)',               "CALL $ext.rollout_phase_out('10.3', '10.2');" ],
		[ 'rollout_drop_criteria (admin)',                "SELECT $ext.rollout_drop_criteria('SP.TASK2');" ],
		[ 'rollout_disable_guard (admin)',                "SELECT $ext.rollout_disable_guard('public.sp_lines');" ],
		[ 'rollout_disable_tagging (admin)',              "SELECT $ext.rollout_disable_tagging('public.sp_more');" ],
		[ 'DROP TABLE of a tagged table (event trigger)', 'DROP TABLE public.sp_more;' ]);
	hijack_check($db, 'postgres', $_->[0], $_->[1], $ext) for @admin_paths;
	is(join('; ', grep { /table/ } @hits), '',
		"[$db] no entry point read or wrote a shadow table (views named like the extension's tables in $victim)");
	is(join('; ', grep { /timestamp\(\)|now\(\)|gen_random_uuid\(\)/ } @hits), '',
		"[$db] no entry point called a stand-in now(), statement_timestamp(), clock_timestamp() or gen_random_uuid()");
	is(sql($db, "SELECT rolsuper FROM pg_roles WHERE rolname = '$victim'"), 'f',
		"[$db] no code of $victim ran with the administrator's privileges ($victim is still not a superuser)");
}

search_path_suite('sp_own', 'rollout');
search_path_suite('sp_pub', 'public');

#
# 3. Schema-qualified calls need not the extension's schema on search_path
#
my @qualified = (
	[ 'tagged INSERT',
	  q{BEGIN; SET LOCAL rollout.version = '10.2'; INSERT INTO sp_orders VALUES ('SO-Q', 'q');
	    INSERT INTO sp_lines (order_ref) VALUES ('SO-Q'); INSERT INTO sp_routed VALUES ('R-Q'); COMMIT;} ],
	[ 'rollout.rollout_claim (exact version)', q{SELECT count(*) FROM rollout.rollout_claim('SP.TASK', 1, as_version => '10.1');} ],
	[ 'rollout.rollout_claim (base_version)',  q{SELECT count(*) FROM rollout.rollout_claim('SP.BASE', 1, as_version => '10.2');} ],
	[ 'rollout.rollout_complete',
	  q{SELECT task_q_key AS k, claim_token AS t FROM rollout.rollout_claim('SP.TASK', 1, as_version => '10.1') \gset
	    SELECT rollout.rollout_complete(:k, :'t');} ],
	[ 'rollout.rollout_claim_rows and rollout_complete_rows',
	  q{SELECT id AS k, rollout_claim_token AS t FROM rollout.rollout_claim_rows('SP.DRIVER', NULL::sp_driver, 1, as_version => '10.1') \gset
	    SELECT rollout.rollout_complete_rows('SP.DRIVER', :'k', :'t');} ],
	[ 'rollout.rollout_enable_tagging',   q{CREATE TABLE sp_q (id int); SELECT rollout.rollout_enable_tagging('sp_q');} ],
	[ 'rollout.rollout_define_criteria',  q{SELECT rollout.rollout_define_criteria('SP.Q');} ],
	[ 'rollout.rollout_register_version', q{SELECT rollout.rollout_register_version('10.4');} ],
	[ 'rollout.rollout_set_version_state', q{SELECT rollout.rollout_set_version_state('10.4', 'draining');} ],
	[ 'rollout.rollout_set_ramp',          q{SELECT rollout.rollout_set_ramp('10.1', '10.2', 30);} ],
	[ 'CALL rollout.rollout_retag',        q{CALL rollout.rollout_retag('sp_routed', '10.1', '10.2');} ],
	[ 'CALL rollout.rollout_phase_out',    q{CALL rollout.rollout_phase_out('10.4', '10.2');} ],
	[ 'rollout.rollout_backlog',           q{SELECT count(*) FROM rollout.rollout_backlog;} ],
	[ 'rollout.rollout_drained',           q{SELECT rollout.rollout_drained('10.1');} ],
	[ 'rollout.rollout_enable_guard',      q{SELECT rollout.rollout_enable_guard('sp_routed');} ]);
for my $call (@qualified)
{
	my ($state, $out) = run('sp_own', 'postgres', "SET search_path = public;\n$call->[1]");
	is($state, 'ok', "qualified $call->[0] works without the extension's schema on search_path")
	  or diag(first_error($out));
}

$node->stop;
done_testing();
