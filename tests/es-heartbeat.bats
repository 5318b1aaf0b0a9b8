#!/usr/bin/env bats
# es-heartbeat: a status record every interval, retained; the watched
# --stats-file counters with their age and a stale flag; the will when the
# gateway dies, "offline" when it stops cleanly; against a real mosquitto.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
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
	opts=$( (long_options_of es-heartbeat; sed -n 's/.*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1/p' \
		"$BATS_TEST_DIRNAME/../lib/mqtt.h") | sort -u)
	run es-heartbeat --help
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
	done
	for name in id topic every watch stale disk count; do
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
