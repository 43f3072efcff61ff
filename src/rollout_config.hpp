// Backend-local copies of the small configuration tables that the hot paths
// (tagging trigger, claim, routing) consult: the version registry and the
// ramp. Loaded once with SPI and dropped when any of those tables changes
// (their statement triggers send a relcache invalidation on commit).
#pragma once

#include "core/version.hpp"
#include "postgres_headers.hpp"

enum class VersionState { unregistered, active, draining, retired };

struct Ramp {
	rollout::Version base;
	rollout::Version target;
	uint32 basis_points;  // 0 .. 10000, hundredths of a percent
};

// Settings (defined in _PG_init).
extern bool allow_unregistered_versions;
extern bool restoring_dump;

// State of a version in rollout_versions. extension_namespace is the schema
// of the calling function, which is the extension's.
VersionState registered_version_state(Oid extension_namespace, rollout::Version version);

// Raises an error when rows may not be tagged with, or claimed as, version:
// it is retired, or unregistered while rollout.allow_unregistered is off.
// While the version is draining, holds a share lock on its registry row until
// the transaction ends (see rollout_phase_out). `usage` names what was
// attempted, e.g. "tag rows".
void check_version_usable(Oid extension_namespace, rollout::Version version, const char *usage);

// The ramp set by rollout_set_ramp(); false when none is set.
bool current_ramp(Oid extension_namespace, Ramp *out);

// The version that owns a new key under the current ramp; raises an error
// when no ramp is set.
rollout::Version route_key(Oid extension_namespace, const char *key, size_t len);

void define_config_settings();
