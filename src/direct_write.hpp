// What the direct claim and the direct completion share: the test of whether
// a bare heap write on a table does all that the equivalent statement would
// (rollout.direct_claim, in settings.cpp, allows them at all).
#pragma once

#include "postgres_headers.hpp"

// Why a direct `command` (CMD_UPDATE or CMD_DELETE) on rel, opened by the
// caller, must run as a statement instead; nullptr when it need not. The
// statement would fire triggers, apply row-level security and rules, check
// CHECK constraints and column privileges, compute generated columns, refuse
// in a read-only transaction and raise serialization failures under snapshot
// isolation (the rules are listed in direct_write.cpp). Where the statement
// would fail for the table's publications, this raises that error.
const char *check_direct_write(Relation rel, CmdType command);

// Runs a direct write as its own statement, as SPI would: it sees every
// earlier change of this transaction, and its own changes stay invisible to
// its scans. Returns the snapshot to scan with; pair with PopActiveSnapshot().
Snapshot begin_direct_statement();
