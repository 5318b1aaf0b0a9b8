#!/usr/bin/env bats
# es-deadband: report by exception (--abs, --pct, --max-silence) and
# swinging-door compression on hand-made fixtures whose answers were worked
# out by hand (tests/fixtures/deadband); the swinging-door bound checked by
# redrawing generated series; formats, bad input, limits, signals, usage.
#
# readings.ndjson, per device (ts in ms):
#   a: 10 @1s, 10.4 @2s, 10.6 @4s, 11.2 @5s, 11.0 @8s, 11.1 @20s
#   b: 5 @3s, 5.5 @6s, 6 @7s, 6.2 @21s
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

DF="$BATS_TEST_DIRNAME/fixtures/deadband"
GEN="$BATS_TEST_DIRNAME/../../shared/bench/gen-sensors"

setup() {
	T="$BATS_TEST_TMPDIR"
	BG=""
	W=""
}

# live_teardown: test_helper.bash.
teardown() {
	live_teardown
}

# Lines N... of FILE, in that order.
lines_of() {
	local f=$1 n
	shift
	for n in "$@"; do
		sed -n "${n}p" "$f"
	done
}

# ---- --abs, --pct, --max-silence ----

@test "es-deadband --abs: first record of each key, then only moves of more than X from the last passed value" {
	# a: 10 first; 10.4 (0.4) no; 10.6 (0.6) yes; 11.2 (0.6 from 10.6) yes;
	# 11.0, 11.1 no. b: 5 first; 5.5 (exactly 0.5: not more) no; 6 yes; 6.2 no.
	run_out es-deadband -k device --abs 0.5 "$DF/readings.ndjson"
	assert_equal "$status" 0
	assert_stderr ""
	lines_of "$DF/readings.ndjson" 1 3 4 5 7 | assert_file_is "$T/out"
}

@test "es-deadband --pct: moves of more than P% of the last passed value" {
	# a: 10.4 is 4% (no), 10.6 6% (yes), 11.2 5.7% of 10.6 (yes), 11.0 1.8%;
	# b: 5.5 is 10% (yes), 6 9.1% of 5.5 (yes), 6.2 3.3% (no)
	run_out es-deadband -k device --pct 5 "$DF/readings.ndjson"
	assert_equal "$status" 0
	lines_of "$DF/readings.ndjson" 1 3 4 5 6 7 | assert_file_is "$T/out"
}

@test "es-deadband --abs with --pct: a record passes when either says so" {
	run_out es-deadband -k device --abs 0.5 --pct 50 "$DF/readings.ndjson"
	lines_of "$DF/readings.ndjson" 1 3 4 5 7 | assert_file_is "$T/out"
	run_out es-deadband -k device --abs 100 --pct 5 "$DF/readings.ndjson"
	lines_of "$DF/readings.ndjson" 1 3 4 5 6 7 | assert_file_is "$T/out"
}

@test "es-deadband --max-silence: a record passes after D of event time without one" {
	# a: last passed 11.2 @5s, 11.1 @20s is 15s later; b: 6 @7s, 6.2 @21s
	run_out es-deadband -k device --abs 0.5 --max-silence 10s --time-unit ms "$DF/readings.ndjson"
	assert_equal "$status" 0
	lines_of "$DF/readings.ndjson" 1 3 4 5 7 9 10 | assert_file_is "$T/out"
	# exactly D later passes too (a: 15s), less does not (b: 14s)
	run_out es-deadband -k device --abs 0.5 --max-silence 15s --time-unit ms "$DF/readings.ndjson"
	lines_of "$DF/readings.ndjson" 1 3 4 5 7 9 | assert_file_is "$T/out"
}

@test "es-deadband without --key: the whole stream is one series" {
	run_out es-deadband --abs 0.5 "$DF/readings.ndjson"
	lines_of "$DF/readings.ndjson" 1 3 4 5 6 8 10 | assert_file_is "$T/out"
}

@test "es-deadband --key of two fields, --field of a nested path; a missing key field is one key (null)" {
	printf '%s\n' '{"d":"a","s":"t","m":{"v":1}}' '{"d":"a","s":"h","m":{"v":1}}' \
		'{"d":"a","s":"t","m":{"v":1.2}}' '{"m":{"v":3}}' '{"d":"a","s":"t","m":{"v":2.5}}' \
		'{"m":{"v":3.1}}' > "$T/in"
	run_out es-deadband --key d,s --field m.v --abs 1 "$T/in"
	lines_of "$T/in" 1 2 4 5 | assert_file_is "$T/out"
	run_out es-deadband -k d,s -f m.v --abs 1 "$T/in"
	lines_of "$T/in" 1 2 4 5 | assert_file_is "$T/out"
}

@test "es-deadband --pct: from a last value of 0 any change passes" {
	printf '%s\n' '{"value":0}' '{"value":0}' '{"value":0.001}' > "$T/in"
	run_out es-deadband --pct 10 "$T/in"
	lines_of "$T/in" 1 3 | assert_file_is "$T/out"
}

# ---- --swinging-door ----

@test "es-deadband --swinging-door: keeps the points that close the door, held points late, the last at the end" {
	# key a, E = 0.5: (0,0) first. (1,1) held, door [0.5, 1.5]; (2,2) slope 1
	# inside, door [0.75, 1.25]; (3,3.2) slope 1.067 inside, door [0.9, 1.233];
	# (4,3) slope 0.75 outside: (3,3.2) is kept and the pivot; (4,3) held,
	# door [-0.7, 0.3]; (5,3) slope -0.1 inside, door [-0.35, 0.15];
	# (6,6) slope 0.93 outside: (5,3) kept; (6,6) held until the end.
	# key b: (0,5) first; (1,5) held until the end (it came before a's (6,6)).
	run_out es-deadband -k k -f v --time-field t --time-unit s --swinging-door 0.5 "$DF/door.ndjson"
	assert_equal "$status" 0
	assert_stderr ""
	lines_of "$DF/door.ndjson" 1 3 5 7 8 9 | assert_file_is "$T/out"
}

@test "es-deadband --swinging-door 0: collinear points are dropped, a bend is kept" {
	printf '{"ts":%d,"value":%d}\n' 0 0 1 1 2 2 3 3 4 2 5 1 > "$T/in"
	run_out es-deadband --swinging-door 0 --time-unit s "$T/in"
	lines_of "$T/in" 1 4 6 | assert_file_is "$T/out"
}

@test "es-deadband --swinging-door: a point not after the pivot's time is kept and becomes the pivot" {
	printf '%s\n' '{"ts":0,"value":0}' '{"ts":1,"value":1}' '{"ts":1,"value":5}' '{"ts":0,"value":5}' > "$T/in"
	run_out es-deadband --swinging-door 0.5 --time-unit s "$T/in"
	assert_file_is "$T/out" < "$T/in"
}

@test "es-deadband --swinging-door with --max-silence: the held point, then the record after D" {
	printf '{"ts":%d,"value":0}\n' 0 1 2 3 4 5 > "$T/in"
	run_out es-deadband --swinging-door 10 --max-silence 3s --time-unit s "$T/in"
	lines_of "$T/in" 1 3 4 6 | assert_file_is "$T/out"
}

# redraw E: checks $T/in (gen-sensors) against $T/out redrawn within E.
redraw() {
	{ jq -r '"K \(.device)/\(.sensor) \(.ts) \(.value)"' "$T/out"
	  jq -r '"O \(.device)/\(.sensor) \(.ts) \(.value)"' "$T/in"; } |
		awk -v E="$1" -f "$DF/redraw.awk"
}

@test "es-deadband --swinging-door: every point of generated series is within E of the lines between kept points" {
	"$GEN" 30000 --devices 5 > "$T/in"
	local e
	for e in 0 0.05 0.5 2; do
		run_out es-deadband -k device,sensor --swinging-door "$e" "$T/in"
		assert_equal "$status" 0
		run redraw "$e"
		assert_output ''
		# and it drops something (all of it at E = 0 would be a bug too)
		[ "$(wc -l < "$T/out")" -lt 30000 ] || fail "E=$e kept everything"
	done
	# the check itself catches a bound that does not hold
	run_out es-deadband -k device,sensor --swinging-door 0.5 "$T/in"
	run redraw 0.25
	[ -n "$output" ]
}

@test "es-deadband --swinging-door: CSV rows held and written late stay byte for byte, quoted newlines too" {
	printf 'ts,device,value,note\n1000,a,10,"x, y"\n2000,a,10.2,plain\n3000,a,10.4,"multi\nline"\n4000,a,10.6,z\n5000,a,12,w\n' > "$T/in.csv"
	# 10 → 10.6 is a straight line: (3000,10.4) is dropped, (4000,10.6)
	# closes the door at 12, and 12 is held to the end
	run_out es-deadband --swinging-door 0.01 --time-unit ms "$T/in.csv"
	assert_equal "$status" 0
	printf 'ts,device,value,note\n1000,a,10,"x, y"\n4000,a,10.6,z\n5000,a,12,w\n' | assert_file_is "$T/out"
	printf 'ts,device,value,note\n1000,a,10,"x, y"\n2000,a,10.2,plain\n3000,a,11,"multi\nline"\n4000,a,11.1,z\n' > "$T/in.csv"
	run_out es-deadband --swinging-door 0.1 --time-unit ms "$T/in.csv"
	assert_file_is "$T/out" < "$T/in.csv"
	# converted to NDJSON, held rows too
	run_out es-deadband --swinging-door 0.1 --time-unit ms -o ndjson "$T/in.csv"
	printf '%s\n' '{"ts":1000,"device":"a","value":10,"note":"x, y"}' \
		'{"ts":2000,"device":"a","value":10.2,"note":"plain"}' \
		'{"ts":3000,"device":"a","value":11,"note":"multi\nline"}' \
		'{"ts":4000,"device":"a","value":11.1,"note":"z"}' | assert_file_is "$T/out"
}

# ---- formats ----

@test "es-deadband: CSV in, CSV out byte for byte; NDJSON to CSV with -o csv" {
	printf 'ts,device,value\n1000,a,10\n2000,a,10.4\n3000,"a",11.00\n' > "$T/in.csv"
	run_out es-deadband -k device --abs 0.5 "$T/in.csv"
	printf 'ts,device,value\n1000,a,10\n3000,"a",11.00\n' | assert_file_is "$T/out"
	run_out es-deadband -k device --abs 0.5 -o csv "$DF/readings.ndjson"
	printf 'ts,device,value\n1000,a,10\n3000,b,5\n4000,a,10.6\n5000,a,11.2\n7000,b,6\n' | assert_file_is "$T/out"
	run_out es-deadband -k device --abs 0.5 --input-format csv --output-format ndjson "$T/in.csv"
	printf '%s\n' '{"ts":1000,"device":"a","value":10}' '{"ts":3000,"device":"a","value":11.00}' | assert_file_is "$T/out"
}

@test "es-deadband: a string key in NDJSON and the same text in CSV are one key (keys in normal form)" {
	printf 'value,device\n1,7\n' > "$T/a.csv"
	printf '{"value":1.1,"device":7}\n{"value":3,"device":7.0}\n' > "$T/b.ndjson"
	run_out es-deadband -k device --abs 0.5 -o ndjson "$T/a.csv" "$T/b.ndjson"
	printf '%s\n' '{"value":1,"device":7}' '{"value":3,"device":7.0}' | assert_file_is "$T/out"
}

# ---- bad input ----

@test "es-deadband: a value that is not a number is bad input: named, dead-lettered, counted; the rest goes on" {
	local f="$DF/bad.ndjson"
	run --separate-stderr es-deadband --abs 0.5 --stats --dead-letter "$T/dead" "$f"
	assert_success
	# 1 first; 9 moved 8; 9 did not; 3 moved 6 (no time needed here)
	assert_output "$(lines_of "$f" 1 8 10)"
	assert_stderr "$(cat <<EOF
es-deadband: $f:2: field 'value' is a string, a number is needed
es-deadband: $f:3: field 'value' is missing, a number is needed
es-deadband: $f:4: field 'value' is null, a number is needed
es-deadband: $f:5: field 'value' is a boolean, a number is needed
es-deadband: $f:6: field 'value' is an object or array, a number is needed
es-deadband: $f:7: not a JSON object
{"program":"es-deadband","in":10,"out":3,"bad":6,"late":0,"dropped":0,"filtered":1,"keys":1,"evicted":0,"bytes_in":85,"bytes_out":56,"ratio":1.333,"bytes_ratio":1.518,"state_bytes":0}
EOF
)"
	sed -n '2,7p' "$f" | assert_file_is "$T/dead"
}

@test "es-deadband --max-silence: a missing or invalid time is bad input" {
	local f="$DF/bad.ndjson"
	run --separate-stderr es-deadband --abs 0.5 --max-silence 1s --time-unit ms "$f"
	assert_success
	assert_output "$(printf '%s\n' '{"ts":1000,"value":1}' '{"ts":9000,"value":3}')"
	assert_equal "$(grep -c . <<< "$stderr")" 8
	[[ "$stderr" == *"$f:8: missing time field (--time-field ts)"* ]] || fail "$stderr"
	[[ "$stderr" == *"$f:9: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)"* ]] || fail "$stderr"
}

@test "es-deadband: a CSV cell that is not a number is bad input, dead-lettered under its header" {
	printf 'ts,value\n1000,1\n2000,n/a\n3000,\n4000,3\n' > "$T/in.csv"
	run --separate-stderr es-deadband --abs 0.5 --dead-letter "$T/dead.csv" "$T/in.csv"
	assert_success
	assert_output "$(printf 'ts,value\n1000,1\n4000,3')"
	assert_stderr "$(printf '%s\n' "es-deadband: $T/in.csv:3: field 'value' is a string, a number is needed" \
		"es-deadband: $T/in.csv:4: field 'value' is null, a number is needed")"
	printf 'ts,value\n2000,n/a\n3000,\n' | assert_file_is "$T/dead.csv"
}

@test "es-deadband --strict: the first bad line is fatal, exit 3, what came before is written" {
	run --separate-stderr es-deadband --abs 0.5 --strict "$DF/bad.ndjson"
	[ "$status" -eq 3 ]
	assert_output '{"ts":1000,"value":1}'
	assert_stderr "es-deadband: $DF/bad.ndjson:2: field 'value' is a string, a number is needed"
}

# ---- limits, stats, pipes, signals ----

@test "es-deadband --max-keys: the least recently seen key is forgotten (its next record passes as a first), once said; a held point goes out first" {
	printf '%s\n' '{"d":"a","value":1}' '{"d":"b","value":1}' '{"d":"a","value":1}' \
		'{"d":"c","value":1}' '{"d":"b","value":1}' > "$T/in"
	run --separate-stderr es-deadband -k d --abs 5 --max-keys 2 --stats "$T/in"
	assert_success
	# c evicts b (a was seen later); b again evicts a
	assert_output "$(lines_of "$T/in" 1 2 4 5)"
	assert_stderr "$(printf '%s\n' 'es-deadband: --max-keys 2 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-deadband","in":5,"out":4,"bad":0,"late":0,"dropped":0,"filtered":1,"keys":2,"evicted":2,"bytes_in":100,"bytes_out":80,"ratio":1.25,"bytes_ratio":1.25,"state_bytes":12}')"
	printf '%s\n' '{"ts":0,"d":"a","value":1}' '{"ts":1,"d":"a","value":2}' '{"ts":2,"d":"b","value":1}' > "$T/in"
	run --separate-stderr es-deadband -k d --swinging-door 0.1 --time-unit s --max-keys 1 "$T/in"
	assert_output "$(cat "$T/in")"
}

# A key takes 5 bytes a field plus its value's text: "a" is 6 bytes, so
# --max-state 12 holds two series of --abs, as --max-keys 2 does.
@test "es-deadband --max-state: at the limit the least recently seen key is forgotten as at --max-keys, once said; --stats state_bytes" {
	printf '%s\n' '{"d":"a","value":1}' '{"d":"b","value":1}' '{"d":"a","value":1}' \
		'{"d":"c","value":1}' '{"d":"b","value":1}' > "$T/in"
	run --separate-stderr es-deadband -k d --abs 5 --max-state 12 --stats "$T/in"
	assert_success
	# c evicts b (a was seen later); b again evicts a
	assert_output "$(lines_of "$T/in" 1 2 4 5)"
	assert_stderr "$(printf '%s\n' 'es-deadband: --max-state 12 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-deadband","in":5,"out":4,"bad":0,"late":0,"dropped":0,"filtered":1,"keys":2,"evicted":2,"bytes_in":100,"bytes_out":80,"ratio":1.25,"bytes_ratio":1.25,"state_bytes":12}')"
	# the same records as at --max-keys 2
	run --separate-stderr es-deadband -k d --abs 5 --max-keys 2 "$T/in"
	assert_output "$(lines_of "$T/in" 1 2 4 5)"
	# SIZE in units: 1k holds them all
	run --separate-stderr es-deadband -k d --abs 5 --max-state 1k --stats "$T/in"
	assert_output "$(lines_of "$T/in" 1 2 4)"
	assert_stderr '{"program":"es-deadband","in":5,"out":3,"bad":0,"late":0,"dropped":0,"filtered":2,"keys":3,"evicted":0,"bytes_in":100,"bytes_out":60,"ratio":1.667,"bytes_ratio":1.667,"state_bytes":18}'
}

@test "es-deadband --swinging-door --max-state: held copies count; a key forgotten for them writes its held point first" {
	local pad
	pad=$(printf 'p%.0s' $(seq 1 200))
	# a: 0 passes, 1 is held (a copy of its record: over 200 bytes); b: 5
	# passes, 6 is held: two copies are over 500 bytes, so a, seen least
	# recently, is forgotten and its held point written; a's 2 is then a
	# first. At the end b's held point. (Unlimited, 1 would be dropped on
	# the line from 0 to 2: see below.)
	printf '{"ts":%d,"d":"%s","value":%d,"pad":"%s"}\n' 0 a 0 "$pad" 1 a 1 "$pad" \
		0 b 5 "$pad" 1 b 6 "$pad" 2 a 2 "$pad" > "$T/in"
	run --separate-stderr es-deadband -k d --swinging-door 0.1 --time-unit s --max-state 500 "$T/in"
	assert_success
	assert_output "$(lines_of "$T/in" 1 3 2 5 4)"
	assert_stderr 'es-deadband: --max-state 500 reached: forgetting the least recently seen key (counted as "evicted" in --stats)'
	run --separate-stderr es-deadband -k d --swinging-door 0.1 --time-unit s "$T/in"
	assert_output "$(lines_of "$T/in" 1 3 4 5)"
	assert_stderr ''
}

@test "es-deadband --max-state: a key bigger than the limit alone is still kept, the others forgotten" {
	local big
	big=$(printf 'x%.0s' $(seq 1 100))
	printf '{"d":"%s","value":%s}\n' "$big" 1 "$big" 1.2 b 1 "$big" 1.2 > "$T/in"
	run --separate-stderr es-deadband -k d --abs 0.5 --max-state 10 --stats "$T/in"
	assert_success
	# the big key (105 bytes) is kept alone: 1.2 did not move enough; b
	# evicts it, so its 1.2 then passes as a first
	assert_output "$(lines_of "$T/in" 1 3 4)"
	assert_stderr "$(printf '%s\n' 'es-deadband: --max-state 10 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-deadband","in":4,"out":3,"bad":0,"late":0,"dropped":0,"filtered":1,"keys":1,"evicted":2,"bytes_in":381,"bytes_out":260,"ratio":1.333,"bytes_ratio":1.465,"state_bytes":105}')"
	# with a held copy too (over 10 bytes): the record is held, then written
	printf '{"ts":%d,"d":"%s","value":%d}\n' 0 "$big" 0 1 "$big" 1 > "$T/in"
	run --separate-stderr es-deadband -k d --swinging-door 0.1 --time-unit s --max-state 10 "$T/in"
	assert_output "$(cat "$T/in")"
	assert_stderr ''
}

@test "es-deadband --swinging-door: a held copy counts its text, 104 bytes and 48 a CSV cell in state_bytes, on every architecture" {
	# NDJSON: the key "a" (1 + 5) and the copy of the 27-byte record held
	# last (104 + 27) = 137. CSV: the key, then the copy: 104, the row's
	# 5 bytes and its 3 cells' values (3 bytes) in one buffer, 3 cells of 48.
	printf '{"ts":1,"device":"a","v":0}\n{"ts":2,"device":"a","v":1}\n' > "$T/in"
	run --separate-stderr es-deadband -k device --swinging-door 0.5 -f v --stats "$T/in"
	assert_success
	assert_equal "$stderr" '{"program":"es-deadband","in":2,"out":2,"bad":0,"late":0,"dropped":0,"filtered":0,"keys":1,"evicted":0,"bytes_in":56,"bytes_out":56,"ratio":1,"bytes_ratio":1,"state_bytes":137}'
	printf 'ts,device,v\n1,a,0\n2,a,1\n' > "$T/in.csv"
	run --separate-stderr es-deadband -k device --swinging-door 0.5 -f v --stats "$T/in.csv"
	assert_success
	assert_equal "$stderr" '{"program":"es-deadband","in":2,"out":2,"bad":0,"late":0,"dropped":0,"filtered":0,"keys":1,"evicted":0,"bytes_in":12,"bytes_out":12,"ratio":1,"bytes_ratio":1,"state_bytes":262}'
}

@test "es-deadband --max-state: 40 held copies of 1 MiB records under 8M take 8 MiB, not 40 (peak RSS)" {
	# per key: 0 passes, 1 is held (a copy of 1 MiB) until the key is
	# forgotten, which writes it
	python3 -c '
import sys
pad = "p" * (1 << 20)
for i in range(40):
    for t in (0, 1):
        sys.stdout.write("{\"d\":\"k%d\",\"ts\":%d,\"value\":%d,\"pad\":\"%s\"}\n" % (i, t, t, pad))
' > "$T/in"
	/usr/bin/time -f %M -o "$T/rss" es-deadband -k d --swinging-door 0.1 --time-unit s --max-state 8M "$T/in" > "$T/out" 2> "$T/err"
	assert_equal "$(cat "$T/err")" 'es-deadband: --max-state 8M reached: forgetting the least recently seen key (counted as "evicted" in --stats)'
	# every record written: the held ones when their key went, or at the end
	assert_equal "$(wc -l < "$T/out")" 80
	assert_equal "$(sort "$T/out" | cmp - <(sort "$T/in") && echo same)" same
	# 12 MiB measured; 45 MiB without the limit
	# (the bound is the plain build's: ASan and valgrind add their own)
	[ -n "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || [ "$(cat "$T/rss")" -lt "$(rss_bound 24576)" ] || fail "peak RSS $(cat "$T/rss") KiB"
}

@test "es-deadband --stats: records and bytes read and written, and the reduction ratios" {
	run --separate-stderr es-deadband -k device --abs 0.5 --stats "$DF/readings.ndjson"
	assert_success
	# 10 records of 372 bytes (newlines counted); 5 written: 182 bytes
	assert_stderr '{"program":"es-deadband","in":10,"out":5,"bad":0,"late":0,"dropped":0,"filtered":5,"keys":2,"evicted":0,"bytes_in":372,"bytes_out":182,"ratio":2,"bytes_ratio":2.044,"state_bytes":12}'
	run --separate-stderr es-deadband --abs 0.5 --stats < /dev/null
	assert_stderr '{"program":"es-deadband","in":0,"out":0,"bad":0,"late":0,"dropped":0,"filtered":0,"keys":0,"evicted":0,"bytes_in":0,"bytes_out":0,"ratio":null,"bytes_ratio":null,"state_bytes":0}'
}

@test "es-deadband big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"ts\":%d,\"value\":%d}\n", i, i }' > "$T/big"
	run bash -c 'es-deadband --abs 0.5 "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"ts":0,"value":0}'
}

@test "es-deadband: a live pipe gets each passed record at once; SIGTERM writes the held point, exit 0" {
	skip_if_slow
	mkfifo "$T/fifo"
	setsid es-deadband --swinging-door 0.1 --time-unit s < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	local pid=$! i st
	BG="$pid"
	exec {W}> "$T/fifo"
	printf '{"ts":0,"value":0}\n{"ts":1,"value":5}\n' >&"$W"
	for ((i = 0; i < 40; i++)); do
		[ -s "$T/out" ] && break
		sleep 0.05
	done
	assert_file_is "$T/out" <<< '{"ts":0,"value":0}'
	kill -TERM "$pid"
	wait "$pid" && st=0 || st=$?
	[ "$st" -eq 0 ]
	printf '%s\n' '{"ts":0,"value":0}' '{"ts":1,"value":5}' | assert_file_is "$T/out"
	assert_file_is "$T/err" < /dev/null
}

# ---- usage ----

@test "es-deadband: usage errors name the option and why, exit 2" {
	local -a cases=(
		'|say how far a value must move: --abs, --pct or --swinging-door'
		'--max-silence 1m|say how far a value must move: --abs, --pct or --swinging-door'
		'--abs 1 --swinging-door 1|--swinging-door does not go with --abs or --pct'
		'--pct 1 --swinging-door 1|--swinging-door does not go with --abs or --pct'
		'--abs -1|invalid argument '"'-1'"' for --abs: expected a number >= 0'
		'--abs x|invalid argument '"'x'"' for --abs: expected a number >= 0'
		'--pct 5%|invalid argument '"'5%'"' for --pct: expected a number >= 0'
		'--swinging-door nan|invalid argument '"'nan'"' for --swinging-door: expected a number >= 0'
		'--abs 1 --max-silence 0|invalid duration '"'0'"' for --max-silence: must be above 0'
		'--abs 1 --max-silence 5|invalid duration '"'5'"' for --max-silence: missing unit in duration'
		'--abs 1 --time-unit h|invalid argument '"'h'"' for --time-unit: expected s, ms, us, ns or auto'
		'--abs 1 --max-keys 0|invalid argument '"'0'"' for --max-keys: expected a count from 1 to 100000000'
		'--abs 1 --max-state 0|invalid argument '"'0'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--abs 1 --max-state 64x|invalid argument '"'64x'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--abs 1 --max-state 1.5M|invalid argument '"'1.5M'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--abs 1 --max-state -1|invalid argument '"'-1'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--abs 1 -k a,,b|invalid --key '"'a,,b'"' at column 3: expected a field name or a quoted key'
		'--abs 1 -k a,|invalid --key '"'a,'"' at column 2: expected '"','"''
		'--abs 1 -f a..b|invalid --field '"'a..b'"': expected a field name or a quoted key'
		'--abs 1 --time-field a..b|invalid --time-field '"'a..b'"': expected a field name or a quoted key'
		'--abs 1 -o xml|invalid argument '"'xml'"' for -o/--output-format: expected ndjson, csv or influx'
	)
	assert_usage_errors es-deadband "${cases[@]}"
}

@test "es-deadband: an unknown option: getopt's message and the hint, exit 2" {
	assert_unknown_option es-deadband
}

@test "es-deadband --help: usage, every option, examples; --version" {
	run --separate-stderr es-deadband --help
	assert_success
	assert_stderr ""
	assert_line --index 0 'Usage: es-deadband --abs X|--pct P|--swinging-door E [OPTION]... [FILE]...'
	assert_line --regexp '^ +es-deadband -k device,sensor .+'
	assert_version es-deadband
}

@test "es-deadband: every long option is in --help, in man/es-deadband.1 and in this file" {
	assert_long_options_documented es-deadband \
		key field abs pct max-silence swinging-door time-field time-unit max-keys max-state \
		input-format output-format dead-letter strict stats help version
}

@test "man/es-deadband.1 is clean for groff -man -ww" {
	assert_man_clean es-deadband
}

# ---- --config reloads ----
# start_live, finish_live, await_out, await_err, rewrite_later and
# live_teardown: test_helper.bash.

@test "es-deadband --check: good options exit 0 reading nothing; bad ones exit 2 with the message" {
	mkfifo "$T/in"
	printf 'key = k\nabs = 1\nmax-silence = 1m\n' > "$T/d.conf"
	# stdin a FIFO nobody writes: a read would block until the timeout
	run --separate-stderr timeout 30 es-deadband --config "$T/d.conf" --check - "$T/no-such-input" <> "$T/in"
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'abs = 1\nswinging-door = 0.5\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-deadband --config "$T/d.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-deadband: --swinging-door does not go with --abs or --pct
Try 'es-deadband --help' for more information."
	printf 'abs = 1\nmax-state = 0\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-deadband --config "$T/d.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-deadband: invalid argument '0' for --max-state: expected a size > 0 (bytes, or with K, M or G)
Try 'es-deadband --help' for more information."
	printf 'abs = 1\nmax-state = 2G\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-deadband --config "$T/d.conf" --check <> "$T/in"
	assert_success
	assert_stderr ''
}

@test "es-deadband --config: SIGHUP with the same series keeps each key's last value and applies the new --abs; a bad file keeps the running one" {
	skip_if_slow
	printf 'key = k\nabs = 1\n' > "$T/d.conf"
	start_live es-deadband --config "$T/d.conf"
	# 10.8 is within 1 of 10: dropped; b's first passes
	printf '{"k":"a","value":10}\n{"k":"a","value":10.8}\n{"k":"b","value":1}\n' >&"$W"
	await_out 2
	printf 'key = k\nabs = 0.5\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept"
	# against a's last passed value, 10: 10.3 is dropped (a reset would
	# pass it as a first), 10.6 passes under 0.5 (not under 1)
	printf '{"k":"a","value":10.3}\n{"k":"a","value":10.6}\n' >&"$W"
	await_out 3
	printf 'key = k\nabs = x\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"k":"a","value":11.0}\n{"k":"a","value":11.2}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","value":10}
	{"k":"b","value":1}
	{"k":"a","value":10.6}
	{"k":"a","value":11.2}
	EOF2
	assert_file_is "$T/err" <<-EOF2
	es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept
	es-deadband: cannot reload --config $T/d.conf: invalid argument 'x' for --abs: expected a number >= 0; keeping the running configuration
	EOF2
}

@test "es-deadband --config: a reload that changes --key writes the held points at once and starts every series again" {
	skip_if_slow
	printf 'key = k\nswinging-door = 0.1\ntime-unit = s\n' > "$T/d.conf"
	start_live es-deadband --config "$T/d.conf"
	# a: 0 passes, 1 and 2 lie on a line (2 held); b's first passes
	printf '%s\n' '{"k":"a","ts":0,"value":0}' '{"k":"a","ts":1,"value":1}' \
		'{"k":"a","ts":2,"value":2}' '{"k":"b","ts":0,"value":5}' >&"$W"
	await_out 2
	printf 'swinging-door = 0.1\ntime-unit = s\n' > "$T/d.conf"
	kill -HUP "$PID"
	# the held point is written by the reload, before any more input
	await_out 3
	# one series now: 3 passes as its first, 4 is held to the end
	printf '%s\n' '{"k":"a","ts":3,"value":3}' '{"k":"b","ts":4,"value":4}' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","ts":0,"value":0}
	{"k":"b","ts":0,"value":5}
	{"k":"a","ts":2,"value":2}
	{"k":"a","ts":3,"value":3}
	{"k":"b","ts":4,"value":4}
	EOF2
	assert_file_is "$T/err" <<< "es-deadband: --config $T/d.conf reloaded: the series changed: the state of 2 keys reset, 1 held point written"
}

@test "es-deadband --watch-config: a changed file is reloaded on a quiet input; a lower --max-keys forgets keys at once" {
	skip_if_slow
	printf 'key = k\nabs = 1\n' > "$T/d.conf"
	start_live es-deadband --config "$T/d.conf" --watch-config
	printf '{"k":"a","value":1}\n{"k":"b","value":1}\n' >&"$W"
	await_out 2
	printf 'key = k\nabs = 1\nmax-keys = 1\n' | rewrite_later "$T/d.conf"
	await_err "reloaded"
	# a, the least recently seen, was forgotten: its next record is a first
	printf '{"k":"b","value":1.5}\n{"k":"a","value":1.5}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","value":1}
	{"k":"b","value":1}
	{"k":"a","value":1.5}
	EOF2
	assert_file_is "$T/err" <<-EOF2
	es-deadband: --max-keys 1 reached: forgetting the least recently seen key (counted as "evicted" in --stats)
	es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept
	EOF2
}

@test "es-deadband --watch-config: a lower --max-state forgets keys at once, their held points written first" {
	skip_if_slow
	printf 'key = k\nswinging-door = 0.1\ntime-unit = s\n' > "$T/d.conf"
	start_live es-deadband --config "$T/d.conf" --watch-config --stats
	# a: 0 passes, 1 is held (a copy of over 100 bytes); b: 5 passes
	printf '%s\n' '{"k":"a","ts":0,"value":0}' '{"k":"a","ts":1,"value":1}' \
		'{"k":"b","ts":0,"value":5}' >&"$W"
	await_out 2
	# b takes 6 bytes, a more than 60 (136 on 64-bit, 88 on armhf): a goes,
	# its held point first
	printf 'key = k\nswinging-door = 0.1\ntime-unit = s\nmax-state = 60\n' | rewrite_later "$T/d.conf"
	await_out 3
	# a's next point is a first: it passes
	printf '%s\n' '{"k":"a","ts":2,"value":2}' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","ts":0,"value":0}
	{"k":"b","ts":0,"value":5}
	{"k":"a","ts":1,"value":1}
	{"k":"a","ts":2,"value":2}
	EOF2
	assert_equal "$(sed -n 1,2p "$T/err")" "es-deadband: --max-state 60 reached: forgetting the least recently seen key (counted as \"evicted\" in --stats)
es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept"
	assert_equal "$(sed -n 3p "$T/err" | jq -c '[.out, .keys, .evicted, .state_bytes > 60]')" '[4,2,1,true]'
}

@test "es-deadband --config: the same series across a reload keep a held point and its door; the new width narrows it from the next point" {
	skip_if_slow
	printf 'key = k\nswinging-door = 0.1\ntime-unit = s\n' > "$T/d.conf"
	start_live es-deadband --config "$T/d.conf"
	# a: 0 passes, 1 is held; b's first passes
	printf '%s\n' '{"k":"a","ts":0,"value":0}' '{"k":"a","ts":1,"value":1}' \
		'{"k":"b","ts":0,"value":5}' >&"$W"
	await_out 2
	printf 'key = k\nswinging-door = 0.5\ntime-unit = s\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept"
	# 2 is held in the door [0.9, 1.1] that 1 left; 3.6 at 3 s (slope 1.2)
	# closes it, so 2 is kept and 3.6 held to the end (had the door
	# started again at 0.5, [0.75, 1.25] would have held 3.6 and dropped
	# 2; a reset would have written 1 and passed 2 as a first)
	printf '%s\n' '{"k":"a","ts":2,"value":2}' '{"k":"a","ts":3,"value":3.6}' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","ts":0,"value":0}
	{"k":"b","ts":0,"value":5}
	{"k":"a","ts":2,"value":2}
	{"k":"a","ts":3,"value":3.6}
	EOF2
	assert_file_is "$T/err" <<< "es-deadband: --config $T/d.conf reloaded: the state of 2 keys kept"
}

@test "es-deadband --max-silence: readings dated 9999 and 2100 are dead-lettered, the heartbeat as without them; --max-ahead 0 turns the rule off" {
	printf '%s\n' '{"k":"a","ts":1798761600,"value":1}' '{"k":"a","ts":1798761605,"value":1}' \
		'{"k":"a","ts":1798761612,"value":1}' '{"k":"a","ts":1798761615,"value":1}' \
		'{"k":"a","ts":1798761625,"value":1.1}' > "$T/good"
	{ echo '{"k":"a","ts":253402300799,"value":1}'; sed -n 1,2p "$T/good"
	  echo '{"k":"a","ts":4102444800,"value":1}'; sed -n 3,5p "$T/good"; } > "$T/bad"
	run --separate-stderr es-deadband -k k --abs 0.5 --max-silence 10s --time-unit s "$T/good"
	assert_success
	assert_output "$(printf '%s\n' '{"k":"a","ts":1798761600,"value":1}' \
		'{"k":"a","ts":1798761612,"value":1}' '{"k":"a","ts":1798761625,"value":1.1}')"
	printf '%s\n' "$output" > "$T/exp"
	run --separate-stderr es-deadband -k k --abs 0.5 --max-silence 10s --time-unit s --dead-letter "$T/dl" "$T/bad"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-deadband: $T/bad:1: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:00Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-deadband: $T/bad:4: time 2100-01-01T00:00:00Z is more than 1d ahead of the stream's time 2027-01-01T00:00:05Z, and the events after it did not confirm the jump (--max-ahead)")"
	printf '%s\n' '{"k":"a","ts":253402300799,"value":1}' '{"k":"a","ts":4102444800,"value":1}' | assert_file_is "$T/dl"
	# off: 9999 passes first, and no later reading is 10 s after it: the
	# key's heartbeat is silenced
	run --separate-stderr es-deadband -k k --abs 0.5 --max-silence 10s --time-unit s --max-ahead 0 "$T/bad"
	assert_success
	assert_stderr ''
	assert_output '{"k":"a","ts":253402300799,"value":1}'
}
