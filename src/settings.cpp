#include "settings.hpp"

#include "version_setting.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

char *version_setting_text = nullptr;
int version_scope = kScopeSession;
bool allow_unregistered_versions = true;
bool restoring_dump = false;
int guard_unversioned = kRefuseUnversioned;
bool guard_bypass = false;
// 100 ms: a row that becomes due behind a claim position waits at most this
// much longer, and a backend walks the whole index range at most ten times a
// second.
int claim_rescan_interval_ms = 100;
bool direct_writes_enabled = true;
bool track_stats = true;
int stats_max = 1000;

namespace {

// rollout.version_scope: with 'transaction', only a version set inside the
// current transaction (SET LOCAL, set_config(..., true)) counts. Behind a
// transaction-mode pooler a session SET leaks to the next client on the same
// server connection; this turns that leak into an error instead of a
// misattributed row.
const struct config_enum_entry scope_options[] = {
	{"session", kScopeSession, false},
	{"transaction", kScopeTransaction, false},
	{nullptr, 0, false},
};

const struct config_enum_entry unversioned_options[] = {
	{"refuse", kRefuseUnversioned, false},
	{"allow", kAllowUnversioned, false},
	{nullptr, 0, false},
};

}  // namespace

void define_settings()
{
	DefineCustomStringVariable(
		"rollout.version",
		"Rollout version this session acts as: rows it inserts are tagged with it, and claims "
		"return rows of this version.",
		"Digits (1010111213) or the dotted form (10.1.0.11.12.13). Empty means no version.",
		&version_setting_text, "", PGC_USERSET, 0, check_version_setting,
		assign_version_setting, nullptr);
	DefineCustomEnumVariable(
		"rollout.version_scope",
		"Whether rollout.version set in an earlier transaction still counts.",
		"'transaction' accepts only SET LOCAL or set_config(..., true) in the current "
		"transaction, as transaction-mode poolers need.",
		&version_scope, kScopeSession, scope_options, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
		"rollout.allow_unregistered",
		"Whether rows may be tagged with, and claimed as, versions missing from rollout_versions.",
		"Retired versions are refused either way.", &allow_unregistered_versions, true,
		PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
		"rollout.restoring",
		"Set while pg_restore loads a dump: tagging triggers keep rows exactly as dumped.",
		"Use PGOPTIONS='-c rollout.restoring=on' pg_restore ...", &restoring_dump, false,
		PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomEnumVariable(
		"rollout.guard_unversioned",
		"What guarded tables do when a session without rollout.version updates or deletes a "
		"tagged row.",
		nullptr, &guard_unversioned, kRefuseUnversioned, unversioned_options, PGC_SUSET, 0,
		nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
		"rollout.guard_bypass",
		"Lets this session write rows of any version in guarded tables; every use is audited.",
		nullptr, &guard_bypass, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable(
		"rollout.claim_rescan_interval",
		"How long a claim may start its index scan where this backend's previous claim began.",
		"After it, the next claim scans from the oldest entry, so a row that became due behind "
		"the claims waits at most this long. 0 scans from the oldest entry every time.",
		&claim_rescan_interval_ms, 100, 0, 3600 * 1000, PGC_USERSET, GUC_UNIT_MS, nullptr,
		nullptr, nullptr);
	DefineCustomBoolVariable(
		"rollout.direct_claim",
		"Lets claims and completions change task rows through an index without a statement.",
		"Off runs every claim as a FOR UPDATE SKIP LOCKED statement and every completion as a "
		"DELETE statement. Tables and transactions that need the statement (triggers, "
		"row-level security, snapshot isolation) get it either way.",
		&direct_writes_enabled, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
		"rollout.track_stats", "Counts claims, completions and retries per version in rollout_stats.",
		"Off stops counting, for a paired benchmark. Needs shared_preload_libraries.",
		&track_stats, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	// The statistics table is sized at server start: in a backend that loads
	// the library later there is nothing to size, and no PGC_POSTMASTER
	// setting may be defined there.
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable(
			"rollout.stats_max", "How many keys (table, transaction, version) rollout_stats keeps.",
			"Past it, a database's new keys are counted in its overflow row.", &stats_max, 1000,
			100, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
}
