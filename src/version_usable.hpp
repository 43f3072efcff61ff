// Whether rows may be tagged with, or claimed as, a version: the check every
// tagged insert and every versioned claim makes against the registry.
#pragma once

#include "core/version.hpp"
#include "postgres_headers.hpp"

// Raises an error when rows may not be tagged with, or claimed as, version:
// it is retired, or unregistered while rollout.allow_unregistered is off.
enum class VersionUse { tag_rows, claim_rows };

// Tagging a row, and claiming rows of a draining version, hold the version's
// write lock until the transaction ends (version_write_lock.hpp), so that
// rollout_phase_out never retires a version under an uncommitted row of it.
void check_version_usable(Oid extension_namespace, rollout::Version version, VersionUse use);
