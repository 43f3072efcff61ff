// One agent thread: the reference system's getJobs / executeJob loop over the
// agent's criteria, on its own connection acting as its version. It claims a
// small batch (rollout_claim or rollout_claim_rows), processes each row in its
// own transaction, ends the claim there (complete, reschedule or retry, all
// fenced by the claim token) and records the row in demo_audit.
#pragma once

#include "events.hpp"
#include "model.hpp"
#include "options.hpp"
#include "pg.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace demo {

// A claimed row, in the agent's own column choice (see agent_catalog.cpp).
struct ClaimedRow {
	std::string key;        // task_q_key or the driver table's key
	std::string version;    // the row's rollout_version as the claim returned it
	std::string token;      // the claim token
	std::string order_key;  // the order the row belongs to
	std::string attempt;    // claim_count, error_count or status: what a retry changes
	std::string extra;      // transaction_id, api_name, document_type, ...
};

enum class Finish {
	Complete,    // rollout_complete / rollout_complete_rows (no further work)
	Reschedule,  // rollout_complete_rows with next_due = now() + delay
	Retry,       // rollout_retry / rollout_retry_rows after delay
	Ended,       // the handler ended the claim itself (claim_ended says whether it could)
};

struct Outcome {
	Finish finish = Finish::Complete;
	std::string delay;        // interval text for Reschedule and Retry
	bool claim_ended = true;  // for Ended: false when the token was no longer current
	std::string detail;       // goes to demo_audit.detail
};

// A row in a state its stage cannot follow (for example a release task whose
// lines are not scheduled): processed twice, or out of order.
class Anomaly : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

struct WorkContext {
	PgConn &conn;
	const Options &options;
	const VersionInfo &version;
	const std::string &criteria_id;
};

using Handler = Outcome (*)(WorkContext &, const ClaimedRow &);

struct AgentSpec {
	std::string name;                   // SCHEDULE_ORDER, ...
	Stage stage;
	std::vector<std::string> criteria;  // claimed in turn
	bool task_queue;                    // rollout_task_q (else a driver table)
	std::string claim_sql;              // $1 criteria id, $2 max rows -> ClaimedRow columns
	Handler handler;
};

// What a killed agent left behind: the rows it had claimed and not finished.
struct AbandonedClaim {
	std::string agent_name;
	std::string instance;
	std::string agent_version;
	std::string criteria_id;
	int backend_pid = 0;
	std::vector<ClaimedRow> rows;
};

class AgentRunner {
public:
	// kill_ticket is shared by every agent thread of the version: the first
	// one that claims rows while it is set takes it and dies holding them.
	AgentRunner(const AgentSpec &spec, const VersionInfo &version, int server_no,
	            const Options &options, Stats &stats, EventLog &events,
	            std::atomic<bool> &kill_ticket);
	~AgentRunner();
	AgentRunner(const AgentRunner &) = delete;
	AgentRunner &operator=(const AgentRunner &) = delete;

	void start();
	void request_stop() { stop_ = true; }
	void join();
	std::optional<AbandonedClaim> take_abandoned();

	const AgentSpec &spec() const { return spec_; }
	const VersionInfo &version() const { return version_; }
	const std::string &instance() const { return instance_; }

private:
	void run();
	bool poll_criteria(const std::string &criteria_id);
	std::vector<ClaimedRow> claim(const std::string &criteria_id);
	void process(const std::string &criteria_id, const ClaimedRow &row);
	bool end_claim(const std::string &criteria_id, const ClaimedRow &row, const Outcome &outcome);
	void hand_back(const std::string &criteria_id, const ClaimedRow &row, const std::string &why);
	void record(const std::string &criteria_id, const ClaimedRow &row, const std::string &outcome,
	            const std::string &detail);
	void crash(const std::string &criteria_id, const std::vector<ClaimedRow> &rows);
	void pause(int milliseconds);

	const AgentSpec &spec_;
	const VersionInfo &version_;
	const Options &options_;
	EventLog &events_;
	VersionCounters &counters_;
	std::string instance_;
	std::unique_ptr<PgConn> conn_;
	std::thread thread_;
	std::atomic<bool> stop_{false};
	std::atomic<bool> &kill_ticket_;
	std::mutex abandoned_mutex_;
	std::optional<AbandonedClaim> abandoned_;
};

}  // namespace demo
