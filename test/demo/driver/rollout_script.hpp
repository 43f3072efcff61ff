// The rollout itself, played by the control connection: ramp steps 0% ->
// --ramp ... -> 100% while the load balancer feeds orders to the application
// servers (each order goes where rollout_route(order key) says); one agent
// killed mid-claim; then V1's agents stop, V1 is phased out into V2 until it
// is retired and drained, and the run waits for every order to finish.
#pragma once

#include "events.hpp"
#include "fleet.hpp"
#include "model.hpp"
#include "options.hpp"
#include "pg.hpp"
#include "progress.hpp"

#include <string>

namespace demo {

struct RolloutResult {
	double rollout_seconds = 0;  // first ramp step until V1 is retired and drained
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
	void ramp_step(std::size_t index, std::size_t count, double percent, long orders);
	void dispatch(long number);
	void tick();  // between orders: the kill, and recording what a killed agent left
	void wait_until(double when);
	void record_abandoned();
	void phase_out();
	void wait_for_orders();
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
	std::string lb_percent_ = "0";  // what the load balancer is configured to send to V2
};

}  // namespace demo
