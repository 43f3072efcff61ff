#include "final_audit.hpp"

#include "agent_catalog.hpp"
#include "outcomes.hpp"
#include "text_table.hpp"

#include <cstdio>
#include <map>

namespace demo {

namespace {

struct PerVersion {
	long long orders = 0, chained = 0, processed = 0, retried = 0, lost_leases = 0, errors = 0,
	          wrong_version = 0;
	std::array<long long, kStageCount> stage{};
};

class Checks {
public:
	explicit Checks(const Versions &versions) : versions_(versions)
	{
		std::vector<std::string> header{"check"};
		for (const VersionInfo &v : versions)
			header.push_back(v.name());
		for (const char *h : {"total", "expected", "result"})
			header.push_back(h);
		table_ = std::make_unique<TextTable>(header);
	}

	void info(const std::string &name, const std::array<long long, kVersionCount> &values)
	{
		std::vector<std::string> row{name};
		long long total = 0;
		for (long long v : values) {
			row.push_back(std::to_string(v));
			total += v;
		}
		row.push_back(std::to_string(total));
		table_->add(row);
	}

	void info(const std::string &name, const std::string &total)
	{
		std::vector<std::string> row{name};
		row.resize(versions_.size() + 1);
		row.push_back(total);
		table_->add(row);
	}

	void check(const std::string &name, const std::string &total, const std::string &expected, bool ok,
	           const std::array<long long, kVersionCount> *values = nullptr)
	{
		std::vector<std::string> row{name};
		for (std::size_t i = 0; i < versions_.size(); ++i)
			row.push_back(values != nullptr ? std::to_string((*values)[i]) : "");
		row.push_back(total);
		row.push_back(expected);
		row.push_back(ok ? "ok" : "FAIL");
		table_->add(row);
		all_ok_ = all_ok_ && ok;
		++(ok ? passed_ : failed_);
	}

	bool all_ok() const { return all_ok_; }
	int passed() const { return passed_; }
	int failed() const { return failed_; }
	void print() const
	{
		for (const std::string &line : table_->render())
			std::printf("%s\n", line.c_str());
	}

private:
	const Versions &versions_;
	std::unique_ptr<TextTable> table_;
	bool all_ok_ = true;
	int passed_ = 0;
	int failed_ = 0;
};

int version_index(const Versions &versions, const std::string &numeric)
{
	for (const VersionInfo &v : versions)
		if (v.numeric == numeric)
			return v.index;
	return -1;
}

std::array<PerVersion, kVersionCount> read_per_version(PgConn &c, const Versions &versions)
{
	std::array<PerVersion, kVersionCount> per{};
	PgResult r = c.exec(
		"SELECT agent_version::text, "
		" count(*) FILTER (WHERE agent_name = 'APP_SERVER' AND outcome = 'created'), "
		" count(*) FILTER (WHERE criteria_id = 'CHAINED_ORDER_CREATE' AND outcome = 'completed'), "
		" count(*) FILTER (WHERE agent_name <> 'APP_SERVER' AND outcome IN ('completed', 'rescheduled', 'retried')), "
		" count(*) FILTER (WHERE outcome = 'retried'), "
		" count(*) FILTER (WHERE outcome = 'lost_lease'), "
		" count(*) FILTER (WHERE outcome = 'error'), "
		" count(*) FILTER (WHERE row_version IS DISTINCT FROM agent_version) "
		"FROM demo_audit GROUP BY 1");
	for (int i = 0; i < r.rows(); ++i) {
		const int v = version_index(versions, r.text(i, 0));
		if (v < 0)
			continue;
		per[v] = PerVersion{r.integer(i, 1), r.integer(i, 2), r.integer(i, 3), r.integer(i, 4),
		                    r.integer(i, 5), r.integer(i, 6), r.integer(i, 7), {}};
	}
	std::map<std::string, Stage> stage_of;
	for (const AgentSpec &agent : reference_agents())
		stage_of[agent.name] = agent.stage;
	PgResult s = c.exec(
		"SELECT agent_version::text, agent_name, count(*) FROM demo_audit "
		"WHERE outcome IN ('completed', 'rescheduled') AND agent_name <> 'APP_SERVER' GROUP BY 1, 2");
	for (int i = 0; i < s.rows(); ++i) {
		const int v = version_index(versions, s.text(i, 0));
		const auto stage = stage_of.find(s.text(i, 1));
		if (v >= 0 && stage != stage_of.end())
			per[v].stage[stage->second] = s.integer(i, 2);
	}
	return per;
}

template <typename F>
std::array<long long, kVersionCount> each(const std::array<PerVersion, kVersionCount> &per, F f)
{
	std::array<long long, kVersionCount> out{};
	for (int v = 0; v < kVersionCount; ++v)
		out[v] = f(per[v]);
	return out;
}

void print_list(PgConn &c, const char *title, const std::string &sql)
{
	PgResult r = c.exec(sql);
	if (r.rows() == 0)
		return;
	std::printf("%s\n", title);
	for (int i = 0; i < r.rows(); ++i)
		std::printf("  %s\n", r.text(i, 0).c_str());
}

std::string version_name(const Versions &versions, const std::string &numeric)
{
	for (const VersionInfo &v : versions)
		if (v.numeric == numeric)
			return v.name();
	return numeric;
}

// Each plan's decisions from rollout_audit, with the figures they were made
// on; a run of the same decision at the same step shows once, with how many
// evaluations it lasted.
void print_plan_audit(PgConn &c, const Versions &versions)
{
	PgResult r = c.exec(R"(
WITH d AS (
	SELECT audit_id, detail->>'plan_id' AS plan_id, detail->>'target' AS target, action,
	       detail->>'percent' AS percent, coalesce(detail->>'decision', '') AS decision,
	       detail->'figures'->'totals' AS t,
	       coalesce(detail->>'reason', '') AS reason
	  FROM rollout_audit WHERE action LIKE 'plan%'),
runs AS (
	SELECT d.*, sum(CASE WHEN (action, decision, percent) IS NOT DISTINCT FROM
	                          (lag_action, lag_decision, lag_percent) THEN 0 ELSE 1 END)
	               OVER (PARTITION BY plan_id ORDER BY audit_id) AS run
	  FROM (SELECT d.*, lag(action) OVER w AS lag_action, lag(decision) OVER w AS lag_decision,
	               lag(percent) OVER w AS lag_percent
	          FROM d WINDOW w AS (PARTITION BY plan_id ORDER BY audit_id)) d)
SELECT plan_id, target, action, percent, decision, count(*) OVER (PARTITION BY plan_id, run),
       coalesce(t->>'target_failed' || '/' || (t->>'target_finished'), ''),
       coalesce(t->>'base_failed' || '/' || (t->>'base_finished'), ''),
       coalesce(to_char((t->>'p_value')::float8, '9.9EEEE'), ''), reason,
       row_number() OVER (PARTITION BY plan_id, run ORDER BY audit_id DESC) = 1
  FROM runs ORDER BY audit_id)");
	std::printf("\nplan decisions (rollout_audit; failed/finished rows over the step's window):\n");
	TextTable table({"plan", "target", "action", "at %", "decision", "times", "target fail", "base fail",
	                 "p-value", "reason"});
	for (int i = 0; i < r.rows(); ++i) {
		if (!r.boolean(i, 10))
			continue;  // the last of a run: the figures it ended on
		std::string reason = r.text(i, 9);
		if (reason.size() > 90)
			reason = reason.substr(0, 87) + "...";
		table.add({r.text(i, 0), version_name(versions, r.text(i, 1)), r.text(i, 2), r.text(i, 3),
		           r.text(i, 4), r.text(i, 5), r.text(i, 6), r.text(i, 7), r.text(i, 8), reason});
	}
	for (const std::string &line : table.render())
		std::printf("  %s\n", line.c_str());
}

}  // namespace

bool run_final_audit(PgConn &c, const Versions &versions, const Stats &stats,
                     const RolloutResult &rollout, double total_seconds)
{
	const auto per = read_per_version(c, versions);
	Checks checks(versions);

	checks.info("orders created by application servers", each(per, [](const PerVersion &p) { return p.orders; }));
	checks.info("chained orders created by agents", each(per, [](const PerVersion &p) { return p.chained; }));
	checks.info("rows processed by agents", each(per, [](const PerVersion &p) { return p.processed; }));
	checks.info("  of which retried (injected failures, waits)",
	            each(per, [](const PerVersion &p) { return p.retried; }));
	checks.info("completions refused after a lost lease",
	            each(per, [](const PerVersion &p) { return p.lost_leases; }));

	const auto wrong = each(per, [](const PerVersion &p) { return p.wrong_version; });
	long long wrong_total = 0;
	for (long long w : wrong)
		wrong_total += w;
	checks.check("rows processed by an agent of the wrong version", std::to_string(wrong_total), "0",
	             wrong_total == 0, &wrong);

	long long never_created = 0;
	for (const VersionInfo &v : versions)
		never_created += stats.version[v.index].orders_dispatched - stats.version[v.index].orders_created;
	PgResult lost = c.exec("SELECT count(*) FILTER (WHERE NOT final) FROM demo_order_state");
	const long long orders_lost = lost.integer(0, 0) + never_created;
	checks.check("orders lost (not in their final state)", std::to_string(orders_lost), "0",
	             orders_lost == 0);

	const long long unfinished =
		c.exec("SELECT coalesce(sum(rows), 0) FROM demo_unfinished_work").integer(0, 0);
	checks.check("work rows left in the queues", std::to_string(unfinished), "0", unfinished == 0);

	const long long twice = c.exec(
		"SELECT count(*) FROM (SELECT FROM demo_audit WHERE outcome = 'completed' "
		"AND agent_name <> 'APP_SERVER' GROUP BY agent_name, row_key HAVING count(*) > 1) d").integer(0, 0);
	checks.check("tasks completed twice", std::to_string(twice), "0", twice == 0);

	const long long mismatched = c.exec("SELECT count(*) FROM demo_version_mismatch").integer(0, 0);
	checks.check("derived rows not of their order's version", std::to_string(mismatched), "0",
	             mismatched == 0);

	long long anomalies = 0, errors = 0;
	for (const VersionInfo &v : versions) {
		anomalies += stats.version[v.index].anomalies;
		errors += stats.version[v.index].errors;
	}
	checks.check("rows found in a state their stage cannot follow", std::to_string(anomalies), "0",
	             anomalies == 0);
	checks.check("SQL errors in servers and agents", std::to_string(errors), "0", errors == 0);

	if (rollout.kill_happened) {
		// Every row the killed agent held must be picked up again once its
		// lease ends: by an agent of its own version, or (when the backlog
		// kept V1 from reaching it before V1 stopped) by V2 after the
		// phase-out retagged it.
		PgResult k = c.exec(
			"SELECT count(*), count(*) FILTER (WHERE same OR later), count(*) FILTER (WHERE same) "
			"FROM (SELECT EXISTS (SELECT FROM demo_audit b WHERE b.agent_name = a.agent_name "
			"   AND b.row_key = a.row_key AND b.agent_instance <> a.agent_instance "
			"   AND b.outcome IN ('completed', 'rescheduled', 'retried') "
			"   AND b.agent_version = a.agent_version) AS same, "
			" EXISTS (SELECT FROM demo_audit b WHERE b.agent_name = a.agent_name "
			"   AND b.row_key = a.row_key AND b.outcome IN ('completed', 'rescheduled', 'retried') "
			"   AND b.agent_version <> a.agent_version AND b.row_version = b.agent_version) AS later "
			"FROM demo_audit a WHERE a.outcome = 'abandoned') x");
		const long long held = k.integer(0, 0), redone = k.integer(0, 1), same = k.integer(0, 2);
		checks.check("killed agent's rows picked up again after the lease",
		             std::to_string(redone) + "/" + std::to_string(held) + " (" +
		                 std::to_string(same) + " by " + versions[kV1].label + ")",
		             "all", held > 0 && redone == held);
	} else if (rollout.kill_requested) {
		checks.info("killed agent's rows picked up again after the lease",
		            "skipped: no V1 claim after the kill was due");
	}
	// Act 1: the bad release was caught at a small step and rolled back.
	const int last_step = static_cast<int>(
		c.exec("SELECT coalesce(max(cardinality(steps)), 0) FROM rollout_plan").integer(0, 0));
	checks.check("act 1: " + versions[kV2].label + "'s plan aborted by the gate and rolled back",
	             rollout.bad.state + (rollout.bad.last_decision.empty() ? "" : ", " + rollout.bad.last_decision) +
	                 " at step " + std::to_string(rollout.bad.step),
	             "rolled_back, abort, before the last step",
	             rollout.bad.state == "rolled_back" && rollout.bad.last_decision == "abort" &&
	                 rollout.bad.step < last_step);
	const std::string v2 = versions[kV2].setting;
	const std::string v2_state =
		c.exec("SELECT state FROM rollout_versions WHERE version = $1::rollout_version", {v2}).text(0, 0);
	const bool v2_drained =
		c.exec("SELECT rollout_drained($1::rollout_version)", {v2}).boolean(0, 0);
	checks.check("act 1: " + versions[kV2].name() + " retired, none of its rows left",
	             v2_state + (v2_drained ? ", drained" : ", NOT drained"), "retired, drained",
	             v2_state == "retired" && v2_drained);
	// Act 2: the fixed release went through every step, advanced by the gate.
	const long long advances = rollout.good.plan_id.empty() ? 0 : c.exec(
		"SELECT count(*) FROM rollout_audit WHERE action = 'plan_decision' "
		"AND detail->>'plan_id' = $1 AND detail->>'decision' = 'advance'",
		{rollout.good.plan_id}).integer(0, 0);
	checks.check("act 2: " + versions[kV2Fixed].label + "'s plan completed, every step advanced by the gate",
	             (rollout.good.state.empty() ? std::string("not started") : rollout.good.state) + ", " +
	                 std::to_string(advances) + " of " + std::to_string(last_step) + " steps",
	             "completed, all", rollout.good.state == "completed" && advances == last_step);
	const long long hand_ramps = c.exec(
		"SELECT count(*) FROM rollout_audit a WHERE a.action = 'set_ramp' "
		"AND NOT EXISTS (SELECT FROM rollout_audit p WHERE p.action LIKE 'plan%' "
		"                 AND p.happened_at = a.happened_at) "
		"AND a.audit_id > (SELECT min(audit_id) FROM rollout_audit WHERE action = 'set_ramp')").integer(0, 0);
	checks.check("ramp changes not made by a plan", std::to_string(hand_ramps), "0", hand_ramps == 0);

	const std::string v1 = versions[kV1].setting;
	const std::string state =
		c.exec("SELECT state FROM rollout_versions WHERE version = $1::rollout_version", {v1}).text(0, 0);
	const bool drained =
		c.exec("SELECT rollout_drained($1::rollout_version)", {v1}).boolean(0, 0);
	checks.check(versions[kV1].name() + " retired and drained",
	             state + (drained ? ", drained" : ", NOT drained"), "retired, drained",
	             state == "retired" && drained);
	checks.check("every order finished before the deadline", rollout.finished ? "yes" : "no", "yes",
	             rollout.finished);
	checks.info("rollout_phase_out calls (of which sweeps)",
	            std::to_string(rollout.phase_out_calls) + " (" + std::to_string(rollout.sweeps) + ")");
	checks.info("act 1 (" + versions[kV2].label + " caught and rolled back)", fixed(rollout.bad.seconds, 1) + " s");
	checks.info("act 2 (" + versions[kV2Fixed].label + " ramped to 100%)", fixed(rollout.good.seconds, 1) + " s");
	checks.info("rollout time: first plan to V1 drained", fixed(rollout.rollout_seconds, 1) + " s");
	checks.info("total run time", fixed(total_seconds, 1) + " s");

	std::printf("\n== final audit\n");
	checks.print();

	std::printf("\nrows done per stage and agent version (completed or rescheduled):\n");
	std::vector<std::string> header{"version"};
	for (int s = 0; s < kStageCount; ++s)
		header.push_back(stage_short_name(static_cast<Stage>(s)));
	TextTable stages(header);
	for (const VersionInfo &v : versions) {
		std::vector<std::string> row{v.name()};
		for (int s = 0; s < kStageCount; ++s)
			row.push_back(std::to_string(per[v.index].stage[s]));
		stages.add(row);
	}
	for (const std::string &line : stages.render())
		std::printf("  %s\n", line.c_str());

	try {
		PgResult outcomes = c.exec(kOutcomesSql);
		std::printf("\noutcomes by the rows' versions (rollout_stats):\n");
		TextTable table({"version", "claimed", "completed", "failed", "failure %", "work p95"});
		for (int i = 0; i < outcomes.rows(); ++i) {
			std::string name = outcomes.text(i, 0);
			for (const VersionInfo &v : versions)
				if (v.numeric == name)
					name = v.name();
			table.add({name, outcomes.text(i, 1), outcomes.text(i, 2), outcomes.text(i, 3),
			           outcomes.text(i, 4), outcomes.text(i, 5)});
		}
		for (const std::string &line : table.render())
			std::printf("  %s\n", line.c_str());
	} catch (const PgError &e) {
		std::printf("\nno rollout_stats: %s\n", e.what());
	}

	print_plan_audit(c, versions);

	print_list(c, "\nrows processed by an agent of the wrong version (first 10):",
	           "SELECT agent_name || ' ' || agent_instance || ' (' || agent_version::text || ') ' || "
	           "criteria_id || ' row ' || row_key || ' of version ' || coalesce(row_version::text, 'none') "
	           "FROM demo_audit WHERE row_version IS DISTINCT FROM agent_version ORDER BY audit_id LIMIT 10");
	print_list(c, "\norders not in their final state (first 10):",
	           "SELECT order_header_key || ' ' || document_type || ': lines ' || lines || ' (' || not_shipped "
	           "|| ' not shipped), closed ' || order_closed || ', payment ' || coalesce(payment_status, '-') "
	           "|| ', invoices ' || invoices || ' (' || unpublished || ' unpublished), charges ' || charges "
	           "|| ' (' || open_charges || ' open)' FROM demo_order_state WHERE NOT final "
	           "ORDER BY 1 LIMIT 10");
	print_list(c, "\nwork left in the queues:",
	           "SELECT tbl || ' ' || work || ' version ' || coalesce(rollout_version::text, 'none') || ': ' "
	           "|| rows FROM demo_unfinished_work ORDER BY 1");
	print_list(c, "\nderived rows not of their order's version (first 10):",
	           "SELECT tbl || ' ' || row_key || ' version ' || coalesce(rollout_version::text, 'none') "
	           "|| ', order ' || order_header_key || ' version ' || coalesce(order_version::text, 'none') "
	           "FROM demo_version_mismatch LIMIT 10");

	std::printf("\nresult: %s\n", checks.all_ok() ? "PASS, every invariant holds" : "FAIL");
	// The summary line test/scripts/run-tests.sh counts suites by.
	std::printf("demo: %d passed, %d failed\n", checks.passed(), checks.failed());
	return checks.all_ok();
}

}  // namespace demo
