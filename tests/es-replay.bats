#!/usr/bin/env bats
# es-replay: slices of es-archive's archive on request over MQTT, against
# mosquitto: the same records as es-archive's query mode, chunked, a final
# count; refusals (too large, a bad where, bad times); requests that cannot
# be answered counted and dead-lettered; hostile requests; a request while
# es-archive writes the same archive; --config reload, --check, options.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load mqtt_helper

# archive N: N records a second apart from 2026-01-01T00:00:00Z (epoch
# 1767225600), devices gw-0..gw-2, gates G0..G3, stored in $T/arc by device.
archive() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "{\"ts\":%d,\"device\":\"gw-%d\",\"gate\":\"G%d\",\"value\":%d}\n",
			1767225600 + i, i % 3, i % 4, i }' > "$T/in.ndjson"
	es-archive --dir "$T/arc" -k device "$T/in.ndjson" > /dev/null
}

# start_replay [OPTION]...: es-replay for gw-1 on $T/arc.
start_replay() {
	bg "$T/rp.out" "$T/rp.err" es-replay --id gw-1 -h 127.0.0.1 -p "$PORT" --dir "$T/arc" "$@"
	RP=$BG
	wait_subscribed fleet/gw-1/replay
}

# listen NAME: a subscriber to the reply topic r/NAME writing each message
# followed by a line '---' into $T/NAME.
listen() {
	bg "$T/$1" "$T/$1.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -t "r/$1" -F '%p---'
	wait_subscribed "r/$1"
}

# request JSON [TOPIC]: one request message.
request() {
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "${2:-fleet/gw-1/replay}" -m "$1"
}

# answered NAME: waits for the last message of the answer on r/NAME.
answered() {
	local i
	for i in $(seq 1 500); do
		grep -qE '^\{"(done|error)"' "$T/$1" 2> /dev/null && return 0
		sleep 0.02
	done
	fail "no final message on r/$1: $(cat "$T/$1")"
}

# ask NAME JSON: listens on r/NAME, sends JSON with "reply":"r/NAME" added,
# waits for the answer.
ask() {
	listen "$1"
	request "${2%\}},\"reply\":\"r/$1\"}"
	answered "$1"
}

# records_of NAME: the records of the answer on r/NAME (no separators, no
# final message).
records_of() {
	grep -vE '^(---|\{"(done|error)")' "$T/$1" || true
}

@test "es-replay: slices exactly as es-archive's query mode gives them: times RFC 3339 or epoch, where, key_is" {
	broker_start
	archive 300
	start_replay
	ask a '{"from":"2026-01-01T00:01:00Z","to":"2026-01-01T00:01:30Z"}'
	es-archive --dir "$T/arc" --from 2026-01-01T00:01:00Z --to 2026-01-01T00:01:30Z > "$T/want.a"
	ask b '{"from":1767225600,"to":1767225700,"where":"gate == \"G2\""}'
	es-archive --dir "$T/arc" --from 1767225600 --to 1767225700 --where 'gate == "G2"' > "$T/want.b"
	ask c '{"from":"1767225600000","to":1767225900000,"key_is":{"device":"gw-1"},"where":"value > 250"}'
	es-archive --dir "$T/arc" --from 1767225600000 --to 1767225900000 --key-is device=gw-1 --where 'value > 250' > "$T/want.c"
	ask d '{"to":1767225603.5}'
	es-archive --dir "$T/arc" --to 1767225603.5 > "$T/want.d"
	local n
	for n in a b c d; do
		records_of $n > "$T/got.$n"
		cmp "$T/want.$n" "$T/got.$n" || fail "slice $n differs: $(diff "$T/want.$n" "$T/got.$n")"
	done
	# the counts, checked by hand: 30 records, 25 of G2, the gw-1 ones of 251..299, 4
	run wc -l "$T/want.a" "$T/want.b" "$T/want.c" "$T/want.d"
	assert_line --index 0 --regexp "^ *30 $T/want.a"
	assert_line --index 1 --regexp "^ *25 $T/want.b"
	assert_line --index 2 --regexp "^ *16 $T/want.c"
	assert_line --index 3 --regexp "^ *4 $T/want.d"
	run grep -h '"done"' "$T/a" "$T/b" "$T/c" "$T/d"
	assert_output '{"done":true,"records":30,"messages":1,"skipped":0}
{"done":true,"records":25,"messages":1,"skipped":0}
{"done":true,"records":16,"messages":1,"skipped":0}
{"done":true,"records":4,"messages":1,"skipped":0}'
	run cat "$T/rp.out"
	assert_output '{"reply":"r/a","records":30,"messages":1}
{"reply":"r/b","records":25,"messages":1}
{"reply":"r/c","records":16,"messages":1}
{"reply":"r/d","records":4,"messages":1}'
}

@test "es-replay --chunk: N records a message, each an NDJSON line; then the final count; a span with nothing: done at once" {
	broker_start
	archive 20
	start_replay --chunk 4
	ask a '{"from":1767225605,"to":1767225615}'
	assert_file_is "$T/a" <<-'EOF'
	{"ts":1767225605,"device":"gw-2","gate":"G1","value":5}
	{"ts":1767225606,"device":"gw-0","gate":"G2","value":6}
	{"ts":1767225607,"device":"gw-1","gate":"G3","value":7}
	{"ts":1767225608,"device":"gw-2","gate":"G0","value":8}
	---
	{"ts":1767225609,"device":"gw-0","gate":"G1","value":9}
	{"ts":1767225610,"device":"gw-1","gate":"G2","value":10}
	{"ts":1767225611,"device":"gw-2","gate":"G3","value":11}
	{"ts":1767225612,"device":"gw-0","gate":"G0","value":12}
	---
	{"ts":1767225613,"device":"gw-1","gate":"G1","value":13}
	{"ts":1767225614,"device":"gw-2","gate":"G2","value":14}
	---
	{"done":true,"records":10,"messages":3,"skipped":0}
	---
	EOF
	ask b '{"from":1767225605,"to":1767225613}'	# exactly two chunks
	run grep -c -- --- "$T/b"
	assert_output 3
	ask c '{"from":1867225605}'
	assert_file_is "$T/c" <<-'EOF'
	{"done":true,"records":0,"messages":0,"skipped":0}
	---
	EOF
	# records the expression cannot take are left out, counted
	ask d '{"from":1767225600,"to":1767225602,"where":"gate > 3"}'
	assert_file_is "$T/d" <<-'EOF'
	{"done":true,"records":0,"messages":0,"skipped":2}
	---
	EOF
}

@test "es-replay --max-records: a larger slice is refused, counted first; one of the limit is served; bad requests refused with why" {
	broker_start
	archive 30
	start_replay --max-records 10 --chunk 100
	ask big '{"from":1767225600,"to":1767225611}'
	ask fits '{"from":1767225600,"to":1767225610}'
	ask where '{"where":"value >>> 2"}'
	ask order '{"from":1767225610,"to":1767225600}'
	ask time '{"from":"yesterday"}'
	ask type '{"to":[1]}'
	ask member '{"form":1767225600}'
	ask key '{"key_is":{"sensor":"t"}}'
	ask keytype '{"key_is":["device=gw-1"]}'
	run cat "$T/big" "$T/where" "$T/order" "$T/time" "$T/type" "$T/member" "$T/key" "$T/keytype"
	assert_output '{"error":"the slice holds more than 10 records (the limit, --max-records): ask for a shorter span or a narrower where"}
---
{"error":"invalid where at column 8: unexpected '"'>'"'"}
---
{"error":"from must be before to"}
---
{"error":"invalid time for from: invalid RFC 3339 time: expected a date YYYY-MM-DD"}
---
{"error":"invalid time for to: a string or a number is needed"}
---
{"error":"unknown member '"'form'"' (from, to, where, key_is, reply)"}
---
{"error":"key_is: give one FIELD=VALUE for each field of the archive'"'"'s key, device"}
---
{"error":"key_is: an object of FIELD: VALUE is needed"}
---'
	run grep -c '"ts"' "$T/fits"
	assert_output 10
	kill "$RP"
	wait_status "$RP"
	assert_equal "$status" 0
}

@test "es-replay: requests that cannot be answered are bad input: said, counted, dead-lettered; the others answered; -C, --stats" {
	broker_start
	archive 5
	start_replay -C 7 --stats --dead-letter "$T/dead"
	listen ok
	request 'nope'
	request '[1,2]'
	request '{"from":1767225600}'
	request '{"reply":"r/+"}'
	request '{"reply":7}'
	request '{"reply":"r/ok","to":1767225602}'
	request '{"reply":"r/ok","from":5,"to":0}'
	wait_status "$RP"
	assert_equal "$status" 0
	assert_file_is "$T/rp.err" <<-EOF
	es-replay: fleet/gw-1/replay:1: not JSON: '[' or '{' expected near 'nope'
	es-replay: fleet/gw-1/replay:2: not a JSON object
	es-replay: fleet/gw-1/replay:3: no reply topic ("reply": a string)
	es-replay: fleet/gw-1/replay:4: the reply topic is not one to publish to (wildcards, or too long)
	es-replay: fleet/gw-1/replay:5: no reply topic ("reply": a string)
	{"program":"es-replay","in":7,"out":2,"bad":5,"late":0,"dropped":0,"served":1,"refused":1,"records":2,"messages":1,"reconnects":0}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	nope
	[1,2]
	{"from":1767225600}
	{"reply":"r/+"}
	{"reply":7}
	EOF
	answered ok
	run cat "$T/ok"
	assert_output '{"ts":1767225600,"device":"gw-0","gate":"G0","value":0}
{"ts":1767225601,"device":"gw-1","gate":"G1","value":1}
---
{"done":true,"records":2,"messages":1,"skipped":0}
---
{"error":"from must be before to"}
---'
}

@test "es-replay --strict: the first request that cannot be answered ends it, exit 3" {
	broker_start
	archive 5
	start_replay --strict
	request '{}'
	wait_status "$RP"
	assert_equal "$status" 3
	assert_file_is "$T/rp.err" <<-'EOF'
	es-replay: fleet/gw-1/replay:1: no reply topic ("reply": a string)
	EOF
}

@test "es-replay: hostile requests (invalid UTF-8, NUL, deep nesting, 1 MiB, huge numbers, duplicates) are refused or bad, never a crash" {
	broker_start
	archive 5
	start_replay --stats -C 9
	listen h
	printf '{"reply":"r/h","where":"\xff\xfe"}' | mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/replay -s
	printf '{"reply":"r/h\0x"}' | mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/replay -s
	python3 -c 'print("[" * 100000 + "]" * 100000, end="")' > "$T/deep"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/replay -f "$T/deep"
	python3 -c 'print("{\"reply\":\"r/h\",\"key_is\":" + "{\"a\":" * 100000 + "1" + "}" * 100001, end="")' > "$T/deep2"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/replay -f "$T/deep2"
	python3 -c 'print("{\"reply\":\"r/h\",\"where\":\"" + "x" * (1 << 20) + " > 1\"}", end="")' > "$T/big"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t fleet/gw-1/replay -f "$T/big"
	request '{"reply":"r/h","from":1e999}'
	request '{"reply":"r/h","from":-99999999999999999999999}'
	request '{"reply":"r/h","reply":"r/x"}'
	request '{"reply":"r/h","to":1767225601}'
	wait_status "$RP"
	assert_equal "$status" 0
	answered h
	# a where that names a field of a million x: no record has it
	run cat "$T/h"
	assert_output '{"done":true,"records":0,"messages":0,"skipped":0}
---
{"ts":1767225600,"device":"gw-0","gate":"G0","value":0}
---
{"done":true,"records":1,"messages":1,"skipped":0}
---'
	cut -c1-80 "$T/rp.err" > "$T/err80"
	assert_file_is "$T/err80" <<'EOF'
es-replay: fleet/gw-1/replay:1: not JSON: unable to decode byte 0xff near '"'
es-replay: fleet/gw-1/replay:2: not JSON: control character 0x0 near '"r/h'
es-replay: fleet/gw-1/replay:3: not JSON: maximum parsing depth reached near '['
es-replay: fleet/gw-1/replay:4: not JSON: maximum parsing depth reached near '{'
es-replay: fleet/gw-1/replay:6: not JSON: real number overflow near '1e999'
es-replay: fleet/gw-1/replay:7: not JSON: too big negative integer
es-replay: fleet/gw-1/replay:8: not JSON: duplicate object key near '"reply"'
{"program":"es-replay","in":9,"out":2,"bad":7,"late":0,"dropped":0,"served":2,"r
EOF
}

@test "es-replay: a request while es-archive writes the same archive (WAL): the slice as of its snapshot, exactly; es-archive goes on" {
	broker_start
	mkfifo "$T/fifo"
	es-archive --dir "$T/arc" -k device --commit-interval 10ms < "$T/fifo" > "$T/arc.out" 2> "$T/arc.err" &
	local writer=$!
	echo "$writer" >> "$T/bg.pids"
	# 2000 records, then (once $T/go is there) 4000 more of later times,
	# written while the slice of the first 2000 is read and sent; the
	# feeder alone holds the fifo open
	python3 -c 'import os, sys, time
def rec(i):
    sys.stdout.write("{\"ts\":%d,\"device\":\"gw-%d\",\"value\":%d}\n" % (1767225600 + i, i % 3, i))
for i in range(2000):
    rec(i)
sys.stdout.flush()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
for i in range(2000, 6000):
    rec(i)
    if i % 100 == 0:
        sys.stdout.flush(); time.sleep(0.01)' "$T/go" > "$T/fifo" &
	local feeder=$!
	echo "$feeder" >> "$T/bg.pids"
	wait_lines "$T/arc.out" 2000
	start_replay --chunk 50
	listen a
	touch "$T/go"
	request '{"from":1767225600,"to":1767227600,"reply":"r/a"}'
	answered a
	wait "$feeder"
	wait_status "$writer"
	assert_equal "$status" 0
	es-archive --dir "$T/arc" --from 1767225600 --to 1767227600 > "$T/want"
	records_of a > "$T/got"
	cmp "$T/want" "$T/got"
	run tail -2 "$T/a"
	assert_output '{"done":true,"records":2000,"messages":40,"skipped":0}
---'
	run wc -l < "$T/arc.out"
	assert_output 6000
	run es-archive --dir "$T/arc" --from 0 --stats
	assert_line --index 6000 --partial '"in":6000,"out":6000,"bad":0,'
}

@test "es-replay: a slice of 20000 records in 2000 messages goes whole and in order" {
	broker_start
	archive 20000
	start_replay --chunk 10 --stats
	ask a '{"from":0}'
	records_of a > "$T/got"
	cmp "$T/in.ndjson" "$T/got"
	run tail -2 "$T/a"
	assert_output '{"done":true,"records":20000,"messages":2000,"skipped":0}
---'
	kill "$RP"
	wait_status "$RP"
	run tail -1 "$T/rp.err"
	assert_output '{"program":"es-replay","in":1,"out":1,"bad":0,"late":0,"dropped":0,"served":1,"refused":0,"records":20000,"messages":2000,"reconnects":0}'
}

@test "es-replay: answers go in the order asked: a refusal asked after a slice of 500 messages comes after its final count" {
	broker_start
	archive 500
	start_replay --chunk 1 -C 2
	listen a
	request '{"from":0,"reply":"r/a"}'
	request '{"from":5,"to":0,"reply":"r/a"}'
	wait_status "$RP"
	assert_equal "$status" 0
	for i in $(seq 1 500); do
		grep -q '^{"error"' "$T/a" && break
		sleep 0.02
	done
	run grep -c '"ts"' "$T/a"
	assert_output 500
	run tail -4 "$T/a"
	assert_output '{"done":true,"records":500,"messages":500,"skipped":0}
---
{"error":"from must be before to"}
---'
}

@test "es-replay: flow control: with the broker frozen mid-slice, a few messages go (16 in flight at most), then nothing until PUBACKs come" {
	broker_start
	archive 20000
	start_replay --chunk 1
	listen a
	request '{"from":0,"reply":"r/a"}'
	wait_lines "$T/a" 200
	local broker w0 w1 w2
	broker=$(cat "$T/broker.pid")
	kill -STOP "$broker"
	w0=$(awk '/^wchar/ { print $2 }' "/proc/$RP/io")
	sleep 0.5
	w1=$(awk '/^wchar/ { print $2 }' "/proc/$RP/io")
	sleep 0.5
	w2=$(awk '/^wchar/ { print $2 }' "/proc/$RP/io")
	kill -CONT "$broker"
	# a message is about 65 bytes: the window's 16 (and the PUBACKs read
	# before the freeze) are written, not the 20000 of the slice
	[ $((w1 - w0)) -lt 4000 ] || fail "$((w1 - w0)) bytes written while the broker was frozen"
	assert_equal "$w2" "$w1"
	answered a
	records_of a > "$T/got"
	cmp "$T/in.ndjson" "$T/got"
}

@test "es-replay: the archive need not exist at start: no archive is refused, then once es-archive made it, served" {
	broker_start
	start_replay
	ask a '{"from":0}'
	run cat "$T/a"
	assert_output "{\"error\":\"$T/arc: no archive (No such file or directory)\"}
---"
	archive 3
	ask b '{"from":0}'
	run tail -2 "$T/b"
	assert_output '{"done":true,"records":3,"messages":1,"skipped":0}
---'
}

@test "es-replay --config: SIGHUP applies --chunk, --max-records and --dir from the next request, -t by subscribing anew; a bad file is refused" {
	broker_start
	archive 10
	mv "$T/arc" "$T/arc1"
	archive 4
	printf 'id = gw-1\ndir = %s\nhost = 127.0.0.1\nport = %s\nchunk = 5\n' "$T/arc1" "$PORT" > "$T/rp.conf"
	bg "$T/rp.out" "$T/rp.err" es-replay --config "$T/rp.conf"
	RP=$BG
	wait_subscribed fleet/gw-1/replay
	ask a '{"from":0}'
	printf 'id = gw-1\ndir = %s\nhost = 127.0.0.1\nport = %s\nchunk = 2\nmax-records = 3\ntopic = site/{id}/rq\n' \
		"$T/arc" "$PORT" > "$T/rp.conf"
	kill -HUP "$RP"
	wait_subscribed site/gw-1/rq
	listen b
	request '{"from":0,"reply":"r/b"}'	# the old topic: no longer heard
	request '{"from":0,"reply":"r/b"}' site/gw-1/rq
	answered b
	listen d
	request '{"from":0,"to":1767225603,"reply":"r/d"}' site/gw-1/rq
	answered d
	printf 'id = gw-1\nchunk = 0\n' > "$T/rp.conf"
	kill -HUP "$RP"
	local i
	for i in $(seq 1 100); do grep -q keeping "$T/rp.err" && break; sleep 0.05; done
	kill "$RP"
	wait_status "$RP"
	assert_equal "$status" 0
	run grep -c '^---$' "$T/a"
	assert_output 3
	run cat "$T/b" "$T/d"
	assert_output '{"error":"the slice holds more than 3 records (the limit, --max-records): ask for a shorter span or a narrower where"}
---
{"ts":1767225600,"device":"gw-0","gate":"G0","value":0}
{"ts":1767225601,"device":"gw-1","gate":"G1","value":1}
---
{"ts":1767225602,"device":"gw-2","gate":"G2","value":2}
---
{"done":true,"records":3,"messages":2,"skipped":0}
---'
	assert_file_is "$T/rp.err" <<-EOF
	es-replay: --config $T/rp.conf reloaded: --dir $T/arc -t site/gw-1/rq --max-records 3 --chunk 2
	es-replay: cannot reload --config $T/rp.conf: invalid argument '0' for --chunk: expected a count > 0; keeping the running configuration
	EOF
}

@test "es-replay --check: good options exit 0 at once with no broker and no archive; bad ones exit 2" {
	printf 'id = gw-1\ndir = %s\nhost = 127.0.0.1\nport = %s\nmax-records = 5\nchunk = 7\n' "$T/none" "$PORT" > "$T/rp.conf"
	run --separate-stderr timeout 30 es-replay --config "$T/rp.conf" --check
	assert_success
	assert_output ''
	assert_stderr ''
	[ ! -e "$T/none" ] || fail "--check made $T/none"
	printf 'id = gw-1\ndir = %s\ntopic = fleet/#/x\n' "$T" > "$T/rp.conf"
	run --separate-stderr timeout 30 es-replay --config "$T/rp.conf" --check
	assert_failure 2
	assert_stderr "es-replay: invalid topic 'fleet/#/x' for -t/--topic
Try 'es-replay --help' for more information."
}

@test "es-replay: usage errors name the option and why, exit 2" {
	local cases=(
		"--dir d|--id is needed: the gateway's name"
		"--id a|--dir is needed: the archive's directory"
		"--id a --dir d --chunk 0|invalid argument '0' for --chunk: expected a count > 0"
		"--id a --dir d --max-records x|invalid argument 'x' for --max-records: expected a count > 0"
		"--id a --dir d -C -1|invalid argument '-1' for -C/--count: expected a count > 0"
		"--id a --dir d x|unexpected argument 'x'"
	)
	assert_usage_errors es-replay "${cases[@]}"
}

@test "es-replay --client-id, --stats-file: the client id the broker sees; the counters kept in a file" {
	broker_start
	archive 3
	start_replay --client-id center-replay --stats-file "$T/rp.json" --stats-every 100ms
	ask a '{"from":0}'
	local i
	for i in $(seq 1 100); do
		[ "$(jq -r .served "$T/rp.json" 2> /dev/null)" = 1 ] && break
		sleep 0.05
	done
	run jq -c '[.program, .in, .out, .bad, .served, .refused, .records, .messages]' "$T/rp.json"
	assert_output '["es-replay",1,1,0,1,0,3,1]'
	kill "$RP"
	wait_status "$RP"
	grep -q 'center-replay' "$T/broker.log" || fail "no client center-replay in the broker's log: $(cat "$T/broker.log")"
}

# The common options are tested once for all programs (read-options.bats,
# stats-file.bats, config.bats); named here: --input-format -i,
# --output-format -o, --delimiter, --null-values, --timezone, --dead-letter,
# --strict, --stats, --stats-file, --stats-every, --config, --watch-config,
# --check, --help, --version; the connection options: es-mqtt-pub.bats,
# es-mqtt-sub.bats (--host, --port used here).
@test "es-replay: every long option is in --help, in man/es-replay.1 and in this file; --version; the man page formats" {
	local opts name missing="" man="$BATS_TEST_DIRNAME/../man/es-replay.1"
	opts=$(long_options_of es-replay)
	run es-replay --help
	assert_success
	assert_line --index 0 'Usage: es-replay --id ID --dir DIR [OPTION]...'
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing help:--$name"
		sed 's/\\-/-/g' "$man" | grep -qE -- "--$name([^a-z-]|\$)" || missing="$missing man:--$name"
	done
	for name in id dir topic max-records chunk count client-id; do
		grep -qE -- "--$name([^a-z-]|\$)" "$BATS_TEST_FILENAME" || missing="$missing test:--$name"
	done
	[ -z "$missing" ] || fail "not mentioned:$missing"
	run es-replay --version
	assert_output "es-replay (edgestream) 0.1.0"
	run --separate-stderr groff -man -ww -Tutf8 "$man"
	assert_success
	assert_stderr ""
}
