#include "version_write_lock.hpp"

#include "postgres_headers.hpp"

extern "C" {
#include "storage/lock.h"
}

namespace {

// An advisory lock tag in a space of its own: pg_advisory_lock's keys use
// field4 = 1 or 2, so no user advisory lock can take or block this one.
constexpr uint16 kVersionWriteLockSpace = 0x524f;  // "RO"

LOCKTAG version_lock_tag(rollout::Version version)
{
	LOCKTAG tag;
	const uint64 key = static_cast<uint64>(version);
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(key >> 32),
	                     static_cast<uint32>(key), kVersionWriteLockSpace);
	return tag;
}

}  // namespace

void lock_version_for_writing(rollout::Version version)
{
	// Already held in this transaction: a lookup in the backend's own lock
	// table, no shared memory touched.
	const LOCKTAG tag = version_lock_tag(version);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

extern "C" {

// Waits for every transaction writing rows of the version, and keeps new
// ones out until the caller's transaction ends.
PG_FUNCTION_INFO_V1(rollout_wait_for_version_writers);
Datum rollout_wait_for_version_writers(PG_FUNCTION_ARGS)
{
	const LOCKTAG tag = version_lock_tag(PG_GETARG_INT64(0));
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	PG_RETURN_VOID();
}

}  // extern "C"
