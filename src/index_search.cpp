#include "index_search.hpp"

extern "C" {
#include "catalog/pg_am.h"
}

IndexScanDesc begin_index_scan(Relation heap, Relation index, Snapshot snapshot, int nkeys)
{
#if PG_VERSION_NUM >= 180000
	return index_beginscan(heap, index, snapshot, nullptr, nkeys, 0);
#else
	return index_beginscan(heap, index, snapshot, nkeys, 0);
#endif
}

bool is_plain_btree(Relation index, int nleading)
{
	const Form_pg_index form = index->rd_index;
	return index->rd_rel->relam == BTREE_AM_OID && form->indisvalid && form->indisready &&
	       form->indislive && form->indnkeyatts >= nleading &&
	       RelationGetIndexExpressions(index) == NIL;
}
