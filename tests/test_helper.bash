# Shared set-up for every bats file: the programs under test come first on
# PATH (ES_BIN: the plain or the sanitizer build), bats-assert is loaded,
# and each test gets its own scratch directory.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${ES_BIN:?run the tests with make check}"
PATH="$ES_BIN:$PATH"
FIXTURES="$BATS_TEST_DIRNAME/fixtures"
CONFORMANCE="$BATS_TEST_DIRNAME/../../shared/conformance/JSONTestSuite/test_parsing"

setup() {
	T="$BATS_TEST_TMPDIR"
}

# ---- assertions and runners shared by the bats files ----

# Exact comparison of $stderr as left by `run --separate-stderr`.
assert_stderr() {
	if [ "$stderr" != "$1" ]; then
		batslib_print_kv_single_or_multi 8 'expected' "$1" 'actual' "$stderr" |
			batslib_decorate 'stderr differs' | fail
	fi
}

# Asserts that FILE holds exactly the bytes read from stdin (a missing FILE
# fails). Trailing newlines count, unlike $output.
assert_file_is() {
	local file=$1 exp
	exp=$(mktemp "$BATS_TEST_TMPDIR/expected.XXXXXX")
	cat > "$exp"
	if [ ! -e "$file" ]; then
		fail "file $file does not exist"
	elif ! cmp -s "$exp" "$file"; then
		{ echo "file $file differs from expected (od -c, - expected + actual):"
		  diff <(od -An -c "$exp") <(od -An -c "$file") | head -40; } | fail
	fi
}

# Runs "$@" with stdout to $T/out and stderr to $T/err (stdin as given by
# the caller); sets $status and $stderr. Use when stdout must be compared
# byte for byte (run strips trailing newlines) or is large.
run_out() {
	"$@" > "$T/out" 2> "$T/err" && status=0 || status=$?
	stderr=$(cat "$T/err")
}

# Timing tests make no sense under valgrind (make check-valgrind).
skip_if_slow() {
	if [ -n "${ES_VALGRIND:-}" ]; then
		skip "timing test under valgrind"
	fi
}

# Under qemu-user (ES_CROSS: the cross-built programs run emulated), a
# TensorFlow Lite model cannot be loaded: the loader tries each file in a
# forked child, and fork() never returns under this machine's qemu-user
# 7.2 (a ten-line fork test hangs too). A test that loads one skips there.
skip_tflite_under_qemu() {
	[ -z "${ES_CROSS:-}" ] ||
		skip "TensorFlow Lite under qemu-user: the loader's fork() hangs there"
}

# The long option names a program's source declares ({"name", ...argument}
# in its longopts table, in lib/opts.h and in the option tables of the lib
# headers it includes: lib/mqtt.h, lib/publish.h), one a line. An entry a
# header defines as a macro (lib/optgroup.h's OPTGROUP_KEY(help)) is the
# program's where its source uses the macro.
long_options_of() {
	local src="$BATS_TEST_DIRNAME/../cmd/$1.c" lib="$BATS_TEST_DIRNAME/../lib"
	local files m name
	# the headers it includes, and their .c files: options as data
	# (lib/publish.c's pub_opts_table) are defined there
	files=$(sed -n 's|^#include "\([a-z]*\)\.h"|'"$lib"'/\1.h '"$lib"'/\1.c|p' "$src" |
		tr ' ' '\n' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
	{
		cat "$src" "$lib/opts.h" $files | grep -v '^#define' |
			sed -n 's/.*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1/p'
		cat "$lib/opts.h" $files |
			sed -n 's/^#define \([A-Z_]*\).*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1 \2/p' |
			while read -r m name; do
				! grep -qw -- "$m" "$src" || echo "$name"
			done
	} | sort -u
}

# The first line of getopt's complaint names the program by argv[0], a full
# path under the valgrind wrappers: compare from the basename on.
strip_dir() {
	printf '%s' "${1##*/}"
}

# Unit drivers (tests/unit/*.c) built next to the programs.
UNIT="${ES_UNIT:-$ES_BIN/unit}"

# ---- a live program on a FIFO (the --config reload tests) ----

# start_live PROG ARG...: PROG reading a FIFO whose writer (fd $W) stays
# open, stdout to $T/out, stderr to $T/err; its pid in $PID.
start_live() {
	mkfifo "$T/fifo"
	"$@" < "$T/fifo" > "$T/out" 2> "$T/err" &
	PID=$!
	exec {W}> "$T/fifo"
}

# finish_live: closes the input and waits for the program; sets $status.
finish_live() {
	if [ -n "${W:-}" ]; then
		exec {W}>&-
		W=""
	fi
	wait "$PID" && status=0 || status=$?
	PID=""
}

# await_out N: up to 10 s for $T/out to have N lines.
await_out() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(wc -l < "$T/out")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "$T/out has $(wc -l < "$T/out") lines, not $1"
}

# await_err TEXT [SECONDS]: up to SECONDS (default 10) for $T/err to hold
# TEXT.
await_err() {
	local limit=${2:-10} i n
	n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 20 }')
	for ((i = 0; i < n; i++)); do
		grep -qF -- "$1" "$T/err" && return 0
		sleep 0.05
	done
	fail "stderr lacks '$1' after $limit s: $(cat "$T/err")"
}

# rewrite_later FILE: FILE replaced at once by standard input, with a
# modification time a minute ahead (--watch-config sees one change, whole).
rewrite_later() {
	cat > "$1.new"
	touch -d "@$(($(date +%s) + 60))" "$1.new"
	mv "$1.new" "$1"
}

# live_teardown: for a teardown, closes the input and stops the program
# start_live started, if a test left them; also sends SIGTERM to each
# process group whose leader a test put in $BG.
live_teardown() {
	local p
	if [ -n "${W:-}" ]; then
		exec {W}>&-
		W=""
	fi
	for p in ${BG:-}; do
		kill -TERM -- "-$p" 2> /dev/null || true
	done
	if [ -n "${PID:-}" ]; then
		kill "$PID" 2> /dev/null || true
	fi
}

# ---- usage checks shared by the programs' bats files ----

# assert_usage_errors PROG CASE...: each CASE is 'ARGS|MESSAGE'; PROG ARGS
# (split on blanks) must exit 2 writing nothing to stdout and exactly
# "PROG: MESSAGE" and the --help hint to stderr.
assert_usage_errors() {
	local prog=$1 c args msg
	shift
	for c in "$@"; do
		args=${c%%|*}
		msg=${c#*|}
		# shellcheck disable=SC2086
		run --separate-stderr "$prog" $args < /dev/null
		[ "$status" -eq 2 ] || fail "$prog $args: status $status, not 2 ($stderr)"
		assert_output ''
		assert_stderr "$(printf '%s: %s\nTry '"'%s --help'"' for more information.' "$prog" "$msg" "$prog")"
	done
}

# assert_long_options_documented PROG NAME...: each NAME is a long option
# in PROG's source, PROG --help exits 0, and every long option of the
# source is in its --help, in man/PROG.1 and in the calling bats file.
assert_long_options_documented() {
	local prog=$1 opts name missing="" man="$BATS_TEST_DIRNAME/../man/$1.1"
	shift
	opts=$(long_options_of "$prog")
	for name in "$@"; do
		grep -qx -- "$name" <<< "$opts" || fail "option --$name not found in the source"
	done
	run "$prog" --help
	assert_success
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
		grep -qE -- "--$name([^a-z-]|\$)" "$BATS_TEST_FILENAME" || missing="$missing test:--$name"
	done
	[ -z "$missing" ] || fail "not mentioned:$missing"
}

# assert_unknown_option PROG [ARG]...: PROG --bogus ARG... says getopt's
# message and the hint on stderr, nothing on stdout, and exits 2.
assert_unknown_option() {
	local prog=$1
	shift
	run --separate-stderr "$prog" --bogus "$@" < /dev/null
	[ "$status" -eq 2 ]
	assert_output ''
	[ "${#stderr_lines[@]}" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "$prog: unrecognized option '--bogus'"
	assert_equal "${stderr_lines[1]}" "Try '$prog --help' for more information."
}

# assert_version PROG: --version says the version on stdout, nothing else.
assert_version() {
	run --separate-stderr "$1" --version
	assert_success
	assert_output "$1 (edgestream) 0.1.0"
	assert_stderr ""
}

# assert_man_clean PROG: man/PROG.1 is clean for groff -man -ww.
assert_man_clean() {
	command -v groff > /dev/null || skip "groff not installed"
	run groff -man -Tutf8 -ww -z "$BATS_TEST_DIRNAME/../man/$1.1"
	assert_success
	assert_output ''
}

# threads_unemulated PROG: true under check-cross (ES_CROSS) for a program
# that starts threads (librdkafka's in es-kafka-pub, the pollers of
# es-modbus). qemu-user 7.2 (Debian 12) on this project's machines cannot
# start a thread: pthread_create crashes under qemu-arm and hangs under
# qemu-aarch64, in a ten-line program too, and SIGTERM does not end the
# hung qemu. So their own files skip (skip_threads_unemulated) and the
# tests that go over every program leave them out there. This is the one
# place that says which programs they are.
threads_unemulated() {
	[ -n "${ES_CROSS:-}" ] || return 1
	case $1 in
	es-kafka-pub | es-modbus) return 0 ;;
	*) return 1 ;;
	esac
}

# skip_threads_unemulated PROG: in setup, each test of PROG's file skipped
# under emulation when PROG starts threads, with the reason (bats 1.8
# cannot skip a whole file from setup_file).
skip_threads_unemulated() {
	threads_unemulated "$1" &&
		skip "$1 starts threads, which qemu-user 7.2 cannot run (threads_unemulated)"
	return 0
}

# rss_bound KIB: a peak RSS bound (GNU time's %M) for the program under
# test. Under check-cross (ES_CROSS) the process measured is qemu-user,
# whose own memory (15 to 19 MiB: its translated code, more for es-infer's
# Arm NN) comes on top.
rss_bound() {
	local extra=0
	[ -z "${ES_CROSS:-}" ] || extra=20480
	echo $(($1 + extra))
}
