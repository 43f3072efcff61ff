// Backend-local copies of the small configuration tables that the hot paths
// (tagging trigger, claim, routing) consult: the version registry and the
// ramp. Loaded once with SPI and dropped when any of those tables changes
// (their statement triggers send a relcache invalidation on commit).
#pragma once

#include "core/routing.hpp"
#include "core/version.hpp"
#include "postgres_headers.hpp"
#include "settings.hpp"

// Raises an error when rows may not be tagged with, or claimed as, version:
// it is retired, or unregistered while rollout.allow_unregistered is off.
enum class VersionUse { tag_rows, claim_rows };

// Tagging a row, and claiming rows of a draining version, hold the version's
// write lock until the transaction ends (version_write_lock.hpp), so that
// rollout_phase_out never retires a version under an uncommitted row of it.
void check_version_usable(Oid extension_namespace, rollout::Version version, VersionUse use);

// The version that owns a new key under the current ramp, by the ramp's
// routing scheme; raises an error when no ramp is set.
rollout::Version route_key(Oid extension_namespace, const char *key, size_t len);

// The current ramp's routing scheme; murmur3 when no ramp is set.
rollout::RoutingScheme current_routing_scheme(Oid extension_namespace);

