// The reference agents: which criteria each claims, how, and its executeJob.
#pragma once

#include "agent.hpp"

#include <vector>

namespace demo {

const std::vector<AgentSpec> &reference_agents();

// The agent the bad release (act 1) broke: it fails --bad-percent of the rows
// it claims. The order monitor sees every open order every couple of
// seconds, so the gate gets evidence about it soon after V2's first orders.
constexpr const char *kFaultyAgent = "ORDER_MONITOR";

// Every criteria some agent claims (for the backlog display).
std::vector<std::string> claimed_criteria();

}  // namespace demo
