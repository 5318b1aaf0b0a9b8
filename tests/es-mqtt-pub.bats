#!/usr/bin/env bats
# es-mqtt-pub against a real mosquitto on a loopback port of the test's
# own: round trips at each QoS, topic templates, payload forms, retain,
# will, the queue and the spool (broker outage, SIGKILL of the publisher,
# drop-oldest, back-pressure), drain timeout, TLS, passwords, options.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load mqtt_helper

ROOT="$BATS_TEST_DIRNAME/.."

# ---- round trips ----

roundtrip() {
	local q=$1
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -q "$q" -t 'rt/#' -C 3 -W 5s
	local sub=$BG
	wait_subscribed 'rt/#'
	printf '{"a":1,"s":"x y"}\n{ "b" : [1, 2.50, {"c": null}] }\n{"u":"\\u00e9\xc3\xa9"}\n' > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -q "$q" -t rt/one "$T/in"
	assert_success
	assert_stderr ''
	wait_status "$sub"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" < "$T/in"
}

@test "es-mqtt-pub: QoS 0 round trip, payloads byte for byte" {
	roundtrip 0
}

@test "es-mqtt-pub: QoS 1 round trip, payloads byte for byte" {
	roundtrip 1
}

@test "es-mqtt-pub: QoS 2 round trip, payloads byte for byte" {
	roundtrip 2
}

@test "es-mqtt-pub -o influx: each message is a line of line protocol, escaped, at QoS 1" {
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'lp/#' -v -C 2 -W 10
	local sub=$BG
	wait_subscribed 'lp/#'
	printf '%s\n' '{"ts":1700000000,"site":"north gate","dev":"a,1","t":21.5,"n":3,"ok":true,"s":"say \"hi\""}' \
		'{"ts":1700000001,"site":"s2","dev":"b=2","t":-0.25,"n":-7,"ok":false,"s":"back\\slash"}' > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -q 1 -t 'lp/{site}' \
		-o influx --measurement 'env data' --tags site,dev --precision s "$T/in"
	assert_success
	assert_stderr ''
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	lp/north gate env\ data,dev=a\,1,site=north\ gate t=21.5,n=3i,ok=true,s="say \"hi\"" 1700000000
	lp/s2 env\ data,dev=b\=2,site=s2 t=-0.25,n=-7i,ok=false,s="back\\slash" 1700000001
	EOF
}

@test "es-mqtt-pub: topic template filled from each record" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'plant/#' -C 3 -W 5s --topic-field topic
	local sub=$BG
	wait_subscribed 'plant/#'
	printf '{"site":"s1","device":7,"v":1}\n{"site":"s2","device":"d-9","v":2}\n{"v":3,"device":true,"site":"s1"}\n' |
		es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'plant/{site}/{device}/temp'
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"site":"s1","device":7,"v":1,"topic":"plant/s1/7/temp"}
	{"site":"s2","device":"d-9","v":2,"topic":"plant/s2/d-9/temp"}
	{"v":3,"device":true,"site":"s1","topic":"plant/s1/true/temp"}
	EOF
}

@test "es-mqtt-pub: a record without a template field is bad input, not a message" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'p/#' -C 2 -W 5s --topic-field topic
	local sub=$BG
	wait_subscribed 'p/#'
	printf '{"site":"a"}\n{"x":1}\n{"site":null}\n{"site":"a/b"}\n{"site":"b"}\n' > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'p/{site}' --dead-letter "$T/dead" --stats "$T/in"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-mqtt-pub: $T/in:2: field 'site' for the topic is missing" \
		"es-mqtt-pub: $T/in:3: field 'site' for the topic is null" \
		"es-mqtt-pub: $T/in:4: field 'site' for the topic holds '/', '+', '#' or NUL, which would change the topic" \
		'{"program":"es-mqtt-pub","in":5,"out":2,"bad":3,"late":0,"dropped":0,"published":2,"acknowledged":2,"retried":0,"queued":0,"queued_bytes":0,"spooled":0,"reconnects":0}')"
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"site":"a","topic":"p/a"}
	{"site":"b","topic":"p/b"}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"x":1}
	{"site":null}
	{"site":"a/b"}
	EOF
}

@test "es-mqtt-pub --strict: the first record without a template field ends it, exit 3" {
	broker_start
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'p/{site}' --strict <<< '{"x":1}'
	[ "$status" -eq 3 ]
	assert_stderr "es-mqtt-pub: stdin:1: field 'site' for the topic is missing"
}

@test "es-mqtt-pub --payload-field and -o csv: the payload forms" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'f/#' -C 6 -W 5s
	local sub=$BG
	wait_subscribed 'f/#'
	printf '{"msg":"hi \\"there\\"","n":2.50}\n{"msg":{"k":[1]},"n":-1}\n' > "$T/in"
	es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t f/raw --payload-field msg "$T/in"
	es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t f/num --payload-field n "$T/in"
	printf 'a,b\n1,"x,y"\n' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t f/csv -o csv
	printf 'a,b\n1,"x,y"\n' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t f/json
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"topic":"f/raw","payload":"hi \"there\""}
	{"k":[1]}
	{"topic":"f/num","payload":"2.50"}
	{"topic":"f/num","payload":"-1"}
	{"topic":"f/csv","payload":"1,\"x,y\""}
	{"a":1,"b":"x,y"}
	EOF
}

@test "es-mqtt-pub --retain: a later subscriber gets the last message" {
	broker_start
	printf '{"v":1}\n{"v":2}\n' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t r/state --retain
	run --separate-stderr es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t r/state -C 1 -W 5s
	assert_success
	assert_output '{"v":2}'
}

@test "es-mqtt-pub: the will is published when es-mqtt-pub is killed, not when it ends" {
	skip_if_slow	# its timings are a live run's, not valgrind's
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'w/#' -C 1 -W 5s
	local sub=$BG
	wait_subscribed 'w/#'
	# a clean end sends DISCONNECT: no will
	echo '{"v":1}' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t w/data \
		--will-topic w/gone --will-payload bye --will-qos 1 --will-retain
	mkfifo "$T/fifo"
	exec 5<> "$T/fifo"	# read-write: opening does not wait for a reader
	bg "$T/pub" "$T/pub.err" es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t w/data --keepalive 5s \
		--will-topic w/gone --will-payload 'gw1 lost' --will-qos 1 --will-retain < "$T/fifo"
	local pub=$BG
	wait_subscribed 'w/#'	# (already) - and give the publisher time to connect
	sleep 0.3
	kill -9 "$pub"
	exec 5>&-
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"v":1}
	EOF
	run es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t w/gone -C 1 -W 5s
	assert_output '{"topic":"w/gone","payload":"gw1 lost"}'
}

# ---- delivery: the queue, the drain, the spool ----

@test "es-mqtt-pub --drain-timeout: broker down: exit 1 saying how many were not delivered" {
	records 1 3 > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t x --drain-timeout 300ms \
		--reconnect-min 50ms --reconnect-max 100ms "$T/in"
	[ "$status" -eq 1 ]
	assert_stderr "$(printf '%s\n' \
		"es-mqtt-pub: broker 127.0.0.1:$PORT: Connection refused; reconnecting" \
		"es-mqtt-pub: 3 messages not delivered")"
}

@test "es-mqtt-pub --spool: left-overs survive, and go first, in order" {
	records 1 3 > "$T/in1"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'sp/{site}' -q 1 \
		--spool "$T/spool" --drain-timeout 200ms "$T/in1"
	[ "$status" -eq 1 ]
	assert_stderr "$(printf '%s\n' \
		"es-mqtt-pub: broker 127.0.0.1:$PORT: Connection refused; reconnecting" \
		"es-mqtt-pub: 3 messages not delivered (they remain in the spool $T/spool)")"
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'sp/#' -C 5 -W 5s
	local sub=$BG
	wait_subscribed 'sp/#'
	records 4 5 > "$T/in2"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'sp/{site}' -q 1 \
		--spool "$T/spool" --fsync always --stats "$T/in2"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-mqtt-pub: spool $T/spool: 3 records left from before go first" \
		'{"program":"es-mqtt-pub","in":2,"out":5,"bad":0,"late":0,"dropped":0,"published":5,"acknowledged":5,"retried":0,"queued":0,"queued_bytes":0,"spooled":2,"reconnects":0}')"
	wait_status "$sub"
	records 1 5 | assert_file_is "$T/sub"
	# all acknowledged: nothing left for the next run
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t x --spool "$T/spool" < /dev/null
	assert_success
	assert_stderr ''
}

# (sum of the spool's files, to see that a refused program left them as they were)
spool_sum() {
	(cd "$1" && cat ack owner seg-*.log | md5sum)
}

@test "es-mqtt-pub --spool: a spool is one program's and one destination's: es-kafka-pub on its left-over is refused (exit 2, also --check), the record delivered later" {
	# the README's sequence: es-mqtt-pub leaves an undelivered alert ...
	echo '{"site":"s1","alert":1}' > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'alerts/{site}' -q 1 \
		--spool "$T/spool" --drain-timeout 200ms "$T/in"
	[ "$status" -eq 1 ]
	assert_file_is "$T/spool/owner" <<-EOF
	es-mqtt-pub
	mqtt://127.0.0.1:$PORT
	EOF
	local sum
	sum=$(spool_sum "$T/spool")
	# ... and es-kafka-pub is started on the same spool: refused, nothing read
	local other="es-kafka-pub: --spool $T/spool belongs to es-mqtt-pub (for mqtt://127.0.0.1:$PORT), not es-kafka-pub: its records stay there for it; give each publisher a spool directory of its own"
	if ! threads_unemulated es-kafka-pub; then
		run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t readings --spool "$T/spool" "$T/in"
		[ "$status" -eq 2 ]
		assert_stderr "$other"
		run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t readings --spool "$T/spool" --check
		[ "$status" -eq 2 ]
		assert_stderr "$other"
	fi
	# es-mqtt-pub to another broker: refused while the record waits
	local dead
	dead=$(free_port)
	local moved="es-mqtt-pub: --spool $T/spool holds 1 records for mqtt://127.0.0.1:$PORT, not mqtt://127.0.0.1:$dead: they stay there; deliver them first (es-mqtt-pub with that destination) or give this destination a spool directory of its own"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$dead" -t x --spool "$T/spool" < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$moved"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$dead" -t x --spool "$T/spool" --check
	[ "$status" -eq 2 ]
	assert_stderr "$moved"
	assert_equal "$(spool_sum "$T/spool")" "$sum"
	# its own broker back: the alert is delivered, to its topic
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'alerts/#' -v -C 1 -W 10
	local sub=$BG
	wait_subscribed 'alerts/#'
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'other/{site}' --spool "$T/spool" < /dev/null
	assert_success
	assert_stderr "es-mqtt-pub: spool $T/spool: 1 records left from before go first"
	wait_status "$sub"
	assert_file_is "$T/sub" <<< 'alerts/s1 {"site":"s1","alert":1}'
	# empty now: another destination (the broker named as written) takes
	# it over, and says so
	run --separate-stderr es-mqtt-pub -h localhost -p "$PORT" -t x --spool "$T/spool" --check
	assert_success
	run --separate-stderr es-mqtt-pub -h localhost -p "$PORT" -t x --spool "$T/spool" < /dev/null
	assert_success
	assert_stderr "es-mqtt-pub: spool $T/spool: empty, now for mqtt://localhost:$PORT (was for mqtt://127.0.0.1:$PORT)"
	assert_file_is "$T/spool/owner" <<-EOF
	es-mqtt-pub
	mqtt://localhost:$PORT
	EOF
	# a spool from before owners (no owner file) is taken over as it is
	threads_unemulated es-kafka-pub && return
	rm "$T/spool/owner"
	run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t readings --spool "$T/spool" --drain-timeout 100ms < /dev/null
	assert_success
	# (but librdkafka's own complaints of the cluster that is not there)
	assert_equal "$(grep -v '^es-kafka-pub: kafka: ' <<< "$stderr")" ''
	assert_file_is "$T/spool/owner" <<-EOF
	es-kafka-pub
	kafka://127.0.0.1:9/readings
	EOF
}

@test "es-mqtt-pub: every record accounted for: acknowledged + dead letter (bad input, refused by the broker) + left in the spool = in; exit 1 when one was not delivered" {
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	{ printf '{"site":"a","n":1}\n'
	  printf '{"site":"a","n":2\n'
	  printf '{"n":3}\n'
	  printf '{"site":"a","n":4,"pad":"%s"}\n' "$big"
	  printf '{"site":"b","n":5}\n'; } > "$T/in"
	# the broker takes no packet over 2000 bytes, and says so to v5 clients
	broker_start "allow_anonymous true" "max_packet_size 2000"
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'acc/#' -v -C 2 -W 10
	local sub=$BG
	wait_subscribed 'acc/#'
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -V 5 -t 'acc/{site}' \
		--spool "$T/spool" --dead-letter "$T/dead" --stats "$T/in"
	[ "$status" -eq 1 ]
	# 5 lines = out 2 + bad 3 (1 unreadable, 1 without its topic field, 1
	# refused) + 0 left ("in" counts the 4 lines that are records)
	assert_stderr "es-mqtt-pub: $T/in:2: invalid JSON at column 18: unexpected end of line
es-mqtt-pub: $T/in:3: field 'site' for the topic is missing
es-mqtt-pub: message 1 to 'acc/a' cannot be published: Packet larger than supported by the server.
es-mqtt-pub: 1 messages refused by the broker or the library: not delivered (counted as bad, their payloads to --dead-letter)
"'{"program":"es-mqtt-pub","in":5,"out":2,"bad":3,"late":0,"dropped":0,"published":2,"acknowledged":2,"retried":0,"queued":0,"queued_bytes":0,"spooled":3,"reconnects":0}'
	{ sed -n 2,3p "$T/in"; sed -n 4p "$T/in"; } | assert_file_is "$T/dead"
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	acc/a {"site":"a","n":1}
	acc/b {"site":"b","n":5}
	EOF
	# the broker away: the good records stay in the spool, said
	broker_stop
	printf '{"site":"c","n":6}\n{"n":7}\n{"site":"c","n":8}\n' > "$T/in2"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -V 5 -t 'acc/{site}' \
		--spool "$T/spool" --drain-timeout 200ms --stats "$T/in2"
	[ "$status" -eq 1 ]
	# in 3 = out 0 + bad 1 + 2 left in the spool
	assert_stderr "es-mqtt-pub: broker 127.0.0.1:$PORT: Connection refused; reconnecting
es-mqtt-pub: $T/in2:2: field 'site' for the topic is missing
es-mqtt-pub: 2 messages not delivered (they remain in the spool $T/spool)
"'{"program":"es-mqtt-pub","in":3,"out":0,"bad":1,"late":0,"dropped":0,"published":0,"acknowledged":0,"retried":0,"queued":2,"queued_bytes":50,"spooled":2,"reconnects":0}'
}

@test "es-mqtt-pub --spool: a torn or damaged last record is found by its CRC and dropped" {
	records 1 3 > "$T/in"
	run es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t t -i ndjson --spool "$T/spool" --drain-timeout 100ms "$T/in"
	[ "$status" -eq 1 ]
	local seg
	seg=$(echo "$T"/spool/seg-*.log)
	# a frame: 16 bytes of header, 2 of topic length, the topic, the record
	assert_equal "$(stat -c %s "$seg")" $(( 3 * (16 + 2 + 1) + $(wc -c < "$T/in") - 3 ))
	truncate -s -5 "$seg"	# the writer died in the middle of record 3
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t t -C 2 -W 5s
	local sub=$BG
	wait_subscribed t
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t t --spool "$T/spool" < /dev/null
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-mqtt-pub: spool $T/spool: dropped 35 bytes of a torn record at the end (the writer died mid-write)" \
		"es-mqtt-pub: spool $T/spool: 2 records left from before go first")"
	wait_status "$sub"
	records 1 2 | assert_file_is "$T/sub"
	# a flipped bit in the last record's data: its CRC no longer matches
	records 4 5 > "$T/in"
	broker_stop
	run es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t t --spool "$T/spool" --drain-timeout 100ms "$T/in"
	[ "$status" -eq 1 ]
	seg=$(ls "$T"/spool/seg-*.log | tail -1)
	printf 'X' | dd of="$seg" bs=1 seek=$(( $(stat -c %s "$seg") - 3 )) conv=notrunc 2> /dev/null
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t t --spool "$T/spool" --drain-timeout 100ms < /dev/null
	[ "$status" -eq 1 ]
	assert_equal "${stderr%%$'\n'*}" "es-mqtt-pub: spool $T/spool: dropped 40 bytes of a torn record at the end (the writer died mid-write)"
	[[ "$stderr" == *"1 messages not delivered (they remain in the spool $T/spool)" ]]
}

@test "es-mqtt-pub --spool: broker stopped and restarted mid-stream: all 10000 arrive" {
	skip_if_slow	# its timings are a live run's, not valgrind's
	broker_start
	# a persistent subscriber: the broker keeps its messages while it is away
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'out/#' -q 1 \
		--persistent --id out-sub --reconnect-min 50ms --reconnect-max 200ms
	local sub=$BG
	wait_subscribed 'out/#'
	records 1 10000 > "$T/all"
	# 10000 records over about 1.5 s, the broker away for 1 s in the middle
	{ for i in $(seq 0 9); do sed -n "$((i * 1000 + 1)),$((i * 1000 + 1000))p" "$T/all"; sleep 0.15; done; } |
		es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'out/{site}' -q 1 --spool "$T/spool" \
			--id out-pub --reconnect-min 50ms --reconnect-max 200ms --drain-timeout 15s \
			--stats > "$T/pub.out" 2> "$T/pub.err" &
	local pub=$!
	echo "$pub" >> "$T/bg.pids"
	sleep 0.4
	broker_stop
	sleep 1
	broker_run
	wait_status "$pub"
	[ "$status" -eq 0 ] || { cat "$T/pub.err"; false; }
	wait_distinct "$T/sub" 10000
	run seqs < "$T/sub"
	assert_equal "$output" "$(seq 1 10000)"
	grep -q '"reconnects":1}' "$T/pub.err"
}

@test "es-mqtt-pub --spool: SIGKILLed mid-stream and started again: none lost" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'k/#' -q 1
	local sub=$BG
	wait_subscribed 'k/#'
	mkfifo "$T/fifo"
	exec 5<> "$T/fifo"
	bg "$T/pub1" "$T/pub1.err" es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'k/{site}' -q 1 \
		--spool "$T/spool" --fsync never < "$T/fifo"
	local pub=$BG
	records 1 1000 >&5
	wait_distinct "$T/sub" 1000
	# the broker freezes: what is read now waits in the spool, some of it
	# in flight, unacknowledged
	kill -STOP "$(cat "$T/broker.pid")"
	records 1001 5000 >&5
	wait_pipe_empty 5
	sleep 0.3
	kill -9 "$pub"
	exec 5>&-
	kill -CONT "$(cat "$T/broker.pid")"
	records 5001 10000 > "$T/in2"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'k/{site}' -q 1 \
		--spool "$T/spool" "$T/in2"
	assert_success
	[[ "$stderr" == "es-mqtt-pub: spool $T/spool: "*" records left from before go first" ]]
	wait_distinct "$T/sub" 10000
	run seqs < "$T/sub"
	assert_equal "$output" "$(seq 1 10000)"
}

@test "es-mqtt-pub --spool-max with --spool-full drop-oldest: the oldest go, counted" {
	records 1 5000 > "$T/in"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'd/{site}' --spool "$T/spool" \
		--spool-max 64k --spool-full drop-oldest --fsync never --drain-timeout 100ms --stats "$T/in"
	[ "$status" -eq 1 ]
	local dropped left
	dropped=$(grep -o '"dropped":[0-9]*' <<< "$stderr" | cut -d: -f2)
	left=$(grep -o '^es-mqtt-pub: [0-9]* messages' <<< "$stderr" | grep -o '[0-9]*')
	[ "$dropped" -gt 3000 ]
	[[ "$stderr" == *"es-mqtt-pub: spool $T/spool is full (--spool-max): dropping the oldest records"* ]]
	assert_equal "$((dropped + left))" 5000
	[ "$(du -sk "$T/spool" | cut -f1)" -le 100 ]
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'd/#' -C "$left" -W 5s
	local sub=$BG
	wait_subscribed 'd/#'
	run es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t x --spool "$T/spool" < /dev/null
	assert_success
	wait_status "$sub"
	run seqs < "$T/sub"
	assert_equal "$output" "$(seq $((5001 - left)) 5000)"
}

@test "es-mqtt-pub --spool-max (block): a full spool stops the input; SIGTERM ends it" {
	skip_if_slow	# its timings are a live run's, not valgrind's
	records 1 5000 > "$T/in"
	es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'b/{site}' --spool "$T/spool" --spool-max 64k \
		--spool-full block --fsync interval --drain-timeout 100ms < "$T/in" > /dev/null 2> "$T/err" &
	local pub=$!
	echo "$pub" >> "$T/bg.pids"
	sleep 0.5
	kill -TERM "$pub"
	wait_status "$pub"
	[ "$status" -eq 1 ]
	local left
	left=$(grep -o '^es-mqtt-pub: [0-9]* messages' "$T/err" | grep -o '[0-9]*')
	[ "$left" -gt 500 ] && [ "$left" -lt 5000 ]
	grep -qxF "es-mqtt-pub: spool $T/spool is full (--spool-max): reading waits for acknowledgements" "$T/err"
	[ "$(du -sk "$T/spool" | cut -f1)" -le 100 ]
}

@test "es-mqtt-pub --queue: a small memory queue still delivers everything in order" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -t 'qq/#' -C 2000 -W 5s
	local sub=$BG
	wait_subscribed 'qq/#'
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t 'qq/{site}' --queue 2 -q 1 < <(records 1 2000)
	assert_success
	assert_stderr "es-mqtt-pub: queue is full (--queue 2): reading waits for acknowledgements"
	wait_status "$sub"
	records 1 2000 | assert_file_is "$T/sub"
}

# ---- TLS and credentials ----

make_certs() {
	cd "$T"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
		-subj /CN=es-test-ca 2> /dev/null
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
		-subj /CN=localhost 2> /dev/null
	printf 'subjectAltName=DNS:localhost\n' > san.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 2 -extfile san.ext 2> /dev/null
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
		-subj /CN=gw1 2> /dev/null
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out client.crt -days 2 2> /dev/null
	cd - > /dev/null
}

@test "es-mqtt-pub and es-mqtt-sub over TLS with CA, server and client certificates" {
	skip_if_slow	# its timings are a live run's, not valgrind's
	make_certs
	broker_start "allow_anonymous true" "cafile $T/ca.crt" "certfile $T/server.crt" \
		"keyfile $T/server.key" "require_certificate true"
	local tls=(--cafile "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key")
	# (the subscriber by address, so without the name check)
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" "${tls[@]}" --insecure \
		--tls-version tlsv1.3 -t 'tls/#' -C 2 -W 5s
	local sub=$BG
	wait_subscribed 'tls/#'
	printf '{"v":1}\n' | es-mqtt-pub -h localhost -p "$PORT" "${tls[@]}" --tls-version tlsv1.2 -t tls/a
	# 127.0.0.1 is not the certificate's name: only with --insecure
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" "${tls[@]}" -t tls/b \
		--drain-timeout 300ms --reconnect-min 100ms <<< '{"v":2}'
	[ "$status" -eq 1 ]
	assert_output ''
	[[ "$stderr" == *"1 messages not delivered"* ]]
	printf '{"v":3}\n' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" "${tls[@]}" --insecure -t tls/c
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"v":1}
	{"v":3}
	EOF
}

@test "es-mqtt-pub: password from --password-file or ES_MQTT_PASSWORD; a wrong one: exit 1" {
	mosquitto_passwd -b -c "$T/passwd" gw1 's3cret pass' 2> /dev/null
	broker_start "allow_anonymous false" "password_file $T/passwd"
	printf 's3cret pass\n' > "$T/pw"
	ES_MQTT_PASSWORD='s3cret pass' bg "$T/sub" "$T/sub.err" \
		es-mqtt-sub -h 127.0.0.1 -p "$PORT" -u gw1 -t 'auth/#' -C 1 -W 5s
	local sub=$BG
	wait_subscribed 'auth/#'
	echo '{"ok":1}' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -u gw1 --password-file "$T/pw" -t auth/x
	wait_status "$sub"
	assert_file_is "$T/sub" <<< '{"ok":1}'
	printf 'wrong\n' > "$T/bad"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -u gw1 --password-file "$T/bad" -t auth/x <<< '{"ok":2}'
	[ "$status" -eq 1 ]
	assert_stderr "es-mqtt-pub: broker 127.0.0.1:$PORT refused the connection: Connection Refused: not authorised."
	run --separate-stderr env ES_MQTT_PASSWORD=nope es-mqtt-pub -h 127.0.0.1 -p "$PORT" -V 5 -u gw1 -t auth/x <<< '{"ok":2}'
	[ "$status" -eq 1 ]
	assert_stderr "es-mqtt-pub: broker 127.0.0.1:$PORT refused the connection: Not authorized"
}

# ---- session and connection options ----

@test "es-mqtt-pub: -V 5, --id, --persistent, --clean, --keepalive, QoS 2" {
	broker_start
	bg "$T/sub" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -V 5 -t 'o/#' -C 2 -W 5s
	local sub=$BG
	wait_subscribed 'o/#'
	echo '{"v":1}' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -V 5 --id gw1-pub --persistent \
		--keepalive 10 -q 2 -t o/a
	echo '{"v":2}' | es-mqtt-pub -h 127.0.0.1 -p "$PORT" -V 311 --id gw1-pub --clean -t o/b
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	{"v":1}
	{"v":2}
	EOF
}

@test "es-mqtt-pub: usage errors name the option, exit 2" {
	local hint="Try 'es-mqtt-pub --help' for more information."
	run --separate-stderr es-mqtt-pub < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-pub: missing -t/--topic\n%s' "$hint")"
	run --separate-stderr es-mqtt-pub -t x -q 3
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid argument '3' for -q/--qos: expected 0, 1 or 2\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --persistent
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-pub: --persistent needs --id: the broker keeps the session under the client id\n%s' "$hint")"
	run --separate-stderr es-mqtt-pub -t 'a/{b'
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: -t/--topic: '{' without '}'\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t 'a/+'
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: -t/--topic: wildcards (+, #) cannot be published to\n%s" "$hint")"
	# no topic can come of these: at start, not a refusal of every record
	run --separate-stderr es-mqtt-pub -t ''
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: -t/--topic: empty topic\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t $'a/\xff/{b}'
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: -t/--topic: not a topic MQTT can publish to (UTF-8, no NUL)\n%s" "$hint")"
	# a TLS file that is not there: named at start (and by --check)
	run --separate-stderr es-mqtt-pub -t x --cafile /nonexist.pem
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: --cafile /nonexist.pem: No such file or directory\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --cafile /dev/null --cert /dev/null --key "$T/none.key" --check
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: --key $T/none.key: No such file or directory\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --cafile "$T" --check
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: --cafile $T: Is a directory\n%s" "$hint")"
	# a password goes only with a user name
	echo pw > "$T/pw"
	run --separate-stderr es-mqtt-pub -t x --password-file "$T/pw"
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: --password-file needs -u/--username: MQTT sends a password only with a user name\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --payload-field 'a['
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid --payload-field 'a[': expected an array index\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --spool-full sometimes
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid argument 'sometimes' for --spool-full: expected block or drop-oldest\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --fsync daily
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid argument 'daily' for --fsync: expected always, interval or never\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --spool-max 1k
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid argument '1k' for --spool-max: expected a size of at least 64k\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --queue 0
	[ "$status" -eq 2 ]
	run --separate-stderr es-mqtt-pub -t x -V 4
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-mqtt-pub: invalid argument '4' for -V/--protocol-version: expected 311 or 5\n%s" "$hint")"
	run --separate-stderr es-mqtt-pub -t x --key k
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-pub: --cert and --key go together\n%s' "$hint")"
	run --separate-stderr es-mqtt-pub -t x --reconnect-min 2s --reconnect-max 1s
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-mqtt-pub: --reconnect-max is less than --reconnect-min\n%s' "$hint")"
}

@test "es-mqtt-pub: a second process on the same spool is refused" {
	mkfifo "$T/fifo"
	exec 5<> "$T/fifo"
	bg "$T/pub1" "$T/pub1.err" es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t x --spool "$T/spool" < "$T/fifo"
	sleep 0.2
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p "$PORT" -t x --spool "$T/spool" < /dev/null
	exec 5>&-
	[ "$status" -eq 1 ]
	assert_stderr "es-mqtt-pub: spool $T/spool is in use by another process"
}

# ---- --config: --check and reloads ----

# A live es-mqtt-pub on a FIFO whose writer ($W) stays open; stderr to
# $T/err. Noted for teardown.
start_pub() {
	mkfifo "$T/fifo"
	es-mqtt-pub "$@" < "$T/fifo" > /dev/null 2> "$T/err" &
	PID=$!
	echo "$PID" >> "$T/bg.pids"
	exec {W}> "$T/fifo"
}

# await_err TEXT: test_helper.bash (up to 10 s for TEXT on $T/err).

@test "es-mqtt-pub --check: good options exit 0 at once with no broker, reading nothing, no spool made; bad ones exit 2" {
	mkfifo "$T/fifo"
	exec 7<> "$T/fifo"	# open, and nobody writes
	printf 'topic = a/{site}\nspool = %s\nhost = 127.0.0.1\nport = %s\n' "$T/spool" "$PORT" > "$T/p.conf"
	run --separate-stderr timeout 30 es-mqtt-pub --config "$T/p.conf" --check <&7
	assert_success
	assert_output ''
	assert_stderr ''
	[ ! -e "$T/spool" ]
	printf 'topic = a/{site\n' > "$T/p.conf"
	run --separate-stderr timeout 30 es-mqtt-pub --config "$T/p.conf" --check <&7
	[ "$status" -eq 2 ]
	assert_stderr "es-mqtt-pub: -t/--topic: '{' without '}'
Try 'es-mqtt-pub --help' for more information."
	run --separate-stderr es-mqtt-pub --watch-config -t x
	[ "$status" -eq 2 ]
	assert_stderr "es-mqtt-pub: --watch-config goes with --config
Try 'es-mqtt-pub --help' for more information."
}

@test "es-mqtt-pub --config: SIGHUP changes the topic from the next record; a bad file and a new --spool are refused, it runs on" {
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'r/#' -v -C 6 -W 20
	local sub=$BG
	wait_subscribed 'r/#'
	printf 'topic = r/all\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/p.conf"
	start_pub --config "$T/p.conf" --stats
	records 1 2 >&"$W"
	wait_lines "$T/sub" 2
	printf 'topic = r/{site}\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/p.conf"
	kill -HUP "$PID"
	await_err "reloaded: -t r/{site} -q 1"
	records 3 4 >&"$W"
	wait_lines "$T/sub" 4
	printf 'topic = r/+\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/p.conf"
	kill -HUP "$PID"
	await_err "wildcards"
	printf 'topic = r/new\nspool = %s\nhost = 127.0.0.1\nport = %s\n' "$T/spool" "$PORT" > "$T/p.conf"
	kill -HUP "$PID"
	await_err "needs a restart"
	[ ! -e "$T/spool" ]
	records 5 6 >&"$W"
	exec {W}>&-
	wait_status "$PID"
	[ "$status" -eq 0 ]
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	r/all {"seq":1,"site":"s1"}
	r/all {"seq":2,"site":"s2"}
	r/s0 {"seq":3,"site":"s0"}
	r/s1 {"seq":4,"site":"s1"}
	r/s2 {"seq":5,"site":"s2"}
	r/s0 {"seq":6,"site":"s0"}
	EOF
	assert_file_is "$T/err" <<-EOF
	es-mqtt-pub: --config $T/p.conf reloaded: -t r/{site} -q 1
	es-mqtt-pub: cannot reload --config $T/p.conf: -t/--topic: wildcards (+, #) cannot be published to; keeping the running configuration
	es-mqtt-pub: cannot reload --config $T/p.conf: changing --spool needs a restart; keeping the running configuration
	{"program":"es-mqtt-pub","in":6,"out":6,"bad":0,"late":0,"dropped":0,"published":6,"acknowledged":6,"retried":0,"queued":0,"queued_bytes":0,"spooled":0,"reconnects":0}
	EOF
}

@test "es-mqtt-pub --config: a new --retain, --qos and --id apply after the queued messages, on a new connection; none lost or twice" {
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'k/#' -v -C 4 -W 20
	local sub=$BG
	wait_subscribed 'k/#'
	printf 'topic = k/a\nhost = 127.0.0.1\nport = %s\nid = pub-1\n' "$PORT" > "$T/p.conf"
	start_pub --config "$T/p.conf" --spool "$T/spool" --stats
	records 1 2 >&"$W"
	wait_lines "$T/sub" 2
	printf 'topic = k/b\nretain\nqos = 2\nhost = 127.0.0.1\nport = %s\nid = pub-2\n' "$PORT" > "$T/p.conf"
	kill -HUP "$PID"
	await_err "reloaded: -t k/b -q 2 --retain; --id changed: connecting to 127.0.0.1:$PORT"
	records 3 4 >&"$W"
	wait_status "$sub"
	[ "$status" -eq 0 ]
	# retained: a later subscriber gets the last one
	run mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'k/#' -v -C 1 -W 5
	assert_output 'k/b {"seq":4,"site":"s1"}'
	exec {W}>&-
	wait_status "$PID"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	k/a {"seq":1,"site":"s1"}
	k/a {"seq":2,"site":"s2"}
	k/b {"seq":3,"site":"s0"}
	k/b {"seq":4,"site":"s1"}
	EOF
	assert_file_is "$T/err" <<-EOF
	es-mqtt-pub: --config $T/p.conf reloaded: -t k/b -q 2 --retain; --id changed: connecting to 127.0.0.1:$PORT
	{"program":"es-mqtt-pub","in":4,"out":4,"bad":0,"late":0,"dropped":0,"published":4,"acknowledged":4,"retried":0,"queued":0,"queued_bytes":0,"spooled":4,"reconnects":1}
	EOF
}

@test "es-mqtt-pub --config: a new --port while the broker cannot be reached applies at once; the queued messages go to the new one, in order" {
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'd/#' -v -C 4 -W 20
	local sub=$BG i dead
	wait_subscribed 'd/#'
	dead=$(free_port)	# nobody listens there
	printf 'topic = d/{seq}\nhost = 127.0.0.1\nport = %s\nreconnect-max = 200ms\n' "$dead" > "$T/p.conf"
	start_pub --config "$T/p.conf" --stats-file "$T/st" --stats-every 50ms
	records 1 2 >&"$W"
	for ((i = 0; i < 200; i++)); do
		[ "$(jq .in "$T/st" 2> /dev/null)" = 2 ] && break
		sleep 0.05
	done
	[ "$(jq .in "$T/st")" = 2 ] || fail "not read: $(cat "$T/st")"
	# read and queued, but out counts what the broker acknowledged: none yet
	[ "$(jq .out "$T/st")" = 0 ] || fail "out before any ack: $(cat "$T/st")"
	printf 'topic = d/{seq}\nhost = 127.0.0.1\nport = %s\nreconnect-max = 200ms\n' "$PORT" > "$T/p.conf"
	kill -HUP "$PID"
	await_err "reloaded: -t d/{seq} -q 1; --port changed: connecting to 127.0.0.1:$PORT"
	records 3 4 >&"$W"
	wait_status "$sub"
	[ "$status" -eq 0 ]
	exec {W}>&-
	wait_status "$PID"
	[ "$status" -eq 0 ]
	assert_file_is "$T/sub" <<-'EOF'
	d/1 {"seq":1,"site":"s1"}
	d/2 {"seq":2,"site":"s2"}
	d/3 {"seq":3,"site":"s0"}
	d/4 {"seq":4,"site":"s1"}
	EOF
	assert_file_is "$T/err" <<-EOF
	es-mqtt-pub: broker 127.0.0.1:$dead: Connection refused; reconnecting
	es-mqtt-pub: --config $T/p.conf reloaded: -t d/{seq} -q 1; --port changed: connecting to 127.0.0.1:$PORT
	EOF
}

@test "es-mqtt-pub --watch-config: a changed file is applied within a second on a quiet input" {
	broker_start
	bg "$T/sub" "$T/sub.err" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'w/#' -v -C 2 -W 20
	local sub=$BG
	wait_subscribed 'w/#'
	printf 'topic = w/one\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/p.conf"
	touch -d '1 minute ago' "$T/p.conf"
	start_pub --config "$T/p.conf" --watch-config
	records 1 1 >&"$W"
	wait_lines "$T/sub" 1
	printf 'topic = w/two\npayload-field = seq\nhost = 127.0.0.1\nport = %s\n' "$PORT" > "$T/p.conf"
	await_err "reloaded: -t w/two --payload-field seq -q 1"
	records 2 2 >&"$W"
	wait_status "$sub"
	assert_file_is "$T/sub" <<-'EOF'
	w/one {"seq":1,"site":"s1"}
	w/two 2
	EOF
}

@test "es-mqtt-pub --help and the man page name every option, --version" {
	local opt
	for opt in $(cat "$ROOT/cmd/es-mqtt-pub.c" "$ROOT/lib/mqtt.h" "$ROOT/lib/publish.h" \
			 "$ROOT/lib/opts.h" |
		     sed -n 's/.*{"\([a-z][a-z-]*\)", *[a-z_]*argument.*/\1/p' | sort -u); do
		es-mqtt-pub --help | grep -qF -- "--$opt" || fail "--$opt not in --help"
		grep -qF -- "\\-\\-${opt//-/\\-}" "$ROOT/man/es-mqtt-pub.1" || fail "--$opt not in the man page"
	done
	run es-mqtt-pub --version
	assert_output "es-mqtt-pub (edgestream) 0.1.0"
}

@test "es-mqtt-pub --spool: a DIR that cannot be made: why, exit 1, before any connection" {
	: > "$T/file"
	run --separate-stderr es-mqtt-pub -h 127.0.0.1 -p 9 -t x --spool "$T/file/sp" <<< '{"a":1}'
	assert_failure 1
	assert_stderr "es-mqtt-pub: spool $T/file/sp: cannot create it: Not a directory"
}
