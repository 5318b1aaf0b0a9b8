#!/usr/bin/env bats
# --config FILE (every program: options from a file, after the command
# line's), every program's --check, and es-filter's reload of it: SIGHUP,
# --watch-config.
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

# start_live, await_out, await_err: test_helper.bash.

teardown() {
	live_teardown
}

@test "es-filter --config: SIGHUP reloads the expression from the next record; none lost; a bad file keeps the running one" {
	skip_if_slow
	printf 'expr = value > 40\n' > "$T/f.conf"
	start_live es-filter --config "$T/f.conf"
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
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"value":41}\n{"value":39}\n{"value":38.5}'
	run cat "$T/err"
	assert_output "es-filter: --config $T/f.conf reloaded: value > 38
es-filter: cannot reload --config $T/f.conf: syntax error at column 8: unexpected end of expression; keeping the running configuration"
}

@test "es-filter --watch-config: a changed file is reloaded within a second, on a quiet input; new fields are read" {
	skip_if_slow
	printf 'expr = value > 40\n' > "$T/f.conf"
	start_live es-filter --config "$T/f.conf" --watch-config
	printf '{"value":41,"site":"b"}\n' >&"$W"
	await_out 1
	# a field the first expression did not name; the file replaced whole
	printf 'expr = site == "a"\ninvert\n' > "$T/new.conf"
	touch -d '1 minute ago' "$T/new.conf"
	mv "$T/new.conf" "$T/f.conf"
	await_err "reloaded: -v site == \"a\""
	printf '{"value":1,"site":"a"}\n{"value":2,"site":"b"}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"value":41,"site":"b"}\n{"value":2,"site":"b"}'
}

# A minimal good command line of each program (its options only; the
# brokers named are closed ports, so a program that connected would fail).
check_args_of() {
	case $1 in
	es-cat)		ARGS=() ;;
	es-filter)	ARGS=('value > 1') ;;
	es-window)	ARGS=(--tumbling 10s -a count) ;;
	es-join)	ARGS=(--table "$T/table.csv" --on device) ;;
	es-map)		ARGS=('x = 1') ;;
	es-dedup)	ARGS=(--key device) ;;
	es-deadband)	ARGS=(--key device --field value --abs 1) ;;
	es-detect)	ARGS=(--key device --field value --zscore 3 --window 10) ;;
	es-mqtt-pub)	ARGS=(-h 127.0.0.1 -p 1 -t x) ;;
	es-mqtt-sub)	ARGS=(-h 127.0.0.1 -p 1 -t x) ;;
	es-kafka-pub)	ARGS=(-b 127.0.0.1:1 -t x) ;;
	es-http-pub)	ARGS=(http://127.0.0.1:1/x) ;;
	es-modbus)	ARGS=(--tcp 127.0.0.1:1 --point x=hr:0:uint16) ;;
	es-archive)	ARGS=(--dir "$T/archive") ;;
	es-infer)	ARGS=(--model "$BATS_TEST_DIRNAME/fixtures/tiny-model.json") ;;
	es-heartbeat)	ARGS=(--id g -h 127.0.0.1 -p 1) ;;
	es-ctl)		ARGS=(--id g -h 127.0.0.1 -p 1 --dir "$T/ctl") ;;
	es-replay)	ARGS=(--id g -h 127.0.0.1 -p 1 --dir "$T/replay") ;;
	*)		return 1 ;;
	esac
}

@test "every program: --check with a good configuration exits 0 at once, reading, writing and connecting to nothing; a bad one exits 2 with why" {
	local src p missing=""
	printf 'device,site\ngw-1,a\n' > "$T/table.csv"
	mkdir "$T/ctl"
	: > "$T/good.conf"
	printf 'stats-every = 0s\n' > "$T/bad.conf"
	mkfifo "$T/fifo"
	exec {Q}<> "$T/fifo"	# open, never written: a read would block (30 s:
				# long only when it fails, or under valgrind)
	for src in "$BATS_TEST_DIRNAME"/../cmd/es-*.c; do
		p=$(basename "$src" .c)
		check_args_of "$p" || { missing="$missing $p"; continue; }
		threads_unemulated "$p" && continue
		run --separate-stderr timeout 30 "$p" "${ARGS[@]}" --config "$T/good.conf" --check <&$Q
		[ "$status" -eq 0 ] || fail "$p --check: status $status: $stderr"
		# es-infer's --check says what the model takes and gives (es-infer(1))
		if [ "$p" = es-infer ]; then
			[ "$output" = "$(printf '%s\n' 'model: xgboost 1.7.4 gbtree, 1 trees, reg:squarederror' \
				'input 0: value' 'output: score (a number)')" ] || fail "$p --check printed: $output"
			output=""
		fi
		[ -z "$output$stderr" ] || fail "$p --check printed: $output$stderr"
		run --separate-stderr timeout 30 "$p" "${ARGS[@]}" --config "$T/bad.conf" --check <&$Q
		[ "$status" -eq 2 ] || fail "$p --check of a bad file: status $status"
		[ "${stderr%%$'\n'*}" = "$p: invalid duration '0s' for --stats-every: must be above 0" ] ||
			fail "$p: $stderr"
	done
	exec {Q}<&-
	[ -z "$missing" ] || fail "no entry in check_args_of:$missing"
	[ -z "$(ls "$T/ctl")" ] || fail "es-ctl --check wrote: $(ls "$T/ctl")"
}
