#!/bin/sh
# Builds the packages of debian/control (edgestream_VERSION_ARCH.deb and
# edgestream-infer_VERSION_ARCH.deb) into build/ with dpkg-buildpackage,
# from a copy of the source in build/deb/ARCH (dh_auto_clean runs
# `make clean`, which would empty build/ under the tree itself), then
# checks them with lintian; prints their paths, one a line.
# Usage: packaging/deb.sh ARCH|native [OUTDIR (default build/)]
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
host=$(dpkg --print-architecture)
arch=${1:-native}
[ "$arch" = native ] && arch=$host
out=${2:-$root/build}
version=$(sed -n '1s/^edgestream (\([^)]*\)).*/\1/p' "$root/debian/changelog")
work=$out/deb/$arch
src=$work/edgestream-$version
rm -rf "$work"
mkdir -p "$src"
# What the build needs, without anything built here (a program of the host
# architecture would look up to date to a cross-build).
(cd "$root" && tar -cf - --exclude=examples/screening/gen-screening \
	Makefile README.md cmd lib man debian packaging examples tools) |
	tar -xf - -C "$src"
# The package's build is a make of its own (dh runs it with the jobs of
# DEB_BUILD_OPTIONS): not a part of the make that may have called this.
unset MAKEFLAGS MFLAGS MAKELEVEL
cross=""
[ "$arch" != "$host" ] && cross="-a $arch"
(cd "$src" && dpkg-buildpackage -us -uc -b $cross) > "$work/build.log" 2>&1 || {
	tail -30 "$work/build.log" >&2
	echo "edgestream: dpkg-buildpackage failed; the log is $work/build.log" >&2
	exit 1
}
debs=""
for p in $(sed -n 's/^Package: //p' "$root/debian/control"); do
	mv "$work/${p}_${version}_$arch.deb" "$out/"
	debs="$debs $out/${p}_${version}_$arch.deb"
done
# Lintian's verdict: no error or warning. (It refuses root without
# --allow-root; unpacking a package to read it needs no privilege.)
asroot=""
[ "$(id -u)" = 0 ] && asroot=--allow-root
lintian $asroot --fail-on error,warning $debs >&2
printf '%s\n' $debs
