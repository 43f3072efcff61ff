# Dump and restore: pg_dump (custom format) of a database in the middle of a
# staged rollout, restored into a new database (and with -j 4 into another),
# is the same rollout:
#   - the extension and its configuration (rollout_criteria, rollout_versions,
#     rollout_ramp, rollout_audit, rollout_tagging), row for row;
#   - tagged user tables (plain, inheriting, partitioned, custom column) with
#     their versions and their rollout_tag / rollout_guard triggers;
#   - rollout_task_q with versions, holds, leases, tokens, and its sequence;
#   - and it works: tagging (session, inheritance, routing, partitions),
#     routing answers, guards, claims by version (task queue and driver
#     table), completion with tokens handed out before the dump, retry, and
#     audited control functions.
# Edge cases: untagged legacy task rows, and rows of a retired version
# restored in another order (pg_restore -L), with rollout.restoring.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'rollout_ext'");
$node->start;
my $work = PostgreSQL::Test::Utils::tempdir;

# The source database: two versions side by side, mid-ramp.
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4', 'V1');
SELECT rollout_register_version('10.1', 'V2');
SELECT rollout_register_version('8.2', 'V0');
SELECT rollout_set_version_state('8.2', 'retired');
SELECT rollout_set_ramp('9.4', '10.1', 10);
SELECT rollout_set_ramp('9.4', '10.1', 25);

SELECT rollout_define_criteria('SCHEDULE.0001', batch_size => 500, lease => '10 minutes');
SELECT rollout_define_criteria('RELEASE.0001', base_version => true, batch_size => 500,
                               lease => '10 minutes');

CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	document_type text NOT NULL,
	status integer NOT NULL DEFAULT 1100,
	next_alert_ts timestamptz
);
SELECT rollout_enable_tagging('order_header', route_by => 'order_header_key');
SELECT rollout_enable_guard('order_header');
SELECT rollout_define_criteria('MONITOR', queue_table => 'order_header',
                               key_column => 'order_header_key', due_column => 'next_alert_ts',
                               batch_size => 100, lease => '10 minutes');

CREATE TABLE order_line (
	order_line_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_header_key text NOT NULL REFERENCES order_header,
	item text NOT NULL
);
SELECT rollout_enable_tagging('order_line', inherit_from => 'order_header',
                              inherit_on => '{order_header_key}');

CREATE TABLE order_invoice (
	invoice_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hdr_key text,
	amount numeric NOT NULL
);
SELECT rollout_enable_tagging('order_invoice', inherit_from => 'order_header',
                              inherit_on => '{hdr_key}', parent_columns => '{order_header_key}');
SELECT rollout_enable_guard('order_invoice');

CREATE TABLE order_event (
	event_id bigint GENERATED ALWAYS AS IDENTITY,
	order_header_key text NOT NULL,
	kind text NOT NULL,
	PRIMARY KEY (kind, event_id)
) PARTITION BY LIST (kind);
CREATE TABLE order_event_create PARTITION OF order_event FOR VALUES IN ('create');
CREATE TABLE order_event_other PARTITION OF order_event DEFAULT;
SELECT rollout_enable_tagging('order_event', inherit_from => 'order_header',
                              inherit_on => '{order_header_key}');

CREATE TABLE app_note (note_id serial PRIMARY KEY, body text NOT NULL,
                       created_version rollout_version);
SELECT rollout_enable_tagging('app_note', column_name => 'created_version', if_unset => 'null');

-- 300 orders routed by the ramp (25% to 10.1), 20 with explicit versions.
INSERT INTO order_header (order_header_key, document_type, next_alert_ts)
SELECT 'SO-' || g, '0001', now() - interval '1 hour' FROM generate_series(1, 300) g;
INSERT INTO order_header (order_header_key, document_type, rollout_version, next_alert_ts)
SELECT 'PO-' || g, '0005', CASE WHEN g % 2 = 0 THEN '9.4' ELSE '10.1' END::rollout_version,
       now() - interval '1 hour'
  FROM generate_series(1, 20) g;

-- Derived rows inherit their order's version whatever the session's is.
SET rollout.version = '9.4';
INSERT INTO order_line (order_header_key, item)
SELECT order_header_key, 'ITEM-' || i FROM order_header, generate_series(1, 3) i;
INSERT INTO order_invoice (hdr_key, amount)
SELECT order_header_key, 10 + length(order_header_key) FROM order_header;
INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER', 1);  -- session version
INSERT INTO order_event (order_header_key, kind)
SELECT order_header_key, CASE WHEN length(order_header_key) % 2 = 0 THEN 'create' ELSE 'ship' END
  FROM order_header;
INSERT INTO app_note (body) VALUES ('written by 9.4'), ('moved to 10.1 by retag');
RESET rollout.version;
INSERT INTO app_note (body) VALUES ('untagged');
CALL rollout_retag('app_note', '9.4', '10.1', 1);  -- audited; moves both 9.4 notes
SET rollout.version = '9.4';
INSERT INTO app_note (body) VALUES ('written by 9.4 after the retag');
RESET rollout.version;

-- Tasks carry their order's version; some held, some due later.
INSERT INTO rollout_task_q (transaction_id, data_key, data_type, rollout_version)
SELECT t, h.order_header_key, 'order', h.rollout_version
  FROM order_header h, unnest('{SCHEDULE.0001,RELEASE.0001}'::text[]) t
 ORDER BY h.order_header_key, t;
UPDATE rollout_task_q SET hold_flag = true WHERE data_key IN ('SO-1', 'SO-2', 'PO-3');
UPDATE rollout_task_q SET available_date = now() + interval '1 day'
 WHERE data_key IN ('SO-4', 'SO-5', 'PO-4');

-- Leases handed out before the dump; their tokens are kept in a user table.
CREATE TABLE src_lease (task_q_key bigint, claim_token uuid, version rollout_version);
INSERT INTO src_lease SELECT task_q_key, claim_token, rollout_version
  FROM rollout_claim('SCHEDULE.0001', 7, '9.4');
INSERT INTO src_lease SELECT task_q_key, claim_token, rollout_version
  FROM rollout_claim('SCHEDULE.0001', 5, '10.1');
-- One lease spent before the dump: completed with its token.
SELECT rollout_complete(task_q_key, claim_token) FROM src_lease
 WHERE task_q_key = (SELECT min(task_q_key) FROM src_lease WHERE version = '10.1');
DELETE FROM src_lease WHERE task_q_key NOT IN (SELECT task_q_key FROM rollout_task_q);

-- Leases on the driver table (order_header), claimed by a 10.1 monitor agent.
SET rollout.version = '10.1';
CREATE TABLE src_monitor_lease AS
SELECT order_header_key, rollout_claim_token AS claim_token, rollout_version AS version
  FROM rollout_claim_rows('MONITOR', NULL::order_header, 4);
});

# Fingerprints compared between the source and its copies: for a relation,
# its row count and the md5 of every row's text, sorted.
my $route_keys = q{SELECT 'NEW-' || g AS k FROM generate_series(1, 400) g};
sub relation_fingerprint
{
	return "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM $_[0] t";
}
my @fingerprints = (
	[ 'the extension and its version',
	  q{SELECT extname || ' ' || extversion || ' ' || n.nspname
	      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'rollout_ext'} ],
	[ 'the configuration tables marked for dump',
	  q{SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text)
	      FROM pg_extension, unnest(extconfig) c WHERE extname = 'rollout_ext'} ],
	(map { [ "configuration table $_, row for row", relation_fingerprint($_) ] }
	  qw(rollout_criteria rollout_versions rollout_ramp rollout_audit rollout_tagging)),
	[ 'rollout_task_q rows (versions, holds, leases, tokens, counts)', relation_fingerprint('rollout_task_q') ],
	[ 'rollout_task_q versions per transaction',
	  q{SELECT string_agg(x, ',' ORDER BY x) FROM (
	      SELECT transaction_id || '/' || coalesce(rollout_version::text, 'untagged') || '=' || count(*) AS x
	        FROM rollout_task_q GROUP BY transaction_id, rollout_version) s} ],
	[ 'the rollout_task_q key sequence', 'SELECT last_value || \'/\' || is_called FROM rollout_task_q_task_q_key_seq' ],
	(map { [ "user table $_, row for row", relation_fingerprint($_) ] }
	  qw(order_header order_line order_invoice order_event order_event_create order_event_other
	  app_note src_lease src_monitor_lease)),
	[ 'the rollout_tag and rollout_guard triggers',
	  q{SELECT string_agg(c.relname || ': ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text,
	                      E'\n' ORDER BY c.relname, t.tgname)
	      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname IN ('rollout_tag', 'rollout_guard')} ],
	[ 'rollout_tagged_tables',
	  q{SELECT string_agg(tbl::text || '.' || column_name, ',' ORDER BY tbl::text) FROM rollout_tagged_tables} ],
	[ 'rollout_backlog',
	  q{SELECT string_agg(concat_ws('/', criteria_id, version, ready, claimed, scheduled, held), ','
	                      ORDER BY criteria_id, version) FROM rollout_backlog} ],
	[ 'rollout_drained per version',
	  q{SELECT rollout_drained('9.4') || '/' || rollout_drained('10.1') || '/' || rollout_drained('8.2')} ],
	[ 'routing answers for 400 keys',
	  "SELECT string_agg(k || '=' || rollout_route(k)::text, ',' ORDER BY k) FROM ($route_keys) s" ],
	[ 'route buckets for 400 keys',
	  "SELECT md5(string_agg(k || '=' || rollout_route_bucket(k), ',' ORDER BY k)) FROM ($route_keys) s" ]);
my %source = map { $_->[0] => $node->safe_psql('src', $_->[1]) } @fingerprints;
my $source_routes = $source{'routing answers for 400 keys'};

# Dump, restore, restore in parallel: each without a word on stderr.
$node->command_checks_all([ 'pg_dump', '-Fc', '-f', "$work/src.dump", '-d', 'src' ],
	0, [qr/^$/], [qr/^$/], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_checks_all([ 'pg_restore', '-d', 'dst', "$work/src.dump" ],
	0, [qr/^$/], [qr/^$/], 'pg_restore into a new database');
$node->safe_psql('postgres', 'CREATE DATABASE dst_parallel');
$node->command_checks_all([ 'pg_restore', '-j', '4', '-d', 'dst_parallel', "$work/src.dump" ],
	0, [qr/^$/], [qr/^$/], 'a parallel pg_restore (-j 4)');

for my $fingerprint (@fingerprints)
{
	my ($name, $sql) = @$fingerprint;
	isnt($source{$name}, '', "the source has $name");
	is($node->safe_psql('dst', $sql), $source{$name}, "restored: $name");
}
my @parallel_differs =
  grep { $node->safe_psql('dst_parallel', $_->[1]) ne $source{ $_->[0] } } @fingerprints;
is(join(', ', map { $_->[0] } @parallel_differs), '', 'the parallel restore: every fingerprint equals the source\'s');

# The restored database works.
sub dst { return $node->safe_psql('dst', $_[0]); }
sub last_line { my @lines = split /\n/, $_[0]; return $lines[-1] // ''; }
# The SQLSTATE STATEMENT raises after SETUP, or "ok".
sub sqlstate_of
{
	my ($setup, $statement) = @_;
	return last_line(dst(qq{
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS \$f\$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END \$f\$;
$setup
SELECT pg_temp.sqlstate_of(\$stmt\$$statement\$stmt\$);}));
}

is( dst(q{
SET rollout.version = '10.1';
INSERT INTO order_line (order_header_key, item) VALUES ('PO-2', 'after restore');
SET rollout.version = '9.4';
INSERT INTO order_line (order_header_key, item) VALUES ('PO-1', 'after restore');
SELECT string_agg(rollout_version::text, ',' ORDER BY order_header_key DESC)
  FROM order_line WHERE item = 'after restore';}),
	'940000000,1010000000',
	'tagging: a child inherits its parent\'s version, not the session\'s');
is( dst(q{
SET rollout.version = '10.1';
INSERT INTO order_invoice (hdr_key, amount) VALUES ('PO-2', -1);
INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER-2', -2);
SELECT max(rollout_version::text) FILTER (WHERE amount = -1) || '|' ||
       max(rollout_version::text) FILTER (WHERE amount = -2)
  FROM order_invoice;}),
	'940000000|1010000000',
	'tagging: inheritance through differently named key columns (parent_columns)');
is( dst(q{
SET rollout.version = '9.4';
WITH ins AS (INSERT INTO order_event (order_header_key, kind)
             VALUES ('PO-1', 'create'), ('PO-1', 'restore-check') RETURNING rollout_version)
SELECT string_agg(rollout_version::text, ',') FROM ins;}),
	'1010000000,1010000000',
	'tagging: the partitions of a tagged partitioned table inherit');
is( dst(q{
SET rollout.version = '10.1';
INSERT INTO app_note (body) VALUES ('restored 10.1');
RESET rollout.version;
INSERT INTO app_note (body) VALUES ('restored untagged');
SELECT coalesce(max(created_version::text) FILTER (WHERE body = 'restored 10.1'), 'missing') || '|' ||
       coalesce(max(created_version::text) FILTER (WHERE body = 'restored untagged'), '')
  FROM app_note;}),
	'1010000000|',
	'tagging: a custom column takes the session version, or none where allowed');
is(sqlstate_of('', q{INSERT INTO order_invoice (hdr_key, amount) VALUES ('NO-SUCH-ORDER-3', 0)}),
	'55000', 'tagging: a row with no version source fails closed (55000)');

# Routing: new orders in the copy get the versions the source's ramp gave.
is( dst(qq{
SET rollout.version = '9.4';
INSERT INTO order_header (order_header_key, document_type) SELECT k, '0001' FROM ($route_keys) s;
SELECT string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key)
  FROM order_header WHERE order_header_key LIKE 'NEW-%';}),
	$source_routes,
	'routing: new orders in the copy get the source\'s answers');
is(dst('SELECT percent FROM rollout_ramp'), '25.00', 'routing: the ramp is still 25%');

is(sqlstate_of(q{SET rollout.version = '9.4';}, q{UPDATE order_header SET status = 1500 WHERE order_header_key = 'PO-1'}),
	'RV001', 'guard: a 9.4 session may not update a 10.1 order (RV001)');
is(sqlstate_of(q{SET rollout.version = '10.1';}, q{UPDATE order_header SET rollout_version = '9.4' WHERE order_header_key = 'PO-1'}),
	'RV002', 'guard: nobody changes the version column by UPDATE (RV002)');
is(sqlstate_of(q{SET rollout.version = '10.1';}, q{UPDATE order_header SET status = 1500 WHERE order_header_key = 'PO-2'}),
	'ok', 'guard: a 10.1 session may update a 9.4 order');
is(sqlstate_of(q{SET rollout.version = '9.4';}, q{DELETE FROM order_invoice WHERE hdr_key = 'PO-1'}),
	'RV001', 'guard: on the inheriting invoice table too (RV001)');

# Claims on the task queue: each version gets exactly its own due, unheld,
# unleased rows; the leases from before the dump still hold.
for my $version ('9.4', '10.1')
{
	is( dst(qq{
BEGIN;
CREATE TEMP TABLE expected ON COMMIT DROP AS
SELECT task_q_key FROM rollout_task_q
 WHERE transaction_id = 'SCHEDULE.0001' AND rollout_version = '$version'
   AND NOT hold_flag AND available_date <= now();
SET LOCAL rollout.version = '$version';
CREATE TEMP TABLE got ON COMMIT DROP AS SELECT * FROM rollout_claim('SCHEDULE.0001', 100000);
SELECT (SELECT count(*) FROM expected) > 0,
       (SELECT count(*) FROM got) = (SELECT count(*) FROM expected),
       NOT EXISTS (SELECT task_q_key FROM expected EXCEPT SELECT task_q_key FROM got),
       (SELECT bool_and(rollout_version = '$version' AND claim_token IS NOT NULL) FROM got),
       NOT EXISTS (SELECT FROM got JOIN src_lease USING (task_q_key)),
       (SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) FROM got)
         = (SELECT count(*) FROM got);
COMMIT;}),
		't|t|t|t|t|t',
		"a claim as $version: exactly its due rows, none leased before the dump, all completed");
}
is(dst(q{SELECT count(*) FROM rollout_claim('SCHEDULE.0001', 100, '9.4')}),
	'0', 'a claim as 9.4 again: nothing left for it');
is( dst(q{SELECT count(*) FILTER (WHERE rollout_version = '9.4'), count(*) FILTER (WHERE rollout_version = '10.1')
            FROM rollout_task_q
           WHERE transaction_id = 'SCHEDULE.0001' AND NOT hold_flag AND available_date <= now()}),
	'0|0',
	'the claims left nothing due of either version');
is( dst(q{
BEGIN;
CREATE TEMP TABLE got ON COMMIT DROP AS SELECT * FROM rollout_claim('RELEASE.0001', 100000, '10.1');
SELECT count(*) FILTER (WHERE rollout_version = '9.4') > 0,
       count(*) FILTER (WHERE rollout_version = '10.1') > 0,
       count(*) = (SELECT count(*) FROM rollout_task_q WHERE transaction_id = 'RELEASE.0001'
                    AND NOT hold_flag AND claim_token IS NOT NULL AND available_date > now())
  FROM got;
ROLLBACK;}),
	't|t|t',
	'a base-version claim as 10.1 takes 9.4 and 10.1 rows');
is( dst(q{SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) FROM src_lease}) . '|'
	  . dst(q{SELECT count(*) FROM rollout_task_q WHERE task_q_key IN (SELECT task_q_key FROM src_lease)}),
	'11|0',
	'the leases handed out before the dump complete with their old tokens');
is( dst(q{
SELECT rollout_complete((SELECT min(task_q_key) FROM rollout_task_q WHERE hold_flag), gen_random_uuid()),
       (SELECT count(*) FROM rollout_task_q
         WHERE task_q_key = (SELECT min(task_q_key) FROM rollout_task_q WHERE hold_flag))}),
	'f|1',
	'completion is still fenced: a wrong token changes nothing');
is( dst(q{
CREATE TEMP TABLE c1 AS SELECT * FROM rollout_claim('RELEASE.0001', 1, '9.4');
CREATE TEMP TABLE r AS SELECT rollout_retry(task_q_key, claim_token, '0') AS ok FROM c1;
-- The retried row is due again now, behind the older due rows: claim them all.
CREATE TEMP TABLE c2 AS SELECT * FROM rollout_claim('RELEASE.0001', 100000, '9.4');
SELECT (SELECT ok FROM r),
       EXISTS (SELECT FROM c1 JOIN c2 USING (task_q_key)
                WHERE c2.claim_count = c1.claim_count + 1 AND c2.claim_token <> c1.claim_token);}),
	't|t',
	'a retried row is claimed again with a higher claim count');
is( dst(q{
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'after-restore');
SELECT task_q_key > (SELECT max(task_q_key) FROM rollout_task_q WHERE data_key <> 'after-restore'),
       rollout_version
  FROM rollout_task_q WHERE data_key = 'after-restore';}),
	't|1010000000',
	'new tasks get fresh keys and the session\'s version');

# Claims on the driver table (order_header, due column next_alert_ts).
is( dst(q{
SET rollout.version = '10.1';
CREATE TEMP TABLE got AS SELECT * FROM rollout_claim_rows('MONITOR', NULL::order_header, 100000);
SELECT count(*) > 0, bool_and(rollout_version = '10.1'),
       NOT EXISTS (SELECT FROM got g JOIN src_monitor_lease USING (order_header_key))
  FROM got;}),
	't|t|t',
	'a driver-table claim as 10.1: only 10.1 orders, none leased before the dump');
is( dst(q{
SET rollout.version = '10.1';
CREATE TEMP TABLE done AS
SELECT bool_and(rollout_complete_rows('MONITOR', order_header_key, claim_token)) AS ok
  FROM src_monitor_lease;
SELECT (SELECT ok FROM done),
       (SELECT count(*) FROM order_header h JOIN src_monitor_lease l USING (order_header_key)
         WHERE h.rollout_claim_token IS NOT NULL OR h.next_alert_ts IS NOT NULL);}),
	't|0',
	'a driver-table lease from before the dump completes with its old token');

# Control functions write rollout_audit; its key sequence must have come along.
is( last_line(dst(q{
SELECT rollout_register_version('11.0', 'V3');
SELECT rollout_set_ramp('9.4', '10.1', 50);
SELECT count(*) = 2 FROM rollout_audit
 WHERE (action = 'register' AND version = '11.0')
    OR (action = 'set_ramp' AND (detail ->> 'percent')::numeric = 50);})),
	't',
	'audited control functions work after the restore (register, ramp)');
is( dst(q{SELECT (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM rollout_audit_audit_id_seq)
                 >= (SELECT max(audit_id) FROM rollout_audit)}),
	't',
	'the rollout_audit key sequence is restored (the next id is above the existing ones)');
is( last_line(dst(q{
SET client_min_messages = warning;
SET rollout.version = '10.1';
CREATE TEMP TABLE po (moved bigint, remaining bigint, state text);
CALL rollout_phase_out('9.4', '10.1', 1000, NULL, NULL, NULL) \gset po_
INSERT INTO po VALUES (:po_moved, :po_remaining, :'po_state');
SELECT moved > 0, state IN ('draining', 'retired'),
       (SELECT count(*) FROM order_header WHERE rollout_version = '9.4')
  FROM po;})),
	't|t|0',
	'a phase-out works on the copy: the 9.4 rows move to 10.1');

# Edge cases, each in a small database of its own. Rows the source accepted
# (untagged, or of a since-retired version) are restored as they are with
# rollout.restoring, as the README says.
local $ENV{PGOPTIONS} = '-c rollout.restoring=on';

# Untagged legacy tasks (written while rollout_task_q allowed untagged rows,
# which base-version criteria are documented to claim) survive.
$node->safe_psql('postgres', 'CREATE DATABASE edge_untagged');
$node->safe_psql(
	'edge_untagged', q{
CREATE EXTENSION rollout_ext;
SELECT rollout_define_criteria('CLOSE_ORDER.0001', base_version => true);
SELECT rollout_enable_tagging('rollout_task_q', if_unset => 'null');
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('CLOSE_ORDER.0001', 'legacy-1');
SELECT rollout_enable_tagging('rollout_task_q');
SET rollout.version = '9.4';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('CLOSE_ORDER.0001', 'tagged-1');
});
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$work/edge_untagged.dump", '-d', 'edge_untagged' ],
	'edge: pg_dump of untagged legacy tasks');
$node->safe_psql('postgres', 'CREATE DATABASE edge_untagged_copy');
$node->command_checks_all([ 'pg_restore', '-d', 'edge_untagged_copy', "$work/edge_untagged.dump" ],
	0, [qr/^$/], [qr/^$/], 'edge: untagged legacy tasks restore');
is( $node->safe_psql('edge_untagged_copy',
		q{SELECT string_agg(data_key || '=' || coalesce(rollout_version::text, ''), ',' ORDER BY data_key)
		    FROM rollout_task_q}),
	'legacy-1=,tagged-1=940000000',
	'edge: untagged legacy task rows survive, untagged');

# Tasks of a retired version (V2 rolled back and retired, rows kept for
# analysis) restore in any order of the data sections, as a parallel restore
# may load them: here rollout_versions before rollout_task_q.
$node->safe_psql('postgres', 'CREATE DATABASE edge_retired');
$node->safe_psql(
	'edge_retired', q{
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4');
SELECT rollout_register_version('10.1');
SELECT rollout_define_criteria('SCHEDULE.0001');
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
VALUES ('SCHEDULE.0001', 'v1-task', '9.4'), ('SCHEDULE.0001', 'v2-task', '10.1');
SELECT rollout_set_ramp('9.4', '10.1', 0);
SELECT rollout_set_version_state('10.1', 'retired');
});
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$work/edge_retired.dump", '-d', 'edge_retired' ],
	'edge: pg_dump with a retired version\'s tasks');
my ($toc) = run_command([ 'pg_restore', '-l', "$work/edge_retired.dump" ]);
my @toc = split /\n/, $toc;
my ($versions_data) = grep { /TABLE DATA .*rollout_versions / } @toc;
my @reordered = map { /TABLE DATA .*rollout_task_q / ? ($versions_data, $_) : $_ }
  grep { !/TABLE DATA .*rollout_versions / } @toc;
append_to_file("$work/toc_reordered.list", join("\n", @reordered) . "\n");
$node->safe_psql('postgres', 'CREATE DATABASE edge_retired_copy');
$node->command_checks_all(
	[ 'pg_restore', '-L', "$work/toc_reordered.list", '-d', 'edge_retired_copy', "$work/edge_retired.dump" ],
	0, [qr/^$/], [qr/^$/], 'edge: a restore that loads rollout_versions before rollout_task_q');
is( $node->safe_psql('edge_retired_copy',
		q{SELECT string_agg(data_key || '=' || rollout_version::text, ',' ORDER BY data_key) FROM rollout_task_q}),
	'v1-task=940000000,v2-task=1010000000',
	'edge: the tasks of a retired version survive it');

$node->stop;
done_testing();
