#!/usr/bin/env bats
# es-mqtt-sub against a real mosquitto: payloads as records (JSON objects
# as they came, anything else wrapped, bytes that are not UTF-8 escaped),
# added fields, CSV output, -C and -W, persistent sessions, reconnects,
# flushing per message, options.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load mqtt_helper

ROOT="$BATS_TEST_DIRNAME/.."

sub_bg() {
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" "$@"
	SUB=$BG
}

@test "es-mqtt-sub: JSON objects as they came, other payloads wrapped, bad UTF-8 escaped" {
	broker_start
	sub_bg -t 'm/#' -C 6 -W 5s
	wait_subscribed 'm/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/obj -m '{ "a" : 1 }'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/lines -m "$(printf '{"a":\n  [1,\r\n 2]}')"
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/text -m 'say "hi"'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/array -m '[1,2]'
	printf 'caf\xc3\xa9 \xff\xc3' > "$T/bin"
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/bin -f "$T/bin"
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t m/empty -n
	wait_status "$SUB"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	{ "a" : 1 }
	{"a":   [1,   2]}
	{"topic":"m/text","payload":"say \"hi\""}
	{"topic":"m/array","payload":"[1,2]"}
	{"topic":"m/bin","payload":"café \udcff\udcc3"}
	{"topic":"m/empty","payload":""}
	EOF
	assert_equal "$(cat "$T/sub.err")" ""
}

@test "es-mqtt-sub --topic-field, --arrival-field" {
	broker_start
	sub_bg -t 'a/#' -C 3 -W 5s --topic-field src --arrival-field at
	wait_subscribed 'a/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t a/1 -m '{"v":1}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t a/2 -m '{}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t a/3 -m '42'
	wait_status "$SUB"
	run sed -E 's/"at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z"/"at":T/' "$T/sub"
	assert_output "$(printf '%s\n' \
		'{"v":1,"src":"a/1","at":T}' \
		'{"src":"a/2","at":T}' \
		'{"src":"a/3","payload":"42","at":T}')"
}

@test "es-mqtt-sub -o csv --fields: a header, then a row per message" {
	broker_start
	sub_bg -t 'c/#' -C 3 -W 5s -o csv --fields 'dev,v,topic' --topic-field topic
	wait_subscribed 'c/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t c/1 -m '{"dev":"d 1","v":2.50,"x":0}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t c/2 -m '{"v":"a,b"}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t c/3 -m 'plain'
	wait_status "$SUB"
	assert_file_is "$T/sub" <<-'EOF'
	dev,v,topic
	d 1,2.50,c/1
	,"a,b",c/2
	,,c/3
	EOF
}

@test "es-mqtt-sub -W: ends after D without a message, exit 0" {
	broker_start
	run --separate-stderr es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'none' -W 300ms
	assert_success
	assert_output ''
	assert_stderr ''
}

@test "es-mqtt-sub: each message is written at once (a live pipe sees it)" {
	broker_start
	sub_bg -t 'l/#' -W 5s
	wait_subscribed 'l/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t l/1 -m '{"n":1}'
	wait_lines "$T/sub" 1 2
	assert_file_is "$T/sub" <<< '{"n":1}'
}

@test "es-mqtt-sub --persistent: messages sent while it was away come after it returns" {
	broker_start
	run es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'ps/#' -q 1 --persistent --id ps-1 -W 200ms
	assert_success
	records 1 3 | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'ps/{site}' -q 1
	run --separate-stderr es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'ps/#' -q 1 --persistent --id ps-1 -C 3 -W 5s
	assert_success
	assert_output "$(records 1 3)"
	# --clean: the session is thrown away
	run es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'ps/#' -q 1 --clean --id ps-1 -W 200ms
	assert_success
	records 4 4 | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'ps/{site}' -q 1
	run es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'ps/#' -q 1 --persistent --id ps-1 -W 300ms
	assert_output ''
}

@test "es-mqtt-sub: reconnects by itself when the broker comes back" {
	broker_start
	sub_bg -t 'rc/#' -q 1 --persistent --id rc-sub --reconnect-min 50ms --reconnect-max 200ms \
		-C 2 -W 10s --keepalive 5s
	wait_subscribed 'rc/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t rc/a -q 1 -m '{"n":1}'
	wait_lines "$T/sub" 1
	broker_stop
	: > "$T/broker.log"
	broker_run
	wait_subscribed 'rc/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t rc/b -q 1 -m '{"n":2}'
	wait_status "$SUB"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	{"n":1}
	{"n":2}
	EOF
	assert_equal "$(cat "$T/sub.err")" "$(printf '%s\n' \
		"es-mqtt-sub: broker 127.0.0.1:$PORT: The connection was lost.; reconnecting" \
		"es-mqtt-sub: broker 127.0.0.1:$PORT: connected")"
}

@test "es-mqtt-sub --will-topic: the will is published when es-mqtt-sub is killed" {
	broker_start
	bg "$T/w" "$T/w.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'wt/#' -C 1 -W 5s
	local w=$BG
	wait_subscribed 'wt/#'
	: > "$T/broker.log"
	sub_bg -t 'other' --will-topic wt/sub --will-payload '{"gone":"sub"}' --will-qos 1
	wait_subscribed 'other'
	kill -9 "$SUB"
	wait_status "$w"
	assert_file_is "$T/w" <<< '{"gone":"sub"}'
}

@test "es-mqtt-sub: a broker that never answers the TCP connect does not stop the loop" {
	# a loopback listener whose accept queue is full drops further SYNs,
	# like a dead uplink; a blocking connect would hang for minutes
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(0)
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", int(sys.argv[1])))
    except BlockingIOError: pass
    fill.append(c)
open(sys.argv[2], "w").close()
time.sleep(30)' "$PORT" "$T/ready" &
	echo $! >> "$T/bg.pids"
	local i
	for i in $(seq 1 100); do [ -e "$T/ready" ] && break; sleep 0.02; done
	SECONDS=0
	run --separate-stderr timeout 10 es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t x -W 500ms
	# never connected: a failure, said (not an idle topic)
	[ "$status" -eq 1 ]
	assert_stderr "es-mqtt-sub: never connected to the broker 127.0.0.1:$PORT: nothing received"
	[ "$SECONDS" -le 2 ]
}

@test "es-mqtt-sub: never reached the broker (-p 1 -C 1 -W 2s): exit 1, said; a broker gone after a connection: -W ends it, exit 0" {
	run --separate-stderr es-mqtt-sub -h 127.0.0.1 -p 1 -t x -C 1 -W 500ms
	[ "$status" -eq 1 ]
	assert_output ''
	assert_stderr "es-mqtt-sub: broker 127.0.0.1:1: Connection refused; reconnecting
es-mqtt-sub: never connected to the broker 127.0.0.1:1: nothing received"
	broker_start
	sub_bg -t 'g/#' -W 1s --reconnect-min 50ms --reconnect-max 100ms
	wait_subscribed 'g/#'
	broker_stop
	wait_status "$SUB"
	[ "$status" -eq 0 ]
	# (how the loss is first seen depends on the timing: lost, or refused)
	run grep -cv "^es-mqtt-sub: broker 127.0.0.1:$PORT: .*; reconnecting\$" "$T/sub.err"
	assert_output 0
	grep -q "reconnecting" "$T/sub.err"
}

@test "es-mqtt-sub: every message accounted for: in = out (JSON as it came, anything else wrapped); past -C, counted as dropped and said" {
	broker_start
	sub_bg -t 'acc/#' -C 5 -W 5s --stats
	wait_subscribed 'acc/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t acc/1 -m '{"v":1}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t acc/2 -m '{"v":2'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t acc/3 -m '[1,2]'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t acc/4 -n
	printf '\xff\x00' | mosquitto_pub -p "$PORT" -h 127.0.0.1 -t acc/5 -s
	wait_status "$SUB"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	{"v":1}
	{"topic":"acc/2","payload":"{\"v\":2"}
	{"topic":"acc/3","payload":"[1,2]"}
	{"topic":"acc/4","payload":""}
	{"topic":"acc/5","payload":"\udcff\u0000"}
	EOF
	assert_file_is "$T/sub.err" <<-'EOF'
	{"program":"es-mqtt-sub","in":5,"out":5,"bad":0,"late":0,"dropped":0,"received":5,"reconnects":0}
	EOF
	# messages kept for a persistent session come in one burst; those past
	# -C in the same read are taken from the broker but not written:
	# counted as dropped, said
	sub_bg -t 'burst/#' -q 1 --persistent --id acc-sub -C 1 -W 1s
	wait_subscribed 'burst/#'
	wait_status "$SUB"
	local i
	for i in 1 2 3 4 5; do
		mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -t burst/x -m "{\"n\":$i}"
	done
	sub_bg -t 'burst/#' -q 1 --persistent --id acc-sub -C 1 -W 2s --stats
	wait_status "$SUB"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<< '{"n":1}'
	local st in dropped
	st=$(tail -1 "$T/sub.err")
	in=$(jq .in <<< "$st")
	dropped=$(jq .dropped <<< "$st")
	assert_equal "$(jq .out <<< "$st")" 1
	assert_equal "$((in - 1))" "$dropped"
	if [ "$dropped" -gt 0 ]; then
		assert_equal "$(head -1 "$T/sub.err")" "es-mqtt-sub: $dropped messages received after -C 1 were not written"
	fi
}

@test "es-mqtt-sub: several -t filters, QoS 2, --stats, -V 5" {
	broker_start
	sub_bg -t 'x/1' -t 'y/#' -q 2 -V 5 -C 2 -W 5s --stats
	wait_subscribed 'y/#'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t x/1 -q 2 -m '{"x":1}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t x/2 -q 2 -m '{"x":2}'
	mosquitto_pub -p "$PORT" -h 127.0.0.1 -t y/z -q 2 -m '{"y":1}'
	wait_status "$SUB"
	assert_file_is "$T/sub" <<-'EOF'
	{"x":1}
	{"y":1}
	EOF
	assert_equal "$(cat "$T/sub.err")" \
		'{"program":"es-mqtt-sub","in":2,"out":2,"bad":0,"late":0,"dropped":0,"received":2,"reconnects":0}'
}

@test "es-mqtt-sub: usage errors name the option, exit 2" {
	local hint="Try 'es-mqtt-sub --help' for more information."
	run --separate-stderr es-mqtt-sub
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-sub: missing -t/--topic\n%s' "$hint")"
	run --separate-stderr es-mqtt-sub -t 'a/#/b'
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: invalid topic filter 'a/#/b' for -t/--topic\n%s" "$hint")"
	run --separate-stderr es-mqtt-sub -t a -o csv
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-sub: -o csv needs --fields\n%s' "$hint")"
	run --separate-stderr es-mqtt-sub -t a -C 0
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: invalid argument '0' for -C/--count: expected a positive number\n%s" "$hint")"
	run --separate-stderr es-mqtt-sub -t a --keepalive 1s
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: invalid argument '1s' for --keepalive: expected 5s to 65535s\n%s" "$hint")"
	run --separate-stderr es-mqtt-sub -t a --cert c.pem --key k.pem
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-sub: TLS options need --cafile\n%s' "$hint")"
	run --separate-stderr es-mqtt-sub -t a --will-payload x
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-sub: --will-payload needs --will-topic\n%s' "$hint")"
	run --separate-stderr es-mqtt-sub -t a -p 70000
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: invalid argument '70000' for -p/--port: expected a number from 1 to 65535\n%s" "$hint")"
}

@test "es-mqtt-sub: a password or TLS file that cannot be read, --password-file without -u: usage errors naming it, also under --check" {
	local hint="Try 'es-mqtt-sub --help' for more information."
	run --separate-stderr es-mqtt-sub -t a -u gw1 --password-file "$T/none"
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: --password-file $T/none: No such file or directory\n%s" "$hint")"
	run --separate-stderr es-mqtt-sub -t a --cafile /nonexist.pem --check
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: --cafile /nonexist.pem: No such file or directory\n%s" "$hint")"
	run --separate-stderr es-mqtt-sub -t a --cafile /dev/null --cert "$T/none.crt" --key /dev/null --check
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: --cert $T/none.crt: No such file or directory\n%s" "$hint")"
	echo pw > "$T/pw"
	run --separate-stderr es-mqtt-sub -t a --password-file "$T/pw" --check
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-sub: --password-file needs -u/--username: MQTT sends a password only with a user name\n%s" "$hint")"
}

# ---- --config: --check and reloads ----

# Up to 10 s for a line holding TEXT on $T/sub.err.
await_err() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qF -- "$1" "$T/sub.err" && return 0
		sleep 0.05
	done
	fail "stderr lacks '$1': $(cat "$T/sub.err")"
}

pub() {
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$1" -m "$2"
}

@test "es-mqtt-sub --check: good options exit 0 at once with no broker; bad ones exit 2" {
	printf 'topic = a/#\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	run --separate-stderr timeout 30 es-mqtt-sub --config "$T/s.conf" --check
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'topic = a/#/b\n' > "$T/s.conf"
	run --separate-stderr timeout 30 es-mqtt-sub --config "$T/s.conf" --check
	[ "$status" -eq 2 ]
	assert_stderr "es-mqtt-sub: invalid topic filter 'a/#/b' for -t/--topic
Try 'es-mqtt-sub --help' for more information."
	# what the connection would refuse is found without one
	printf 'topic = a/#\nwill-topic = gw/+/state\n' > "$T/s.conf"
	run --separate-stderr timeout 30 es-mqtt-sub --config "$T/s.conf" --check
	[ "$status" -eq 2 ]
	assert_stderr "es-mqtt-sub: --will-topic 'gw/+/state': Invalid function arguments provided.
Try 'es-mqtt-sub --help' for more information."
}

@test "es-mqtt-sub --config: SIGHUP unsubscribes the old filters and subscribes the new; output options from the next message; a new --id reconnects; a bad file is refused" {
	broker_start
	printf 'topic = s/a\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	bg "$T/sub" "$T/sub.err" es-mqtt-sub --config "$T/s.conf"
	local sub=$BG
	wait_subscribed 's/a'
	pub s/b '{"n":1}'
	pub s/a '{"n":2}'
	wait_lines "$T/sub" 1
	printf 'topic = s/b\ntopic-field = t\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	kill -HUP "$sub"
	await_err "reloaded: -t s/b -q 1"
	wait_subscribed 's/b'
	pub s/a '{"n":3}'
	pub s/b '{"n":4}'
	wait_lines "$T/sub" 2
	printf 'topic = s/c\ntopic = s/b\nid = sub-2\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	kill -HUP "$sub"
	await_err "reloaded: -t s/c -t s/b -q 1; --id changed: connecting to 127.0.0.1:$PORT"
	wait_subscribed 's/c'
	pub s/c '{"n":5}'
	pub s/b 'six'
	wait_lines "$T/sub" 4
	printf 'topic = s/#/x\n' > "$T/s.conf"
	kill -HUP "$sub"
	await_err "keeping the running configuration"
	pub s/b '{"n":7}'
	wait_lines "$T/sub" 5
	kill "$sub"
	wait_status "$sub"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	{"n":2}
	{"n":4,"t":"s/b"}
	{"n":5}
	{"topic":"s/b","payload":"six"}
	{"n":7}
	EOF
	assert_file_is "$T/sub.err" <<-EOF
	es-mqtt-sub: --config $T/s.conf reloaded: -t s/b -q 1
	es-mqtt-sub: --config $T/s.conf reloaded: -t s/c -t s/b -q 1; --id changed: connecting to 127.0.0.1:$PORT
	es-mqtt-sub: cannot reload --config $T/s.conf: invalid topic filter 's/#/x' for -t/--topic; keeping the running configuration
	EOF
}

@test "es-mqtt-sub --watch-config: a changed file applies within a second; -o csv cannot change --fields" {
	broker_start
	printf 'topic = v/a\nfields = n,topic\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	touch -d '1 minute ago' "$T/s.conf"
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -o csv --config "$T/s.conf" --watch-config
	local sub=$BG
	wait_subscribed 'v/a'
	pub v/a '{"n":1}'
	wait_lines "$T/sub" 2
	printf 'topic = v/b\nfields = n,topic\ntopic-field = topic\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	await_err "reloaded: -t v/b -q 1"
	wait_subscribed 'v/b'
	pub v/b '{"n":2}'
	wait_lines "$T/sub" 3
	printf 'topic = v/b\nfields = n\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/s.conf"
	touch -d '1 minute' "$T/s.conf"
	await_err "needs a restart"
	pub v/b '{"n":3}'
	wait_lines "$T/sub" 4
	kill "$sub"
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	n,topic
	1,
	2,v/b
	3,v/b
	EOF
	assert_file_is "$T/sub.err" <<-EOF
	es-mqtt-sub: --config $T/s.conf reloaded: -t v/b -q 1
	es-mqtt-sub: cannot reload --config $T/s.conf: changing --fields needs a restart (the CSV header is written); keeping the running configuration
	EOF
}

@test "es-mqtt-sub --help and the man page name every option, --version" {
	local opt
	for opt in $(cat "$ROOT/cmd/es-mqtt-sub.c" "$ROOT/lib/mqtt.h" "$ROOT/lib/opts.h" |
		     sed -n 's/.*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1/p' | sort -u); do
		es-mqtt-sub --help | grep -qF -- "--$opt" || fail "--$opt not in --help"
		grep -qF -- "\\-\\-${opt//-/\\-}" "$ROOT/man/es-mqtt-sub.1" || fail "--$opt not in the man page"
	done
	run es-mqtt-sub --version
	assert_output "es-mqtt-sub (edgestream) 0.1.0"
}
