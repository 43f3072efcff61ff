# Durability of claims and completions, proved by killing the server under
# load.
#
# Agents of two versions (9.4 and 10.1, pgbench) claim small batches from
# rollout_task_q with a 2-second lease, log every claimed row in the claim's
# own transaction, and complete or retry each row in a later transaction that
# logs the result and marks the task's order done. Producers add orders with
# their tasks. Meanwhile:
#   A. SIGKILL of a backend that holds committed claims (found by its
#      application_name): the postmaster kills every backend and recovers.
#   B. an immediate stop of the whole server mid-run, then a start.
# After recovery, with the leases over and the queue drained, every task was
# completed exactly once; no committed claim was lost or duplicated (claim
# counts, leases, fencing); no row was ever claimed by the wrong version;
# tagged orders kept their versions; and the rows dead claimers left behind
# are claimable again by their own version only.
#
# A log row written by a transaction the crash killed vanishes together with
# the claim or completion it describes (same transaction): every committed
# claim has exactly one log row, and the reverse.
#
# CRASH_ROUNDS sets the rounds of A then B (2).
use strict;
use warnings;
use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rounds = $ENV{CRASH_ROUNDS} // 2;
# SCHEDULE.0001 tasks per version: each round's two phases take about 800
# completions; the rest is a backlog that keeps the agents off the holders'
# rows until the crash.
my $seed_per_version  = 1000 * $rounds + 500;
my $close_per_version = 12;    # CLOSE_ORDER.0001 tasks: no agent runs them
my $hold_rows         = 4;     # rows each claim holder takes
my $db                = 'crashdb';

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'rollout_ext'
fsync = on
restart_after_crash = on
max_connections = 40
shared_buffers = 32MB
# the agents' statements would fill the log
log_statement = none
});
$node->start;
my $work = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', "CREATE DATABASE $db");
my $setup = q{
SET client_min_messages = warning;
CREATE EXTENSION rollout_ext;
SELECT rollout_register_version('9.4', 'V1');
SELECT rollout_register_version('10.1', 'V2');
SELECT rollout_define_criteria('SCHEDULE.0001', batch_size => 5, lease => '2 seconds');
-- Scenario B's holders keep these leased through the restart.
SELECT rollout_define_criteria('CLOSE_ORDER.0001', batch_size => 50, lease => '10 seconds');

-- Orders are tagged by the session's version and guarded: an agent may touch
-- only orders of its version or older.
CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	status integer NOT NULL DEFAULT 1100,
	touched integer NOT NULL DEFAULT 0
);
SELECT rollout_enable_tagging('order_header');
SELECT rollout_enable_guard('order_header');

-- Every task the test created, each with its own order, and the version
-- both must have. Producers add rows in the transaction that creates them.
CREATE TABLE task_expect (
	task_q_key bigint PRIMARY KEY,
	transaction_id text NOT NULL,
	data_key text NOT NULL UNIQUE,
	version rollout_version NOT NULL,
	source text NOT NULL
);
CREATE TABLE order_expect (order_header_key text PRIMARY KEY, version rollout_version NOT NULL);

-- Every claimed row, logged in the claim's own transaction.
CREATE TABLE claim_log (
	claim_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_xact bigint NOT NULL DEFAULT txid_current(),
	task_q_key bigint NOT NULL,
	claim_token uuid NOT NULL,
	claim_count integer NOT NULL,
	claimer_version rollout_version NOT NULL,   -- the version the agent runs as
	session_version rollout_version,            -- rollout_current_version() in the claim
	row_version rollout_version,                -- the claimed row's tag
	lease_until timestamptz NOT NULL,           -- the returned available_date
	claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	agent text NOT NULL DEFAULT current_setting('application_name'),
	state text NOT NULL DEFAULT 'pending'
);
CREATE INDEX ON claim_log (claim_xact) WHERE state = 'pending';
CREATE INDEX ON claim_log (task_q_key);
-- Every completion and retry with its result, in the acting transaction.
CREATE TABLE completion_log (
	completion_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	claim_id bigint NOT NULL,
	task_q_key bigint NOT NULL,
	claim_token uuid NOT NULL,
	action text NOT NULL,
	result boolean NOT NULL,
	completer_version rollout_version NOT NULL,
	agent text NOT NULL DEFAULT current_setting('application_name'),
	completed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON completion_log (task_q_key);

-- Seed: one order and one task each, per version.
SET rollout.version = '9.4';
INSERT INTO order_header (order_header_key) SELECT 'SO94-' || g FROM generate_series(1, :seed) g;
INSERT INTO order_header (order_header_key) SELECT 'CO94-' || g FROM generate_series(1, :close) g;
SET rollout.version = '10.1';
INSERT INTO order_header (order_header_key) SELECT 'SO101-' || g FROM generate_series(1, :seed) g;
INSERT INTO order_header (order_header_key) SELECT 'CO101-' || g FROM generate_series(1, :close) g;
RESET rollout.version;
-- Tasks inherit their order's version (given explicitly, as a server would).
WITH t AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, data_type, rollout_version)
	SELECT CASE WHEN order_header_key LIKE 'SO%' THEN 'SCHEDULE.0001' ELSE 'CLOSE_ORDER.0001' END,
	       order_header_key, 'order', rollout_version
	  FROM order_header ORDER BY random()
	RETURNING task_q_key, transaction_id, data_key, rollout_version)
INSERT INTO task_expect SELECT task_q_key, transaction_id, data_key, rollout_version, 'seeded' FROM t;
INSERT INTO order_expect SELECT order_header_key, rollout_version FROM order_header;
-- The checksum of the orders' versions before any crash.
CREATE TABLE order_snapshot AS
SELECT md5(string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key)) AS sum
  FROM order_header;
ANALYZE;
};
$node->safe_psql($db, $setup,
	extra_params => [ '-v', "seed=$seed_per_version", '-v', "close=$close_per_version" ]);
is($node->safe_psql($db, 'SHOW fsync'), 'on', 'the server runs with fsync on');
my $per_version = $seed_per_version + $close_per_version;
is( $node->safe_psql(
		$db, q{SELECT string_agg(version || '=' || n, ',' ORDER BY version DESC)
		         FROM (SELECT version, count(*) n FROM task_expect GROUP BY 1) s}),
	"1010000000=$per_version,940000000=$per_version",
	'seeded tasks per version');

# The agent: claim a batch of 1-4 rows and log it (one transaction); pause;
# then complete each row, or about 1 in 10 hand it back with rollout_retry,
# logging the result and marking the order done (a second transaction).
my $agent_script = q{
\set n random(1, 4)
BEGIN;
SELECT set_config('rollout.version', '@VERSION@', true);
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until)
SELECT task_q_key, claim_token, claim_count, '@VERSION@', rollout_current_version(), rollout_version,
       available_date
  FROM rollout_claim('SCHEDULE.0001', :n);
SELECT txid_current() AS cx \gset
COMMIT;
\sleep 15 ms
BEGIN;
SELECT set_config('rollout.version', '@VERSION@', true);
WITH picked AS MATERIALIZED (
	SELECT c.claim_id, c.task_q_key, c.claim_token, e.data_key, random() < 0.1 AS do_retry
	  FROM claim_log c JOIN task_expect e USING (task_q_key)
	 WHERE c.claim_xact = :cx AND c.state = 'pending'
	 ORDER BY c.claim_id FOR UPDATE OF c),
acted AS MATERIALIZED (
	SELECT p.*, CASE WHEN p.do_retry THEN rollout_retry(p.task_q_key, p.claim_token, interval '0')
	                 ELSE rollout_complete(p.task_q_key, p.claim_token) END AS result
	  FROM picked p),
logged AS (
	INSERT INTO completion_log (claim_id, task_q_key, claim_token, action, result, completer_version)
	SELECT claim_id, task_q_key, claim_token, CASE WHEN do_retry THEN 'retry' ELSE 'complete' END,
	       result, '@VERSION@'
	  FROM acted),
marked AS (
	UPDATE claim_log c SET state = 'done' FROM acted a WHERE c.claim_id = a.claim_id)
UPDATE order_header h SET status = 9000, touched = h.touched + 1
  FROM acted a WHERE a.result AND NOT a.do_retry AND h.order_header_key = a.data_key;
COMMIT;
};
# The producer: a new order and its task, tagged by the session.
my $produce_script = q{
BEGIN;
SELECT set_config('rollout.version', '@VERSION@', true);
WITH o AS (
	INSERT INTO order_header (order_header_key) VALUES ('NEW@VERSION@-' || gen_random_uuid())
	RETURNING order_header_key),
oe AS (
	INSERT INTO order_expect SELECT order_header_key, '@VERSION@' FROM o),
t AS (
	INSERT INTO rollout_task_q (transaction_id, data_key, data_type)
	SELECT 'SCHEDULE.0001', order_header_key, 'order' FROM o
	RETURNING task_q_key, transaction_id, data_key)
INSERT INTO task_expect SELECT task_q_key, transaction_id, data_key, '@VERSION@', 'produced' FROM t;
COMMIT;
};
for my $v ('9.4', '10.1')
{
	for my $script ([ 'agent', $agent_script ], [ 'produce', $produce_script ])
	{
		(my $text = $script->[1]) =~ s/\@VERSION\@/$v/g;
		append_to_file("$work/$script->[0]_$v.sql", $text);
	}
}

sub q_value { return $node->safe_psql($db, $_[0]); }

# check_zero NAME SQL: SQL returns "violations|detail"; passes on none.
sub check_zero
{
	my ($name, $sql) = @_;
	my ($violations, $detail) = split /\|/, q_value($sql), 2;
	is($violations, '0', "$name ($detail)");
}

# wait_until SECONDS DESCRIPTION CODE: polls CODE every 0.2 s.
sub wait_until
{
	my ($seconds, $what, $code) = @_;
	my $deadline = time + $seconds;
	until ($code->())
	{
		if (time >= $deadline)
		{
			diag("timed out after ${seconds}s waiting for $what");
			return 0;
		}
		usleep(200_000);
	}
	return 1;
}

# A background client: IPC::Run's harness, output to LOG.
sub start_client
{
	my ($application_name, $log, @command) = @_;
	local $ENV{PGAPPNAME} = $application_name;
	return IPC::Run::start(\@command, '<', '/dev/null', '>&', $log);
}

# Waits up to 30 s for the clients to end by themselves (their backends died
# in a crash), then ends them.
sub reap_clients
{
	my @clients = @_;
	wait_until(30, 'clients to exit', sub { !grep { $_->pumpable } @clients });
	for my $client (@clients)
	{
		$client->kill_kill if $client->pumpable;
		$client->finish;
	}
}

# Agents of both versions: one pgbench each, 3 clients, with producers when
# asked.
sub start_agents
{
	my ($tag, $produce, @options) = @_;
	my @agents;
	for my $v ('9.4', '10.1')
	{
		my @command = (
			'pgbench', '-n', '-c', 3, '-j', 1, '-T', 300, @options,
			'-h', $node->host, '-p', $node->port,
			'-f', "$work/agent_$v.sql\@12");
		push @command, '-f', "$work/produce_$v.sql\@1" if $produce;
		push @agents,
		  start_client("crash_agent_$v", "$work/pgbench_${tag}_$v.log", @command, $db);
	}
	return @agents;
}

sub stop_agents
{
	my @agents = @_;
	$_->signal('TERM') for @agents;
	$_->finish for @agents;
	$node->poll_query_until($db,
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'crash_agent%'})
	  or diag('agent backends did not end');
}

# A holder claims $hold_rows rows of CRITERIA as VERSION, logs them, commits,
# then sits on its lease until killed.
sub start_holder
{
	my ($name, $version, $criteria) = @_;
	my $script = "$work/holder_$name.sql";
	append_to_file(
		$script, qq{
BEGIN;
SET LOCAL rollout.version = '$version';
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until)
SELECT task_q_key, claim_token, claim_count, '$version', rollout_current_version(), rollout_version,
       available_date
  FROM rollout_claim('$criteria', $hold_rows);
COMMIT;
SELECT pg_sleep(600);
});
	my $holder = start_client($name, "$work/holder_$name.log",
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
		'-d', $db, '-f', $script);
	$node->poll_query_until(
		$db, qq{SELECT count(*) = $hold_rows FROM claim_log WHERE agent = '$name'
		          AND EXISTS (SELECT FROM pg_stat_activity
		                       WHERE application_name = '$name' AND query LIKE '%pg_sleep%')})
	  or die "holder $name did not commit its claims";
	return $holder;
}

sub completions { return q_value('SELECT count(*) FROM completion_log'); }

sub wait_for_progress
{
	my $base = completions();
	wait_until(30, "the agents' progress", sub { completions() >= $base + 800 });
}

# Invariants whenever no agent runs: the claim count of every queued row
# equals its committed (logged) claims, and its token is its latest claim's
# unless that claim handed the row back (rollout_retry clears it).
sub quiescent_checks
{
	my ($label) = @_;
	check_zero("$label: every queued row's claim_count equals its logged claims", q{
		SELECT count(*), format('%s queued rows, %s with a claim', (SELECT count(*) FROM rollout_task_q),
		                        (SELECT count(*) FROM rollout_task_q WHERE claim_count > 0))
		  FROM rollout_task_q q
		 WHERE q.claim_count <> (SELECT count(*) FROM claim_log c WHERE c.task_q_key = q.task_q_key)});
	check_zero("$label: every queued row's token is its latest logged claim's", q{
		SELECT count(*), format('%s rows carry a token', (SELECT count(*) FROM rollout_task_q WHERE claim_token IS NOT NULL))
		  FROM rollout_task_q q
		 WHERE q.claim_token IS DISTINCT FROM (
		       SELECT c.claim_token FROM claim_log c WHERE c.task_q_key = q.task_q_key
		        ORDER BY c.claim_count DESC LIMIT 1)
		   AND NOT EXISTS (SELECT FROM completion_log l WHERE l.task_q_key = q.task_q_key
		                    AND l.action = 'retry' AND l.result
		                    AND l.claim_token = (SELECT c.claim_token FROM claim_log c
		                                          WHERE c.task_q_key = q.task_q_key
		                                          ORDER BY c.claim_count DESC LIMIT 1))});
}

sub holder_claims_live
{
	my ($agent_pattern) = @_;
	return q_value(qq{SELECT count(*) FROM claim_log c JOIN rollout_task_q q USING (task_q_key, claim_token)
	                   WHERE c.agent LIKE '$agent_pattern'});
}

# A: agents and producers at a steady pace, a holder of VERSION sitting on
# committed claims; once the agents made progress, SIGKILL the holder's
# backend. The postmaster kills every backend; the agents die with their
# connections.
sub scenario_a
{
	my ($round, $version) = @_;
	my $holder_name = "crash_holder_A$round";
	my $label = "round $round, scenario A (SIGKILL of a backend)";
	my @agents = start_agents("a$round", 1, '-R', 60);
	wait_for_progress();
	my $holder = start_holder($holder_name, $version, 'SCHEDULE.0001');
	is(holder_claims_live($holder_name), $hold_rows, "$label: the victim's claims are committed");
	my $victim = q_value(
		"SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = '$holder_name'");
	my $log_offset = -s $node->logfile;
	kill 'KILL', $victim;
	ok( eval {
			$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
			$node->wait_for_log(qr/database system is ready to accept connections/, $log_offset);
		},
		"$label: the postmaster restarted every backend and recovered");
	$node->poll_query_until($db, 'SELECT true') or die 'no connections after the crash';
	reap_clients(@agents, $holder);
	is(holder_claims_live($holder_name), $hold_rows,
		"$label: the victim's claims survived the crash (token on the row)");
	quiescent_checks("$label, after recovery");
}

# B: agents and producers at a steady pace, then an immediate stop of the
# whole server and a start. In the last round a holder per version first
# claims CLOSE_ORDER.0001 tasks and dies in the stop: its rows stay leased,
# for the final checks.
sub scenario_b
{
	my ($round, $with_holders) = @_;
	my $label = "round $round, scenario B (immediate stop)";
	my @clients = start_agents("b$round", 1, '-R', 60);
	wait_for_progress();
	if ($with_holders)
	{
		push @clients, start_holder('crash_holder_B94',  '9.4',  'CLOSE_ORDER.0001');
		push @clients, start_holder('crash_holder_B101', '10.1', 'CLOSE_ORDER.0001');
	}
	my $log_offset = -s $node->logfile;
	$node->stop('immediate');
	reap_clients(@clients);
	$node->start;
	ok($node->log_contains(qr/database system was not properly shut down; automatic recovery in progress/,
			$log_offset),
		"$label: crash recovery ran");
	return quiescent_checks("$label, after recovery") unless $with_holders;
	is( q_value(
			q{SELECT count(*) || '|' || count(*) FILTER (WHERE q.available_date > now() AND q.available_date = c.lease_until)
			    FROM claim_log c JOIN rollout_task_q q USING (task_q_key, claim_token)
			   WHERE c.agent LIKE 'crash_holder_B%'}),
		(2 * $hold_rows) . '|' . (2 * $hold_rows),
		"$label: the holders' claims and leases survived the restart");
	is( q_value(
			q{BEGIN;
CREATE TEMP TABLE got ON COMMIT DROP AS
SELECT * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4')
UNION ALL SELECT * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1');
SELECT count(*) FILTER (WHERE task_q_key IN (SELECT task_q_key FROM claim_log WHERE agent LIKE 'crash_holder_B%')),
       count(*) FILTER (WHERE claim_count > 1)
  FROM got;
ROLLBACK;}),
		'0|0',
		"$label: a live lease is respected after the restart");
	quiescent_checks("$label, after recovery");
}

for my $round (1 .. $rounds)
{
	scenario_a($round, $round % 2 ? '9.4' : '10.1');
	scenario_b($round, $round == $rounds);
}

# Drain: agents at full speed until no SCHEDULE.0001 task is left. The rows
# the crashes orphaned come due when their leases end.
my @agents = start_agents('drain', 0);
$node->poll_query_until($db,
	q{SELECT NOT EXISTS (SELECT FROM rollout_task_q WHERE transaction_id = 'SCHEDULE.0001')})
  or diag('the agents did not drain SCHEDULE.0001');
stop_agents(@agents);
is(q_value(q{SELECT count(*) FROM rollout_task_q WHERE transaction_id = 'SCHEDULE.0001'}),
	'0', 'drain: the agents emptied the SCHEDULE.0001 queue');

# Every pgbench client that aborted lost its backend to a crash.
my @sql_errors;
for my $log (glob "$work/pgbench_*.log")
{
	push @sql_errors, grep { /ERROR: |aborted in command/ && !/perhaps the backend died/ }
	  split /\n/, slurp_file($log);
}
is(join("\n", @sql_errors[ 0 .. ($#sql_errors < 4 ? $#sql_errors : 4) ]),
	'', 'agents: no pgbench client hit an SQL error');
unlike(slurp_file($node->logfile), qr/(ERROR|PANIC):/, 'the server log has no ERROR or PANIC');

# Invariants after recovery
my $ok_completes = q{SELECT task_q_key, count(*) AS n FROM completion_log
                      WHERE action = 'complete' AND result GROUP BY task_q_key};
check_zero('no task lost: each is completed exactly once or still queued', qq{
	WITH done AS ($ok_completes)
	SELECT count(*) FILTER (WHERE coalesce(d.n, 0) + (q.task_q_key IS NOT NULL)::int <> 1),
	       format('%s tasks: %s completed, %s queued', count(*), count(d.n), count(q.task_q_key))
	  FROM task_expect e LEFT JOIN done d USING (task_q_key) LEFT JOIN rollout_task_q q USING (task_q_key)});
check_zero('no task completed twice', qq{
	WITH done AS ($ok_completes) SELECT count(*), 'max ' || coalesce(max(n), 0) || ' per task' FROM done WHERE n > 1});
check_zero('no task both completed and still queued', qq{
	WITH done AS ($ok_completes)
	SELECT count(*), 'checked ' || (SELECT count(*) FROM done) || ' completed tasks'
	  FROM done JOIN rollout_task_q USING (task_q_key)});
check_zero('no unknown task in the queue or the logs', q{
	SELECT (SELECT count(*) FROM rollout_task_q WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect))
	     + (SELECT count(*) FROM claim_log WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect))
	     + (SELECT count(*) FROM completion_log WHERE task_q_key NOT IN (SELECT task_q_key FROM task_expect)),
	       (SELECT count(*) FROM task_expect WHERE source = 'produced') || ' tasks produced during the run'});
check_zero('no row ever claimed by the wrong version', q{
	SELECT count(*) FILTER (WHERE c.row_version IS DISTINCT FROM c.claimer_version
	                           OR c.session_version IS DISTINCT FROM c.claimer_version
	                           OR e.version IS DISTINCT FROM c.claimer_version),
	       format('%s claims by 9.4, %s by 10.1', count(*) FILTER (WHERE c.claimer_version = '9.4'),
	              count(*) FILTER (WHERE c.claimer_version = '10.1'))
	  FROM claim_log c JOIN task_expect e USING (task_q_key)});
check_zero('no completion by another version than the task\'s', q{
	SELECT count(*) FILTER (WHERE l.completer_version <> e.version), count(*) || ' completions and retries'
	  FROM completion_log l JOIN task_expect e USING (task_q_key)});
check_zero('claim counts run 1, 2, 3... per task: no committed claim lost or duplicated', q{
	SELECT count(*), format('%s tasks claimed, %s of them more than once', (SELECT count(DISTINCT task_q_key) FROM claim_log),
	                        (SELECT count(*) FROM (SELECT 1 FROM claim_log GROUP BY task_q_key HAVING count(*) > 1) s))
	  FROM (SELECT task_q_key FROM claim_log GROUP BY task_q_key
	         HAVING count(*) <> max(claim_count) OR count(DISTINCT claim_count) <> count(*)
	            OR count(DISTINCT claim_token) <> count(*)) bad});
check_zero('no row claimed again while an earlier claim\'s lease was live (unless handed back)', q{
	WITH c AS (
		SELECT c.*, lag(claim_token) OVER w AS prev_token, lag(lease_until) OVER w AS prev_lease_until
		  FROM claim_log c WINDOW w AS (PARTITION BY task_q_key ORDER BY claim_count))
	SELECT count(*) FILTER (WHERE claimed_at < prev_lease_until
	                          AND NOT EXISTS (SELECT FROM completion_log l WHERE l.task_q_key = c.task_q_key
	                                           AND l.claim_token = c.prev_token
	                                           AND l.action = 'retry' AND l.result)),
	       count(*) FILTER (WHERE prev_token IS NOT NULL) || ' re-claims'
	  FROM c});
# A claim token is one per rollout_claim call, shared by its batch: tokens
# are matched together with the task key.
check_zero('every successful completion or retry used a committed claim\'s token, once, while current', q{
	SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT FROM claim_log c WHERE c.claim_token = l.claim_token
	                                           AND c.task_q_key = l.task_q_key)
	                          OR EXISTS (SELECT FROM completion_log o WHERE o.task_q_key = l.task_q_key
	                                      AND o.claim_token = l.claim_token
	                                      AND o.result AND o.completion_id <> l.completion_id)
	                          OR (l.action = 'complete' AND l.claim_token <> (
	                              SELECT c.claim_token FROM claim_log c WHERE c.task_q_key = l.task_q_key
	                               ORDER BY c.claim_count DESC LIMIT 1))),
	       format('%s completions, %s retries', count(*) FILTER (WHERE action = 'complete'),
	              count(*) FILTER (WHERE action = 'retry'))
	  FROM completion_log l WHERE l.result});
check_zero('the rows of A\'s victims were taken over after the lease by their own version', q{
	SELECT count(*) FILTER (WHERE NOT EXISTS (
	           SELECT FROM claim_log n WHERE n.task_q_key = c.task_q_key AND n.claim_count > c.claim_count
	              AND n.claimer_version = c.claimer_version AND n.claimed_at >= c.lease_until)),
	       count(*) || ' rows'
	  FROM claim_log c WHERE c.agent LIKE 'crash_holder_A%'});
check_zero('completed tasks\' orders are done, queued tasks\' orders are not (same transaction)', q{
	SELECT count(*) FILTER (WHERE (h.status = 9000) <> (q.task_q_key IS NULL) OR h.touched > 1),
	       count(*) FILTER (WHERE h.status = 9000) || ' orders done'
	  FROM task_expect e JOIN order_header h ON h.order_header_key = e.data_key
	  LEFT JOIN rollout_task_q q USING (task_q_key)});
check_zero('tagged orders kept their versions (and produced ones got their session\'s)', q{
	SELECT (SELECT count(*) FROM (SELECT order_header_key, rollout_version FROM order_header
	                              EXCEPT SELECT order_header_key, version FROM order_expect) a)
	     + (SELECT count(*) FROM (SELECT order_header_key, version FROM order_expect
	                              EXCEPT SELECT order_header_key, rollout_version FROM order_header) b),
	       (SELECT count(*) FROM order_header) || ' orders'});
is( q_value(
		q{SELECT (SELECT sum FROM order_snapshot) =
		         (SELECT md5(string_agg(order_header_key || '=' || rollout_version::text, ',' ORDER BY order_header_key))
		            FROM order_header WHERE order_header_key NOT LIKE 'NEW%')}),
	't',
	'the seeded orders\' versions have the checksum taken before the crashes');
is( q_value(
		q{SELECT count(*) FROM rollout_task_q q JOIN task_expect e USING (task_q_key)
		   WHERE q.rollout_version IS DISTINCT FROM e.version}),
	'0',
	'queued tasks keep their versions');
is( q_value(
		q{SELECT (SELECT count(*) FROM claim_log WHERE claim_count > 1) > 0,
		         (SELECT count(*) FROM completion_log WHERE action = 'retry' AND result) > 0,
		         (SELECT count(*) FROM task_expect WHERE source = 'produced') > 0}),
	't|t|t',
	'the run did what it claims (re-claims after the crashes, retries, produced tasks)');

# The rows dead claimers left behind: once their leases end, their own
# version claims them again, the other version none of them.
is( q_value(
		q{SELECT count(*) FILTER (WHERE rollout_version = '9.4') || '|' || count(*) FILTER (WHERE rollout_version = '10.1')
		         || '|' || count(*) FILTER (WHERE claim_count > 0)
		    FROM rollout_task_q}),
	"$close_per_version|$close_per_version|" . (2 * $hold_rows),
	'left behind: each version has queued tasks, some orphaned by scenario B');
$node->poll_query_until($db, 'SELECT NOT EXISTS (SELECT FROM rollout_task_q WHERE available_date > now())')
  or diag('the leases did not end');
is( q_value(
		q{BEGIN;
CREATE TEMP TABLE left_rows ON COMMIT DROP AS SELECT * FROM rollout_task_q;
CREATE TEMP TABLE got (claimer rollout_version, LIKE rollout_task_q) ON COMMIT DROP;
INSERT INTO got SELECT '10.1', * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1');
INSERT INTO got SELECT '9.4', * FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4');
INSERT INTO claim_log (task_q_key, claim_token, claim_count, claimer_version, session_version,
                       row_version, lease_until, agent)
SELECT task_q_key, claim_token, claim_count, claimer, claimer, rollout_version, available_date, 'final_check'
  FROM got;
CREATE TEMP TABLE stale ON COMMIT DROP AS
SELECT c.task_q_key, rollout_complete(c.task_q_key, c.claim_token) AS result
  FROM claim_log c WHERE c.agent LIKE 'crash_holder_B%';
CREATE TEMP TABLE fresh ON COMMIT DROP AS
SELECT g.task_q_key, g.claim_token, g.rollout_version, rollout_complete(g.task_q_key, g.claim_token) AS result
  FROM got g;
INSERT INTO completion_log (claim_id, task_q_key, claim_token, action, result, completer_version, agent)
SELECT c.claim_id, f.task_q_key, f.claim_token, 'complete', f.result, f.rollout_version, 'final_check'
  FROM fresh f JOIN claim_log c USING (task_q_key, claim_token);
-- Orders are guarded: write them as 10.1, which may touch 9.4's too.
SET LOCAL rollout.version = '10.1';
UPDATE order_header h SET status = 9000, touched = h.touched + 1
  FROM fresh f JOIN task_expect e USING (task_q_key)
 WHERE f.result AND h.order_header_key = e.data_key AND h.rollout_version = f.rollout_version;
SELECT
  -- each version got exactly its own left-behind rows
  (SELECT count(*) FROM got WHERE claimer = '10.1') = (SELECT count(*) FROM left_rows WHERE rollout_version = '10.1')
  AND NOT EXISTS (SELECT FROM got WHERE claimer <> rollout_version),
  NOT EXISTS (SELECT task_q_key FROM left_rows EXCEPT SELECT task_q_key FROM got),
  (SELECT count(*) FROM rollout_claim('CLOSE_ORDER.0001', 1000, '9.4'))
    + (SELECT count(*) FROM rollout_claim('CLOSE_ORDER.0001', 1000, '10.1')) = 0,
  -- the orphaned rows were claimed anew: count + 1, new token
  (SELECT count(*) FROM got g JOIN left_rows b USING (task_q_key)
    WHERE b.claim_count > 0 AND g.claim_count = b.claim_count + 1 AND g.claim_token <> b.claim_token),
  -- the dead holders' tokens are stale now
  (SELECT count(*) FILTER (WHERE result) FROM stale),
  (SELECT bool_and(result) FROM fresh),
  (SELECT count(*) FROM rollout_task_q);
COMMIT;}),
	't|t|t|' . (2 * $hold_rows) . '|0|t|0',
	'left behind: claimable by their own version only, orphans claimed anew, stale tokens refused, all completed');
check_zero('finally every task was completed exactly once', qq{
	WITH done AS ($ok_completes)
	SELECT count(*) FILTER (WHERE coalesce(d.n, 0) <> 1) + (SELECT count(*) FROM rollout_task_q),
	       count(*) || ' tasks, ' || (SELECT count(*) FROM claim_log) || ' claims'
	  FROM task_expect e LEFT JOIN done d USING (task_q_key)});
check_zero('finally every order is done and kept its version', q{
	SELECT count(*) FILTER (WHERE h.status <> 9000 OR h.touched <> 1 OR h.rollout_version <> e.version),
	       count(*) || ' orders'
	  FROM task_expect e JOIN order_header h ON h.order_header_key = e.data_key});

$node->stop;
done_testing();
