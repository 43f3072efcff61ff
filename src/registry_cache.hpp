// Backend-local copies of the small configuration tables that the hot paths
// (tagging trigger, claim, routing) consult: the version registry and the
// ramp. Loaded once with SPI and dropped when either table changes (their
// statement trigger, rollout_config_changed, sends a relcache invalidation
// on commit).
#pragma once

#include "core/routing.hpp"
#include "core/version.hpp"
#include "postgres_headers.hpp"

enum class VersionState { unregistered, active, draining, retired };

struct Ramp {
	rollout::Version base;
	rollout::Version target;
	uint32 basis_points;  // 0 .. 10000, hundredths of a percent
	rollout::RoutingScheme scheme;
};

// The version's state in rollout_versions (unregistered when it is not there).
VersionState registered_version_state(Oid extension_namespace, rollout::Version version);

// The ramp set by rollout_set_ramp(); false when none is set.
bool current_ramp(Oid extension_namespace, Ramp *out);
