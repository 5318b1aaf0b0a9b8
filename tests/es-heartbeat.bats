#!/usr/bin/env bats
# es-heartbeat: a status record every interval, retained; the watched
# --stats-file counters with their age and a stale flag; the will when the
# gateway dies, "offline" when it stops cleanly; against a real mosquitto.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load mqtt_helper

@test "es-heartbeat --every: a status every interval, retained, also on stdout; -C stops it" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t fleet/gw-1/status -C 4
	wait_subscribed fleet/gw-1/status
	run --separate-stderr es-heartbeat --id gw-1 -h 127.0.0.1 -p "$PORT" --every 200ms -C 3 --stats
	assert_success
	# on stdout: three records, seq 0, 1, 2, with every field and its type
	run jq -c '[.id, .state, .seq, (.time | test("^20[0-9-]+T[0-9:.]+Z$")),
		(.uptime_s | type), (.load | length), (.mem_total_kb > 0),
		(.mem_available_kb > 0), .disk_path, (.disk_free_bytes > 0), .watch]' <<< "$output"
	assert_output '["gw-1","online",0,true,"number",3,true,true,"/",true,[]]
["gw-1","online",1,true,"number",3,true,true,"/",true,[]]
["gw-1","online",2,true,"number",3,true,true,"/",true,[]]'
	assert_equal "$(tail -1 <<< "$stderr" | jq -c '[.beats, .published, .missed]')" '[3,3,0]'
	# the subscriber got the three, then the clean stop's "offline"
	wait_lines "$T/sub" 4
	run jq -c '[.id, .state, .seq]' "$T/sub"
	assert_output '["gw-1","online",0]
["gw-1","online",1]
["gw-1","online",2]
["gw-1","offline",null]'
	# retained: a subscriber that comes later gets the last status at once
	run es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t fleet/gw-1/status -C 1 -W 3s
	assert_output '{"id":"gw-1","state":"offline"}'
}

@test "es-heartbeat: the records come every --every" {
	run --separate-stderr es-heartbeat --id gw-1 -h 127.0.0.1 -p 1 --every 300ms -C 3
	assert_success
	run jq -r '.time | sub("Z$"; "") | split("T")[1] | split(":") | (.[1] | tonumber) * 60 + (.[2] | tonumber)' <<< "$output"
	local a b c
	{ read -r a; read -r b; read -r c; } <<< "$output"
	awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
		d1 = b - a; d2 = c - b
		exit !(d1 > 0.25 && d1 < 0.6 && d2 > 0.25 && d2 < 0.6) }' ||
		fail "intervals $a $b $c"
}

@test "es-heartbeat: SIGKILL leaves the broker's will: offline, retained" {
	broker_start
	bg "$T/hb" "$T/hb.err" es-heartbeat --id gw-2 -h 127.0.0.1 -p "$PORT" --every 100ms
	local hb=$BG
	wait_lines "$T/hb" 2
	kill -9 "$hb"
	# the broker saw the connection drop: its will is the retained status now
	local i out=""
	for i in $(seq 50); do
		out=$(es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t fleet/gw-2/status -C 1 -W 2s)
		[ "$out" = '{"id":"gw-2","state":"offline"}' ] && break
		sleep 0.1
	done
	assert_equal "$out" '{"id":"gw-2","state":"offline"}'
}

@test "es-heartbeat --watch: the counters of a live pipeline, fresh; a file not rewritten is stale; a missing one says why" {
	skip_if_slow	# its timings are a live run's, not valgrind's
	mkfifo "$T/fifo"
	es-filter true --stats-file "$T/live.json" --stats-every 100ms < "$T/fifo" > /dev/null &
	echo $! >> "$T/bg.pids"
	exec {W}> "$T/fifo"
	printf '{"a":1}\n{"a":2}\n' >&"$W"
	sleep 0.3
	printf '{"program":"es-window","in":9}\n' > "$T/old.json"
	touch -d '2 minutes ago' "$T/old.json"
	printf 'not json\n' > "$T/bad.json"
	run --separate-stderr es-heartbeat --id gw-3 -h 127.0.0.1 -p 1 -C 1 --every 200ms --stale 1s \
		--watch "$T/live.json" --watch "$T/old.json" --watch "$T/bad.json" --watch "$T/none.json" \
		--disk "$T"
	exec {W}>&-
	assert_success
	run jq -c '.watch[] | [(.file | sub(".*/"; "")), .stale, (.age_s | type), .stats.program, .stats.in, .error]' <<< "$output"
	assert_output '["live.json",false,"number","es-filter",2,null]
["old.json",true,"number","es-window",9,null]
["bad.json",false,"number",null,null,"not a JSON object"]
["none.json",true,"null",null,null,"No such file or directory"]'
	run jq -r '.disk_path' <<< "$(es-heartbeat --id x -h 127.0.0.1 -p 1 -C 1 --every 10ms --disk "$T" 2> /dev/null)"
	assert_output "$T"
}

@test "es-heartbeat -t: {id} in the topic; --qos 0; SIGTERM publishes offline and exits 0" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'site/+/hb' -C 2
	wait_subscribed site/+/hb
	bg "$T/hb" "$T/hb.err" es-heartbeat --id gw-4 -t 'site/{id}/hb' -q 0 \
		-h 127.0.0.1 -p "$PORT" --every 10s
	local hb=$BG
	wait_lines "$T/sub" 1
	kill -TERM "$hb"
	wait_status "$hb"
	assert_equal "$status" 0
	wait_lines "$T/sub" 2
	run jq -c '[.id, .state]' "$T/sub"
	assert_output '["gw-4","online"]
["gw-4","offline"]'
}

# ---- --config: --check and reloads ----

# Up to 10 s for a line holding TEXT on $T/hb.err.
await_err() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qF -- "$1" "$T/hb.err" && return 0
		sleep 0.05
	done
	fail "stderr lacks '$1': $(cat "$T/hb.err")"
}

@test "es-heartbeat and es-ctl with the same --id on one broker: client ids ID-heartbeat and ID-ctl, no one kicked off, no offline will; --client-id overrides" {
	broker_start
	mkdir "$T/etc"
	bg "$T/st" "$T/st.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t fleet/gw-17/status
	local st=$BG
	wait_subscribed fleet/gw-17/status
	bg "$T/hb" "$T/hb.err" es-heartbeat --id gw-17 -h 127.0.0.1 -p "$PORT" --every 100ms --stats
	local hb=$BG
	bg "$T/ctl" "$T/ctl.err" es-ctl --id gw-17 -h 127.0.0.1 -p "$PORT" --dir "$T/etc" --stats
	local ctl=$BG
	wait_subscribed 'fleet/gw-17/config/#'
	# the same client id would have the broker drop one for the other
	# within a second, over and over, and the heartbeat's will say offline
	wait_lines "$T/st" 10
	kill -TERM "$hb" "$ctl"
	wait_status "$hb"
	[ "$status" -eq 0 ]
	wait_status "$ctl"
	[ "$status" -eq 0 ]
	grep -q ' gw-17-ctl 1 fleet/gw-17/config/#$' "$T/broker.log"
	assert_equal "$(jq -c .reconnects "$T/hb.err")" 0
	assert_equal "$(cat "$T/ctl.err")" '{"program":"es-ctl","in":0,"out":0,"bad":0,"late":0,"dropped":0,"applied":0,"rejected":0,"reconnects":0}'
	# one offline: the clean stop's own, last
	wait_lines "$T/st" "$(($(wc -l < "$T/hb") + 1))"
	assert_equal "$(grep -c '"state":"offline"' "$T/st")" 1
	assert_equal "$(tail -1 "$T/st")" '{"id":"gw-17","state":"offline"}'
	# --client-id: the MQTT client id when the default will not do
	bg "$T/ctl2" "$T/ctl2.err" es-ctl --id gw-17 --client-id site-a-ctl -h 127.0.0.1 -p "$PORT" --dir "$T/etc"
	wait_subscribed 'fleet/gw-17/config/#'
	for i in $(seq 100); do
		grep -q ' site-a-ctl 1 fleet/gw-17/config/#$' "$T/broker.log" && break
		sleep 0.05
	done
	grep -q ' site-a-ctl 1 fleet/gw-17/config/#$' "$T/broker.log"
	run --separate-stderr es-heartbeat --id gw-17 --client-id site-a-hb -h 127.0.0.1 -p "$PORT" -C 1
	assert_success
	assert_stderr ''
}

@test "es-heartbeat --check: good options exit 0 at once with no broker; bad ones exit 2" {
	printf 'id = gw-1\nevery = 1s\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/h.conf"
	run --separate-stderr timeout 30 es-heartbeat --config "$T/h.conf" --check
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'every = 1s\n' > "$T/h.conf"
	run --separate-stderr timeout 30 es-heartbeat --config "$T/h.conf" --check
	[ "$status" -eq 2 ]
	assert_stderr "es-heartbeat: --id is needed: the gateway's name
Try 'es-heartbeat --help' for more information."
}

@test "es-heartbeat --config: a new --id says offline on the old topic and reconnects; --every, --watch, -C from the next status; a bad file is refused" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'fleet/+/status' -C 6 --topic-field topic
	local sub=$BG
	wait_subscribed 'fleet/+/status'
	printf '{"program":"es-filter","in":1}\n' > "$T/w.json"
	printf 'id = gw-1\nevery = 30s\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/h.conf"
	bg "$T/hb" "$T/hb.err" es-heartbeat --config "$T/h.conf"
	local hb=$BG
	wait_lines "$T/sub" 1
	printf 'id = gw-2\nevery = 30s\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/h.conf"
	kill -HUP "$hb"
	wait_lines "$T/sub" 3
	printf 'id = gw-2\nevery = 0s\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/h.conf"
	kill -HUP "$hb"
	await_err "keeping the running configuration"
	printf 'id = gw-2\nevery = 100ms\ncount = 4\nwatch = %s\nhost = 127.0.0.1\nport = %s\n' "$T/w.json" "$PORT" > "$T/h.conf"
	kill -HUP "$hb"
	wait_status "$hb"
	[ "$status" -eq 0 ]
	wait_status "$sub"
	run jq -c '[.topic, .id, .state, .seq, (.watch | length?)]' "$T/sub"
	assert_output '["fleet/gw-1/status","gw-1","online",0,0]
["fleet/gw-1/status","gw-1","offline",null,0]
["fleet/gw-2/status","gw-2","online",1,0]
["fleet/gw-2/status","gw-2","online",2,1]
["fleet/gw-2/status","gw-2","online",3,1]
["fleet/gw-2/status","gw-2","offline",null,0]'
	assert_file_is "$T/hb.err" <<-EOF
	es-heartbeat: --config $T/h.conf reloaded: --every 30000ms, 0 watched, -t fleet/gw-2/status -q 1; --id changed: connecting to 127.0.0.1:$PORT
	es-heartbeat: cannot reload --config $T/h.conf: invalid duration '0s' for --every: must be above 0; keeping the running configuration
	es-heartbeat: --config $T/h.conf reloaded: --every 100ms, 1 watched, -t fleet/gw-2/status -q 1
	EOF
}

@test "es-heartbeat --watch-config: a changed file applies within a second" {
	broker_start
	printf 'id = gw-1\nevery = 30s\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/h.conf"
	touch -d '1 minute ago' "$T/h.conf"
	bg "$T/hb" "$T/hb.err" es-heartbeat --config "$T/h.conf" --watch-config
	local hb=$BG
	wait_lines "$T/hb" 1	# the first status, on connecting
	printf 'id = gw-1\nevery = 50ms\ncount = 3\ndisk = %s\nhost = 127.0.0.1\nport = %s\n' "$T" "$PORT" > "$T/h.conf"
	wait_status "$hb"
	[ "$status" -eq 0 ]
	run jq -c '[.id, .seq, (.disk_path == "'"$T"'")]' "$T/hb"
	assert_output '["gw-1",0,false]
["gw-1",1,true]
["gw-1",2,true]'
}

@test "es-heartbeat: usage errors name the option, exit 2" {
	run --separate-stderr es-heartbeat -h 127.0.0.1
	assert_failure 2
	assert_stderr "es-heartbeat: --id is needed: the gateway's name
Try 'es-heartbeat --help' for more information."
	run --separate-stderr es-heartbeat --id a --every 0s
	assert_failure 2
	assert_stderr "es-heartbeat: invalid duration '0s' for --every: must be above 0
Try 'es-heartbeat --help' for more information."
	run --separate-stderr es-heartbeat --id a -t 'a/#/b'
	assert_failure 2
	assert_stderr "es-heartbeat: invalid topic 'a/#/b' for -t/--topic
Try 'es-heartbeat --help' for more information."
	run --separate-stderr es-heartbeat --id a -C 0
	assert_failure 2
	assert_stderr "es-heartbeat: invalid argument '0' for -C/--count: expected a count > 0
Try 'es-heartbeat --help' for more information."
}

@test "es-heartbeat: every long option is in --help, in man/es-heartbeat.1 and in this file" {
	local opts name missing="" man="$BATS_TEST_DIRNAME/../man/es-heartbeat.1"
	opts=$(long_options_of es-heartbeat)
	run es-heartbeat --help
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
	done
	for name in id client-id topic every watch stale disk count; do
		grep -qE -- "--$name([^a-z-]|\$)" "$BATS_TEST_FILENAME" || missing="$missing test:--$name"
	done
	[ -z "$missing" ] || fail "not mentioned:$missing"
	run es-heartbeat --version
	assert_output "es-heartbeat (edgestream) 0.1.0"
}

@test "man/es-heartbeat.1 is clean for groff -man -ww" {
	run --separate-stderr groff -man -ww -Tutf8 "$BATS_TEST_DIRNAME/../man/es-heartbeat.1"
	assert_success
	assert_stderr ""
}
