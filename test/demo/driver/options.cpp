#include "options.hpp"

#include "agent_catalog.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace demo {

namespace {

long long parse_integer(const std::string &option, const std::string &text, long long low,
                        long long high)
{
	if (text.empty())
		throw UsageError(option + " needs a value");
	char *end = nullptr;
	errno = 0;
	const long long value = std::strtoll(text.c_str(), &end, 10);
	if (errno != 0 || *end != '\0')
		throw UsageError(option + ": \"" + text + "\" is not an integer");
	if (value < low || value > high)
		throw UsageError(option + ": " + text + " is out of range (" + std::to_string(low) +
		                 " to " + std::to_string(high) + ")");
	return value;
}

std::uint64_t parse_seed(const std::string &text)
{
	if (text.empty() || text[0] == '-')
		throw UsageError("--seed: \"" + text + "\" is not a non-negative integer");
	char *end = nullptr;
	errno = 0;
	const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
	if (errno != 0 || *end != '\0')
		throw UsageError("--seed: \"" + text + "\" is not a non-negative integer");
	return value;
}

// "1,5,25,50,100": strictly increasing percentages above 0, the last one 100,
// at most two decimals (rollout_start_plan's rule).
std::vector<double> parse_steps(const std::string &text)
{
	std::vector<double> steps;
	std::stringstream in(text);
	std::string part;
	while (std::getline(in, part, ',')) {
		char *end = nullptr;
		errno = 0;
		const double value = std::strtod(part.c_str(), &end);
		if (part.empty() || errno != 0 || *end != '\0')
			throw UsageError("--steps: \"" + part + "\" is not a percentage");
		if (value <= 0 || value > 100)
			throw UsageError("--steps: " + part + " is not above 0 and at most 100");
		if (std::fabs(value * 100 - std::round(value * 100)) > 1e-6)
			throw UsageError("--steps: " + part + " has more than two decimals");
		if (!steps.empty() && value <= steps.back())
			throw UsageError("--steps: the steps must increase");
		steps.push_back(value);
	}
	if (steps.empty() || text.back() == ',')
		throw UsageError("--steps needs a list such as 1,5,25,50,100");
	if (steps.back() != 100)
		throw UsageError("--steps: the last step must be 100 (V1 is phased out after it)");
	return steps;
}

}  // namespace

Options parse_options(int argc, char **argv)
{
	Options options;
	for (int i = 1; i < argc; ++i) {
		std::string arg = argv[i];
		std::string value;
		bool has_inline_value = false;
		if (arg.rfind("--", 0) == 0) {
			const auto eq = arg.find('=');
			if (eq != std::string::npos) {
				value = arg.substr(eq + 1);
				arg = arg.substr(0, eq);
				has_inline_value = true;
			}
		}
		auto take_value = [&]() -> std::string {
			if (has_inline_value)
				return value;
			if (i + 1 >= argc)
				throw UsageError(arg + " needs a value");
			return argv[++i];
		};
		auto no_value = [&]() {
			if (has_inline_value)
				throw UsageError(arg + " takes no value");
		};

		if (arg == "-h" || arg == "--help") {
			no_value();
			options.help = true;
		} else if (arg == "--orders") {
			options.orders = static_cast<int>(parse_integer(arg, take_value(), 1, 100000));
		} else if (arg == "--rate") {
			options.rate = static_cast<int>(parse_integer(arg, take_value(), 1, 1000));
		} else if (arg == "--duration") {
			options.duration = static_cast<int>(parse_integer(arg, take_value(), 10, 3600));
		} else if (arg == "--agents-per-version") {
			options.agents_per_version = static_cast<int>(parse_integer(arg, take_value(), 1, 5));
		} else if (arg == "--steps") {
			options.steps = parse_steps(take_value());
		} else if (arg == "--step-hold") {
			options.step_hold = static_cast<int>(parse_integer(arg, take_value(), 1, 600));
		} else if (arg == "--min-samples") {
			options.min_samples = static_cast<int>(parse_integer(arg, take_value(), 1, 100000));
		} else if (arg == "--bad-percent") {
			options.bad_percent = static_cast<int>(parse_integer(arg, take_value(), 0, 100));
		} else if (arg == "--scheme") {
			options.scheme = take_value();
			if (options.scheme != "murmur3" && options.scheme != "nginx" && options.scheme != "haproxy")
				throw UsageError("--scheme: \"" + options.scheme + "\" is not murmur3, nginx or haproxy");
		} else if (arg == "--seed") {
			options.seed = parse_seed(take_value());
		} else if (arg == "--no-kill") {
			no_value();
			options.kill = false;
		} else if (arg == "--dsn") {
			options.dsn = take_value();
			if (options.dsn.empty())
				throw UsageError("--dsn needs a connection string");
		} else if (arg == "--check-args") {
			no_value();
			options.check_only = true;
		} else {
			throw UsageError("unknown option \"" + std::string(argv[i]) + "\"");
		}
	}
	return options;
}

std::string usage_text(const std::string &program)
{
	return "usage: " + program + " [options]\n"
	       "\n"
	       "Plays two progressive rollouts of the reference agents on a database holding\n"
	       "test/demo/reference_schema.sql and test/demo/demo_audit.sql. Application servers\n"
	       "create orders, every agent runs per version on its own connection, and\n"
	       "rollout_advance() (called every second, as a scheduler would) ramps the target\n"
	       "along a plan, judged on rollout_stats against V1:\n"
	       "  act 1: V2 (10.1), whose " + std::string(kFaultyAgent) + " fails a share of its rows, is caught at\n"
	       "         a small step, the ramp returns to 0 and its rows go back to V1 (9.4);\n"
	       "  act 2: the fixed V2' (10.2) goes through every step to 100%, then V1 is phased\n"
	       "         out. A final audit checks that no row was lost, processed twice or by\n"
	       "         the wrong version.\n"
	       "\n"
	       "options:\n"
	       "  --rate N                 orders per second the load balancer sends (default 30)\n"
	       "  --orders N               at most this many orders in all (default 3000)\n"
	       "  --steps P1,P2,...,100    the plans' steps, percent of new orders to the target\n"
	       "                           (default 5,25,50,100)\n"
	       "  --step-hold SECONDS      how long each step holds before it may advance\n"
	       "                           (default 6)\n"
	       "  --min-samples N          finished target rows a step needs (default 100)\n"
	       "  --bad-percent N          rows the bad release's " + std::string(kFaultyAgent) + " fails\n"
	       "                           (default 33)\n"
	       "  --duration SECONDS       the run gives up this long after it starts\n"
	       "                           (default 110, at least 10)\n"
	       "  --agents-per-version N   agent servers per version, each running every agent on\n"
	       "                           its own thread and connection (default 2, at most 5)\n"
	       "  --scheme S               the ramp's routing scheme, which the load balancer\n"
	       "                           computes: nginx (split_clients, default), haproxy\n"
	       "                           (crc32,mod(10000)) or murmur3 (rollout_ext's own)\n"
	       "  --seed N                 seed of the order mix and of the injected failures\n"
	       "                           (default 42)\n"
	       "  --no-kill                do not kill a V1 agent in the middle of its claim\n"
	       "  --dsn CONNINFO           database to use (conninfo string or URI); default: the\n"
	       "                           PG* environment variables\n"
	       "  --check-args             validate the options and exit\n"
	       "  -h, --help               this text\n"
	       "\n"
	       "exit status: 0 when every invariant of the final audit holds, 1 when one fails or\n"
	       "the run cannot proceed, 2 on bad options.\n";
}

}  // namespace demo
