#!/usr/bin/env bats
# make deb: the two Debian packages built by dpkg-buildpackage from
# debian/ (edgestream, and edgestream-infer: es-infer alone, so that Arm NN
# is installed only where models are scored), lintian clean, their files,
# their Depends (dh_shlibdeps), both installed into a scratch root with
# dpkg --root (maintainer scripts too), a program of each run from there,
# and both purged. The packages are built once for the file (minutes on a
# loaded machine), in the file's scratch directory: of this architecture
# under make check, of ARCH (cross-built, its programs run under qemu-user)
# under make check-cross.
bats_require_minimum_version 1.5.0
load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

# What goes where. Every program of cmd/ is edgestream's but those named in
# INFER_PROGS, so a new program needs no line here; a new unit is a word of
# UNITS, a new file of another kind a line of main_other_files.
INFER_PROGS="es-infer"
UNITS="edgestream@.service es-ctl.service es-heartbeat.service es-replay.service"

main_other_files() {
	printf '%s\n' \
		'-rwxr-xr-x ./usr/lib/edgestream/edgestream-pipeline' \
		'-rw-r--r-- ./usr/lib/sysusers.d/edgestream.conf' \
		'-rw-r--r-- ./usr/share/doc/edgestream/examples/sensors.pipeline' \
		'-rw-r--r-- ./usr/share/man/man7/edgestream.7.gz'
}

# The programs of package $1 (edgestream or edgestream-infer), one a line.
programs_of() {
	local src p
	for src in "$ROOT"/cmd/es-*.c; do
		p=$(basename "$src" .c)
		case " $INFER_PROGS " in
		*" $p "*) [ "$1" = edgestream-infer ] && echo "$p" ;;
		*) [ "$1" = edgestream ] && echo "$p" ;;
		esac
	done
}

# The files package $1 holds ("MODE ./PATH"), sorted as the test sorts.
files_of() {
	local p u
	{
		for p in $(programs_of "$1"); do
			echo "-rwxr-xr-x ./usr/bin/$p"
			echo "-rw-r--r-- ./usr/share/man/man1/$p.1.gz"
		done
		echo "-rw-r--r-- ./usr/share/doc/$1/changelog.gz"
		echo "-rw-r--r-- ./usr/share/doc/$1/copyright"
		if [ "$1" = edgestream ]; then
			for u in $UNITS; do
				echo "-rw-r--r-- ./lib/systemd/system/$u"
			done
			main_other_files
		fi
	} | sort
}

setup_file() {
	command -v dpkg-buildpackage > /dev/null || return 0
	[ -z "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || return 0
	export DEB_OUT="$BATS_FILE_TMPDIR/out"
	VERSION=$(sed -n 's/^VERSION = //p' "$ROOT/Makefile")
	# (not ARCH: make would take it from the environment and cross-build)
	PKG_ARCH=${ES_CROSS:-$(dpkg --print-architecture)}
	export MAIN="$DEB_OUT/edgestream_${VERSION}_$PKG_ARCH.deb" VERSION PKG_ARCH
	export INFER="$DEB_OUT/edgestream-infer_${VERSION}_$PKG_ARCH.deb"
	# a make of its own, not a part of the make check that runs this
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" deb \
		${ES_CROSS:+ARCH=$ES_CROSS} DEB_OUT="$DEB_OUT" \
		> "$BATS_FILE_TMPDIR/make.out" 2> "$BATS_FILE_TMPDIR/make.err" || true
}

setup() {
	T="$BATS_TEST_TMPDIR"
	command -v dpkg-buildpackage > /dev/null ||
		skip "dpkg-buildpackage is not installed (make deb installs it, as root)"
	[ -z "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] ||
		skip "the packages are built from source: the plain build's test"
}

# The fields $2... of package file $1, a relation a line, versions dropped.
relations() {
	local deb=$1
	shift
	dpkg-deb -f "$deb" "$@" | sed 's/^[A-Za-z]*: //' | tr ',' '\n' |
		sed 's/^ *//; s/ (.*//' | sort
}

@test "make deb builds edgestream and edgestream-infer _VERSION_ARCH.deb, lintian clean" {
	# make deb's only output is the packages' paths; lintian says nothing
	assert_equal "$(cat "$BATS_FILE_TMPDIR/make.out")" "$MAIN
$INFER"
	assert_equal "$(cat "$BATS_FILE_TMPDIR/make.err")" ""
	run dpkg-deb -f "$MAIN" Package Version Architecture
	assert_output "Package: edgestream
Version: $VERSION
Architecture: $PKG_ARCH"
	run dpkg-deb -f "$INFER" Package Version Architecture
	assert_output "Package: edgestream-infer
Version: $VERSION
Architecture: $PKG_ARCH"
}

@test "edgestream's files: every program but es-infer, man pages, units, the pipeline runner" {
	run sh -c "dpkg-deb -c '$MAIN' | awk '\$1 !~ /^d/ { print \$1, \$6 }' | sort"
	assert_output "$(files_of edgestream)"
}

@test "edgestream-infer's files: es-infer and its man page" {
	run sh -c "dpkg-deb -c '$INFER' | awk '\$1 !~ /^d/ { print \$1, \$6 }' | sort"
	assert_output "$(files_of edgestream-infer)"
	assert_output --partial "./usr/bin/es-infer"
}

@test "edgestream's Depends comes from dh_shlibdeps: no Arm NN, no C++ runtime" {
	run relations "$MAIN" Depends
	assert_output "libc6
libcsv3
libcurl4
libjansson4
libmodbus5
libmosquitto1
librdkafka1
libsqlite3-0
systemd | systemd-standalone-sysusers | systemd-sysusers
zlib1g"
	run dpkg-deb -f "$MAIN" Suggests
	assert_output "edgestream-infer"
}

@test "edgestream-infer's Depends: dh_shlibdeps' (Arm NN, libstdc++) and Arm NN's reference backend, which it loads at run time" {
	run relations "$INFER" Depends
	assert_output "libarmnn-cpuref-backend22
libarmnn22
libarmnntfliteparser22
libc6
libcsv3
libgcc-s1
libjansson4
libstdc++6"
	# the NEON backend where Debian builds it (arm64)
	run dpkg-deb -f "$INFER" Recommends
	if [ "$PKG_ARCH" = arm64 ]; then
		assert_output "edgestream (= $VERSION), libarmnn-cpuacc-backend22"
	else
		assert_output "edgestream (= $VERSION)"
	fi
}

@test "both install into a scratch root with dpkg --root (its user made there), a program of each runs from it, both purge" {
	local r=$T/root
	mkdir -p "$r/etc" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
	: > "$r/var/lib/dpkg/status"
	[ "$PKG_ARCH" = "$(dpkg --print-architecture)" ] || dpkg --root="$r" --add-architecture "$PKG_ARCH"
	# the libraries are the machine's, not the root's (--force-depends); the
	# maintainer scripts run outside it, on it (DPKG_ROOT)
	run dpkg --root="$r" --force-not-root --force-depends --force-script-chrootless \
		-i "$MAIN" "$INFER"
	assert_success
	run grep '^edgestream:' "$r/etc/passwd"
	assert_output --regexp '^edgestream:x:[0-9]+:[0-9]+:edgestream pipelines:/var/lib/edgestream:/usr/sbin/nologin$'
	# the cross-built programs run under qemu-user (binfmt_misc), with the
	# target's libraries
	[ -z "${ES_CROSS:-}" ] || export QEMU_LD_PREFIX=/usr/$(dpkg-architecture -a"$PKG_ARCH" -qDEB_HOST_GNU_TYPE 2> /dev/null)
	run --separate-stderr sh -c "printf '%s\n' '{\"v\":1}' '{\"v\":5}' |
		'$r/usr/bin/es-filter' 'v > 2' --stats"
	assert_success
	assert_output '{"v":5}'
	assert_stderr '{"program":"es-filter","in":2,"out":1,"bad":0,"late":0,"dropped":0,"filtered":1}'
	# tests/fixtures/tiny-model.json: one split at 10, leaves 1.5 and 2.5
	run --separate-stderr sh -c "printf '%s\n' '{\"value\":5}' '{\"value\":15}' |
		'$r/usr/bin/es-infer' --model '$FIXTURES/tiny-model.json' -f value"
	assert_success
	assert_output '{"value":5,"score":1.5}
{"value":15,"score":2.5}'
	run "$r/usr/bin/es-window" --version
	assert_output "es-window (edgestream) $VERSION"
	run dpkg --root="$r" --force-not-root --force-depends --force-script-chrootless \
		--purge edgestream-infer edgestream
	assert_success
	# left: dpkg's own files, and the user (Debian keeps a package's users)
	# with systemd-sysusers' lock file
	run sh -c "cd '$r' && find . -path ./var/lib/dpkg -prune -o ! -type d -print | sort"
	assert_output "./etc/.pwd.lock
./etc/group
./etc/gshadow
./etc/passwd
./etc/shadow"
}

@test "the programs are stripped (the debug symbols are the -dbgsym packages')" {
	dpkg -x "$MAIN" "$T/root"
	dpkg -x "$INFER" "$T/root"
	run sh -c "file -b '$T/root/usr/bin/'es-* | grep -c ', stripped\$'"
	assert_output "$(ls "$ROOT"/cmd/es-*.c | wc -l)"
}

@test "the packages' version is the Makefile's (debian/changelog agrees)" {
	run sed -n '1s/^edgestream (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog"
	assert_output "$VERSION"
}
