#include "fleet.hpp"

#include "agent_catalog.hpp"

namespace demo {

Fleet::Fleet(const Options &options, const Versions &versions, Stats &stats, EventLog &events)
	: options_(options), versions_(versions), stats_(stats), events_(events)
{
}

void Fleet::start(int index)
{
	const VersionInfo &version = versions_[index];
	app_servers_[index] = std::make_unique<AppServer>(version, options_, stats_, events_);
	app_servers_[index]->start();
	for (int server = 1; server <= options_.agents_per_version; ++server) {
		for (const AgentSpec &spec : reference_agents()) {
			agents_[index].push_back(std::make_unique<AgentRunner>(
				spec, version, server, options_, stats_, events_, kill_tickets_[index]));
			agents_[index].back()->start();
		}
	}
	events_.add(version.name() + ": application server and " +
	            std::to_string(agents_[index].size()) + " agent threads (" +
	            std::to_string(options_.agents_per_version) + " agent server(s) x " +
	            std::to_string(reference_agents().size()) + " agents) started" +
	            (version.faulty ? std::string(", its ") + kFaultyAgent + " failing " +
	                                  std::to_string(options_.bad_percent) + "% of its rows"
	                            : std::string()));
}

void Fleet::finish_app_server(int version)
{
	if (app_servers_[version] != nullptr)
		app_servers_[version]->finish();
}

void Fleet::finish_app_servers()
{
	for (int version = 0; version < kVersionCount; ++version)
		finish_app_server(version);
}

std::size_t Fleet::orders_queued() const
{
	std::size_t queued = 0;
	for (const auto &server : app_servers_)
		if (server != nullptr)
			queued += server->queued();
	return queued;
}

void Fleet::stop_agents(int version)
{
	for (auto &agent : agents_[version])
		agent->request_stop();
	for (auto &agent : agents_[version])
		agent->join();
}

std::vector<AbandonedClaim> Fleet::take_abandoned()
{
	std::vector<AbandonedClaim> all;
	for (auto &version_agents : agents_)
		for (auto &agent : version_agents)
			if (auto abandoned = agent->take_abandoned())
				all.push_back(std::move(*abandoned));
	return all;
}

}  // namespace demo
