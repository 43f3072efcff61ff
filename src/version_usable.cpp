#include "version_usable.hpp"

#include "registry_cache.hpp"
#include "settings.hpp"
#include "version_write_lock.hpp"

void check_version_usable(Oid extension_namespace, rollout::Version version, VersionUse use)
{
	const VersionState state = registered_version_state(extension_namespace, version);
	const char *usage = use == VersionUse::tag_rows ? "tag rows" : "claim rows";
	if (use == VersionUse::tag_rows || state == VersionState::draining)
		lock_version_for_writing(version);
	if (state == VersionState::retired) {
		char formatted[rollout::kDottedBufferSize];
		rollout::format_dotted(version, formatted);
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("rollout version %lld (%s) is retired", static_cast<long long>(version),
		                       formatted),
		                errdetail("Cannot %s with a retired version.", usage),
		                errhint("Use an active version, or reactivate this one with "
		                        "rollout_set_version_state().")));
	}
	if (state == VersionState::unregistered && !allow_unregistered_versions)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("rollout version %lld is not registered",
		                       static_cast<long long>(version)),
		                errdetail("Cannot %s with an unregistered version while "
		                          "rollout.allow_unregistered is off.",
		                          usage),
		                errhint("Register it with rollout_register_version().")));
}
