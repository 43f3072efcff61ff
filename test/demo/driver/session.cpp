#include "session.hpp"

namespace demo {

std::unique_ptr<PgConn> open_session(const Options &options, const std::string &role,
                                     const VersionInfo *version, EventLog &events)
{
	auto conn = std::make_unique<PgConn>(
		options.dsn, "rollout_demo " + role,
		[&events, role](const std::string &notice) { events.add(role + ": " + notice); });
	if (version != nullptr) {
		conn->exec("SELECT set_config('rollout.version', $1, false)", {version->setting});
		PgResult r = conn->exec("SELECT rollout_current_version()::text");
		if (r.text(0, 0) != version->numeric)
			throw PgError("rollout.version is \"" + r.text(0, 0) + "\", expected " + version->numeric,
			              "XX000");
	}
	return conn;
}

}  // namespace demo
