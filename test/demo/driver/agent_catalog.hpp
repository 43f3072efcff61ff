// The reference agents: which criteria each claims, how, and its executeJob.
#pragma once

#include "agent.hpp"

#include <vector>

namespace demo {

const std::vector<AgentSpec> &reference_agents();

// The agent the bad release (act 1) broke: it fails --bad-percent of the rows
// it claims. Scheduling is the first stage of every order, so the gate gets
// evidence about it as soon as V2's first orders arrive.
constexpr const char *kFaultyAgent = "SCHEDULE_ORDER";

// Every criteria some agent claims (for the backlog display).
std::vector<std::string> claimed_criteria();

}  // namespace demo
