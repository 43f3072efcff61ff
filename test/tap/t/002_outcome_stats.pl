# rollout_stats lives in shared memory: its counts survive a clean restart
# (written at shutdown, read at startup), are gone after a crash, and without
# shared_preload_libraries the view refuses with 55000 while claims go on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'rollout_ext'");
# The framework turns it off; the crash below needs the postmaster to restart.
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION rollout_ext;
	SELECT rollout_define_criteria('TAP.STATS', lease => '1 hour');
	INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
	SELECT 'TAP.STATS', 'k' || g, '10.1' FROM generate_series(1, 8) g;
});
my $counts = q{SELECT coalesce((SELECT claimed || '/' || completed FROM rollout_stats
                                 WHERE transaction_id = 'TAP.STATS'), 'none')};
my $claim_and_complete = q{SELECT count(rollout_complete(task_q_key, claim_token))
                             FROM rollout_claim('TAP.STATS', 2, as_version => '10.1')};

$node->safe_psql('postgres', $claim_and_complete);
is($node->safe_psql('postgres', $counts), '2/2', 'claims and completions are counted');

$node->restart;
is($node->safe_psql('postgres', $counts), '2/2', 'the counts survive a clean restart');
$node->safe_psql('postgres', $claim_and_complete);
is($node->safe_psql('postgres', $counts), '4/4', 'and go on from there');

# A crash: the postmaster resets shared memory, and the counts are not read
# back (the file was removed when they were read at startup).
my $checkpointer = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
kill 'KILL', $checkpointer;
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'the server did not come back after the crash';
is($node->safe_psql('postgres', $counts), 'none', 'the counts are gone after a crash');
$node->safe_psql('postgres', $claim_and_complete);
is($node->safe_psql('postgres', $counts), '2/2', 'counting starts again after the crash');

# Without preloading: the view says what is missing; claims still work.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM rollout_stats');
like($err, qr/ERROR:  rollout_stats must be loaded via "shared_preload_libraries"/,
	'without preloading, rollout_stats fails with its reason');
is( $node->safe_psql('postgres', $claim_and_complete),
	'2', 'without preloading, claims and completions still work');
$node->stop;

done_testing();
