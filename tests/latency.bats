#!/usr/bin/env bats
# Live input: a FIFO whose writer (this test's shell, through a file
# descriptor it holds open) writes a record and stays open. The record must
# come out at once, not when the writer closes: output is flushed whenever
# input is momentarily exhausted. Also SIGTERM/SIGINT on a live input, and
# -n on a live input. Every background process is started here, in its own
# process group, and ended in teardown.
bats_require_minimum_version 1.5.0
load test_helper
load live_helper

setup() {
	T="$BATS_TEST_TMPDIR"
	skip_if_slow
	mkfifo "$T/fifo"
	BG=""		# process group leaders started by this test
	W=""		# the FIFO's write end, held by this shell
}

teardown() {
	bg_teardown
}

# start_bg, open_writer, close_writer, await_exp and await_exit:
# live_helper.bash; a program gets 1 s to end.
AWAIT_EXIT_SECONDS=1

@test "latency: es-filter 'value > 1' writes a record from a live FIFO within 1 s" {
	start_bg es-filter 'value > 1'
	open_writer
	printf '{"value":2}\n' >&"$W"
	printf '{"value":2}\n' > "$T/exp"
	await_exp
	kill -0 "$PID" || fail "es-filter ended before its input did"
	# the next ones too; the one filtered out never shows
	printf '{"value":0}\n{"value":3}\n' >&"$W"
	printf '{"value":2}\n{"value":3}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" < "$T/exp"
}

@test "latency: es-cat | es-filter 'value > 1' | es-cat delivers within 1 s" {
	start_bg bash -c "es-cat | es-filter 'value > 1' | es-cat"
	open_writer
	printf '{"value":5,"n":1}\n' >&"$W"
	printf '{"value":5,"n":1}\n' > "$T/exp"
	await_exp
	kill -0 "$PID" || fail "the pipeline ended before its input did"
	printf '{"value":1,"n":2}\n{"value":9,"n":3}\n' >&"$W"
	printf '{"value":5,"n":1}\n{"value":9,"n":3}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
}

@test "latency: CSV through a live pipeline: header and row within 1 s" {
	start_bg bash -c "es-filter 'value > 1' | es-cat -o ndjson"
	open_writer
	printf 'id,value\n1,2\n' >&"$W"
	printf '{"id":1,"value":2}\n' > "$T/exp"
	await_exp
	printf '2,0\n3,4\n' >&"$W"
	printf '{"id":1,"value":2}\n{"id":3,"value":4}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
}

@test "latency: a record split over two writes is written once whole" {
	start_bg es-cat
	open_writer
	printf '{"a":1}\n{"a":' >&"$W"
	printf '{"a":1}\n' > "$T/exp"
	await_exp
	printf '2}\n' >&"$W"
	printf '{"a":1}\n{"a":2}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
}

@test "SIGTERM: es-cat on a FIFO that stays open exits 0 soon, having written what it read" {
	start_bg es-cat
	open_writer
	printf '{"a":1}\n{"a":2}\n' >&"$W"
	printf '{"a":1}\n{"a":2}\n' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" < /dev/null
}

@test "SIGTERM: es-cat --stats still prints its counters" {
	start_bg es-cat --stats
	open_writer
	printf '{"a":1}\n{"a":2}\n' >&"$W"
	printf '{"a":1}\n{"a":2}\n' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<< '{"program":"es-cat","in":2,"out":2,"bad":0,"late":0,"dropped":0}'
}

@test "SIGINT: es-filter on a FIFO that stays open exits 0 soon" {
	start_bg es-filter 'a > 1'
	open_writer
	printf '{"a":1}\n{"a":2}\n' >&"$W"
	printf '{"a":2}\n' > "$T/exp"
	await_exp
	kill -INT "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" < /dev/null
}

@test "SIGTERM before any input: exit 0, nothing written" {
	start_bg es-cat -o csv
	open_writer
	sleep 0.2
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < /dev/null
	assert_file_is "$T/err" < /dev/null
}

@test "es-cat -n 1 on a live FIFO ends after the first record, without waiting for EOF" {
	start_bg es-cat -n 1
	open_writer
	printf '{"a":1}\n' >&"$W"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< '{"a":1}'
	assert_file_is "$T/err" < /dev/null
}

@test "a bad line on a live FIFO reaches stderr and the dead-letter file within 1 s" {
	start_bg es-filter --dead-letter "$T/dead" 'value > 1'
	open_writer
	printf '{"value":2}\n{"value":\n' >&"$W"
	printf '{"value":2}\n' > "$T/exp"
	await_exp
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(cat "$T/dead")" = '{"value":' ] && break
		sleep 0.05
	done
	printf '{"value":\n' | assert_file_is "$T/dead"
	assert_file_is "$T/err" <<< 'es-filter: stdin:2: invalid JSON at column 10: unexpected end of line'
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
}

@test "SIGTERM while input keeps flowing: exit 0 within 1 s, counters printed" {
	yes '{"a":1}' 2> /dev/null | setsid es-filter --stats 'a == 1' > /dev/null 2> "$T/err" 3>&- &
	PID=$!
	BG="$BG $PID"
	sleep 0.3
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	run cat "$T/err"
	assert_output --regexp '^\{"program":"es-filter","in":([0-9]+),"out":([0-9]+),"bad":0,"late":0,"dropped":0,"filtered":0\}$'
	[[ $output =~ \"in\":([0-9]+),\"out\":([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
}

@test "a non-blocking standard input (EAGAIN) is waited on, not an error" {
	run bash -c '{ printf "{\"a\":1}\n"; sleep 0.3; printf "{\"a\":2}\n"; } |
		python3 -c "
import fcntl, os
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execvp(\"es-cat\", [\"es-cat\"])
" 2>&1'
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}')"
}
