// A heavyweight lock per version, so that retiring a version waits for every
// transaction still writing rows of it. Writers take it shared until their
// transaction ends (a subtransaction that rolls back lets go of what it
// took); rollout_phase_out takes it exclusively before its final count, so an
// uncommitted row of the version is committed, or gone, by then and counted.
// It is a lock-manager lock, not a row lock: many writers share it without
// writing to the registry row, and lock waits show in pg_locks.
#pragma once

#include "core/version.hpp"

// Shared: called for every row tagged with the version, and for claims of a
// draining version.
void lock_version_for_writing(rollout::Version version);
