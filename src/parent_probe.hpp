// Reads a parent row's version straight from one of the parent's btree
// indexes, for tagging triggers that inherit. It replaces the prepared SQL
// lookup (an executor start and end per inserted row) where the answer is
// the same: a plain table without row-level security, an index whose leading
// columns are the parent key columns, child and parent keys of one type, the
// caller allowed to read the parent. Anything else keeps the SQL lookup.
#pragma once

#include "postgres_headers.hpp"

#include "core/version.hpp"

struct ParentProbe {
	Oid parent_relid;
	Oid index_relid;            // InvalidOid: no usable index, use the SQL lookup
	int nkeys;
	AttrNumber version_attnum;  // in the parent
	// Per index column, in index order (as scan keys must come): the
	// trigger's key that feeds it, the column's collation and its equality
	// function.
	int key_of_column[INDEX_MAX_KEYS];
	Oid collations[INDEX_MAX_KEYS];
	FmgrInfo equality[INDEX_MAX_KEYS];
};

// Fills *probe; probe->index_relid stays InvalidOid when no index will do.
void plan_parent_probe(Oid parent_relid, const char *const *parent_keys, const Oid *child_key_types,
                       int nkeys, const char *version_column, ParentProbe *probe);

enum class ParentLookup { no_parent, untagged_parent, tagged_parent };

// The parent row with these key values, as the current snapshot sees it.
// False when the caller may not read the parent directly (use the SQL lookup,
// which reports the privilege error or uses column privileges).
bool probe_parent(const ParentProbe *probe, const Datum *key_values, ParentLookup *result,
                  rollout::Version *version);
