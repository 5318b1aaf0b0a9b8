#!/usr/bin/env bats
# es-kafka-pub: records to Kafka, against librdkafka's mock cluster
# (tests/unit/kafka-mock.c; Kafka itself is not packaged) and read back
# with kcat: exact payloads, keys and partitions, -X properties, the drain
# at the end, a broker down mid-stream, a SIGKILLed publisher restarted on
# its spool, failed deliveries sent again, secrets, usage.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

setup() {
	skip_threads_unemulated es-kafka-pub
	T="$BATS_TEST_TMPDIR"
	MOCK_PID="" PUB_PID=""
	command -v kcat > /dev/null || skip "kcat not installed"
}

teardown() {
	[ -n "$PUB_PID" ] && kill -KILL "$PUB_PID" 2> /dev/null
	exec 8>&- 2> /dev/null
	# The mock ends when its commands end; its clean-up takes a second,
	# which no test needs to wait for.
	[ -n "$MOCK_PID" ] && exec 7>&-
	return 0
}

# mock_start BROKERS TOPIC PARTITIONS: the cluster, its address in $ADDR,
# its commands on fd 7 (see mock_cmd).
mock_start() {
	mkfifo "$T/ctl"
	"$UNIT/kafka-mock" "$@" < "$T/ctl" > "$T/mock.out" 2> "$T/mock.err" 3>&- &
	MOCK_PID=$!
	exec 7> "$T/ctl"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/mock.out" ] && break
		sleep 0.05
	done
	ADDR=$(head -1 "$T/mock.out")
	[[ $ADDR == 127.0.0.1:* ]] || fail "mock cluster did not start: $(cat "$T/mock.err")"
}

# mock_cmd "down 1" / "up 1": waits until the mock has done it.
mock_cmd() {
	local i
	echo "$*" >&7
	for ((i = 0; i < 100; i++)); do
		grep -qx -- "$*" "$T/mock.out" && return 0
		sleep 0.05
	done
	fail "mock: '$*' not done: $(cat "$T/mock.err")"
}

# consume TOPIC: every message as "partition key payload", stably sorted
# by partition (kcat interleaves partitions; each keeps its order).
consume() {
	timeout 20 kcat -C -b "$ADDR" -t "$1" -o beginning -e -q -f '%p %k %s\n' |
		sort -s -k1,1n
}

# The distinct "seq" values delivered, and how many messages.
distinct_seqs() {
	consume "$1" | cut -d' ' -f3- | jq .seq | sort -nu | wc -l
}

# wait_stat FILE FIELD N: waits until the --stats-file FILE has FIELD >= N
wait_stat() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(jq ".$2 >= $3" "$1" 2> /dev/null)" = true ] && return 0
		sleep 0.05
	done
	fail "$1: .$2 never reached $3: $(cat "$1")"
}

# seqs FROM TO: records with a device (four keys) and a sequence number
seqs() {
	local i
	for ((i = $1; i <= $2; i++)); do
		printf '{"device":"gw-%d","seq":%d}\n' $((i % 4)) "$i"
	done
}

# ---- round trip ----

@test "es-kafka-pub: each record is one message, byte for byte, no key by default" {
	mock_start 1 t 1
	printf '%s\n' '{"a":1}' '{ "spaced" : [1, 2.50, "x"] }' '{"u":"caf\u00e9 é \"q\""}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t "$T/in"
	assert_success
	assert_stderr ""
	run consume t
	assert_output '0  {"a":1}
0  { "spaced" : [1, 2.50, "x"] }
0  {"u":"caf\u00e9 é \"q\""}'
}

@test "es-kafka-pub -o influx: each message is a line of line protocol, escaped; the key a field" {
	mock_start 1 lp 1
	printf '%s\n' '{"ts":1700000000,"site":"north gate","dev":"a,1","t":21.5,"n":3,"ok":true,"s":"say \"hi\""}' \
		'{"ts":1700000001,"site":"s2","dev":"b=2","t":-0.25,"n":-7,"ok":false,"s":"back\\slash"}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t lp --message-key site \
		-o influx --measurement 'env data' --tags site,dev --precision s "$T/in"
	assert_success
	assert_stderr ''
	run consume lp
	assert_output '0 north gate env\ data,dev=a\,1,site=north\ gate t=21.5,n=3i,ok=true,s="say \"hi\"" 1700000000
0 s2 env\ data,dev=b\=2,site=s2 t=-0.25,n=-7i,ok=false,s="back\\slash" 1700000001'
}

@test "es-kafka-pub --key: one key stays in one partition, in order (CRC32 of the key mod 3)" {
	mock_start 3 t 3
	seqs 1 8 | es-kafka-pub -b "$ADDR" -t t --key device
	run consume t
	# consistent_random: partition = CRC32(key) % 3; gw-0 -> 1, gw-1 -> 1,
	# gw-2 -> 2, gw-3 -> 0 (python3 -c 'import zlib; print(zlib.crc32(b"gw-3") % 3)')
	assert_output '0 gw-3 {"device":"gw-3","seq":3}
0 gw-3 {"device":"gw-3","seq":7}
1 gw-1 {"device":"gw-1","seq":1}
1 gw-0 {"device":"gw-0","seq":4}
1 gw-1 {"device":"gw-1","seq":5}
1 gw-0 {"device":"gw-0","seq":8}
2 gw-2 {"device":"gw-2","seq":2}
2 gw-2 {"device":"gw-2","seq":6}'
}

@test "es-kafka-pub --key: numbers as written, nested paths; a record without the key is bad input" {
	mock_start 1 t 1
	printf '%s\n' '{"m":{"id":7.50},"n":1}' '{"n":2}' '{"m":{"id":"x"},"n":3}' \
		'{"m":{"id":null},"n":4}' '{"m":{"id":[1]},"n":5}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k m.id --dead-letter "$T/dead" "$T/in"
	assert_success
	assert_stderr "es-kafka-pub: $T/in:2: key field is missing
es-kafka-pub: $T/in:4: key field is null or empty
es-kafka-pub: $T/in:5: key field is an object or array"
	assert_file_is "$T/dead" <<-'EOF'
	{"n":2}
	{"m":{"id":null},"n":4}
	{"m":{"id":[1]},"n":5}
	EOF
	run consume t
	assert_output '0 7.50 {"m":{"id":7.50},"n":1}
0 x {"m":{"id":"x"},"n":3}'
	run es-kafka-pub -b "$ADDR" -t t -k 'a..b' /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid --key 'a..b': expected a field name or a quoted key"
}

@test "es-kafka-pub --message-key: the message key; -k/--key, its old name, still works; messages name the option as given" {
	mock_start 1 t 1
	printf '%s\n' '{"device":"a","n":1}' '{"n":2}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --message-key device "$T/in"
	assert_success
	assert_stderr "es-kafka-pub: $T/in:2: key field is missing"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --key n "$T/in"
	assert_success
	assert_stderr ""
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k device "$T/in"
	assert_success
	assert_stderr "es-kafka-pub: $T/in:2: key field is missing"
	run consume t
	assert_output '0 a {"device":"a","n":1}
0 1 {"device":"a","n":1}
0 2 {"n":2}
0 a {"device":"a","n":1}'
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --message-key 'a..b' /dev/null
	assert_failure 2
	assert_stderr "es-kafka-pub: invalid --message-key 'a..b': expected a field name or a quoted key
Try 'es-kafka-pub --help' for more information."
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --key 'a..b' /dev/null
	assert_failure 2
	assert_stderr "es-kafka-pub: invalid --key 'a..b': expected a field name or a quoted key
Try 'es-kafka-pub --help' for more information."
}

@test "es-kafka-pub --config: message-key = F, or key = F as before; a reload says the one given" {
	mock_start 1 t 3
	printf 'brokers = %s\ntopic = t\nmessage-key = device\n' "$ADDR" > "$T/k.conf"
	start_pub --config "$T/k.conf" --stats-file "$T/st" --stats-every 50ms
	seqs 1 1 >&8
	wait_stat "$T/st" delivered 1
	printf 'brokers = %s\ntopic = t\nkey = seq\n' "$ADDR" > "$T/k.conf"
	kill -HUP "$PUB_PID"
	await_err "reloaded: -t t --key seq"
	seqs 2 2 >&8
	wait_stat "$T/st" delivered 2
	printf 'brokers = %s\ntopic = t\nmessage-key = device\n' "$ADDR" > "$T/k.conf"
	kill -HUP "$PUB_PID"
	await_err "reloaded: -t t --message-key device"
	seqs 3 3 >&8
	exec 8>&-
	wait "$PUB_PID"
	local st=$?
	PUB_PID=""
	assert_equal "$st" 0
	run bash -c "timeout 20 kcat -C -b '$ADDR' -t t -o beginning -e -q -f '%k %s\n' | sort"
	assert_output '2 {"device":"gw-2","seq":2}
gw-1 {"device":"gw-1","seq":1}
gw-3 {"device":"gw-3","seq":3}'
	assert_file_is "$T/err" <<-EOF
	es-kafka-pub: --config $T/k.conf reloaded: -t t --key seq
	es-kafka-pub: --config $T/k.conf reloaded: -t t --message-key device
	EOF
}

@test "es-kafka-pub --strict: a record without the key stops it (exit 3) after the good ones" {
	mock_start 1 t 1
	printf '%s\n' '{"k":"a","n":1}' '{"n":2}' '{"k":"a","n":3}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k k --strict < "$T/in"
	assert_failure 3
	assert_stderr "es-kafka-pub: stdin:2: key field is missing"
}

@test "es-kafka-pub: CSV input is sent as NDJSON, or as CSV rows with -o csv; keys from cells" {
	mock_start 1 t 1
	printf 'device,value,note\ngw-1,37.5,"a, b"\ngw-2,-1,\n' > "$T/in.csv"
	es-kafka-pub -b "$ADDR" -t t -k device "$T/in.csv"
	es-kafka-pub -b "$ADDR" -t t -k value --input-format csv --output-format csv < "$T/in.csv"
	run consume t
	assert_output '0 gw-1 {"device":"gw-1","value":37.5,"note":"a, b"}
0 gw-2 {"device":"gw-2","value":-1,"note":null}
0 37.5 gw-1,37.5,"a, b"
0 -1 gw-2,-1,'
}

@test "es-kafka-pub --payload-field: the raw value (strings decoded, JSON text as is)" {
	mock_start 1 t 1
	printf '%s\n' '{"k":"a","p":"line \"one\""}' '{"k":"b","p":{"x":[1,2]}}' \
		'{"k":"c","p":42}' '{"k":"d"}' > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --key k --payload-field p < "$T/in"
	assert_success
	assert_stderr "es-kafka-pub: stdin:4: payload field is missing"
	run consume t
	assert_output '0 a line "one"
0 b {"x":[1,2]}
0 c 42'
}

# ---- properties ----

@test "es-kafka-pub -X: passes a librdkafka property (message.max.bytes makes a big record undeliverable: dead-lettered, exit 1)" {
	mock_start 1 t 1
	{ printf '{"n":1,"pad":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' x)"
	  printf '{"n":2}\n'; } > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -X message.max.bytes=2000 \
		-X compression.type=none --property linger.ms=0 --dead-letter "$T/dead" --stats < "$T/in"
	assert_failure 1
	assert_stderr 'es-kafka-pub: message 0 cannot be published: Broker: Message size too large
es-kafka-pub: 1 messages refused by the broker or the library: not delivered (counted as bad, their payloads to --dead-letter)
{"program":"es-kafka-pub","in":2,"out":1,"bad":1,"late":0,"dropped":0,"published":1,"delivered":1,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":0}'
	head -1 "$T/in" | assert_file_is "$T/dead"
	run consume t
	assert_output '0  {"n":2}'
}

@test "es-kafka-pub: every record accounted for: delivered + dead letter (bad input, refused) + left in the spool = in" {
	mock_start 1 t 1
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	{ printf '{"device":"a","n":1}\n'
	  printf '{"device":"a","n":2,"pad":"%s"}\n' "$big"
	  printf '{"device":"a","n":3\n'
	  printf '{"n":4}\n'
	  printf '{"device":"b","n":5}\n'; } > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k device -X message.max.bytes=2000 \
		--spool "$T/sp" --dead-letter "$T/dead" --stats "$T/in"
	assert_failure 1
	# 5 lines = out 2 + bad 3 (1 unreadable, 1 without its key, 1 refused)
	# + 0 left ("in" counts the 4 lines that are records)
	assert_stderr "es-kafka-pub: $T/in:3: invalid JSON at column 20: unexpected end of line
es-kafka-pub: $T/in:4: key field is missing
es-kafka-pub: message 1 cannot be published: Broker: Message size too large
es-kafka-pub: 1 messages refused by the broker or the library: not delivered (counted as bad, their payloads to --dead-letter)
"'{"program":"es-kafka-pub","in":5,"out":2,"bad":3,"late":0,"dropped":0,"published":2,"delivered":2,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":3}'
	{ sed -n 3,4p "$T/in"; sed -n 2p "$T/in"; } | assert_file_is "$T/dead"
	run consume t
	assert_output '0 a {"device":"a","n":1}
0 b {"device":"b","n":5}'
	# the cluster away: 2 records stay in the spool, said, exit 1
	mock_cmd down 1
	printf '{"device":"c","n":6}\n{"device":"c","n":7}\nnot json\n' > "$T/in2"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k device --spool "$T/sp" \
		--drain-timeout 300ms --dead-letter "$T/dead2" --stats "$T/in2"
	assert_failure 1
	# 3 lines = out 0 + bad 1 (unreadable) + 2 left in the spool
	assert_equal "$(grep -v '^es-kafka-pub: kafka: ' <<< "$stderr")" "es-kafka-pub: $T/in2:3: not a JSON object
es-kafka-pub: 2 messages not delivered (they remain in the spool $T/sp)
"'{"program":"es-kafka-pub","in":3,"out":0,"bad":1,"late":0,"dropped":0,"published":2,"delivered":0,"failed":0,"retried":0,"queued":2,"queued_bytes":52,"spooled":2}'
	assert_file_is "$T/dead2" <<< 'not json'
}

@test "es-kafka-pub -X: an unknown property or value, or properties that disagree, are usage errors (exit 2)" {
	run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t t -X no.such.thing=1 /dev/null
	assert_failure 2
	assert_stderr 'es-kafka-pub: -X no.such.thing: No such configuration property: "no.such.thing"
Try '"'es-kafka-pub --help'"' for more information.'
	run es-kafka-pub -b 127.0.0.1:9 -t t -X compression.type=zzz /dev/null
	assert_failure 2
	assert_line --index 0 'es-kafka-pub: -X compression.type: Invalid value "zzz" for configuration property "compression.codec"'
	run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t t -X acks=1 /dev/null
	assert_failure 2
	assert_stderr 'es-kafka-pub: `acks` must be set to `all` when `enable.idempotence` is true (es-kafka-pub turns it on; -X enable.idempotence=false turns it off)
Try '"'es-kafka-pub --help'"' for more information.'
	run es-kafka-pub -b 127.0.0.1:9 -t t -X acks /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid argument 'acks' for -X/--property: expected PROP=VALUE"
	run es-kafka-pub -b 127.0.0.1:9 -t t -X delivery.report.only.error=true /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: -X delivery.report.only.error: es-kafka-pub needs every delivery report"
	run es-kafka-pub -b 127.0.0.1:9 -t t -X enable.idempotence=false -X acks=1 /dev/null
	assert_success
}

@test "es-kafka-pub --partitioner: murmur2 places keys as the Java client does; a bad name is a usage error" {
	mock_start 1 t 4
	seqs 1 4 | es-kafka-pub -b "$ADDR" -t t -k device --partitioner murmur2
	run consume t
	assert_equal "${#lines[@]}" 4
	local p k
	while read -r p k _; do
		echo "$k $p"
	done <<< "$output" | sort > "$T/placed"
	# Java's murmur2 (positive hash mod 4) of each key, computed here.
	python3 - > "$T/java" <<-'EOF'
	def murmur2(data):
	    m, r = 0x5bd1e995, 24
	    h = (0x9747b28c ^ len(data)) & 0xffffffff
	    n = len(data) // 4
	    for i in range(n):
	        k = int.from_bytes(data[4*i:4*i+4], 'little')
	        k = (k * m) & 0xffffffff
	        k ^= k >> r
	        k = (k * m) & 0xffffffff
	        h = (h * m) & 0xffffffff
	        h ^= k
	    rest = data[4*n:]
	    if len(rest) >= 3: h ^= rest[2] << 16
	    if len(rest) >= 2: h ^= rest[1] << 8
	    if len(rest) >= 1:
	        h ^= rest[0]
	        h = (h * m) & 0xffffffff
	    h ^= h >> 13
	    h = (h * m) & 0xffffffff
	    h ^= h >> 15
	    return h
	for k in sorted(["gw-0", "gw-1", "gw-2", "gw-3"]):
	    print(k, (murmur2(k.encode()) & 0x7fffffff) % 4)
	EOF
	assert_equal "$(cat "$T/placed")" "$(cat "$T/java")"
	run es-kafka-pub -b 127.0.0.1:9 -t t --partitioner crc /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid argument 'crc' for --partitioner: expected random, consistent, consistent_random, murmur2, murmur2_random, fnv1a or fnv1a_random"
}

# ---- delivery ----

@test "es-kafka-pub: at the end it waits for every delivery report; --stats counts them (exit 0)" {
	mock_start 2 t 2
	seqs 1 2000 > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k device --drain-timeout 10s --stats "$T/in"
	assert_success
	assert_stderr '{"program":"es-kafka-pub","in":2000,"out":2000,"bad":0,"late":0,"dropped":0,"published":2000,"delivered":2000,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":0}'
	assert_equal "$(consume t | wc -l)" 2000
	assert_equal "$(distinct_seqs t)" 2000
}

@test "es-kafka-pub --queue 1: back-pressure, still everything in order" {
	mock_start 1 t 1
	seqs 1 50 | es-kafka-pub -b "$ADDR" -t t --queue 1
	run sh -c "timeout 20 kcat -C -b $ADDR -t t -o beginning -e -q -f '%s\n' | jq -c .seq | tr '\n' ' '"
	assert_output "$(seq 1 50 | tr '\n' ' ')"
	run es-kafka-pub -b 127.0.0.1:9 -t t --queue 0 /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid argument '0' for --queue: expected 1 to 100000000"
}

@test "es-kafka-pub --drain-timeout: the cluster unreachable, exit 1 saying how many wait in the spool; sent on the next run" {
	mock_start 1 t 1
	mock_cmd down 1
	seqs 1 3 > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --spool "$T/sp" --fsync always \
		--drain-timeout 500ms "$T/in"
	assert_failure 1
	assert_equal "${stderr##*$'\n'}" "es-kafka-pub: 3 messages not delivered (they remain in the spool $T/sp)"
	run --separate-stderr es-kafka-pub -b 127.0.0.1:9 -t t --drain-timeout 300ms "$T/in"
	assert_failure 1
	assert_equal "${stderr##*$'\n'}" "es-kafka-pub: 3 messages not delivered"
	mock_cmd up 1
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --spool "$T/sp" --stats /dev/null
	assert_success
	assert_stderr "es-kafka-pub: spool $T/sp: 3 records left from before go first
"'{"program":"es-kafka-pub","in":0,"out":3,"bad":0,"late":0,"dropped":0,"published":3,"delivered":3,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":0}'
	assert_equal "$(distinct_seqs t)" 3
}

@test "es-kafka-pub --spool: a broker down mid-stream and back loses nothing" {
	mock_start 1 t 2
	mkfifo "$T/in"
	es-kafka-pub -b "$ADDR" -t t -k device --spool "$T/sp" --fsync never \
		--stats-file "$T/st" --stats-every 50ms --stats < "$T/in" 2> "$T/err" 3>&- &
	PUB_PID=$!
	exec 8> "$T/in"
	seqs 1 300 >&8
	wait_stat "$T/st" delivered 300
	mock_cmd down 1
	seqs 301 600 >&8
	wait_stat "$T/st" spooled 600
	mock_cmd up 1
	seqs 601 900 >&8
	exec 8>&-
	wait "$PUB_PID"
	local st=$?
	PUB_PID=""
	[ "$st" -eq 0 ] || fail "exit $st: $(cat "$T/err")"
	run tail -1 "$T/err"
	assert_output '{"program":"es-kafka-pub","in":900,"out":900,"bad":0,"late":0,"dropped":0,"published":900,"delivered":900,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":900}'
	assert_equal "$(distinct_seqs t)" 900
	# and each key's records in order
	run sh -c "timeout 20 kcat -C -b $ADDR -t t -o beginning -e -q -f '%k %s\n' |
		grep '^gw-1 ' | cut -d' ' -f2 | jq .seq | sort -c -n && echo sorted"
	assert_output sorted
}

@test "es-kafka-pub --spool: SIGKILLed mid-stream and started again on its spool, nothing lost" {
	mock_start 1 t 2
	mkfifo "$T/in"
	es-kafka-pub -b "$ADDR" -t t -k device --spool "$T/sp" \
		--stats-file "$T/st" --stats-every 50ms < "$T/in" 2> "$T/err" 3>&- &
	PUB_PID=$!
	exec 8> "$T/in"
	seqs 1 300 >&8
	wait_stat "$T/st" delivered 300
	mock_cmd down 1		# so that some are surely not delivered yet
	seqs 301 600 >&8
	wait_stat "$T/st" spooled 600
	kill -KILL "$PUB_PID"
	wait "$PUB_PID" 2> /dev/null || true
	PUB_PID=""
	exec 8>&-
	mock_cmd up 1
	seqs 601 900 > "$T/rest"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t -k device --spool "$T/sp" "$T/rest"
	assert_success
	assert_regex "$stderr" "^es-kafka-pub: spool $T/sp: (3[0-9][0-9]) records left from before go first\$"
	assert_equal "$(distinct_seqs t)" 900
}

@test "es-kafka-pub: SIGTERM stops the reading, waits for the deliveries under way, exit 0" {
	mock_start 1 t 1
	mkfifo "$T/in"
	es-kafka-pub -b "$ADDR" -t t --stats-file "$T/st" --stats-every 50ms --stats \
		< "$T/in" 2> "$T/err" 3>&- &
	PUB_PID=$!
	exec 8> "$T/in"
	seqs 1 3 >&8
	wait_stat "$T/st" in 3
	kill -TERM "$PUB_PID"
	wait "$PUB_PID"
	local st=$?
	PUB_PID=""
	assert_equal "$st" 0
	assert_equal "$(cat "$T/err")" '{"program":"es-kafka-pub","in":3,"out":3,"bad":0,"late":0,"dropped":0,"published":3,"delivered":3,"failed":0,"retried":0,"queued":0,"queued_bytes":0,"spooled":0}'
	assert_equal "$(distinct_seqs t)" 3
}

@test "es-kafka-pub: deliveries that fail (message.timeout.ms) are counted and sent again, in order" {
	mock_start 1 t 1
	mkfifo "$T/in"
	es-kafka-pub -b "$ADDR" -t t -k device -X message.timeout.ms=300 \
		--stats-file "$T/st" --stats-every 50ms --stats < "$T/in" 2> "$T/err" 3>&- &
	PUB_PID=$!
	exec 8> "$T/in"
	seqs 1 100 >&8
	wait_stat "$T/st" delivered 100
	mock_cmd down 1
	seqs 101 200 >&8
	wait_stat "$T/st" failed 100
	mock_cmd up 1
	exec 8>&-
	wait "$PUB_PID"
	local st=$?
	PUB_PID=""
	[ "$st" -eq 0 ] || fail "exit $st: $(cat "$T/err")"
	run grep -c 'delivery failed, sending again: Local: Message timed out' "$T/err"
	assert_output 1
	run sh -c "tail -1 '$T/err' | jq -c '[.in, .delivered, .failed >= 100, .retried == .failed, .published == 200 + .retried]'"
	assert_output '[200,200,true,true,true]'
	run sh -c "timeout 20 kcat -C -b $ADDR -t t -o beginning -e -q -f '%s\n' | jq .seq | tr '\n' ' '"
	assert_output "$(seq 1 200 | tr '\n' ' ')"
}

@test "es-kafka-pub --spool-full drop-oldest, --spool-max: the oldest records go when the spool is full, counted" {
	mock_start 1 t 1
	mock_cmd down 1
	seqs 1 3000 > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --spool "$T/sp" --spool-max 64k \
		--spool-full drop-oldest --fsync never --drain-timeout 200ms --stats "$T/in"
	assert_failure 1
	run jq -c '[.in, .dropped > 0, .spooled]' <<< "${stderr##*$'\n'}"
	assert_output '[3000,true,3000]'
	run es-kafka-pub -b 127.0.0.1:9 -t t --spool-full sometimes /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid argument 'sometimes' for --spool-full: expected block or drop-oldest"
	run es-kafka-pub -b 127.0.0.1:9 -t t --fsync often /dev/null
	assert_failure 2
	run es-kafka-pub -b 127.0.0.1:9 -t t --spool-max 1k /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid argument '1k' for --spool-max: expected a size of at least 64k"
}

@test "es-kafka-pub --spool-full block: a full spool stops the reading until it drains" {
	mock_start 1 t 1
	seqs 1 3000 > "$T/in"
	run --separate-stderr es-kafka-pub -b "$ADDR" -t t --spool "$T/sp" \
		--spool-max 64k --spool-full block --fsync interval --stats < "$T/in"
	assert_success
	assert_equal "$(jq -c '[.in, .delivered, .dropped]' <<< "$stderr")" '[3000,3000,0]'
	assert_equal "$(distinct_seqs t)" 3000
}

# ---- secrets ----

@test "es-kafka-pub: the SASL password from ES_KAFKA_PASSWORD or --password-file, never needed on argv" {
	local sasl=(-b 127.0.0.1:9 -t t -X security.protocol=sasl_plaintext -X sasl.mechanisms=PLAIN)
	run es-kafka-pub "${sasl[@]}" -u user /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: sasl.username and sasl.password must be set"
	ES_KAFKA_PASSWORD=secret run --separate-stderr es-kafka-pub "${sasl[@]}" --username user /dev/null
	assert_success
	printf 'secret\n' > "$T/pw"
	run --separate-stderr es-kafka-pub "${sasl[@]}" -u user --password-file "$T/pw" /dev/null
	assert_success
	run --separate-stderr es-kafka-pub "${sasl[@]}" -u user --password-file "$T/none" /dev/null
	assert_failure 1
	assert_stderr "es-kafka-pub: cannot open $T/none: No such file or directory"
}

# ---- interface ----

# ---- --config: --check and reloads ----

# await_err TEXT: test_helper.bash (up to 10 s for TEXT on $T/err).

# A live es-kafka-pub on a FIFO written through fd 8; stderr to $T/err.
start_pub() {
	mkfifo "$T/in"
	es-kafka-pub "$@" < "$T/in" 2> "$T/err" 3>&- &
	PUB_PID=$!
	exec 8> "$T/in"
}

@test "es-kafka-pub --check: good options exit 0 at once with no cluster, reading nothing, no spool made; -X that disagree exit 2" {
	mkfifo "$T/fifo"
	exec 6<> "$T/fifo"	# open, and nobody writes
	printf 'brokers = 127.0.0.1:9\ntopic = t\nspool = %s\nproperty = linger.ms=5\n' "$T/spool" > "$T/k.conf"
	run --separate-stderr timeout 30 es-kafka-pub --config "$T/k.conf" --check <&6
	assert_success
	assert_output ''
	assert_stderr ''
	[ ! -e "$T/spool" ]
	printf 'brokers = 127.0.0.1:9\ntopic = t\nproperty = acks=0\n' > "$T/k.conf"
	run --separate-stderr timeout 30 es-kafka-pub --config "$T/k.conf" --check <&6
	assert_failure 2
	assert_stderr "es-kafka-pub: \`acks\` must be set to \`all\` when \`enable.idempotence\` is true (es-kafka-pub turns it on; -X enable.idempotence=false turns it off)
Try 'es-kafka-pub --help' for more information."
	exec 6>&-
}

@test "es-kafka-pub --config: SIGHUP: --key from the next record; a new topic after the queued ones are delivered, with a new producer; a new --spool is refused" {
	mock_start 1 t 3
	printf 'brokers = %s\ntopic = t\nkey = device\n' "$ADDR" > "$T/k.conf"
	start_pub --config "$T/k.conf" --stats-file "$T/st" --stats-every 50ms
	seqs 1 2 >&8
	wait_stat "$T/st" delivered 2
	printf 'brokers = %s\ntopic = t\nkey = seq\n' "$ADDR" > "$T/k.conf"
	kill -HUP "$PUB_PID"
	await_err "reloaded: -t t --key seq"
	seqs 3 3 >&8
	wait_stat "$T/st" delivered 3
	printf 'brokers = %s\ntopic = u\nkey = seq\nspool = %s\n' "$ADDR" "$T/spool" > "$T/k.conf"
	kill -HUP "$PUB_PID"
	await_err "needs a restart"
	printf 'brokers = %s\ntopic = u\nkey = seq\n' "$ADDR" > "$T/k.conf"
	kill -HUP "$PUB_PID"
	await_err "reloaded: -t u --key seq; -t/--topic changed: a new producer"
	seqs 4 5 >&8
	exec 8>&-
	wait "$PUB_PID"
	local st=$?
	PUB_PID=""
	assert_equal "$st" 0
	[ ! -e "$T/spool" ]
	run consume t
	# the key "3" in partition CRC32("3") % 3 = 1, after gw-1's
	assert_output '1 gw-1 {"device":"gw-1","seq":1}
1 3 {"device":"gw-3","seq":3}
2 gw-2 {"device":"gw-2","seq":2}'
	run bash -c "timeout 20 kcat -C -b '$ADDR' -t u -o beginning -e -q -f '%k %s\n' | sort"
	assert_output '4 {"device":"gw-0","seq":4}
5 {"device":"gw-1","seq":5}'
	assert_file_is "$T/err" <<-EOF
	es-kafka-pub: --config $T/k.conf reloaded: -t t --key seq
	es-kafka-pub: cannot reload --config $T/k.conf: changing --spool needs a restart; keeping the running configuration
	es-kafka-pub: --config $T/k.conf reloaded: -t u --key seq; -t/--topic changed: a new producer
	EOF
}

@test "es-kafka-pub --watch-config: a changed file is applied within a second; a bad one keeps the running configuration" {
	mock_start 1 t 1
	printf 'brokers = %s\ntopic = t\n' "$ADDR" > "$T/k.conf"
	touch -d '1 minute ago' "$T/k.conf"
	start_pub --config "$T/k.conf" --watch-config --stats-file "$T/st" --stats-every 50ms
	seqs 1 1 >&8
	wait_stat "$T/st" delivered 1
	printf 'brokers = %s\ntopic = t\npartitioner = fast\n' "$ADDR" > "$T/k.conf"
	await_err "keeping the running configuration"
	printf 'brokers = %s\ntopic = t\npayload-field = seq\n' "$ADDR" > "$T/k.conf"
	touch -d '1 minute' "$T/k.conf"
	await_err "reloaded: -t t --payload-field seq"
	seqs 2 2 >&8
	exec 8>&-
	wait "$PUB_PID"
	PUB_PID=""
	run consume t
	assert_output '0  {"device":"gw-1","seq":1}
0  2'
	assert_file_is "$T/err" <<-EOF
	es-kafka-pub: cannot reload --config $T/k.conf: invalid argument 'fast' for --partitioner: expected random, consistent, consistent_random, murmur2, murmur2_random, fnv1a or fnv1a_random; keeping the running configuration
	es-kafka-pub: --config $T/k.conf reloaded: -t t --payload-field seq
	EOF
}

@test "es-kafka-pub: missing -b or -t, a bad --drain-timeout or --payload-field are usage errors" {
	run --separate-stderr es-kafka-pub --topic t /dev/null
	assert_failure 2
	assert_stderr "es-kafka-pub: missing -b/--brokers
Try 'es-kafka-pub --help' for more information."
	run es-kafka-pub --brokers 127.0.0.1:9 /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: missing -t/--topic"
	run es-kafka-pub -b 127.0.0.1:9 -t t --drain-timeout 5parsecs /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid duration '5parsecs' for --drain-timeout: unknown unit in duration (use ms, s, m, h, d)"
	run es-kafka-pub -b 127.0.0.1:9 -t t --payload-field '' /dev/null
	assert_failure 2
	assert_line --index 0 "es-kafka-pub: invalid --payload-field '': expected a field name or a quoted key"
}

@test "es-kafka-pub: every long option is in --help, in man/es-kafka-pub.1 and in this file" {
	assert_long_options_documented es-kafka-pub \
		brokers topic key partitioner property username password-file payload-field \
		queue spool spool-max spool-full fsync drain-timeout input-format output-format \
		dead-letter strict stats stats-file stats-every help version
}

@test "es-kafka-pub --version" {
	run --separate-stderr es-kafka-pub --version
	assert_success
	assert_output 'es-kafka-pub (edgestream) 0.1.0'
	assert_stderr ""
}

@test "man/es-kafka-pub.1 is clean for groff -man -ww" {
	command -v groff > /dev/null || skip "groff not installed"
	run --separate-stderr groff -man -ww -Tutf8 "$BATS_TEST_DIRNAME/../man/es-kafka-pub.1"
	assert_success
	assert_stderr ""
}
