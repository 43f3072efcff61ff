#!/usr/bin/env bash
# An assert-enabled PostgreSQL (--enable-cassert --enable-debug), built from
# the upstream tarball of Debian's postgresql-MAJOR source package, with
# rollout_ext built against its headers and installed into it: 15 from
# bookworm (this machine's own), 18 from sid (Debian 12 has no 18; 17 has no
# source package reachable from here).
# PostgreSQL's own developers and build farm run such servers: they check
# that callers use heapam and the buffer manager only in supported modes
# (the direct claim once broke heap_update's "no caller uses wait = false").
#
#   bash test/scripts/assert_build.sh [MAJOR]   prints the build's bin directory
#
# The build is cached in $ASSERT_PG_CACHE (/var/cache/rollout_ext): the
# stamp names the source version and the configure flags, and a build whose
# stamp differs from what would be built now is rebuilt. The source comes
# through apt with a private sources list and lists directory, so the host's
# apt configuration and packages are not touched (beyond installing the
# build's Debian dependencies when they are missing). About 5 minutes on 2
# cores the first time, a second after.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MAJOR=${1:-15}
# Under `make test` the environment says this is a sub-make (MAKELEVEL=1),
# and PostgreSQL's build generates its headers only at the top level: the
# build would fail. Its make is a make of its own.
unset MAKEFLAGS MFLAGS MAKELEVEL
CACHE=${ASSERT_PG_CACHE:-/var/cache/rollout_ext}
PREFIX=$CACHE/pg$MAJOR-assert
APT_SUITE_OPTIONS=()
case $MAJOR in
15) SOURCES='deb-src http://deb.debian.org/debian bookworm main' ;;
18)
	SOURCES='deb-src http://deb.debian.org/debian sid main'
	# The mirror's index for sid can be past its Valid-Until date.
	APT_SUITE_OPTIONS=(-o Acquire::Check-Valid-Until=false)
	;;
*)
	echo "assert_build: PostgreSQL $MAJOR has no source package here (15 and 18 do)" >&2
	exit 2
	;;
esac
CONFIGURE_FLAGS=(--enable-cassert --enable-debug --enable-tap-tests --without-icu
	--without-readline "--prefix=$PREFIX")
BUILD_PACKAGES=(bison flex zlib1g-dev libipc-run-perl dpkg-dev bzip2)

log() { echo "assert_build: $*" >&2; }

missing=()
for pkg in "${BUILD_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# One private apt state per major: the suites' indexes never mix.
APT_DIR=$CACHE/apt-pg$MAJOR
mkdir -p "$APT_DIR/lists/partial"
echo "$SOURCES" >"$APT_DIR/sources.list"
APT_PRIVATE=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR" "${APT_SUITE_OPTIONS[@]}")
apt-get "${APT_PRIVATE[@]}" update -qq >/dev/null
version=$(apt-get "${APT_PRIVATE[@]}" source --print-uris "postgresql-$MAJOR" 2>/dev/null |
	sed -nE "s/^'[^']*' postgresql-${MAJOR}_([^ ]+)\.dsc .*/\1/p")
[ -n "$version" ] || { log "no postgresql-$MAJOR source package found"; exit 1; }

# The upstream tarball, without Debian's patches: those point the server's
# module directory at /usr/lib/postgresql/MAJOR/lib whatever the prefix, and
# an install would overwrite the host server's modules.
stamp="postgresql-$MAJOR $version upstream ${CONFIGURE_FLAGS[*]} with-tap-modules"
if [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$PREFIX/bin/postgres" ]; then
	log "building PostgreSQL $version with assertions into $PREFIX (about 5 minutes)"
	src=$CACHE/src-pg$MAJOR
	# Both paths are built from a non-empty constant; nothing is ever
	# mounted under them.
	rm -rf "${CACHE:?}/src-pg$MAJOR" "${PREFIX:?}"
	mkdir -p "$src"
	# A mirror can fail a download now and then: three tries, then the
	# reason.
	for try in 1 2 3; do
		(cd "$src" && apt-get "${APT_PRIVATE[@]}" source --download-only -qq "postgresql-$MAJOR") \
			>"$src/download.log" 2>&1 && break
		[ "$try" -lt 3 ] || { log "could not download the source"; tail -n 20 "$src/download.log" >&2; exit 1; }
		sleep 5
	done
	tar xf "$src"/postgresql-"$MAJOR"_*.orig.tar.* -C "$src"
	tree=$(find "$src" -maxdepth 1 -type d -name "postgresql-$MAJOR*" | head -n1)
	stage=$src/stage
	(
		cd "$tree"
		./configure "${CONFIGURE_FLAGS[@]}" >configure.log 2>&1 || { tail -n 30 configure.log >&2; exit 1; }
		make -s -j"$(nproc)" >build.log 2>&1 || { tail -n 60 build.log >&2; exit 1; }
		# pg_isolation_regress and isolationtester for the specs; the
		# PostgreSQL::Test modules for the TAP tests; amcheck and pageinspect
		# for the heap and index checks.
		for dir in . src/test/isolation src/test/perl contrib/amcheck contrib/pageinspect; do
			make -s -C "$dir" -j"$(nproc)" install DESTDIR="$stage" >>build.log 2>&1 ||
				{ tail -n 60 build.log >&2; exit 1; }
		done
	) || exit 1
	# Staged first, so that a file meant for anywhere but $PREFIX stops the
	# build before it reaches the host.
	stray=$(cd "$stage" && find . -type f ! -path ".$PREFIX/*" | head -n 5)
	[ -z "$stray" ] || { log "the build would install outside $PREFIX: $stray"; exit 1; }
	mkdir -p "$(dirname "$PREFIX")"
	mv "$stage$PREFIX" "$PREFIX"
	rm -rf "${CACHE:?}/src-pg$MAJOR"
	echo "$stamp" >"$PREFIX/.stamp"
fi

# rollout_ext, built in a copy of the tree so that the objects for this
# server's headers never mix with those of the Debian server's build.
ext_build=$(mktemp -d /tmp/rollout_ext_assert_build.XXXXXX)
trap 'rm -rf "$ext_build"' EXIT
(cd "$REPO_ROOT" && tar cf - Makefile rollout_ext.control src sql expected) | tar xf - -C "$ext_build"
find "$ext_build/src" \( -name '*.o' -o -name '*.d' -o -name '*.so' \) -delete
case "$("$PREFIX/bin/pg_config" --pkglibdir)" in
"$PREFIX"/*) ;;
*) log "$PREFIX/bin/pg_config names a module directory outside $PREFIX"; exit 1 ;;
esac
make -s -C "$ext_build" PG_CONFIG="$PREFIX/bin/pg_config" -j"$(nproc)" >&2
make -s -C "$ext_build" PG_CONFIG="$PREFIX/bin/pg_config" install >/dev/null
echo "$PREFIX/bin"
