// Where a backend's claims of one criteria and version last began. The next
// claim starts its index scan there rather than at the oldest entry: the
// entries behind it belong to rows already claimed (moved ahead by their
// lease) or completed, and until VACUUM removes them every claim from the
// start would walk them all. That walk is what makes hand-written SKIP
// LOCKED queues slow down as they churn.
//
// A row can still become due behind the position: inserted with an earlier
// due date by a transaction that was open when the position moved, released
// from hold, retagged to this version, or handed back by a claimer that died.
// So a position is trusted only for rollout.claim_rescan_interval after it
// was set; the next claim then scans from the start again. A rolled-back
// claim (transaction or savepoint) forgets every position at once, since the
// rows it had claimed fall back to where they were.
#pragma once

#include "postgres_headers.hpp"

#include "core/version.hpp"

constexpr int kClaimPositionsPerCriteria = 4;

struct ClaimPosition {
	rollout::Version version;
	TimestampTz due;        // lowest due date of the rows last claimed
	TimestampTz set_at;     // statement start of that claim
	uint64 generation;      // claim_position_generation when set
};

struct ClaimPositions {
	int count;
	ClaimPosition slots[kClaimPositionsPerCriteria];
};

// At load: the callbacks that forget positions on rollback.
void init_claim_positions();

// The lowest due date the next claim must scan from: the remembered position
// while it is fresh, else -infinity (a scan from the start).
TimestampTz claim_scan_start(const ClaimPositions *positions, rollout::Version version);

// Records where a claim that returned rows began.
void remember_claim_position(ClaimPositions *positions, rollout::Version version,
                             TimestampTz lowest_due);
