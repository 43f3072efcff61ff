#include "rollout_script.hpp"

#include "audit_log.hpp"
#include "orders.hpp"
#include "text_table.hpp"

#include <chrono>
#include <thread>

namespace demo {

namespace {

constexpr double kAdvanceSeconds = 1.0;  // how often the "scheduler" calls rollout_advance()

std::string steps_array(const std::vector<double> &steps)
{
	std::string out = "{";
	for (double step : steps)
		out += (out.size() > 1 ? "," : "") + fixed(step, step == static_cast<long>(step) ? 0 : 2);
	return out + "}";
}

bool settled(const PlanResult &plan)
{
	return plan.state == "completed" || plan.state == "rolled_back" || plan.state == "paused";
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
	deadline_ = start + options_.duration;
	fleet_.start(kV1);
	if (options_.kill) {
		// A few seconds into act 1, while V1 does nearly all the work.
		kill_at_ = start + 3;
		result_.kill_requested = true;
	}
	result_.bad = play_act(1, kV2);
	if (result_.bad.state == "rolled_back")
		result_.good = play_act(2, kV2Fixed);
	status_.set("plans done: application servers finishing their queues");
	fleet_.finish_app_servers();
	record_abandoned();
	if (result_.good.state == "completed")
		phase_out(kV2Fixed);
	result_.rollout_seconds = Clock::elapsed() - start;
	wait_for_orders(result_.good.state == "completed" ? kV2Fixed : kV1);
	return result_;
}

// One plan, from rollout_start_plan until it completed or was rolled back
// (or paused, or the run ran out of time). Orders keep coming at --rate.
PlanResult RolloutScript::play_act(int act, int target)
{
	const VersionInfo &v1 = versions_[kV1];
	const VersionInfo &tv = versions_[target];
	fleet_.start(target);
	lb_target_ = target;
	const double act_start = Clock::elapsed();
	act_orders_ = 0;
	const std::string plan_id =
		control_
			.exec("SELECT rollout_start_plan($1::rollout_version, $2::rollout_version, "
			      "steps => $3::numeric[], step_hold => $4::interval, min_samples => $5::integer)",
			      {v1.setting, tv.setting, steps_array(options_.steps),
			       std::to_string(options_.step_hold) + " seconds", std::to_string(options_.min_samples)})
			.text(0, 0);
	events_.add("act " + std::to_string(act) + ": rollout_start_plan('" + v1.setting + "', '" +
	            tv.setting + "', steps => '" + steps_array(options_.steps) + "', step_hold => '" +
	            std::to_string(options_.step_hold) + " seconds', min_samples => " +
	            std::to_string(options_.min_samples) + ") = plan " + plan_id);
	follow_ramp();
	PlanResult plan = read_plan(plan_id);
	bool taken_down = false;
	double next_advance = act_start + kAdvanceSeconds;
	while (!settled(plan) && !past_deadline()) {
		status_.set("act " + std::to_string(act) + ": plan " + plan_id + " " + v1.label + " -> " +
		            tv.label + " " + plan.state + " at " + lb_percent_ + "%, " +
		            (plan.last_decision.empty() ? "no decision yet" : plan.last_decision));
		if (plan.state == "running")
			dispatch_due(act_start);
		wait_until(Clock::elapsed() + 0.05);
		if (Clock::elapsed() < next_advance)
			continue;
		next_advance += kAdvanceSeconds;
		advance(act, &plan);
		if ((plan.state == "aborted" || plan.state == "rolled_back") && !taken_down) {
			take_down(target);
			taken_down = true;
		}
	}
	if (plan.state == "paused")
		events_.add("plan " + plan_id + " paused: " + plan.reason);
	plan.seconds = Clock::elapsed() - act_start;
	return plan;
}

PlanResult RolloutScript::read_plan(const std::string &plan_id)
{
	PgResult r = control_.exec(
		"SELECT state, percent::text, coalesce(last_decision, ''), coalesce(reason, ''), step "
		"FROM rollout_plans WHERE plan_id = $1::bigint",
		{plan_id});
	PlanResult plan;
	plan.plan_id = plan_id;
	plan.state = r.text(0, 0);
	plan.percent = r.text(0, 1);
	plan.last_decision = r.text(0, 2);
	plan.reason = r.text(0, 3);
	plan.step = static_cast<int>(r.integer(0, 4));
	return plan;
}

// The scheduler's call, then what changed: a new step, a state, or a first
// decision of a kind is an event; the load balancer follows the ramp.
void RolloutScript::advance(int act, PlanResult *plan)
{
	control_.exec("CALL rollout_advance()");
	const PlanResult now = read_plan(plan->plan_id);
	if (now.state != plan->state || now.step != plan->step ||
	    now.last_decision != plan->last_decision)
		events_.add("act " + std::to_string(act) + ": plan " + now.plan_id + " " + now.state +
		            " at step " + std::to_string(now.step) + " (" + now.percent + "%): " +
		            now.last_decision + ": " + now.reason);
	*plan = now;
	follow_ramp();
}

// The load balancer reloads its split from the database's ramp (in
// production: rollout_lb_config() rendered into nginx's or HAProxy's
// configuration, and a reload).
void RolloutScript::follow_ramp()
{
	const std::string percent = control_.exec("SELECT percent::text FROM rollout_ramp").text(0, 0);
	if (percent != lb_percent_)
		events_.add("load balancer reloaded: " + percent + "% of new orders to " +
		            versions_[lb_target_].name());
	lb_percent_ = percent;
}

// The gate aborted the bad release: the ramp is already 0, so no new order
// goes to its servers. The operator lets its application server create what
// it had accepted and stops its agents; rollout_advance() goes on moving its
// rows to V1 until none is left and it is retired.
void RolloutScript::take_down(int target)
{
	const VersionInfo &tv = versions_[target];
	status_.set("act 1: taking " + tv.name() + " down; rollout_advance() rolls its rows back");
	fleet_.finish_app_server(target);
	events_.add("stopping " + tv.name() + ": its application server finished its queue, its " +
	            std::to_string(fleet_.agent_count(target)) + " agent threads stop");
	fleet_.stop_agents(target);
}

void RolloutScript::dispatch_due(double act_start)
{
	const long due = static_cast<long>((Clock::elapsed() - act_start) * options_.rate);
	while (act_orders_ < due && next_order_ < options_.orders) {
		++act_orders_;
		dispatch(++next_order_);
	}
}

// The load balancer: it computes the key's bucket by the ramp's scheme, as
// nginx or HAProxy would, against its own configured percentage.
void RolloutScript::dispatch(long number)
{
	OrderRequest order = make_order(options_.seed, number);
	const bool to_target =
		control_.exec("SELECT rollout_route_bucket($1, $2) < $3::numeric * 100",
		              {order.key, options_.scheme, lb_percent_})
			.boolean(0, 0);
	fleet_.app_server(to_target ? lb_target_ : kV1).submit(std::move(order));
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

void RolloutScript::phase_out(int target)
{
	const VersionInfo &v1 = versions_[kV1];
	const VersionInfo &v2 = versions_[target];
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

void RolloutScript::wait_for_orders(int target)
{
	status_.set(versions_[target].name() + " agents finishing every order");
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
		status_.set(versions_[target].name() + " agents finishing: " + std::to_string(open_orders) +
		            " orders open, " + std::to_string(open_work) + " work rows left");
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
}

}  // namespace demo
