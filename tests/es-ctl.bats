#!/usr/bin/env bats
# es-ctl: configuration over MQTT, checked by the program, written
# atomically, reloaded by SIGHUP; the outcome published. Against mosquitto.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
bats_require_minimum_version 1.5.0
load mqtt_helper

# start_ctl: es-ctl for gw-1 on $T/etc, and a subscriber to its results.
start_ctl() {
	mkdir -p "$T/etc"
	bg "$T/results" "$T/res.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t fleet/gw-1/config-result
	wait_subscribed fleet/gw-1/config-result
	bg "$T/ctl.out" "$T/ctl.err" es-ctl --id gw-1 -h 127.0.0.1 -p "$PORT" --dir "$T/etc" "$@"
	CTL=$BG
	wait_subscribed 'fleet/gw-1/config/#'
}

# send NAME TEXT: a configuration message for NAME.
send() {
	printf '%s' "$2" | mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "fleet/gw-1/config/$1" -s
}

await_file_has() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.05
	done
	fail "$1 lacks '$2': $(cat "$1" 2> /dev/null)"
}

@test "es-ctl: a new threshold over MQTT: before it the old one filters, after it the new; none lost; a bad one is rejected and the pipeline runs on" {
	skip_if_slow
	broker_start
	start_ctl
	printf 'expr = value > 40\n' > "$T/etc/es-filter.conf"
	mkfifo "$T/fifo"
	es-filter --config "$T/etc/es-filter.conf" < "$T/fifo" > "$T/out" 2> "$T/filter.err" &
	local filter=$!
	echo "$filter" >> "$T/bg.pids"
	echo "$filter" > "$T/etc/es-filter.pid"
	exec {W}> "$T/fifo"
	printf '{"seq":1,"value":41}\n{"seq":2,"value":39}\n' >&"$W"
	wait_lines "$T/out" 1
	send es-filter $'# lower threshold\nexpr = value > 38\n'
	await_file_has "$T/filter.err" "reloaded: value > 38"
	printf '{"seq":3,"value":39}\n{"seq":4,"value":37}\n' >&"$W"
	wait_lines "$T/out" 2
	send es-filter $'expr = value >>> 1\n'
	wait_lines "$T/results" 2
	printf '{"seq":5,"value":38.5}\n{"seq":6,"value":30}\n' >&"$W"
	exec {W}>&-
	wait "$filter"
	run cat "$T/out"
	assert_output '{"seq":1,"value":41}
{"seq":3,"value":39}
{"seq":5,"value":38.5}'
	run jq -c '[.id, .name, .result, .detail, .error]' "$T/results"
	assert_output "[\"gw-1\",\"es-filter\",\"applied\",\"signalled pid $filter\",null]
[\"gw-1\",\"es-filter\",\"rejected\",null,\"es-filter: syntax error at column 8: unexpected '>'\"]"
	# the file on disk is the last good one; no temporary is left
	assert_file_is "$T/etc/es-filter.conf" <<< $'# lower threshold\nexpr = value > 38'
	run ls -A "$T/etc"
	assert_output $'es-filter.conf\nes-filter.pid'
}

@test "es-ctl: a name that is not a program, a payload with NUL bytes: rejected; no pid file: applied, nothing signalled; -C" {
	broker_start
	start_ctl -C 3	# --count: three messages
	send 'rm -rf' 'expr = true'
	printf 'expr = true\0' | mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/config/es-filter -s
	send es-filter.fever 'expr = value > 37.5'
	wait_status "$CTL"
	assert_equal "$status" 0
	run jq -c '[.name, .result, .detail, .error]' "$T/ctl.out"
	assert_output '["rm -rf","rejected",null,"not a program name (es-NAME or es-NAME.INSTANCE)"]
["es-filter","rejected",null,"not a configuration file (NUL bytes, or over 256 KiB)"]
["es-filter.fever","applied","no es-filter.fever.pid: nothing running to reload",null]'
	printf 'expr = value > 37.5' | assert_file_is "$T/etc/es-filter.fever.conf"
}

@test "es-ctl: a program that cannot check: rejected with why" {
	broker_start
	start_ctl -C 1
	send es-no-such-program 'x = 1'
	wait_status "$CTL"
	run jq -r '.error' "$T/ctl.out"
	assert_output "cannot run es-no-such-program: No such file or directory"
	[ ! -e "$T/etc/es-no-such-program.conf" ]
	[ ! -e "$T/etc/.es-no-such-program.conf.new" ]
}

@test "es-ctl: usage errors name the option, exit 2; a --dir that is not one, exit 1" {
	run --separate-stderr es-ctl --dir "$T"
	assert_failure 2
	assert_stderr "es-ctl: --id is needed: the gateway's name
Try 'es-ctl --help' for more information."
	run --separate-stderr es-ctl --id a
	assert_failure 2
	assert_stderr "es-ctl: --dir is needed: where the configuration files are
Try 'es-ctl --help' for more information."
	run --separate-stderr es-ctl --id a --dir "$T" -t 'fleet/{id}/config'
	assert_failure 2
	assert_stderr "es-ctl: invalid topic 'fleet/a/config' for -t/--topic: a filter ending in /# (the last level names the program)
Try 'es-ctl --help' for more information."
	run --separate-stderr es-ctl --id a --dir "$T" --result-topic 'x/#'
	assert_failure 2
	run --separate-stderr es-ctl --id a --dir "$T/none"
	assert_failure 1
	assert_stderr "es-ctl: --dir $T/none: No such file or directory"
}

@test "es-ctl: every long option is in --help, in man/es-ctl.1 and in this file" {
	local opts name missing="" man="$BATS_TEST_DIRNAME/../man/es-ctl.1"
	opts=$( (long_options_of es-ctl; sed -n 's/.*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1/p' \
		"$BATS_TEST_DIRNAME/../lib/mqtt.h") | sort -u)
	run es-ctl --help
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
	done
	for name in id dir topic result-topic count; do
		grep -qE -- "--$name([^a-z-]|\$)" "$BATS_TEST_FILENAME" || missing="$missing test:--$name"
	done
	[ -z "$missing" ] || fail "not mentioned:$missing"
	run es-ctl --version
	assert_output "es-ctl (edgestream) 0.1.0"
	run --separate-stderr groff -man -ww -Tutf8 "$man"
	assert_success
	assert_stderr ""
}
