#!/usr/bin/env bash
# PostgreSQL 17: the suites of run-assert-suites.sh (pg_regress and the
# isolation specs lazily loaded and preloaded, pgTAP, the claim stress, the
# TAP tests) against Debian trixie's postgresql-17, in the root that
# trixie_root.sh keeps. The tree (tracked and new files, as they are in the
# working copy) is copied into the root and built there. The last line is
# "pg17: N passed, N failed".
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$REPO_ROOT/test/scripts/trixie_root.sh"

reported=
finish() {
	trixie_unmount_all
	[ -n "$reported" ] || echo "pg17: 0 passed, 1 failed"
}
trap finish EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "run-pg17: needs root (debootstrap and chroot)" >&2
	exit 1
fi
trixie_root_ready

dest=$TRIXIE_ROOT/rollout_ext
rm -rf --one-file-system "${dest:?}"
mkdir -p "$dest"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar xf - -C "$dest"

log=$(mktemp /tmp/rollout_pg17.XXXXXX)
status=0
trixie_root_run sh -c 'cd /rollout_ext && bash test/scripts/run-assert-suites.sh 17' >"$log" 2>&1 ||
	status=$?
cat "$log"
rm -f "$log"
reported=yes
exit "$status"
