// Guards against cross-version writes: rows of a newer version cannot be
// updated or deleted by an older version's session, and the version column
// changes only through retagging.
#pragma once

// True while rollout_retag_batch() runs its UPDATE: the guard then lets the
// version column change.
extern bool retag_in_progress;

