// The reference agents: which criteria each claims, how, and its executeJob.
#pragma once

#include "agent.hpp"

#include <vector>

namespace demo {

const std::vector<AgentSpec> &reference_agents();

// Every criteria some agent claims (for the backlog display).
std::vector<std::string> claimed_criteria();

}  // namespace demo
