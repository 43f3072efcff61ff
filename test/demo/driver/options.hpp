// Command-line options of the demo driver.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace demo {

struct Options {
	int orders = 500;              // orders the application servers create
	int duration = 45;             // seconds: pacing of the ramp, then a bounded drain
	int agents_per_version = 2;    // agent servers (threads of every agent) per version
	std::vector<double> ramp{10, 50, 100};  // percent of new orders to V2, after a 0% step
	std::string scheme = "nginx";  // the ramp's routing scheme, which the load balancer computes
	std::uint64_t seed = 42;       // drives order contents and the injected failures
	bool kill = true;              // kill one agent mid-claim
	std::string dsn;               // empty: libpq's PG* environment
	bool help = false;
	bool check_only = false;       // parse, validate and exit
};

class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// Throws UsageError on an unknown option, a missing or malformed value, or a
// value out of range.
Options parse_options(int argc, char **argv);

std::string usage_text(const std::string &program);

}  // namespace demo
