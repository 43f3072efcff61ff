// Every rollout.* setting, defined in one place (settings.cpp) with its
// description, default, range and who may set it; README -> Settings lists
// them. The modules read these variables; a setting's hooks live with the
// state they keep (rollout.version's in version_setting.cpp).
#pragma once

#include "postgres_headers.hpp"

enum VersionScope { kScopeSession, kScopeTransaction };
enum UnversionedPolicy { kRefuseUnversioned, kAllowUnversioned };

extern char *version_setting_text;        // rollout.version
extern int version_scope;                 // rollout.version_scope (VersionScope)
extern bool allow_unregistered_versions;  // rollout.allow_unregistered
extern bool restoring_dump;               // rollout.restoring
extern int guard_unversioned;             // rollout.guard_unversioned (UnversionedPolicy)
extern bool guard_bypass;                 // rollout.guard_bypass
extern int claim_rescan_interval_ms;      // rollout.claim_rescan_interval
extern bool direct_writes_enabled;        // rollout.direct_claim
extern bool track_stats;                  // rollout.track_stats
extern int stats_max;                     // rollout.stats_max (only when preloading)

// From _PG_init, before anything reads the settings.
void define_settings();
