// Live progress, refreshed every second: per version, orders created, rows
// done per pipeline stage, retries, the backlog from rollout_backlog (ready /
// leased / scheduled for later) and claims per second. On a terminal the
// table is redrawn in place with recent events below it; otherwise (CI logs)
// a one-line summary is printed every 2 seconds and events as they happen.
#pragma once

#include "events.hpp"
#include "model.hpp"
#include "options.hpp"
#include "pg.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace demo {

// What the rollout is doing now, for the display's title line.
class RunStatus {
public:
	void set(const std::string &phase);
	std::string get() const;

private:
	mutable std::mutex mutex_;
	std::string phase_ = "starting";
};

class ProgressDisplay {
public:
	ProgressDisplay(const Options &options, const Versions &versions, const Stats &stats,
	                EventLog &events, const RunStatus &status);
	~ProgressDisplay();
	void start();
	// Stops the thread after one last refresh.
	void stop();

private:
	struct Backlog {
		long ready = 0;
		long leased = 0;
		long later = 0;
	};
	// From rollout_stats, by the rows' versions ("-" where not preloaded).
	struct Outcomes {
		std::string failure_rate = "-";
		std::string work_p95 = "-";
	};

	void run();
	void refresh(bool last);
	void read_backlog();
	void read_outcomes();
	std::vector<std::string> table_lines(double claims_per_second[kVersionCount]) const;
	void draw_terminal(const std::vector<std::string> &lines);
	void print_plain(double claims_per_second[kVersionCount]);

	const Options &options_;
	const Versions &versions_;
	const Stats &stats_;
	EventLog &events_;
	const RunStatus &status_;
	std::unique_ptr<PgConn> conn_;
	std::string criteria_array_;
	std::array<Backlog, kVersionCount> backlog_{};
	std::array<Outcomes, kVersionCount> outcomes_{};
	bool outcomes_available_ = true;
	long untagged_backlog_ = 0;
	std::array<long, kVersionCount> last_claimed_{};
	double last_time_ = 0;
	double last_plain_ = -10;
	std::size_t event_cursor_ = 0;
	std::size_t drawn_lines_ = 0;
	bool terminal_ = false;
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

}  // namespace demo
