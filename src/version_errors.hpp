// Turns a core parse failure into a PostgreSQL error with the right SQLSTATE.
// Shared by the type's input function, the casts and the setting's check hook,
// so every entry point reports a bad version with the same SQLSTATE.
#pragma once

#include "core/version.hpp"
#include "postgres_headers.hpp"

// The SQLSTATE for a parse failure: 22003 when the value exceeds 64 bits,
// 22P02 for everything else.
int version_parse_sqlstate(rollout::ParseStatus status);

// Parses a NUL-terminated string that must hold a version; reports like the
// type's input function.
bool parse_version_or_report(const char *input, rollout::Version *out, Node *escontext);
