# Hot standby: a streaming replica of a primary with rollout_ext serves the
# read side (types, routing, backlog, drain status, the session's version)
# and refuses claims with the read-only SQLSTATE, changing nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'rollout_ext'");
$primary->start;
$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION rollout_ext;
	SELECT rollout_define_criteria('SCHEDULE.0001');
	SELECT rollout_set_ramp('9.4', '10.1', 10);
	SET rollout.version = '10.1';
	INSERT INTO rollout_task_q (transaction_id, data_key)
	SELECT 'SCHEDULE.0001', 'T' || g FROM generate_series(1, 50) g;
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
# A change made after the backup, so the standby has to stream it; dies if
# the standby does not catch up within the framework's timeout.
$primary->safe_psql('postgres',
	q{INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
	  VALUES ('SCHEDULE.0001', 'marker', '10.1')});
$primary->wait_for_catchup($standby, 'replay');

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres', q{SELECT rollout_version_format('1010111213')}),
	'10.1.0.11.12.13', 'type input and formatting');
is( $standby->safe_psql('postgres', q{SELECT rollout_route('ORDER-42')}),
	$primary->safe_psql('postgres', q{SELECT rollout_route('ORDER-42')}),
	'routing answers as on the primary');
is($standby->safe_psql('postgres', 'SELECT criteria_id, version, ready FROM rollout_backlog'),
	'SCHEDULE.0001|1010000000|51', 'the backlog view, with the streamed row');
is($standby->safe_psql('postgres', q{SELECT rollout_drained('10.1'), rollout_drained('9.4')}),
	'f|t', 'drain status');
is( $standby->safe_psql(
		'postgres', q{SET rollout.version = '10.1'; SELECT rollout_current_version()}),
	'1010000000',
	'the session version');

my ($rc, $out, $err) = $standby->psql('postgres',
	q{SELECT count(*) FROM rollout_claim('SCHEDULE.0001', 1, '10.1')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like(
	$err,
	qr/ERROR:  25006: cannot claim rows of criteria "SCHEDULE.0001" on a standby\n.*\nHINT:  Claim on the primary/,
	'a claim is refused as read-only (25006), with where to claim instead');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM rollout_task_q WHERE claim_token IS NOT NULL'),
	'0', 'nothing is claimed on the primary');

done_testing();
