#include "progress.hpp"

#include "agent_catalog.hpp"
#include "outcomes.hpp"
#include "session.hpp"
#include "text_table.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace demo {

namespace {

constexpr std::size_t kEventLines = 6;
constexpr double kPlainInterval = 2.0;

long total_done(const VersionCounters &c)
{
	long total = 0;
	for (const auto &stage : c.done)
		total += stage.load();
	return total;
}

std::size_t terminal_width()
{
	winsize size{};
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20)
		return size.ws_col;
	return 120;
}

}  // namespace

void RunStatus::set(const std::string &phase)
{
	std::lock_guard<std::mutex> lock(mutex_);
	phase_ = phase;
}

std::string RunStatus::get() const
{
	std::lock_guard<std::mutex> lock(mutex_);
	return phase_;
}

ProgressDisplay::ProgressDisplay(const Options &options, const Versions &versions,
                                 const Stats &stats, EventLog &events, const RunStatus &status)
	: options_(options), versions_(versions), stats_(stats), events_(events), status_(status),
	  criteria_array_(pg_text_array(claimed_criteria())), terminal_(isatty(STDOUT_FILENO) != 0)
{
}

ProgressDisplay::~ProgressDisplay()
{
	stop();
}

void ProgressDisplay::start()
{
	conn_ = open_session(options_, "progress", nullptr, events_);
	last_time_ = Clock::elapsed();
	thread_ = std::thread([this] { run(); });
}

void ProgressDisplay::stop()
{
	if (!thread_.joinable())
		return;
	stop_ = true;
	thread_.join();
	refresh(true);
	conn_.reset();
}

void ProgressDisplay::run()
{
	while (!stop_) {
		refresh(false);
		for (int i = 0; i < 10 && !stop_; ++i)
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
}

void ProgressDisplay::read_backlog()
{
	for (Backlog &b : backlog_)
		b = Backlog{};
	untagged_backlog_ = 0;
	try {
		PgResult r = conn_->exec(
			"SELECT version::text, sum(ready), sum(claimed), sum(scheduled) FROM rollout_backlog "
			"WHERE criteria_id = ANY ($1::text[]) GROUP BY version",
			{criteria_array_});
		for (int i = 0; i < r.rows(); ++i) {
			const std::string version = r.text(i, 0);
			bool matched = false;
			for (const VersionInfo &v : versions_) {
				if (v.numeric == version) {
					backlog_[v.index] = Backlog{static_cast<long>(r.integer(i, 1)),
					                            static_cast<long>(r.integer(i, 2)),
					                            static_cast<long>(r.integer(i, 3))};
					matched = true;
				}
			}
			if (!matched)
				untagged_backlog_ += static_cast<long>(r.integer(i, 1) + r.integer(i, 2) + r.integer(i, 3));
		}
	} catch (const PgError &e) {
		events_.add(std::string("progress: cannot read rollout_backlog: ") + e.what());
	}
}

void ProgressDisplay::read_outcomes()
{
	if (!outcomes_available_)
		return;
	try {
		PgResult r = conn_->exec(kOutcomesSql);
		for (int i = 0; i < r.rows(); ++i)
			for (const VersionInfo &v : versions_)
				if (v.numeric == r.text(i, 0))
					outcomes_[v.index] = Outcomes{r.text(i, 4), r.text(i, 5)};
	} catch (const PgError &e) {
		outcomes_available_ = false;  // not preloaded (55000): say so once
		events_.add(std::string("progress: no rollout_stats: ") + e.what());
	}
}

void ProgressDisplay::refresh(bool last)
{
	read_backlog();
	read_outcomes();
	const double now = Clock::elapsed();
	const double interval = now - last_time_ > 0.05 ? now - last_time_ : 1.0;
	double claims_per_second[kVersionCount];
	for (const VersionInfo &v : versions_) {
		const long claimed = stats_.version[v.index].rows_claimed.load();
		claims_per_second[v.index] = (claimed - last_claimed_[v.index]) / interval;
		last_claimed_[v.index] = claimed;
	}
	last_time_ = now;
	if (terminal_) {
		std::vector<std::string> lines = table_lines(claims_per_second);
		lines.push_back("recent events:");
		std::vector<std::string> recent = events_.last(kEventLines);
		for (std::size_t i = 0; i < kEventLines; ++i)
			lines.push_back(i < recent.size() ? "  " + recent[i] : "");
		draw_terminal(lines);
		if (last) {
			event_cursor_ = 0;
			std::printf("all events:\n");
			for (const std::string &e : events_.since(&event_cursor_))
				std::printf("  %s\n", e.c_str());
		}
	} else if (last || now - last_plain_ >= kPlainInterval) {
		print_plain(claims_per_second);
		last_plain_ = now;
	} else {
		for (const std::string &e : events_.since(&event_cursor_))
			std::printf("%s\n", e.c_str());
	}
	std::fflush(stdout);
}

std::vector<std::string> ProgressDisplay::table_lines(double claims_per_second[kVersionCount]) const
{
	std::vector<std::string> header{"version", "orders"};
	for (int s = 0; s < kStageCount; ++s)
		header.push_back(stage_short_name(static_cast<Stage>(s)));
	for (const char *h : {"retry", "lost", "backlog r/l/s", "claims/s", "fail%", "work p95"})
		header.push_back(h);
	TextTable table(header);
	for (const VersionInfo &v : versions_) {
		const VersionCounters &c = stats_.version[v.index];
		std::vector<std::string> row{v.name(), std::to_string(c.orders_created.load())};
		for (int s = 0; s < kStageCount; ++s)
			row.push_back(std::to_string(c.done[s].load()));
		const Backlog &b = backlog_[v.index];
		row.push_back(std::to_string(c.retries.load()));
		row.push_back(std::to_string(c.lost_leases.load()));
		row.push_back(std::to_string(b.ready) + "/" + std::to_string(b.leased) + "/" +
		              std::to_string(b.later));
		row.push_back(fixed(claims_per_second[v.index], 0));
		row.push_back(outcomes_[v.index].failure_rate);
		row.push_back(outcomes_[v.index].work_p95);
		table.add(row);
	}
	std::vector<std::string> lines;
	char title[256];
	std::snprintf(title, sizeof title, "rollout_ext staged rollout   t=%6.1fs   %s",
	              Clock::elapsed(), status_.get().c_str());
	lines.push_back(title);
	for (const std::string &line : table.render())
		lines.push_back(line);
	if (untagged_backlog_ > 0)
		lines.push_back("backlog of other or no version: " + std::to_string(untagged_backlog_));
	return lines;
}

void ProgressDisplay::draw_terminal(const std::vector<std::string> &lines)
{
	const std::size_t width = terminal_width();
	std::string out;
	if (drawn_lines_ > 0)
		out += "\x1b[" + std::to_string(drawn_lines_) + "A";
	for (const std::string &line : lines)
		out += "\r\x1b[2K" + line.substr(0, width - 1) + "\n";
	for (std::size_t i = lines.size(); i < drawn_lines_; ++i)
		out += "\r\x1b[2K\n";
	drawn_lines_ = std::max(drawn_lines_, lines.size());
	std::fputs(out.c_str(), stdout);
}

void ProgressDisplay::print_plain(double claims_per_second[kVersionCount])
{
	for (const std::string &e : events_.since(&event_cursor_))
		std::printf("%s\n", e.c_str());
	std::string line;
	char part[256];
	std::snprintf(part, sizeof part, "%6.1fs  [%s]", Clock::elapsed(), status_.get().c_str());
	line += part;
	for (const VersionInfo &v : versions_) {
		const VersionCounters &c = stats_.version[v.index];
		const Backlog &b = backlog_[v.index];
		std::snprintf(part, sizeof part,
		              " | %s: orders %ld, done %ld, retries %ld, backlog %ld/%ld/%ld, %.0f claims/s, "
		              "failures %s%%, work p95 %s",
		              v.name().c_str(), c.orders_created.load(), total_done(c), c.retries.load(),
		              b.ready, b.leased, b.later, claims_per_second[v.index],
		              outcomes_[v.index].failure_rate.c_str(), outcomes_[v.index].work_p95.c_str());
		line += part;
	}
	std::printf("%s\n", line.c_str());
}

}  // namespace demo
