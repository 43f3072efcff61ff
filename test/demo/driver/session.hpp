// Opening a dedicated connection that acts as one rollout version.
#pragma once

#include "events.hpp"
#include "model.hpp"
#include "options.hpp"
#include "pg.hpp"

#include <memory>
#include <string>

namespace demo {

// Connects with application_name "rollout_demo <role>". With a version, sets
// rollout.version for the whole session (the connection is dedicated to one
// server or agent, no pooler in between) and checks what the server made of
// it. Notices go to the event log.
std::unique_ptr<PgConn> open_session(const Options &options, const std::string &role,
                                     const VersionInfo *version, EventLog &events);

}  // namespace demo
