#!/usr/bin/env bats
# make deb: the Debian package built by dpkg-buildpackage from debian/,
# lintian clean, its files, its Depends (dh_shlibdeps) and a program run
# from it after dpkg -x. The package is built once for the file (about a
# minute and a half on a loaded machine), in the file's scratch directory.
bats_require_minimum_version 1.5.0
load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

setup_file() {
	command -v dpkg-buildpackage > /dev/null || return 0
	[ -z "${ES_CROSS:-}${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || return 0
	export DEB_OUT="$BATS_FILE_TMPDIR/out"
	VERSION=$(sed -n 's/^VERSION = //p' "$ROOT/Makefile")
	ARCH=$(dpkg --print-architecture)
	export DEB="$DEB_OUT/edgestream_${VERSION}_$ARCH.deb" VERSION
	# a make of its own, not a part of the make check that runs this
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" deb DEB_OUT="$DEB_OUT" > "$BATS_FILE_TMPDIR/make.out" \
		2> "$BATS_FILE_TMPDIR/make.err" || true
}

setup() {
	T="$BATS_TEST_TMPDIR"
	command -v dpkg-buildpackage > /dev/null ||
		skip "dpkg-buildpackage is not installed (make deb installs it, as root)"
	[ -z "${ES_CROSS:-}${ES_SANITIZE:-}${ES_VALGRIND:-}" ] ||
		skip "the package is built from source: the plain build's test"
}

@test "make deb builds edgestream_VERSION_ARCH.deb, lintian clean" {
	# make deb's only output is the package's path; lintian says nothing
	assert_equal "$(cat "$BATS_FILE_TMPDIR/make.out")" "$DEB"
	assert_equal "$(cat "$BATS_FILE_TMPDIR/make.err")" ""
	run dpkg-deb -f "$DEB" Package Version Architecture
	assert_output "Package: edgestream
Version: $VERSION
Architecture: $(dpkg --print-architecture)"
}

@test "the package's files: programs, man pages, units, the pipeline runner" {
	local p expected
	expected=$(
		for p in "$ROOT"/cmd/es-*.c; do
			p=$(basename "$p" .c)
			echo "-rwxr-xr-x ./usr/bin/$p"
			echo "-rw-r--r-- ./usr/share/man/man1/$p.1.gz"
		done
		printf '%s\n' \
			'-rw-r--r-- ./lib/systemd/system/edgestream@.service' \
			'-rw-r--r-- ./lib/systemd/system/es-ctl.service' \
			'-rw-r--r-- ./lib/systemd/system/es-heartbeat.service' \
			'-rwxr-xr-x ./usr/lib/edgestream/edgestream-pipeline' \
			'-rw-r--r-- ./usr/lib/sysusers.d/edgestream.conf' \
			'-rw-r--r-- ./usr/share/doc/edgestream/changelog.gz' \
			'-rw-r--r-- ./usr/share/doc/edgestream/copyright' \
			'-rw-r--r-- ./usr/share/doc/edgestream/examples/sensors.pipeline' \
			'-rw-r--r-- ./usr/share/man/man7/edgestream.7.gz'
	)
	run sh -c "dpkg-deb -c '$DEB' | awk '\$1 !~ /^d/ { print \$1, \$6 }' | sort"
	assert_output "$(sort <<< "$expected")"
}

@test "Depends comes from dh_shlibdeps: the libraries the programs link" {
	run sh -c "dpkg-deb -f '$DEB' Depends | tr ',' '\n' | sed 's/^ *//; s/ (.*//' | sort"
	assert_output "libarmnn22
libarmnntfliteparser22
libc6
libcsv3
libcurl4
libgcc-s1
libjansson4
libmodbus5
libmosquitto1
librdkafka1
libsqlite3-0
libstdc++6
systemd | systemd-standalone-sysusers | systemd-sysusers
zlib1g"
}

@test "a program runs from the package unpacked with dpkg -x" {
	dpkg -x "$DEB" "$T/root"
	run --separate-stderr sh -c "printf '%s\n' '{\"v\":1}' '{\"v\":5}' |
		'$T/root/usr/bin/es-filter' 'v > 2' --stats"
	assert_success
	assert_output '{"v":5}'
	assert_stderr '{"program":"es-filter","in":2,"out":1,"bad":0,"late":0,"dropped":0,"filtered":1}'
	run "$T/root/usr/bin/es-window" --version
	assert_output "es-window (edgestream) $VERSION"
}

@test "the programs are stripped (the debug symbols are the -dbgsym package's)" {
	dpkg -x "$DEB" "$T/root"
	run sh -c "file -b '$T/root/usr/bin/'es-* | grep -c ', stripped\$'"
	assert_output "$(ls "$ROOT"/cmd/es-*.c | wc -l)"
}

@test "the package's version is the Makefile's (debian/changelog agrees)" {
	run sed -n '1s/^edgestream (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog"
	assert_output "$VERSION"
}
