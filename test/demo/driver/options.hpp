// Command-line options of the demo driver.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace demo {

struct Options {
	int orders = 3000;             // at most this many orders are created
	int rate = 30;                 // orders per second the load balancer sends
	int duration = 110;            // seconds the two acts may take before the run gives up
	int agents_per_version = 2;    // agent servers (threads of every agent) per version
	std::vector<double> steps{5, 25, 50, 100};  // the plans' steps, percent of new orders
	int step_hold = 6;             // seconds each step holds before the plan may advance
	int min_samples = 100;         // finished target rows a step needs before it advances
	int bad_percent = 33;          // rows the bad release's faulty agent fails
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
