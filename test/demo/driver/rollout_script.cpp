#include "rollout_script.hpp"

#include "audit_log.hpp"
#include "orders.hpp"
#include "text_table.hpp"

#include <chrono>
#include <thread>

namespace demo {

namespace {

constexpr double kRampShare = 0.7;      // of --duration, for the ramp steps
constexpr double kGraceSeconds = 90;    // past --duration, before giving up

std::string percent_text(double percent)
{
	return percent == static_cast<long>(percent) ? std::to_string(static_cast<long>(percent))
	                                             : fixed(percent, 2);
}

}  // namespace

RolloutScript::RolloutScript(const Options &options, const Versions &versions, PgConn &control,
                             Fleet &fleet, Stats &stats, EventLog &events, RunStatus &status)
	: options_(options), versions_(versions), control_(control), fleet_(fleet), stats_(stats),
	  events_(events), status_(status)
{
}

bool RolloutScript::past_deadline() const
{
	return Clock::elapsed() > deadline_;
}

RolloutResult RolloutScript::run()
{
	const double start = Clock::elapsed();
	deadline_ = start + options_.duration + kGraceSeconds;
	std::vector<double> steps{0};
	steps.insert(steps.end(), options_.ramp.begin(), options_.ramp.end());
	const double step_seconds = options_.duration * kRampShare / static_cast<double>(steps.size());
	// The kill happens halfway through the first step that sends orders to
	// V2 (V1 still gets most of them), to a V1 agent.
	if (options_.kill) {
		kill_at_ = start + step_seconds * (steps.size() > 1 ? 1.5 : 0.5);
		result_.kill_requested = true;
	}

	for (std::size_t i = 0; i < steps.size(); ++i) {
		long orders = options_.orders / static_cast<long>(steps.size());
		if (static_cast<long>(i) < options_.orders % static_cast<long>(steps.size()))
			++orders;
		const double step_start = Clock::elapsed();
		ramp_step(i, steps.size(), steps[i], orders);
		wait_until(step_start + step_seconds);
	}
	status_.set("ramp done: application servers finishing their queues");
	fleet_.finish_app_servers();
	record_abandoned();

	phase_out();
	result_.rollout_seconds = Clock::elapsed() - start;
	wait_for_orders();
	return result_;
}

void RolloutScript::ramp_step(std::size_t index, std::size_t count, double percent, long orders)
{
	// The ramp-up runbook: the load balancer first, so that no order the
	// database tags V2 reaches a V1 server; then the database.
	lb_percent_ = percent_text(percent);
	control_.exec("SELECT rollout_set_ramp($1::rollout_version, $2::rollout_version, $3::numeric)",
	              {versions_[kV1].setting, versions_[kV2].setting, percent_text(percent)});
	const std::string phase = "step " + std::to_string(index + 1) + "/" + std::to_string(count) +
	                          ": ramp " + percent_text(percent) + "% of new orders to " +
	                          versions_[kV2].label;
	status_.set(phase);
	events_.add("rollout_set_ramp('" + versions_[kV1].setting + "', '" + versions_[kV2].setting +
	            "', " + percent_text(percent) + "): " + std::to_string(orders) + " orders in this step");
	const double step_seconds = options_.duration * kRampShare / static_cast<double>(count);
	const double start = Clock::elapsed();
	for (long k = 0; k < orders; ++k) {
		wait_until(start + step_seconds * (static_cast<double>(k) + 0.5) / static_cast<double>(orders));
		dispatch(++next_order_);
	}
}

// The load balancer: it computes the key's bucket by the ramp's scheme, as
// nginx or HAProxy would, against its own configured percentage.
void RolloutScript::dispatch(long number)
{
	OrderRequest order = make_order(options_.seed, number);
	const bool to_v2 =
		control_.exec("SELECT rollout_route_bucket($1, $2) < $3::numeric * 100",
		              {order.key, options_.scheme, lb_percent_})
			.boolean(0, 0);
	fleet_.app_server(versions_[to_v2 ? kV2 : kV1].index).submit(std::move(order));
}

void RolloutScript::wait_until(double when)
{
	do {
		tick();
		const double left = when - Clock::elapsed();
		if (left <= 0)
			break;
		std::this_thread::sleep_for(std::chrono::duration<double>(left < 0.1 ? left : 0.1));
	} while (true);
}

void RolloutScript::tick()
{
	if (kill_at_ >= 0 && Clock::elapsed() >= kill_at_) {
		kill_at_ = -1;
		events_.add("killing the next " + versions_[kV1].label + " agent thread that claims rows");
		fleet_.request_kill(kV1);
	}
	record_abandoned();
}

// A killed agent cannot write; the control connection records the rows it
// held, to check later that its own version picked them up again.
void RolloutScript::record_abandoned()
{
	for (const AbandonedClaim &claim : fleet_.take_abandoned()) {
		result_.kill_happened = true;
		result_.killed_agent = claim.agent_name + " " + claim.instance;
		for (const ClaimedRow &row : claim.rows)
			write_audit(control_, AuditRecord{claim.agent_name, claim.instance, claim.agent_version,
			                                  claim.criteria_id, row.key, Param(row.version),
			                                  Param(row.order_key), Param(row.token), "abandoned",
			                                  "killed with the claim (backend " +
			                                      std::to_string(claim.backend_pid) + ")"});
	}
}

void RolloutScript::phase_out()
{
	const VersionInfo &v1 = versions_[kV1];
	const VersionInfo &v2 = versions_[kV2];
	status_.set("phase-out: stopping " + v1.label + " agents");
	events_.add("stopping all " + std::to_string(fleet_.agent_count(kV1)) + " " + v1.name() +
	            " agent threads (each finishes its current row)");
	fleet_.stop_agents(kV1);
	record_abandoned();
	if (result_.kill_requested && !result_.kill_happened && fleet_.cancel_kill(kV1))
		events_.add("no agent was killed: no " + versions_[kV1].label +
		            " agent claimed anything after the kill was due");

	// CALL commits inside, so it runs on its own (the control connection is
	// in autocommit mode).
	for (;;) {
		++result_.phase_out_calls;
		status_.set("phase-out of " + v1.name() + " into " + v2.name() + ": call " +
		            std::to_string(result_.phase_out_calls));
		PgResult r = control_.exec("CALL rollout_phase_out($1::rollout_version, $2::rollout_version)",
		                           {v1.setting, v2.setting});
		const std::string state = r.text(0, 2);
		events_.add("CALL rollout_phase_out('" + v1.setting + "', '" + v2.setting + "'): moved " +
		            r.text(0, 0) + ", remaining " + r.text(0, 1) + ", state " + state);
		if (state == "retired")
			break;
		if (past_deadline())
			return;
		std::this_thread::sleep_for(std::chrono::milliseconds(1000));
	}
	result_.retired = true;

	for (;;) {
		result_.drained =
			control_.exec("SELECT rollout_drained($1::rollout_version)", {v1.setting}).boolean(0, 0);
		if (result_.drained) {
			events_.add("rollout_drained('" + v1.setting + "') = true: " + v1.label + " is phased out");
			return;
		}
		// Rows of V1 created after their table had been retagged (a V2 agent
		// deriving rows from a V1 order not yet retagged) are left behind.
		PgResult left = control_.exec(
			"SELECT string_agg(tbl || ' ' || n, ', ') FROM ("
			" SELECT 'rollout_task_q' AS tbl, count(*) AS n FROM rollout_task_q WHERE rollout_version = $1::rollout_version"
			" UNION ALL SELECT 'yfs_order_header', count(*) FROM yfs_order_header WHERE rollout_version = $1::rollout_version"
			" UNION ALL SELECT 'yfs_order_line', count(*) FROM yfs_order_line WHERE rollout_version = $1::rollout_version"
			" UNION ALL SELECT 'yfs_order_invoice', count(*) FROM yfs_order_invoice WHERE rollout_version = $1::rollout_version"
			" UNION ALL SELECT 'yfs_charge_transaction', count(*) FROM yfs_charge_transaction WHERE rollout_version = $1::rollout_version"
			" UNION ALL SELECT 'yfs_async_request', count(*) FROM yfs_async_request WHERE rollout_version = $1::rollout_version"
			") t WHERE n > 0",
			{v1.setting});
		events_.add("WARNING: " + v1.setting + " is retired but not drained; rows still tagged " +
		            v1.setting + ": " + left.text(0, 0) + "; calling rollout_phase_out again");
		++result_.sweeps;
		++result_.phase_out_calls;
		PgResult r = control_.exec("CALL rollout_phase_out($1::rollout_version, $2::rollout_version)",
		                           {v1.setting, v2.setting});
		events_.add("CALL rollout_phase_out (sweep): moved " + r.text(0, 0) + ", remaining " +
		            r.text(0, 1) + ", state " + r.text(0, 2));
		if (past_deadline())
			return;
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
}

void RolloutScript::wait_for_orders()
{
	status_.set(versions_[kV2].name() + " agents finishing every order");
	for (;;) {
		PgResult r = control_.exec(
			"SELECT (SELECT count(*) FROM demo_order_state WHERE NOT final), "
			"(SELECT coalesce(sum(rows), 0) FROM demo_unfinished_work)");
		const long long open_orders = r.integer(0, 0);
		const long long open_work = r.integer(0, 1);
		if (open_orders == 0 && open_work == 0) {
			result_.finished = true;
			events_.add("every order reached its final state; no work left in any queue");
			return;
		}
		if (past_deadline()) {
			events_.add("giving up: " + std::to_string(open_orders) + " orders not finished, " +
			            std::to_string(open_work) + " work rows left");
			return;
		}
		status_.set(versions_[kV2].name() + " agents finishing: " + std::to_string(open_orders) +
		            " orders open, " + std::to_string(open_work) + " work rows left");
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
}

}  // namespace demo
