// Every role of the demo, per version: one application server and
// --agents-per-version agent servers, each running every reference agent on
// its own thread and connection.
#pragma once

#include "agent.hpp"
#include "app_server.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <vector>

namespace demo {

class Fleet {
public:
	Fleet(const Options &options, const Versions &versions, Stats &stats, EventLog &events);

	// Starts the version's application server and agents.
	void start(int version);
	AppServer &app_server(int version) { return *app_servers_[version]; }
	// Lets the version's application server create what is queued, then
	// stops it; finish_app_servers does so for every version started.
	void finish_app_server(int version);
	void finish_app_servers();
	std::size_t orders_queued() const;
	// Stops every agent of the version after its current row, and waits.
	void stop_agents(int version);
	// The first agent thread of the version that claims rows from now on dies
	// holding them (see AgentRunner); cancel_kill withdraws a pending kill.
	void request_kill(int version) { kill_tickets_[version] = true; }
	bool cancel_kill(int version) { return kill_tickets_[version].exchange(false); }
	std::vector<AbandonedClaim> take_abandoned();
	std::size_t agent_count(int version) const { return agents_[version].size(); }

private:
	const Options &options_;
	const Versions &versions_;
	Stats &stats_;
	EventLog &events_;
	std::array<std::unique_ptr<AppServer>, kVersionCount> app_servers_;
	std::array<std::vector<std::unique_ptr<AgentRunner>>, kVersionCount> agents_;
	std::array<std::atomic<bool>, kVersionCount> kill_tickets_{};
};

}  // namespace demo
