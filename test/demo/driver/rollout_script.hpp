// The rollout itself, played by the control connection in two acts. In each,
// rollout_start_plan ramps a new version against V1 and the script calls
// rollout_advance() every second, as pg_cron or a system cron would; the
// load balancer follows the database's ramp (an nginx or HAProxy reload from
// rollout_lb_config). The script never sets the ramp itself.
//   act 1: V2 is a bad release: the gate aborts its plan at a small step, the
//          operator takes V2's servers down, and rollout_advance() rolls V2's
//          rows back to V1 until V2 is retired;
//   act 2: the fixed V2' is ramped through every step to 100%; then V1 is
//          phased out into V2' and the run waits for every order to finish.
// One V1 agent is killed mid-claim in act 1.
#pragma once

#include "events.hpp"
#include "fleet.hpp"
#include "model.hpp"
#include "options.hpp"
#include "pg.hpp"
#include "progress.hpp"

#include <string>

namespace demo {

// How a plan ended, from rollout_plans.
struct PlanResult {
	std::string plan_id;
	std::string state;          // completed, rolled_back, aborted, paused, running
	std::string percent;        // the ramp when it ended
	std::string last_decision;
	std::string reason;
	int step = 0;               // the step it reached (1-based)
	double seconds = 0;         // from rollout_start_plan to the end state
};

struct RolloutResult {
	PlanResult bad;   // act 1: V1 -> V2
	PlanResult good;  // act 2: V1 -> V2'
	double rollout_seconds = 0;  // first plan started until V1 is retired and drained
	int phase_out_calls = 0;
	int sweeps = 0;              // extra phase-outs because V1 was retired but not drained
	bool retired = false;
	bool drained = false;
	bool finished = false;       // every order reached its final state before the deadline
	bool kill_requested = false;
	bool kill_happened = false;
	std::string killed_agent;
};

class RolloutScript {
public:
	RolloutScript(const Options &options, const Versions &versions, PgConn &control, Fleet &fleet,
	              Stats &stats, EventLog &events, RunStatus &status);
	RolloutResult run();

private:
	PlanResult play_act(int act, int target);
	PlanResult read_plan(const std::string &plan_id);
	void advance(int act, PlanResult *plan);
	void follow_ramp();
	void take_down(int target);
	void dispatch_due(double act_start);
	void dispatch(long number);
	void tick();  // between orders: the kill, and recording what a killed agent left
	void wait_until(double when);
	void record_abandoned();
	void phase_out(int target);
	void wait_for_orders(int target);
	bool past_deadline() const;

	const Options &options_;
	const Versions &versions_;
	PgConn &control_;
	Fleet &fleet_;
	Stats &stats_;
	EventLog &events_;
	RunStatus &status_;
	RolloutResult result_;
	double deadline_ = 0;
	double kill_at_ = -1;
	long next_order_ = 0;
	long act_orders_ = 0;           // orders dispatched in the current act
	std::string lb_percent_ = "0";  // what the load balancer is configured to send to the target
	int lb_target_ = kV2;           // the version the load balancer's split sends to
};

}  // namespace demo
