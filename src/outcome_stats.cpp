#include "outcome_stats.hpp"

#include "claim_token.hpp"
#include "outcome_stats_table.hpp"
#include "settings.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

StatsShared *stats_shared = nullptr;
HTAB *stats_hash = nullptr;

namespace {

// Room for the overflow rows of this many databases beyond stats_max.
constexpr int kOverflowReserve = 64;

constexpr const char *kStatsFile = PGSTAT_STAT_PERMANENT_DIRECTORY "/rollout_ext.stat";
constexpr uint32 kStatsFileMagic = 0x524f5331;  // "ROS1"
// The file holds StatsEntry as laid out by this build: its format changes
// with the entry's size, and the file is kept only within one major version.
struct StatsFileHeader {
	uint32 magic;
	uint32 entry_size;
	uint32 pg_major;
	int32 entries;
};

shmem_request_hook_type previous_shmem_request = nullptr;
shmem_startup_hook_type previous_shmem_startup = nullptr;

Size stats_memory_size()
{
	return add_size(MAXALIGN(sizeof(StatsShared)),
	                hash_estimate_size(stats_max + kOverflowReserve, sizeof(StatsEntry)));
}

void request_stats_memory()
{
	if (previous_shmem_request != nullptr)
		previous_shmem_request();
	RequestAddinShmemSpace(stats_memory_size());
	RequestNamedLWLockTranche("rollout_ext", 1);
}

// Written by the postmaster when it shuts down cleanly; after a crash the
// counts are gone, as the file was removed when they were read.
void save_stats(int code, Datum)
{
	if (code != 0 || stats_shared == nullptr || stats_hash == nullptr)
		return;
	const char *temp_file = PGSTAT_STAT_PERMANENT_DIRECTORY "/rollout_ext.stat.tmp";
	FILE *file = AllocateFile(temp_file, PG_BINARY_W);
	if (file == nullptr) {
		ereport(LOG, (errcode_for_file_access(),
		              errmsg("could not write rollout_ext statistics file \"%s\": %m", temp_file)));
		return;
	}
	StatsFileHeader header = {kStatsFileMagic, sizeof(StatsEntry), PG_VERSION_NUM / 100,
	                          static_cast<int32>(hash_get_num_entries(stats_hash))};
	bool ok = fwrite(&header, sizeof(header), 1, file) == 1;
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, stats_hash);
	while (auto *entry = static_cast<StatsEntry *>(hash_seq_search(&scan)))
		ok = ok && fwrite(entry, sizeof(StatsEntry), 1, file) == 1;
	ok = FreeFile(file) == 0 && ok;
	if (ok)
		durable_rename(temp_file, kStatsFile, LOG);
	else
		unlink(temp_file);
}

void load_stats()
{
	FILE *file = AllocateFile(kStatsFile, PG_BINARY_R);
	if (file == nullptr)
		return;
	StatsFileHeader header;
	if (fread(&header, sizeof(header), 1, file) == 1 && header.magic == kStatsFileMagic &&
	    header.entry_size == sizeof(StatsEntry) && header.pg_major == PG_VERSION_NUM / 100) {
		StatsEntry saved;
		for (int32 i = 0; i < header.entries && fread(&saved, sizeof(saved), 1, file) == 1; ++i) {
			const bool overflow_row = saved.key.version == kOverflowVersion;
			if (!overflow_row && stats_shared->keys >= stats_max)
				continue;
			auto *entry = static_cast<StatsEntry *>(
				hash_search(stats_hash, &saved.key, HASH_ENTER_NULL, nullptr));
			if (entry == nullptr)
				break;
			memcpy(entry, &saved, sizeof(StatsEntry));
			SpinLockInit(&entry->mutex);
			if (!overflow_row)
				++stats_shared->keys;
		}
	} else {
		ereport(LOG, (errmsg("ignoring rollout_ext statistics file \"%s\" of another format or "
		                     "PostgreSQL release",
		                     kStatsFile)));
	}
	FreeFile(file);
	unlink(kStatsFile);
}

void start_stats_memory()
{
	if (previous_shmem_startup != nullptr)
		previous_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bool found;
	stats_shared = static_cast<StatsShared *>(
		ShmemInitStruct("rollout_ext statistics", sizeof(StatsShared), &found));
	if (!found) {
		stats_shared->lock = &(GetNamedLWLockTranche("rollout_ext"))->lock;
		stats_shared->keys = 0;
		stats_shared->dropped = 0;
		SpinLockInit(&stats_shared->mutex);
	}
	HASHCTL info = {};
	info.keysize = sizeof(StatsKey);
	info.entrysize = sizeof(StatsEntry);
	stats_hash = ShmemInitHash("rollout_ext statistics hash", stats_max + kOverflowReserve,
	                           stats_max + kOverflowReserve, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
	if (!IsUnderPostmaster)
		on_shmem_exit(save_stats, (Datum) 0);
	if (!found)
		load_stats();
}

// ---------------------------------------------------------------------------
// Counting: per backend until commit, then into the shared table.
// ---------------------------------------------------------------------------

// The counts of one key made at one subtransaction level, undone with it.
struct PendingKey {
	StatsKey key;
	int level;
};

struct PendingEntry {
	PendingKey key;
	char transaction[kStatsTransactionBytes];
	StatsCounters counters;
};

HTAB *pending = nullptr;

bool nothing_pending()
{
	return pending == nullptr || hash_get_num_entries(pending) == 0;
}

StatsKey stats_key(const OutcomeKey &outcome)
{
	StatsKey key;
	memset(&key, 0, sizeof(key));  // the key is hashed as bytes, padding included
	key.dbid = MyDatabaseId;
	key.relid = outcome.relid;
	key.version = outcome.has_version ? outcome.version : kUntaggedVersion;
	key.transaction_known = outcome.transaction != nullptr;
	key.transaction_hash = outcome.transaction_hash;
	return key;
}

StatsCounters &pending_counters(const OutcomeKey &outcome)
{
	if (pending == nullptr) {
		HASHCTL info = {};
		info.keysize = sizeof(PendingKey);
		info.entrysize = sizeof(PendingEntry);
		info.hcxt = TopMemoryContext;
		pending = hash_create("rollout_ext pending statistics", 64, &info,
		                      HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	PendingKey key;
	memset(&key, 0, sizeof(key));
	key.key = stats_key(outcome);
	key.level = GetCurrentTransactionNestLevel();
	bool found;
	auto *entry = static_cast<PendingEntry *>(hash_search(pending, &key, HASH_ENTER, &found));
	if (!found) {
		memset(&entry->counters, 0, sizeof(entry->counters));
		entry->transaction[0] = '\0';
		if (outcome.transaction != nullptr) {
			const int len = pg_mbcliplen(outcome.transaction, static_cast<int>(strlen(outcome.transaction)),
			                             kStatsTransactionBytes - 1);
			memcpy(entry->transaction, outcome.transaction, len);
			entry->transaction[len] = '\0';
		}
	}
	return entry->counters;
}

void add_counters(StatsCounters *into, const StatsCounters &delta)
{
	into->claimed += delta.claimed;
	into->completed += delta.completed;
	into->retried += delta.retried;
	into->refused += delta.refused;
	into->expired += delta.expired;
	into->parked += delta.parked;
	into->overflowed += delta.overflowed;
	for (int i = 0; i < rollout::kHistogramBuckets; ++i) {
		into->work[i] += delta.work[i];
		into->wait[i] += delta.wait[i];
	}
}

void discard_pending(int from_level)
{
	if (nothing_pending())
		return;
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, pending);
	while (auto *entry = static_cast<PendingEntry *>(hash_seq_search(&scan)))
		if (entry->key.level >= from_level)
			hash_search(pending, &entry->key, HASH_REMOVE, nullptr);
}

// A committed subtransaction's counts become its parent's.
void merge_into_parent(int level)
{
	if (nothing_pending())
		return;
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, pending);
	while (auto *entry = static_cast<PendingEntry *>(hash_seq_search(&scan))) {
		if (entry->key.level != level)
			continue;
		PendingKey parent_key = entry->key;
		parent_key.level = level - 1;
		bool found;
		auto *parent =
			static_cast<PendingEntry *>(hash_search(pending, &parent_key, HASH_ENTER, &found));
		if (!found) {
			memset(&parent->counters, 0, sizeof(parent->counters));
			memcpy(parent->transaction, entry->transaction, kStatsTransactionBytes);
		}
		add_counters(&parent->counters, entry->counters);
		hash_search(pending, &entry->key, HASH_REMOVE, nullptr);
	}
}

void flush_pending()
{
	if (nothing_pending())
		return;
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, pending);
	while (auto *entry = static_cast<PendingEntry *>(hash_seq_search(&scan))) {
		if (stats_hash != nullptr)
			stats_add(entry->key.key, entry->transaction, entry->counters);
		hash_search(pending, &entry->key, HASH_REMOVE, nullptr);
	}
}

void on_transaction_end(XactEvent event, void *)
{
	switch (event) {
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_PREPARE:  // counted when prepared, as it cannot be undone here
		flush_pending();
		break;
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PARALLEL_ABORT:
		discard_pending(0);
		break;
	default:
		break;
	}
}

void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		discard_pending(GetCurrentTransactionNestLevel());
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		merge_into_parent(GetCurrentTransactionNestLevel());
}

StatsEntry *make_entry(const StatsKey &key, const char *transaction)
{
	auto *entry =
		static_cast<StatsEntry *>(hash_search(stats_hash, &key, HASH_ENTER_NULL, nullptr));
	if (entry == nullptr)
		return nullptr;
	SpinLockInit(&entry->mutex);
	strlcpy(entry->transaction, transaction, kStatsTransactionBytes);
	entry->since = GetCurrentTimestamp();
	memset(&entry->counters, 0, sizeof(entry->counters));
	return entry;
}

}  // namespace

void stats_add(const StatsKey &key, const char *transaction, const StatsCounters &delta)
{
	LWLockAcquire(stats_shared->lock, LW_SHARED);
	auto *entry = static_cast<StatsEntry *>(hash_search(stats_hash, &key, HASH_FIND, nullptr));
	bool into_overflow = false;
	if (entry == nullptr) {
		LWLockRelease(stats_shared->lock);
		LWLockAcquire(stats_shared->lock, LW_EXCLUSIVE);
		entry = static_cast<StatsEntry *>(hash_search(stats_hash, &key, HASH_FIND, nullptr));
		if (entry == nullptr && stats_shared->keys < stats_max) {
			entry = make_entry(key, transaction);
			if (entry != nullptr)
				++stats_shared->keys;
		}
		if (entry == nullptr) {
			// Full: the database's overflow row takes the counts.
			StatsKey overflow_key;
			memset(&overflow_key, 0, sizeof(overflow_key));
			overflow_key.dbid = key.dbid;
			overflow_key.version = kOverflowVersion;
			entry = static_cast<StatsEntry *>(
				hash_search(stats_hash, &overflow_key, HASH_FIND, nullptr));
			if (entry == nullptr)
				entry = make_entry(overflow_key, "");
			into_overflow = true;
		}
	}
	if (entry == nullptr) {
		SpinLockAcquire(&stats_shared->mutex);
		++stats_shared->dropped;
		SpinLockRelease(&stats_shared->mutex);
	} else {
		SpinLockAcquire(&entry->mutex);
		add_counters(&entry->counters, delta);
		entry->counters.overflowed += into_overflow ? 1 : 0;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(stats_shared->lock);
}

void init_outcome_stats()
{
	RegisterXactCallback(on_transaction_end, nullptr);
	RegisterSubXactCallback(on_subtransaction_end, nullptr);
	// The table is sized at server start: a backend that loads the library
	// later has no shared memory of it to attach.
	if (!process_shared_preload_libraries_in_progress)
		return;
	previous_shmem_request = shmem_request_hook;
	shmem_request_hook = request_stats_memory;
	previous_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = start_stats_memory;
}

bool outcome_stats_enabled()
{
	return track_stats && stats_hash != nullptr;
}

OutcomeKey outcome_key(Oid relid, const char *transaction)
{
	OutcomeKey key = {relid, transaction, 0, false, 0};
	if (transaction != nullptr)
		key.transaction_hash =
			hash_bytes_extended(reinterpret_cast<const unsigned char *>(transaction),
			                    static_cast<int>(strlen(transaction)), 0);
	return key;
}

void count_claimed(const OutcomeKey &key, TimestampTz claimed_at, TimestampTz due, bool expired)
{
	if (!outcome_stats_enabled())
		return;
	StatsCounters &counters = pending_counters(key);
	++counters.claimed;
	counters.expired += expired ? 1 : 0;
	++counters.wait[rollout::histogram_bucket(claimed_at - due)];
}

void count_claim_end(const OutcomeKey &key, ClaimEnd end, const pg_uuid_t *token)
{
	if (!outcome_stats_enabled())
		return;
	StatsCounters &counters = pending_counters(key);
	switch (end) {
	case ClaimEnd::completed:
		++counters.completed;
		break;
	case ClaimEnd::retried:
		++counters.retried;
		break;
	case ClaimEnd::parked:
		++counters.parked;
		break;
	case ClaimEnd::refused:
		++counters.refused;
		return;  // no work time: the work was not this claim's to end
	}
	TimestampTz claimed_at;
	if (token != nullptr && claim_token_time(token, &claimed_at))
		++counters.work[rollout::histogram_bucket(GetCurrentStatementStartTimestamp() - claimed_at)];
}
