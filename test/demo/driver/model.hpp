// What the demo is made of: the three versions, the pipeline stages and the
// live counters the agents and application servers update.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <string>

namespace demo {

// V1 runs; V2 is a bad release (act 1: caught small and rolled back); V2' is
// the fixed release (act 2: ramped all the way, then V1 is phased out).
constexpr int kVersionCount = 3;
constexpr int kV1 = 0;
constexpr int kV2 = 1;
constexpr int kV2Fixed = 2;

struct VersionInfo {
	int index = 0;
	std::string label;    // V1, V2, V2'
	std::string setting;  // what the servers set: 9.4, 10.1, 10.2
	std::string numeric;  // how rollout_version prints it: 940000000, 1010000000, ...
	bool faulty = false;  // its FAULTY_AGENT hands back a share of its rows (options)
	std::string name() const { return label + " " + setting; }
};

using Versions = std::array<VersionInfo, kVersionCount>;

// The stages of the order pipelines, one per reference agent.
enum Stage {
	kSchedule, kChained, kRelease, kAsync, kClose, kInvoice, kCollect, kExecute, kMonitor,
	kStageCount
};

const char *stage_short_name(Stage stage);  // column headers: sched, chain, ...

struct VersionCounters {
	std::atomic<long> orders_dispatched{0};  // sent to this version's application server
	std::atomic<long> orders_created{0};     // committed by it
	std::array<std::atomic<long>, kStageCount> done{};  // rows completed per stage
	std::atomic<long> retries{0};       // rows handed back with rollout_retry / _rows
	std::atomic<long> lost_leases{0};   // completions refused: the lease had passed on
	std::atomic<long> errors{0};        // SQL errors in agents or application servers
	std::atomic<long> anomalies{0};     // rows found in a state their stage cannot follow
	std::atomic<long> rows_claimed{0};  // rows handed out by claims
};

struct Stats {
	std::array<VersionCounters, kVersionCount> version;
};

// Seconds since the driver started.
class Clock {
public:
	static void start() { origin() = std::chrono::steady_clock::now(); }
	static double elapsed()
	{
		return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin()).count();
	}

private:
	static std::chrono::steady_clock::time_point &origin()
	{
		static std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
		return t;
	}
};

}  // namespace demo
