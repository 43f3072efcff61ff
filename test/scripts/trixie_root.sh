#!/usr/bin/env bash
# PostgreSQL 17 for the tests: Debian 13 (trixie) carries postgresql-17, but
# its binaries need a newer glibc than Debian 12's, and no source package
# for it is reachable from here. So the tests run it in a trixie root made
# with debootstrap, from the same Debian mirror, with Debian's own packages.
#
#   source test/scripts/trixie_root.sh
#   trixie_root_ready          makes or refreshes the root (cached)
#   trixie_root_run CMD...     runs CMD inside it, with /proc and a private
#                              /dev/shm mounted for the run only
#
# Safe as root on a shared machine:
# - no package of the host changes: debootstrap is unpacked into the cache,
#   not installed;
# - nothing of the host is bind-mounted into the root (its /dev holds the
#   device nodes debootstrap made), so no removal of the root can reach the
#   host's files; what is mounted for a run (proc, a tmpfs) is unmounted on
#   exit, and the root is never removed while anything is mounted under it.
# The root is cached in $TRIXIE_ROOT (/var/cache/rollout_ext/root-trixie);
# each use runs apt-get update and install inside it, so a cache whose
# packages the mirror has replaced is brought up to date (a stale cache is
# detected by apt itself), and a root left half made is made again.
set -euo pipefail

TRIXIE_CACHE=${ASSERT_PG_CACHE:-/var/cache/rollout_ext}
TRIXIE_ROOT=$TRIXIE_CACHE/root-trixie
TRIXIE_MIRROR=http://deb.debian.org/debian
TRIXIE_PACKAGES=(postgresql-17 postgresql-server-dev-17 g++ make zlib1g-dev procps
	postgresql-17-pgtap libtap-parser-sourcehandler-pgtap-perl libipc-run-perl postgresql-17-cron
	pgbouncer default-jdk-headless libpostgresql-jdbc-java python3-psycopg python3-psycopg2
	nginx-light haproxy gnuplot-nox bsdextrautils)

trixie_log() { echo "trixie_root: $*" >&2; }

# Everything mounted at or under the root, deepest first.
trixie_mounts() {
	awk -v root="$TRIXIE_ROOT" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts |
		sort -r
}

trixie_unmount_all() {
	local m
	for m in $(trixie_mounts); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# Removes the root, refusing while anything is mounted under it.
trixie_remove_root() {
	trixie_unmount_all
	if [ -n "$(trixie_mounts)" ]; then
		trixie_log "refusing to remove $TRIXIE_ROOT: still mounted: $(trixie_mounts | xargs)"
		return 1
	fi
	rm -rf --one-file-system "${TRIXIE_ROOT:?}"
}

trixie_debootstrap() {
	local tools=$TRIXIE_CACHE/debootstrap
	if [ ! -x "$tools/usr/sbin/debootstrap" ]; then
		trixie_log "unpacking debootstrap (not installed on the host)"
		rm -rf "${TRIXIE_CACHE:?}/debootstrap"
		mkdir -p "$tools"
		(cd "$tools" && apt-get download -qq debootstrap >/dev/null && dpkg-deb -x debootstrap_*.deb .)
	fi
	trixie_log "debootstrap trixie into $TRIXIE_ROOT (about 90 s)"
	mkdir -p "$TRIXIE_ROOT"
	DEBOOTSTRAP_DIR=$tools/usr/share/debootstrap \
		"$tools/usr/sbin/debootstrap" --variant=minbase trixie "$TRIXIE_ROOT" "$TRIXIE_MIRROR" \
		>"$TRIXIE_CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$TRIXIE_CACHE/debootstrap.log" >&2; return 1; }
	# Packages must not start services in the root, and the tests make their
	# own clusters.
	printf '#!/bin/sh\nexit 101\n' >"$TRIXIE_ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$TRIXIE_ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$TRIXIE_ROOT/etc/postgresql-common"
	echo "create_main_cluster = false" >"$TRIXIE_ROOT/etc/postgresql-common/createcluster.conf"
	touch "$TRIXIE_ROOT/.debootstrapped"
}

trixie_mount() {
	mountpoint -q "$TRIXIE_ROOT/proc" || mount -t proc proc "$TRIXIE_ROOT/proc"
	mkdir -p "$TRIXIE_ROOT/dev/shm"
	mountpoint -q "$TRIXIE_ROOT/dev/shm" || mount -t tmpfs -o mode=1777,size=1g tmpfs "$TRIXIE_ROOT/dev/shm"
}

trixie_root_run() {
	trixie_mount
	local status=0
	cp /etc/resolv.conf "$TRIXIE_ROOT/etc/resolv.conf"
	chroot "$TRIXIE_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || status=$?
	trixie_unmount_all
	return "$status"
}

trixie_root_ready() {
	trap trixie_unmount_all EXIT
	if [ ! -e "$TRIXIE_ROOT/.debootstrapped" ]; then
		[ -e "$TRIXIE_ROOT" ] && { trixie_remove_root || return 1; }
		trixie_debootstrap || return 1
	fi
	trixie_log "bringing ${TRIXIE_PACKAGES[*]} up to date in the root"
	trixie_root_run sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${TRIXIE_PACKAGES[*]}" \
		>"$TRIXIE_CACHE/trixie-apt.log" 2>&1 ||
		{ tail -n 20 "$TRIXIE_CACHE/trixie-apt.log" >&2; return 1; }
	trixie_log "$(trixie_root_run dpkg-query -W -f='${Package} ${Version}' postgresql-17)"
}
