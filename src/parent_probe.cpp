#include "parent_probe.hpp"

#include "index_search.hpp"

extern "C" {
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
}

namespace {

// For each of the index's leading nkeys columns, the key whose parent column
// it is; false if the index is partial or those columns are not exactly
// parent_attnums.
bool match_index_columns(Relation index, const AttrNumber *parent_attnums, int nkeys,
                         int *key_of_column)
{
	if (!is_plain_btree(index, nkeys) || RelationGetIndexPredicate(index) != NIL)
		return false;
	const Form_pg_index form = index->rd_index;
	for (int column = 0; column < nkeys; ++column) {
		key_of_column[column] = -1;
		for (int key = 0; key < nkeys; ++key)
			if (form->indkey.values[column] == parent_attnums[key])
				key_of_column[column] = key;
		if (key_of_column[column] < 0)
			return false;
	}
	return true;
}

// Equality of the index column's operator family for the key's type, with
// the column's collation; false when the parent column and the child key
// differ in type or the index compares in another collation.
bool key_equality(Relation parent, Relation index, AttrNumber parent_attnum, int column,
                  Oid child_type, Oid *collation, FmgrInfo *equality)
{
	const Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(parent), parent_attnum - 1);
	const Oid opclass_type = index->rd_opcintype[column];
	if (attr->atttypid != child_type || !IsBinaryCoercible(attr->atttypid, opclass_type) ||
	    index->rd_indcollation[column] != attr->attcollation)
		return false;
	const Oid op = get_opfamily_member(index->rd_opfamily[column], opclass_type, opclass_type,
	                                   BTEqualStrategyNumber);
	if (!OidIsValid(op))
		return false;
	fmgr_info_cxt(get_opcode(op), equality, TopMemoryContext);
	*collation = attr->attcollation;
	return true;
}

}  // namespace

void plan_parent_probe(Oid parent_relid, const char *const *parent_keys, const Oid *child_key_types,
                       int nkeys, const char *version_column, ParentProbe *probe)
{
	probe->parent_relid = parent_relid;
	probe->index_relid = InvalidOid;
	probe->nkeys = nkeys;
	probe->version_attnum = get_attnum(parent_relid, version_column);

	Relation parent = table_open(parent_relid, AccessShareLock);
	if (parent->rd_rel->relkind != RELKIND_RELATION || parent->rd_rel->relrowsecurity) {
		table_close(parent, AccessShareLock);
		return;
	}
	AttrNumber parent_attnums[INDEX_MAX_KEYS];
	for (int i = 0; i < nkeys; ++i)
		parent_attnums[i] = get_attnum(parent_relid, parent_keys[i]);

	probe->index_relid = first_index_where(parent, [&](Relation index) {
		bool usable = match_index_columns(index, parent_attnums, nkeys, probe->key_of_column);
		for (int column = 0; usable && column < nkeys; ++column) {
			const int key = probe->key_of_column[column];
			usable = key_equality(parent, index, parent_attnums[key], column, child_key_types[key],
			                      &probe->collations[column], &probe->equality[column]);
		}
		return usable;
	});
	table_close(parent, AccessShareLock);
}

bool probe_parent(const ParentProbe *probe, const Datum *key_values, ParentLookup *result,
                  rollout::Version *version)
{
	if (pg_class_aclcheck(probe->parent_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;

	Relation parent = table_open(probe->parent_relid, AccessShareLock);
	Relation index = index_open(probe->index_relid, AccessShareLock);
	ScanKeyData keys[INDEX_MAX_KEYS];
	for (int column = 0; column < probe->nkeys; ++column)
		ScanKeyEntryInitializeWithInfo(
			&keys[column], 0, static_cast<AttrNumber>(column + 1), BTEqualStrategyNumber,
			InvalidOid, probe->collations[column],
			const_cast<FmgrInfo *>(&probe->equality[column]),
			key_values[probe->key_of_column[column]]);

	IndexScanDesc scan = begin_index_scan(parent, index, GetActiveSnapshot(), probe->nkeys);
	index_rescan(scan, keys, probe->nkeys, nullptr, 0);
	TupleTableSlot *slot = table_slot_create(parent, nullptr);
	*result = ParentLookup::no_parent;
	if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
		bool isnull;
		const Datum value = slot_getattr(slot, probe->version_attnum, &isnull);
		*result = isnull ? ParentLookup::untagged_parent : ParentLookup::tagged_parent;
		if (!isnull)
			*version = DatumGetInt64(value);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	table_close(parent, NoLock);
	return true;
}
