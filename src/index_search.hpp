// Finding and scanning indexes: the shared part of the parent probe
// (parent_probe.cpp), the claim's index (claim_index.cpp) and the direct
// claim and completion.
#pragma once

#include "postgres_headers.hpp"

extern "C" {
#include "access/genam.h"
}

// index_beginscan without instrumentation, which PostgreSQL 18 added as an
// argument.
IndexScanDesc begin_index_scan(Relation heap, Relation index, Snapshot snapshot, int nkeys);

// A live, valid btree index with at least nleading key columns, none of them
// an expression. Whether its predicate matters is the caller's to judge.
bool is_plain_btree(Relation index, int nleading);

// The first index of rel for which fits(index) is true, or InvalidOid. Each
// index is open only while fits looks at it.
template <typename Fits>
Oid first_index_where(Relation rel, Fits fits)
{
	List *indexes = RelationGetIndexList(rel);
	Oid found = InvalidOid;
	ListCell *cell;
	foreach (cell, indexes) {
		Relation index = index_open(lfirst_oid(cell), AccessShareLock);
		const bool fitting = fits(index);
		index_close(index, AccessShareLock);
		if (fitting) {
			found = lfirst_oid(cell);
			break;
		}
	}
	list_free(indexes);
	return found;
}
