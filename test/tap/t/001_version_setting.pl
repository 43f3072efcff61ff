# rollout.version on new connections, with the library preloaded (the
# documented installation) and loaded lazily at the first call: the version
# scope holds from the first statement of every backend, and a SET is checked
# when it is made only where the library is preloaded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $leak = qr/rollout\.version was set before this transaction/;

for my $loading ('preloaded', 'lazy')
{
	my $node = PostgreSQL::Test::Cluster->new($loading);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'rollout_ext'")
	  if $loading eq 'preloaded';
	$node->start;
	$node->safe_psql(
		'postgres', q{
		CREATE EXTENSION rollout_ext;
		SELECT rollout_register_version('10.1', 'V2');
		CREATE TABLE orders (order_key text PRIMARY KEY);
		SELECT rollout_enable_tagging('orders');
		CREATE ROLE app LOGIN;
		CREATE ROLE app_versioned LOGIN;
		GRANT SELECT, INSERT ON orders TO app, app_versioned;
		GRANT SELECT ON rollout_tagging, rollout_versions, rollout_ramp TO app, app_versioned;
		ALTER ROLE app SET rollout.version_scope = 'transaction';
		ALTER ROLE app_versioned SET rollout.version_scope = 'transaction';
		ALTER ROLE app_versioned SET rollout.version = '10.1';
	});
	my @app = (extra_params => [ '-U', 'app' ]);

	# The issue's reproduction: on a new connection, a session SET in one
	# transaction, the INSERT in the next. The first INSERT after the library
	# loads must be refused like every later one.
	my ($rc, $out, $err) = $node->psql(
		'postgres', q{
		SET rollout.version = '10.1';
		INSERT INTO orders VALUES ('x') RETURNING rollout_version;
		INSERT INTO orders VALUES ('y') RETURNING rollout_version;
	}, @app, on_error_stop => 0);
	like($err, qr/ERROR:  rollout\.version was set before this transaction.*\n.*\n.*ERROR:  rollout\.version was set before this transaction/s,
		"$loading: a session SET is refused in the first transaction after it, and the next");
	is($out, '', "$loading: no row was tagged with the leaked version");

	# From the connection's options, and from ALTER ROLE: the same.
	{
		local $ENV{PGOPTIONS} = '-c rollout.version=10.1';
		($rc, $out, $err) = $node->psql('postgres',
			q{INSERT INTO orders VALUES ('z') RETURNING rollout_version;}, @app);
	}
	like($err, $leak, "$loading: a version from the connection options is refused");
	($rc, $out, $err) = $node->psql('postgres',
		q{INSERT INTO orders VALUES ('w') RETURNING rollout_version;},
		extra_params => [ '-U', 'app_versioned' ]);
	like($err, $leak, "$loading: a version from ALTER ROLE is refused");

	# SET LOCAL and set_config(..., true) in the transaction tag, also when
	# the SET comes before the library is loaded.
	$out = $node->safe_psql(
		'postgres', q{
		BEGIN;
		SET LOCAL rollout.version = '10.1';
		INSERT INTO orders VALUES ('local') RETURNING rollout_version_format(rollout_version);
		COMMIT;
		BEGIN;
		SELECT set_config('rollout.version', '10.1', true) IS NOT NULL AS set;
		INSERT INTO orders VALUES ('config') RETURNING rollout_version_format(rollout_version);
		COMMIT;
	}, @app);
	is($out, "10.1.0.0.0.0\nt\n10.1.0.0.0.0",
		"$loading: SET LOCAL and set_config(..., true) tag from the first transaction");
	# A session SET in the same transaction counts for that transaction only.
	($rc, $out, $err) = $node->psql(
		'postgres', q{
		BEGIN;
		SET rollout.version = '10.1';
		INSERT INTO orders VALUES ('same') RETURNING rollout_version_format(rollout_version);
		COMMIT;
		INSERT INTO orders VALUES ('next') RETURNING rollout_version;
	}, @app, on_error_stop => 0);
	is($out, '10.1.0.0.0.0', "$loading: a SET counts in its own transaction");
	like($err, $leak, "$loading: ... and not in the next");

	is($node->safe_psql('postgres', 'SELECT string_agg(order_key, \',\' ORDER BY order_key) FROM orders'),
		'config,local,same', "$loading: only the transaction-scoped rows were written");

	# A typo in the version: preloaded, the SET itself fails; lazily, it is
	# accepted as a placeholder and dropped with a warning at the first call.
	($rc, $out, $err) = $node->psql(
		'postgres', q{
		SET rollout.version = '10.1.0.111';
		SELECT rollout_current_version() IS NULL;
	}, on_error_stop => 0);
	if ($loading eq 'preloaded')
	{
		like($err, qr/ERROR:  invalid input syntax for type rollout_version: "10\.1\.0\.111"/,
			'preloaded: a bad SET fails when it is made');
	}
	else
	{
		like($err, qr/WARNING:  invalid input syntax for type rollout_version: "10\.1\.0\.111"/,
			'lazy: a bad SET is dropped with a warning when the library loads');
	}
	is($out, 't', "$loading: nothing runs under the bad version");

	# SHOW before any call: preloaded, the setting exists; lazily, it does not.
	($rc, $out, $err) = $node->psql('postgres', 'SHOW rollout.version;');
	if ($loading eq 'preloaded')
	{
		is($rc, 0, 'preloaded: SHOW rollout.version works on a new connection');
	}
	else
	{
		like($err, qr/unrecognized configuration parameter "rollout\.version"/,
			'lazy: SHOW rollout.version fails until the library loads (documented)');
	}
	$node->stop;
}

done_testing();
