// rollout_demo: plays a whole staged rollout of the reference agents, live,
// against a database holding test/demo/reference_schema.sql and
// test/demo/demo_audit.sql. See --help, and test/scripts/run-demo.sh.
#include "agent_catalog.hpp"
#include "events.hpp"
#include "final_audit.hpp"
#include "fleet.hpp"
#include "model.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "rollout_script.hpp"
#include "session.hpp"
#include "setup.hpp"
#include "text_table.hpp"

#include <cstdio>
#include <string>

using namespace demo;

namespace {

void print_plan(const Options &options, const Versions &versions)
{
	std::string steps;
	for (double step : options.steps)
		steps += (steps.empty() ? "" : ", ") + fixed(step, step == static_cast<long>(step) ? 0 : 2);
	std::printf("== progressive rollouts from %s: act 1 %s (its %s fails %d%% of its rows), "
	            "act 2 %s; steps %s %%, each held %d s and needing %d finished rows\n",
	            versions[kV1].name().c_str(), versions[kV2].name().c_str(), kFaultyAgent,
	            options.bad_percent, versions[kV2Fixed].name().c_str(), steps.c_str(),
	            options.step_hold, options.min_samples);
	std::printf("   %d orders/s, %d agent server(s) per version, seed %llu, %s; leases %s; every "
	            "agent and server has its own connection with its own rollout.version\n",
	            options.rate, options.agents_per_version,
	            static_cast<unsigned long long>(options.seed),
	            options.kill ? "one V1 agent killed mid-claim" : "no kill", kDemoLease);
	std::printf("   rollout_advance() every second decides; the load balancer (scheme %s: %s) "
	            "follows the ramp; nobody sets the ramp by hand\n",
	            options.scheme.c_str(),
	            options.scheme == "nginx"     ? "nginx split_clients, MurmurHash2"
	            : options.scheme == "haproxy" ? "HAProxy crc32,mod(10000)"
	                                          : "rollout_ext's MurmurHash3, no load balancer computes it");
	std::fflush(stdout);
}

int play(const Options &options)
{
	Versions versions{VersionInfo{kV1, "V1", "9.4", "", false},
	                  VersionInfo{kV2, "V2", "10.1", "", true},
	                  VersionInfo{kV2Fixed, "V2'", "10.2", "", false}};
	Stats stats;
	EventLog events;
	RunStatus status;

	auto control = open_session(options, "control", nullptr, events);
	prepare_database(*control, versions, options.scheme);
	print_plan(options, versions);

	Fleet fleet(options, versions, stats, events);
	ProgressDisplay progress(options, versions, stats, events, status);
	progress.start();

	RolloutScript script(options, versions, *control, fleet, stats, events, status);
	const RolloutResult result = script.run();
	status.set("done: stopping the agents");
	for (const VersionInfo &v : versions)
		fleet.stop_agents(v.index);
	status.set("done");
	progress.stop();

	const bool ok = run_final_audit(*control, versions, stats, result, Clock::elapsed());
	return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv)
{
	Clock::start();
	const std::string program = "rollout_demo";
	Options options;
	try {
		options = parse_options(argc, argv);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "%s: %s\n\n%s", program.c_str(), e.what(), usage_text(program).c_str());
		return 2;
	}
	if (options.help) {
		std::printf("%s", usage_text(program).c_str());
		return 0;
	}
	if (options.check_only)
		return 0;
	try {
		return play(options);
	} catch (const SetupError &e) {
		std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
	} catch (const PgError &e) {
		std::fprintf(stderr, "%s: %s [SQLSTATE %s]\n", program.c_str(), e.what(), e.sqlstate().c_str());
	}
	return 1;
}
