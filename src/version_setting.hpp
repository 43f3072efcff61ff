// The rollout.version setting: which version this session (or transaction,
// with SET LOCAL) acts as.
#pragma once

#include "core/version.hpp"

// Registers rollout.version and rollout.version_scope; from _PG_init.
void define_version_setting();

// The session's version; false when rollout.version is empty (no version).
bool session_version(rollout::Version *out);
