#!/usr/bin/env bats
# es-ctl: configuration over MQTT, checked by the program, written
# atomically, reloaded by SIGHUP; the outcome published. Against mosquitto.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
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

# ---- es-ctl's own --config: --check and reloads ----

@test "es-ctl --check: good options exit 0 at once with no broker, nothing written; bad ones exit 2" {
	mkdir "$T/etc"
	printf 'id = gw-1\ndir = %s\nhost = 127.0.0.1\nport = %s\n' "$T/etc" "$PORT" > "$T/ctl.conf"
	run --separate-stderr timeout 30 es-ctl --config "$T/ctl.conf" --check
	assert_success
	assert_output ''
	assert_stderr ''
	run ls -A "$T/etc"
	assert_output ''
	printf 'id = gw-1\ndir = %s\ntopic = fleet/{id}/config\n' "$T/etc" > "$T/ctl.conf"
	run --separate-stderr timeout 30 es-ctl --config "$T/ctl.conf" --check
	assert_failure 2
	assert_stderr "es-ctl: invalid topic 'fleet/gw-1/config' for -t/--topic: a filter ending in /# (the last level names the program)
Try 'es-ctl --help' for more information."
}

@test "es-ctl --config: SIGHUP moves it to a new topic, result topic and --dir from the next message; a bad file is refused" {
	broker_start
	mkdir "$T/etc" "$T/etc2"
	printf 'id = gw-1\ndir = %s\nhost = 127.0.0.1\nport = %s\n' "$T/etc" "$PORT" > "$T/ctl.conf"
	bg "$T/results" "$T/res.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" \
		-t fleet/gw-1/config-result -t site/gw-1/result -v -C 2 -W 20
	local sub=$BG
	wait_subscribed site/gw-1/result
	bg "$T/ctl.out" "$T/ctl.err" es-ctl --config "$T/ctl.conf"
	CTL=$BG
	wait_subscribed 'fleet/gw-1/config/#'
	send es-filter.a 'expr = true'
	wait_lines "$T/ctl.out" 1
	printf 'id = gw-1\ndir = %s\ntopic = site/{id}/cfg/#\nresult-topic = site/{id}/result\nhost = 127.0.0.1\nport = %s\n' \
		"$T/etc2" "$PORT" > "$T/ctl.conf"
	kill -HUP "$CTL"
	wait_subscribed 'site/gw-1/cfg/#'
	send es-filter.b 'expr = true'	# the old topic: no longer heard
	printf 'expr = false' | mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t site/gw-1/cfg/es-filter.c -s
	wait_lines "$T/ctl.out" 2
	printf 'id = gw-1\ndir = %s\n' "$T/none" > "$T/ctl.conf"
	kill -HUP "$CTL"
	await_file_has "$T/ctl.err" "keeping the running configuration"
	kill "$CTL"
	wait_status "$CTL"
	assert_equal "$status" 0
	wait_status "$sub"
	run jq -c '[.name, .result, .detail]' "$T/ctl.out"
	assert_output '["es-filter.a","applied","no es-filter.a.pid: nothing running to reload"]
["es-filter.c","applied","no es-filter.c.pid: nothing running to reload"]'
	run cut -d' ' -f1 "$T/results"
	assert_output 'fleet/gw-1/config-result
site/gw-1/result'
	run ls -A "$T/etc" "$T/etc2"
	assert_output "$T/etc:
es-filter.a.conf

$T/etc2:
es-filter.c.conf"
	assert_file_is "$T/ctl.err" <<-EOF
	es-ctl: --config $T/ctl.conf reloaded: --dir $T/etc2 -t site/gw-1/cfg/# --result-topic site/gw-1/result
	es-ctl: cannot reload --config $T/ctl.conf: --dir $T/none: No such file or directory; keeping the running configuration
	EOF
}

@test "es-ctl drives es-mqtt-pub: a new topic over MQTT is checked, written, and applied from the next record" {
	broker_start
	start_ctl
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'out/#' -v -C 4 -W 20
	local sub=$BG
	wait_subscribed 'out/#'
	printf 'topic = out/a\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/etc/es-mqtt-pub.conf"
	mkfifo "$T/fifo"
	es-mqtt-pub --config "$T/etc/es-mqtt-pub.conf" < "$T/fifo" 2> "$T/pub.err" &
	local pub=$!
	echo "$pub" >> "$T/bg.pids"
	echo "$pub" > "$T/etc/es-mqtt-pub.pid"
	exec {W}> "$T/fifo"
	printf '{"seq":1}\n{"seq":2}\n' >&"$W"
	wait_lines "$T/sub" 2
	send es-mqtt-pub "$(printf 'topic = out/b/{seq}\nhost = 127.0.0.1\nport = %s\n' "$PORT")"
	await_file_has "$T/pub.err" "reloaded: -t out/b/{seq} -q 1"
	send es-mqtt-pub 'topic = out/+'
	wait_lines "$T/results" 2
	printf '{"seq":3}\n{"seq":4}\n' >&"$W"
	exec {W}>&-
	wait_status "$pub"
	assert_equal "$status" 0
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	out/a {"seq":1}
	out/a {"seq":2}
	out/b/3 {"seq":3}
	out/b/4 {"seq":4}
	EOF
	run jq -c '[.name, .result, .error]' "$T/results"
	assert_output '["es-mqtt-pub","applied",null]
["es-mqtt-pub","rejected","es-mqtt-pub: -t/--topic: wildcards (+, #) cannot be published to"]'
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
	opts=$(long_options_of es-ctl)
	run es-ctl --help
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
	done
	# (--client-id: es-heartbeat.bats, with es-heartbeat on one broker)
	for name in id client-id dir topic result-topic count; do
		grep -qE -- "--$name([^a-z-]|\$)" "$BATS_TEST_FILENAME" || missing="$missing test:--$name"
	done
	[ -z "$missing" ] || fail "not mentioned:$missing"
	run es-ctl --version
	assert_output "es-ctl (edgestream) 0.1.0"
	run --separate-stderr groff -man -ww -Tutf8 "$man"
	assert_success
	assert_stderr ""
}
