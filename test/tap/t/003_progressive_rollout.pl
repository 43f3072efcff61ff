# A progressive rollout driven by a real scheduler: pg_cron runs
# CALL rollout_advance() every minute, as README -> Progressive rollout
# shows. A target that fails three of its five rows against none of the
# base's thirty is aborted at the first tick (the ramp goes back to 0), and
# the next tick rolls its rows back to the base; the plan then shows
# rolled_back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => "pg_cron is not installed for this server ($pkglibdir)"
  unless -e "$pkglibdir/pg_cron.so";
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'rollout_ext, pg_cron'
cron.database_name = 'postgres'
# Jobs in background workers: the test cluster listens on a socket only.
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION rollout_ext;
	CREATE EXTENSION pg_cron;
	SELECT rollout_register_version('9.4'), rollout_register_version('10.1');
	SELECT rollout_define_criteria('TAP.PLAN', lease => '1 hour');
	SELECT rollout_start_plan('9.4', '10.1', steps => '{5,50,100}', min_samples => 2,
	                          step_hold => '1 minute');
	SET rollout.restoring = on;
	INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
	SELECT 'TAP.PLAN', v || '-' || g, v::rollout_version
	  FROM unnest(ARRAY['9.4', '10.1']) v, generate_series(1, 30) g;
	SELECT count(rollout_complete(task_q_key, claim_token))
	  FROM rollout_claim('TAP.PLAN', 30, as_version => '9.4');
	SELECT CASE WHEN row_number() OVER () <= 3
	            THEN rollout_retry(task_q_key, claim_token, '1 hour')
	            ELSE rollout_complete(task_q_key, claim_token) END
	  FROM rollout_claim('TAP.PLAN', 5, as_version => '10.1');
});
is($node->safe_psql('postgres', 'SELECT percent FROM rollout_ramp'),
	'5.00', 'the plan starts at its first step');

# The line README -> Progressive rollout gives for pg_cron.
$node->safe_psql('postgres',
	q{SELECT cron.schedule('rollout-advance', '* * * * *', 'CALL rollout_advance()')});

ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')}),
	'pg_cron ran rollout_advance');
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(DISTINCT status, ',') FROM cron.job_run_details}),
	'succeeded',
	'every run succeeded');
ok( $node->poll_query_until(
		'postgres', q{SELECT state IN ('aborted', 'rolled_back') FROM rollout_plans}),
	'the plan was aborted');
is($node->safe_psql('postgres', 'SELECT percent FROM rollout_ramp'),
	'0.00', 'the ramp went back to 0 with the abort');
ok( $node->poll_query_until(
		'postgres', q{SELECT state = 'rolled_back' FROM rollout_plans}),
	'and rolled back by the next run');
is($node->safe_psql('postgres', 'SELECT last_decision FROM rollout_plans'),
	'abort', 'on a failure rate decision');
like(
	$node->safe_psql('postgres', 'SELECT reason FROM rollout_plans'),
	qr/the target failed 3 of 5 rows \(60\.00%\), the base 0 of 30/,
	'with its figures in words');
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(DISTINCT rollout_version_format(rollout_version), ',')
		    FROM rollout_task_q WHERE transaction_id = 'TAP.PLAN'}),
	'9.4.0.0.0.0',
	"the target's rows went back to the base");
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(action, ',' ORDER BY audit_id) FROM rollout_audit
		   WHERE action LIKE 'plan%'}),
	'plan_start,plan_decision,plan_abort,plan_rolled_back',
	'the audit has each step, decided by the scheduled run');
is( $node->safe_psql(
		'postgres',
		q{SELECT actor FROM rollout_audit WHERE action = 'plan_decision'}),
	'postgres', 'as the job owner');

$node->stop;
done_testing();
