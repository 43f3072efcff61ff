#include "claim_index.hpp"

#include "index_search.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
}

namespace {

// An index predicate the claim's own WHERE clause implies: none, or NOT hold.
bool claim_implies_predicate(List *predicate, AttrNumber hold)
{
	if (predicate == NIL)
		return true;
	if (hold == InvalidAttrNumber || list_length(predicate) != 1 ||
	    !is_notclause(linitial(predicate)))
		return false;
	const Expr *negated = get_notclausearg(linitial(predicate));
	return IsA(negated, Var) && reinterpret_cast<const Var *>(negated)->varattno == hold;
}

bool serves_claim_order(Relation index, const AttrNumber *leading, int nleading, AttrNumber hold)
{
	if (!is_plain_btree(index, nleading) ||
	    !claim_implies_predicate(RelationGetIndexPredicate(index), hold))
		return false;
	for (int i = 0; i < nleading; ++i)
		if (index->rd_index->indkey.values[i] != leading[i])
			return false;
	return true;
}

}  // namespace

Oid claim_order_index(Oid relid, const char *transaction_column, const char *version_column,
                      const char *due_column, const char *key_column, const char *hold_column)
{
	AttrNumber leading[4];
	int nleading = 0;
	if (transaction_column != nullptr)
		leading[nleading++] = get_attnum(relid, transaction_column);
	if (version_column != nullptr)
		leading[nleading++] = get_attnum(relid, version_column);
	leading[nleading++] = get_attnum(relid, due_column);
	if (key_column != nullptr)
		leading[nleading++] = get_attnum(relid, key_column);
	const AttrNumber hold =
		hold_column != nullptr ? get_attnum(relid, hold_column) : InvalidAttrNumber;

	Relation rel = relation_open(relid, AccessShareLock);
	const Oid found = first_index_where(rel, [&](Relation index) {
		return serves_claim_order(index, leading, nleading, hold);
	});
	relation_close(rel, AccessShareLock);
	return found;
}
