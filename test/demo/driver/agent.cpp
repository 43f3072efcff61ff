#include "agent.hpp"

#include "agent_catalog.hpp"
#include "audit_log.hpp"
#include "chance.hpp"
#include "session.hpp"

#include <chrono>

namespace demo {

namespace {

constexpr int kBatchSize = 10;   // rows per claim: small, so a batch ends well within a lease
constexpr int kIdleMs = 200;     // pause after a pass over every criteria found nothing
constexpr const char *kHandBackDelay = "1 second";

}  // namespace

AgentRunner::AgentRunner(const AgentSpec &spec, const VersionInfo &version, int server_no,
                         const Options &options, Stats &stats, EventLog &events,
                         std::atomic<bool> &kill_ticket)
	: spec_(spec), version_(version), options_(options), events_(events),
	  counters_(stats.version[version.index]),
	  instance_(version.label + "#" + std::to_string(server_no)), kill_ticket_(kill_ticket)
{
}

AgentRunner::~AgentRunner()
{
	request_stop();
	join();
}

void AgentRunner::start()
{
	thread_ = std::thread([this] { run(); });
}

void AgentRunner::join()
{
	if (thread_.joinable())
		thread_.join();
}

std::optional<AbandonedClaim> AgentRunner::take_abandoned()
{
	std::lock_guard<std::mutex> lock(abandoned_mutex_);
	std::optional<AbandonedClaim> out = std::move(abandoned_);
	abandoned_.reset();
	return out;
}

void AgentRunner::pause(int milliseconds)
{
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
	while (!stop_ && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void AgentRunner::run()
{
	// Agent threads of one server start a little apart, like separate JVMs.
	pause(static_cast<int>(std::hash<std::string>{}(spec_.name + instance_) % 150));
	while (!stop_) {
		try {
			if (conn_ == nullptr)
				conn_ = open_session(options_, spec_.name + " " + instance_, &version_, events_);
			bool found = false;
			for (const std::string &criteria_id : spec_.criteria) {
				if (stop_ || conn_ == nullptr)
					break;
				found = poll_criteria(criteria_id) || found;
			}
			if (conn_ == nullptr) {  // crashed: restart like a new JVM, a second later
				pause(1000);
				instance_ += "r";
			} else if (!found) {
				pause(kIdleMs);
			}
		} catch (const PgError &e) {
			counters_.errors++;
			events_.add(spec_.name + " " + instance_ + ": " + e.what() + " [" + e.sqlstate() + "]");
			conn_.reset();
			pause(500);
		}
	}
	conn_.reset();
}

bool AgentRunner::poll_criteria(const std::string &criteria_id)
{
	const std::vector<ClaimedRow> rows = claim(criteria_id);
	if (rows.empty())
		return false;
	counters_.rows_claimed += static_cast<long>(rows.size());
	if (kill_ticket_.load() && kill_ticket_.exchange(false)) {
		crash(criteria_id, rows);
		return true;
	}
	for (const ClaimedRow &row : rows)
		process(criteria_id, row);
	return true;
}

std::vector<ClaimedRow> AgentRunner::claim(const std::string &criteria_id)
{
	PgResult r = conn_->exec(spec_.claim_sql, {criteria_id, std::to_string(kBatchSize)});
	std::vector<ClaimedRow> rows;
	for (int i = 0; i < r.rows(); ++i)
		rows.push_back(ClaimedRow{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3),
		                          r.text(i, 4), r.text(i, 5)});
	return rows;
}

void AgentRunner::process(const std::string &criteria_id, const ClaimedRow &row)
{
	// The bad release's broken agent: it gives up on a share of its claims
	// before doing any work, and hands them back as a failure would.
	if (version_.faulty && spec_.name == kFaultyAgent &&
	    chance(options_.seed, row.key + "/" + row.token, kSaltBadRelease, options_.bad_percent)) {
		Transaction tx(*conn_);
		const Outcome failed{Finish::Retry, kHandBackDelay, true, "failed: the bad release's bug"};
		if (end_claim(criteria_id, row, failed)) {
			record(criteria_id, row, "retried", failed.detail);
			counters_.retries++;
		} else {
			counters_.lost_leases++;
			record(criteria_id, row, "lost_lease", "completion refused: claim token no longer current");
		}
		tx.commit();
		return;
	}
	std::string failure;
	try {
		Transaction tx(*conn_);
		WorkContext context{*conn_, options_, version_, criteria_id};
		const Outcome outcome = spec_.handler(context, row);
		if (!end_claim(criteria_id, row, outcome)) {
			// The lease ran out and the row went to another claimer (or was
			// finished by it): this work must not count.
			tx.rollback();
			counters_.lost_leases++;
			record(criteria_id, row, "lost_lease", "completion refused: claim token no longer current");
			return;
		}
		const char *name = outcome.finish == Finish::Retry        ? "retried"
		                   : outcome.finish == Finish::Reschedule ? "rescheduled"
		                                                          : "completed";
		record(criteria_id, row, name, outcome.detail);
		tx.commit();
		if (outcome.finish == Finish::Retry)
			counters_.retries++;
		else
			counters_.done[spec_.stage]++;
		return;
	} catch (const Anomaly &e) {
		counters_.anomalies++;
		failure = std::string("anomaly: ") + e.what();
	} catch (const PgError &e) {
		if (e.connection_lost())
			throw;
		counters_.errors++;
		failure = std::string("error: ") + e.what() + " [" + e.sqlstate() + "]";
	}
	events_.add(spec_.name + " " + instance_ + " " + criteria_id + " row " + row.key + ": " + failure);
	hand_back(criteria_id, row, failure);
}

bool AgentRunner::end_claim(const std::string &criteria_id, const ClaimedRow &row,
                            const Outcome &outcome)
{
	PgConn &c = *conn_;
	switch (outcome.finish) {
	case Finish::Complete:
		return spec_.task_queue
			? c.exec("SELECT rollout_complete($1::bigint, $2::uuid)", {row.key, row.token}).boolean(0, 0)
			: c.exec("SELECT rollout_complete_rows($1, $2, $3::uuid)",
			         {criteria_id, row.key, row.token}).boolean(0, 0);
	case Finish::Reschedule:
		return c.exec("SELECT rollout_complete_rows($1, $2, $3::uuid, now() + $4::interval)",
		              {criteria_id, row.key, row.token, outcome.delay}).boolean(0, 0);
	case Finish::Retry:
		return spec_.task_queue
			? c.exec("SELECT rollout_retry($1::bigint, $2::uuid, $3::interval)",
			         {row.key, row.token, outcome.delay}).boolean(0, 0)
			: c.exec("SELECT rollout_retry_rows($1, $2, $3::uuid, $4::interval)",
			         {criteria_id, row.key, row.token, outcome.delay}).boolean(0, 0);
	case Finish::Ended:
		return outcome.claim_ended;
	}
	return false;
}

// After an error the work was rolled back; the row goes back to the queue for
// a later attempt, as the reference agents do with the next task-queue interval.
void AgentRunner::hand_back(const std::string &criteria_id, const ClaimedRow &row,
                            const std::string &why)
{
	Transaction tx(*conn_);
	Outcome retry{Finish::Retry, kHandBackDelay, true, why};
	const bool ended = end_claim(criteria_id, row, retry);
	record(criteria_id, row, ended ? "error" : "lost_lease", why);
	tx.commit();
}

void AgentRunner::record(const std::string &criteria_id, const ClaimedRow &row,
                         const std::string &outcome, const std::string &detail)
{
	auto param = [](const std::string &text) { return text.empty() ? Param() : Param(text); };
	write_audit(*conn_, AuditRecord{spec_.name, instance_, version_.numeric, criteria_id, row.key,
	                                param(row.version), param(row.order_key), param(row.token),
	                                outcome, detail});
}

// Dies in the middle of the first row's work, holding the whole batch: the
// open transaction is rolled back by the server, the claims stay leased until
// their lease ends, and then an agent of the same version claims them again.
void AgentRunner::crash(const std::string &criteria_id, const std::vector<ClaimedRow> &rows)
{
	conn_->exec("BEGIN");
	conn_->exec("SELECT 1 FROM yfs_order_header WHERE order_header_key = $1 FOR NO KEY UPDATE",
	            {rows.front().order_key});
	AbandonedClaim abandoned{spec_.name, instance_, version_.numeric, criteria_id,
	                         conn_->backend_pid(), rows};
	conn_->abandon();
	conn_.reset();
	std::string keys;
	for (const ClaimedRow &row : rows)
		keys += (keys.empty() ? "" : ",") + row.key;
	events_.add("KILLED " + spec_.name + " " + instance_ + " (backend " +
	            std::to_string(abandoned.backend_pid) + ") mid-claim, holding " +
	            std::to_string(rows.size()) + " " + criteria_id + " row(s) [" + keys + "]");
	std::lock_guard<std::mutex> lock(abandoned_mutex_);
	abandoned_ = std::move(abandoned);
}

}  // namespace demo
