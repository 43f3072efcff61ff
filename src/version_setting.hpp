// The rollout.version setting: which version this session (or transaction,
// with SET LOCAL) acts as.
#pragma once

#include "core/version.hpp"

#include "postgres_headers.hpp"

// rollout.version's hooks (settings.cpp defines the setting): the check
// parses the value, the assign keeps what it parsed.
bool check_version_setting(char **newval, void **extra, GucSource source);
void assign_version_setting(const char *newval, void *extra);

// From _PG_init once the settings exist: finds rollout.version's record.
void init_version_setting();

// The session's version; false when rollout.version is empty (no version).
bool session_version(rollout::Version *out);
