#include "ramp_routing.hpp"

#include "registry_cache.hpp"

rollout::Version route_key(Oid extension_namespace, const char *key, size_t len)
{
	Ramp ramp;
	if (!current_ramp(extension_namespace, &ramp))
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("no rollout ramp is set"),
		                errhint("Set one with rollout_set_ramp(base, target, percent).")));
	const uint32 bucket = rollout::routing_bucket(ramp.scheme, key, len);
	return rollout::routes_to_target(bucket, ramp.basis_points) ? ramp.target : ramp.base;
}

rollout::RoutingScheme current_routing_scheme(Oid extension_namespace)
{
	Ramp ramp;
	return current_ramp(extension_namespace, &ramp) ? ramp.scheme : rollout::RoutingScheme::murmur3;
}

extern "C" {

PG_FUNCTION_INFO_V1(rollout_route);
Datum rollout_route(PG_FUNCTION_ARGS)
{
	text *key = PG_GETARG_TEXT_PP(0);
	return Int64GetDatum(route_key(get_func_namespace(fcinfo->flinfo->fn_oid), VARDATA_ANY(key),
	                               VARSIZE_ANY_EXHDR(key)));
}

// The key's bucket under the current ramp's scheme (murmur3 without a ramp),
// or under the scheme given.
PG_FUNCTION_INFO_V1(rollout_route_bucket);
Datum rollout_route_bucket(PG_FUNCTION_ARGS)
{
	text *key = PG_GETARG_TEXT_PP(0);
	rollout::RoutingScheme scheme;
	if (PG_NARGS() > 1) {
		const char *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
		const auto parsed = rollout::parse_routing_scheme(name);
		if (!parsed)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("unknown routing scheme \"%s\"", name),
			                errhint("The schemes are murmur3, nginx and haproxy.")));
		scheme = *parsed;
	} else {
		scheme = current_routing_scheme(get_func_namespace(fcinfo->flinfo->fn_oid));
	}
	PG_RETURN_INT32(static_cast<int32>(
		rollout::routing_bucket(scheme, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key))));
}

}  // extern "C"
