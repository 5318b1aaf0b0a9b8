#!/usr/bin/env bats
# --config FILE (every program: options from a file, after the command
# line's) and es-filter's reload of it: SIGHUP, --watch-config, --check.
bats_require_minimum_version 1.5.0
load test_helper

@test "--config: the options of a file, one a line, comments and blank lines; the same output as on the command line" {
	printf '# ten-second windows\ntumbling = 10s\n\nagg=count,max(value)\n  group-by = device  \n' > "$T/w.conf"
	run_out es-window --config "$T/w.conf" "$BATS_TEST_DIRNAME/../examples/data/sensors.ndjson"
	[ "$status" -eq 0 ]
	es-window --tumbling 10s -a 'count,max(value)' -g device \
		"$BATS_TEST_DIRNAME/../examples/data/sensors.ndjson" > "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	[ -s "$T/exp" ]
}

@test "--config: a flag as a bare name; the file wins over the command line" {
	printf '{"v":1}\n{"v":5}\n' > "$T/in"
	printf 'expr = v > 2\ninvert\n' > "$T/f.conf"
	run es-filter --config "$T/f.conf" --expr 'v > 100' "$T/in"
	assert_success
	assert_output '{"v":1}'
	# --config=FILE too; every operand is a FILE when --expr is given
	run es-filter --config="$T/f.conf" "$T/in" "$T/in"
	assert_output '{"v":1}
{"v":1}'
}

@test "--config: a bad line, a missing file, another --config inside: usage errors naming file and line" {
	printf 'tumbling = 10s\nthis is not an option\n' > "$T/bad.conf"
	run --separate-stderr es-window --config "$T/bad.conf"
	assert_failure 2
	assert_stderr "es-window: --config $T/bad.conf:2: expected 'name = value' or 'name', with an option's long name
Try 'es-window --help' for more information."
	run --separate-stderr es-cat --config "$T/none.conf"
	assert_failure 2
	assert_stderr "es-cat: --config $T/none.conf: No such file or directory
Try 'es-cat --help' for more information."
	printf 'config = other.conf\n' > "$T/loop.conf"
	run --separate-stderr es-cat --config "$T/loop.conf"
	assert_failure 2
	assert_stderr "es-cat: --config $T/loop.conf:1: a config file cannot name another
Try 'es-cat --help' for more information."
	printf 'no-such-option = 1\n' > "$T/u.conf"
	run --separate-stderr es-cat --config "$T/u.conf"
	assert_failure 2
	assert_stderr "es-cat: unrecognized option '--no-such-option=1'
Try 'es-cat --help' for more information."
}

@test "es-filter --check: a good configuration exits 0 quietly, a bad one 2 with the message; nothing is read" {
	printf 'expr = value > 37.5\n' > "$T/f.conf"
	run --separate-stderr es-filter --config "$T/f.conf" --check "$T/no-such-input"
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'expr = value >\n' > "$T/f.conf"
	run --separate-stderr es-filter --config "$T/f.conf" --check
	assert_failure 2
	assert_stderr "es-filter: syntax error at column 8: unexpected end of expression
  value >
         ^"
	run --separate-stderr es-filter --watch-config true
	assert_failure 2
	assert_stderr "es-filter: --watch-config goes with --config
Try 'es-filter --help' for more information."
}

# A live es-filter on a FIFO whose writer stays open.
start_filter() {
	mkfifo "$T/fifo"
	es-filter "$@" < "$T/fifo" > "$T/out" 2> "$T/err" &
	PID=$!
	exec {W}> "$T/fifo"
}

# await_out N: up to 3 s for $T/out to have N lines.
await_out() {
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(wc -l < "$T/out")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "$T/out has $(wc -l < "$T/out") lines, not $1"
}

await_err() {
	local i
	for ((i = 0; i < 60; i++)); do
		grep -qF -- "$1" "$T/err" && return 0
		sleep 0.05
	done
	fail "stderr lacks '$1': $(cat "$T/err")"
}

@test "es-filter --config: SIGHUP reloads the expression from the next record; none lost; a bad file keeps the running one" {
	skip_if_slow
	printf 'expr = value > 40\n' > "$T/f.conf"
	start_filter --config "$T/f.conf"
	printf '{"value":41}\n{"value":39}\n' >&"$W"
	await_out 1
	printf 'expr = value > 38\n' > "$T/f.conf"
	kill -HUP "$PID"
	await_err "es-filter: --config $T/f.conf reloaded: value > 38"
	printf '{"value":39}\n{"value":37}\n' >&"$W"
	await_out 2
	printf 'expr = value >\n' > "$T/f.conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"value":38.5}\n{"value":20}\n' >&"$W"
	exec {W}>&-
	wait "$PID"
	assert_file_is "$T/out" <<< $'{"value":41}\n{"value":39}\n{"value":38.5}'
	run cat "$T/err"
	assert_output "es-filter: --config $T/f.conf reloaded: value > 38
es-filter: cannot reload --config $T/f.conf: syntax error at column 8: unexpected end of expression; keeping the running configuration"
}

@test "es-filter --watch-config: a changed file is reloaded within a second, on a quiet input; new fields are read" {
	skip_if_slow
	printf 'expr = value > 40\n' > "$T/f.conf"
	start_filter --config "$T/f.conf" --watch-config
	printf '{"value":41,"site":"b"}\n' >&"$W"
	await_out 1
	# a field the first expression did not name; the file replaced whole
	printf 'expr = site == "a"\ninvert\n' > "$T/new.conf"
	touch -d '1 minute ago' "$T/new.conf"
	mv "$T/new.conf" "$T/f.conf"
	await_err "reloaded: -v site == \"a\""
	printf '{"value":1,"site":"a"}\n{"value":2,"site":"b"}\n' >&"$W"
	exec {W}>&-
	wait "$PID"
	assert_file_is "$T/out" <<< $'{"value":41,"site":"b"}\n{"value":2,"site":"b"}'
}
