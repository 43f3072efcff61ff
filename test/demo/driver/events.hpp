// Notable events (ramp steps, the kill, phase-out progress, errors), stamped
// with the elapsed time. The progress display shows or prints them.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace demo {

class EventLog {
public:
	void add(const std::string &text);
	// Events added since *cursor; advances it.
	std::vector<std::string> since(std::size_t *cursor) const;
	std::vector<std::string> last(std::size_t count) const;

private:
	mutable std::mutex mutex_;
	std::vector<std::string> events_;
};

}  // namespace demo
