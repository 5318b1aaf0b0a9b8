#!/usr/bin/env bats
# The build and set-up: make install, the package check, and that every
# option of every program is in its --help and in its man page; SIGHUP.
bats_require_minimum_version 1.5.0
load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

@test "make install puts programs and man pages under DESTDIR/PREFIX" {
	run make -s -C "$ROOT" install DESTDIR="$T/dest" PREFIX=/opt/es
	assert_success
	run sh -c "cd '$T/dest' && find . -type f | sort"
	# every program in cmd/ with its man page, and the overview
	local p expected=""
	for p in "$ROOT"/cmd/es-*.c; do
		p=$(basename "$p" .c)
		expected="$expected./opt/es/bin/$p\n./opt/es/share/man/man1/$p.1\n"
	done
	expected="$expected./opt/es/share/man/man7/edgestream.7"
	assert_output "$(printf "$expected" | sort)"
	run "$T/dest/opt/es/bin/es-cat" --version
	assert_output "es-cat (edgestream) 0.1.0"
}

@test "the package check names what is missing when not root" {
	command -v setpriv > /dev/null || skip "setpriv not installed"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		env PKGS="coreutils no-such-package-es another-missing-es" \
		sh "$ROOT/tests/deps.sh"
	assert_failure 1
	assert_equal "$stderr" "$(printf '%s\n' \
		'edgestream: missing Debian packages: no-such-package-es another-missing-es' \
		'edgestream: install them with: sudo apt-get install no-such-package-es another-missing-es')"
}

@test "the package check is quiet when everything is there" {
	run --separate-stderr env PKGS="coreutils" sh "$ROOT/tests/deps.sh"
	assert_success
	assert_equal "$stderr" ""
}

# Every program: the names of cmd/es-*.c.
programs() {
	local c
	for c in "$ROOT"/cmd/es-*.c; do
		basename "$c" .c
	done
}

# Long options as getopt_long knows them: from the program's --help.
long_options() {
	"$1" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u
}

@test "every option in --help is in the man page, and the other way round" {
	local p opt
	for p in $(programs); do
		for opt in $(long_options "$p"); do
			grep -qF -- "${opt//-/\\-}" "$ROOT/man/$p.1" ||
				fail "$p: $opt is in --help but not in man/$p.1"
		done
		for opt in $(sed 's/\\-/-/g' "$ROOT/man/$p.1" |
			     grep -oE -- '^\.[A-Z]+ .*--[a-z][a-z-]+' |
			     grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			"$p" --help | grep -qF -- "$opt" ||
				fail "$p: $opt is in man/$p.1 but not in --help"
		done
	done
}

@test "--help names every long option getopt accepts" {
	local p opt src
	for p in $(programs); do
		src="$ROOT/cmd/$p.c"
		for opt in $(grep -ohE '^\s*\{"[a-z-]+"' "$src" "$ROOT/lib/opts.h" |
			     grep -oE '[a-z-]+'); do
			"$p" --help | grep -qF -- "--$opt" ||
				fail "$p: --$opt is accepted but not in --help"
		done
	done
}

@test "SIGHUP reopens the dead-letter file (logrotate moved it)" {
	skip_if_slow	# valgrind delivers the signal when it gets round to it
	mkfifo "$T/in"
	{ echo 'bad1'; sleep 1; echo 'bad2'; echo '{"ok":1}'; } > "$T/in" &
	es-cat -i ndjson --dead-letter "$T/dead" < "$T/in" > "$T/out" 2> "$T/err" &
	local pid=$! i
	for i in $(seq 1 40); do
		[ -s "$T/dead" ] && break
		sleep 0.05
	done
	assert_file_is "$T/dead" <<< "bad1"
	mv "$T/dead" "$T/dead.1"
	kill -HUP "$pid"
	wait "$pid"
	assert_equal "$(cat "$T/dead.1")" "bad1"
	assert_equal "$(cat "$T/dead")" "bad2"
	assert_equal "$(cat "$T/out")" '{"ok":1}'
}
