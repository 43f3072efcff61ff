#include "claim_position.hpp"

#include "settings.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/timestamp.h"
}

namespace {

// Bumped by every rollback; positions from an older generation are void.
uint64 claim_position_generation = 1;

void forget_positions_on_abort(XactEvent event, void *)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		++claim_position_generation;
}

void forget_positions_on_subabort(SubXactEvent event, SubTransactionId, SubTransactionId,
                                  void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		++claim_position_generation;
}

bool is_fresh(const ClaimPosition &position)
{
	if (position.generation != claim_position_generation || claim_rescan_interval_ms <= 0)
		return false;
	const TimestampTz now = GetCurrentStatementStartTimestamp();
	return now >= position.set_at &&
	       now - position.set_at < claim_rescan_interval_ms * INT64CONST(1000);
}

}  // namespace

void init_claim_positions()
{
	RegisterXactCallback(forget_positions_on_abort, nullptr);
	RegisterSubXactCallback(forget_positions_on_subabort, nullptr);
}

TimestampTz claim_scan_start(const ClaimPositions *positions, rollout::Version version)
{
	for (int i = 0; i < positions->count; ++i) {
		const ClaimPosition &position = positions->slots[i];
		if (position.version == version)
			return is_fresh(position) ? position.due : DT_NOBEGIN;
	}
	return DT_NOBEGIN;
}

void remember_claim_position(ClaimPositions *positions, rollout::Version version,
                             TimestampTz lowest_due)
{
	ClaimPosition *slot = nullptr;
	for (int i = 0; i < positions->count && slot == nullptr; ++i)
		if (positions->slots[i].version == version)
			slot = &positions->slots[i];
	if (slot == nullptr) {
		// A backend claims as one or two versions; past the slots, the
		// oldest-set position goes.
		if (positions->count < kClaimPositionsPerCriteria) {
			slot = &positions->slots[positions->count++];
		} else {
			slot = &positions->slots[0];
			for (int i = 1; i < positions->count; ++i)
				if (positions->slots[i].set_at < slot->set_at)
					slot = &positions->slots[i];
		}
	}
	slot->version = version;
	slot->due = lowest_due;
	slot->set_at = GetCurrentStatementStartTimestamp();
	slot->generation = claim_position_generation;
}
