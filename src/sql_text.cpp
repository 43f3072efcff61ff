#include "sql_text.hpp"

const char *extension_operator(Oid extension_namespace, const char *name)
{
	return psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(extension_namespace)),
	                name);
}

const char *equality_operator(Oid type)
{
	TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	if (!OidIsValid(entry->eq_opr))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
		                errmsg("could not identify an equality operator for type %s",
		                       format_type_be(type))));
	HeapTuple tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(entry->eq_opr));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", entry->eq_opr);
	const auto *oper = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tuple));
	const char *text = psprintf("OPERATOR(%s.%s)",
	                            quote_identifier(get_namespace_name(oper->oprnamespace)),
	                            NameStr(oper->oprname));
	ReleaseSysCache(tuple);
	return text;
}
