#include "index_search.hpp"

extern "C" {
#include "catalog/pg_am.h"
}

bool is_plain_btree(Relation index, int nleading)
{
	const Form_pg_index form = index->rd_index;
	return index->rd_rel->relam == BTREE_AM_OID && form->indisvalid && form->indisready &&
	       form->indislive && form->indnkeyatts >= nleading &&
	       RelationGetIndexExpressions(index) == NIL;
}
