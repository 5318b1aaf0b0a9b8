#!/usr/bin/env bats
# --stats-file FILE and --stats-every D, common to every program: the
# counters kept in a file, replaced atomically, also while input is quiet.
bats_require_minimum_version 1.5.0
load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

# The arguments that make each program read every record (the MQTT
# programs, which need a broker, are tested in their own files).
args_of() {
	case $1 in
	es-cat) ;;
	es-filter) echo "true" ;;
	es-window) echo "--count 1 -a count" ;;
	es-join) echo "--table $T/table.csv --on device --type left" ;;
	es-map) echo "x = 1" ;;
	es-dedup) echo "--key seq" ;;
	es-deadband) echo "-k device --abs 0.5" ;;
	es-detect) echo "-k device --zscore 3 --window 5" ;;
	es-infer) echo "--model $BATS_TEST_DIRNAME/fixtures/tiny-model.json -f value" ;;
	es-archive) echo "--dir $T/archive" ;;
	es-mqtt-* | es-heartbeat | es-ctl | es-replay | es-kafka-pub | es-http-pub | es-modbus) echo "MQTT" ;;
	*) echo "NONE" ;;
	esac
}

records() {
	printf '{"ts":1700000000000,"device":"a","seq":1,"value":1}\n'
	printf '{"ts":1700000001000,"device":"a","seq":2,"value":2}\n'
	printf '{"ts":1700000002500,"device":"b","seq":3,"value":3}\n'
}

@test "--stats-file: every program writes its counters, pid, times and no temporary file" {
	local c p args
	printf 'device,room\na,hall\n' > "$T/table.csv"
	records > "$T/in"
	for c in "$ROOT"/cmd/es-*.c; do
		p=$(basename "$c" .c)
		args=$(args_of "$p")
		[ "$args" = NONE ] && fail "$p: no arguments in args_of: add them"
		[ "$args" = MQTT ] && continue
		local -a argv
		read -ra argv <<< "$args"
		[ "$p" = es-map ] && argv=("x = 1")
		run_out "$p" "${argv[@]}" --stats-file "$T/$p.json" "$T/in"
		[ "$status" -eq 0 ] || fail "$p: exit $status: $stderr"
		run jq -c "[.program, .pid > 1, .in, (.started | test(\"^20[0-9-]+T[0-9:.]+Z$\")),
			(.updated[:19] >= .started[:19]), (.last_output | type)]" "$T/$p.json"
		assert_output "[\"$p\",true,3,true,true,\"string\"]"
		run ls "$T"
		refute_output --partial ".tmp."
	done
}

@test "--stats-file: es-window notes the event time of the last record; out and state counters" {
	records | es-window --count 2 -a count --stats-file "$T/w.json" > /dev/null
	run jq -c '[.in, .out, .groups, .last_event_time]' "$T/w.json"
	assert_output '[3,2,1,"2023-11-14T22:13:22.500Z"]'
}

@test "--stats-file --stats-every: rewritten while the input is quiet, at exit too" {
	skip_if_slow
	mkfifo "$T/fifo"
	es-filter true --stats-file "$T/f.json" --stats-every 200ms < "$T/fifo" > "$T/out" &
	local pid=$!
	exec {W}> "$T/fifo"
	printf '{"a":1}\n' >&"$W"
	sleep 0.5
	local first second
	first=$(jq -r .updated "$T/f.json")
	sleep 0.5
	second=$(jq -r .updated "$T/f.json")
	[[ "$second" > "$first" ]] || fail "not rewritten while quiet: $first then $second"
	run jq -c '[.in, .out, (.last_output | type)]' "$T/f.json"
	assert_output '[1,1,"string"]'
	printf '{"a":2}\n' >&"$W"
	exec {W}>&-
	wait "$pid"
	run jq -c '[.in, .out]' "$T/f.json"
	assert_output '[2,2]'
}

@test "--stats-file before any output: last_output and last_event_time are null" {
	: | es-window --count 1 --stats-file "$T/e.json"
	run jq -c '[.in, .last_event_time, .last_output]' "$T/e.json"
	assert_output '[0,null,null]'
}

@test "--stats-file that cannot be written: said once, the records still flow, exit 1 at the end" {
	run --separate-stderr es-filter true --stats-file "$T/no/such/dir/s.json" --stats-every 1ms <<< '{"a":1}'
	assert_failure 1
	assert_output '{"a":1}'
	assert_stderr "es-filter: cannot write the stats file $T/no/such/dir/s.json: No such file or directory (further failures are not said)"
}

@test "--stats-every without --stats-file, or a bad duration: usage errors, exit 2" {
	run --separate-stderr es-cat --stats-every 5s
	assert_failure 2
	assert_stderr "es-cat: --stats-every goes with --stats-file
Try 'es-cat --help' for more information."
	run --separate-stderr es-cat --stats-file "$T/s.json" --stats-every 0s
	assert_failure 2
	assert_stderr "es-cat: invalid duration '0s' for --stats-every: must be above 0
Try 'es-cat --help' for more information."
}
