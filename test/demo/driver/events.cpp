#include "events.hpp"

#include "model.hpp"

#include <cstdio>

namespace demo {

void EventLog::add(const std::string &text)
{
	char stamp[32];
	std::snprintf(stamp, sizeof stamp, "%6.1fs  ", Clock::elapsed());
	std::lock_guard<std::mutex> lock(mutex_);
	events_.push_back(stamp + text);
}

std::vector<std::string> EventLog::since(std::size_t *cursor) const
{
	std::lock_guard<std::mutex> lock(mutex_);
	std::vector<std::string> out;
	for (; *cursor < events_.size(); ++*cursor)
		out.push_back(events_[*cursor]);
	return out;
}

std::vector<std::string> EventLog::last(std::size_t count) const
{
	std::lock_guard<std::mutex> lock(mutex_);
	const std::size_t first = events_.size() > count ? events_.size() - count : 0;
	return std::vector<std::string>(events_.begin() + static_cast<long>(first), events_.end());
}

}  // namespace demo
