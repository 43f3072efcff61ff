#include "setup.hpp"

namespace demo {

void prepare_database(PgConn &control, Versions &versions, const std::string &scheme)
{
	PgResult schema = control.exec(
		"SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'rollout_ext'), "
		"to_regclass('yfs_order_header') IS NOT NULL, to_regclass('demo_audit') IS NOT NULL");
	if (!schema.boolean(0, 0) || !schema.boolean(0, 1) || !schema.boolean(0, 2))
		throw SetupError("the database lacks the demo schema: run CREATE EXTENSION rollout_ext, "
		                 "then test/demo/reference_schema.sql and test/demo/demo_audit.sql "
		                 "(test/scripts/run-demo.sh does)");
	PgResult used = control.exec(
		"SELECT (SELECT count(*) FROM yfs_order_header) + (SELECT count(*) FROM rollout_task_q) + "
		"(SELECT count(*) FROM demo_audit) + (SELECT count(*) FROM rollout_versions)");
	if (used.integer(0, 0) > 0)
		throw SetupError("the database already holds orders, tasks, audit rows or versions from "
		                 "an earlier run; use a fresh database");

	for (VersionInfo &version : versions) {
		version.numeric = control.exec("SELECT $1::rollout_version::text", {version.setting}).text(0, 0);
		control.exec("SELECT rollout_register_version($1::rollout_version, $2)",
		             {version.setting, version.label});
	}
	// The routing scheme the load balancer computes, at 0%: from here on only
	// the plans move the ramp.
	control.exec("SELECT rollout_set_ramp($1::rollout_version, $2::rollout_version, 0, $3)",
	             {versions[kV1].setting, versions[kV2].setting, scheme});

	// Redefine every criteria as it is, with a short lease, so a killed
	// agent's rows come back within the demo.
	control.exec(
		"SELECT count(rollout_define_criteria(c.criteria_id, c.transaction_id, c.queue_table, "
		"c.key_column, c.due_column, c.version_column, c.transaction_column, c.hold_column, "
		"c.multi_version, c.base_version, c.batch_size, $1::interval, c.token_column)) "
		"FROM rollout_criteria c",
		{kDemoLease});
}

}  // namespace demo
