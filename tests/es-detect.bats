#!/usr/bin/env bats
# es-detect: every method on hand-made fixtures whose scores were worked out
# by hand (tests/fixtures/detect), warm-up, hysteresis, formats, bad input,
# limits, signals, usage; and the planted spikes of gen-sensors found.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

DF="$BATS_TEST_DIRNAME/fixtures/detect"
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

# ---- --zscore ----

@test "es-detect --zscore --window N: per key, against the N points before; warm-up until the window is full" {
	# a: 10 12 14 | 30: mean 12, sd 2 -> 9; 13 vs 12 14 30: mean 18.667,
	# sd 9.866 -> -0.5744; 12 vs 14 30 13: mean 19, sd 9.539 -> -0.7338.
	# b: 1 1 1 | 2: sd 0 and 2 is off the mean: an anomaly, score null.
	run --separate-stderr es-detect -k k --zscore 3 --window 3 "$DF/zscore.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"k":"a","value":10,"anomaly":false,"score":null}
{"k":"b","value":1,"anomaly":false,"score":null}
{"k":"a","value":12,"anomaly":false,"score":null}
{"k":"a","value":14,"anomaly":false,"score":null}
{"k":"b","value":1,"anomaly":false,"score":null}
{"k":"a","value":30,"anomaly":true,"score":9}
{"k":"a","value":13,"anomaly":false,"score":-0.5744}
{"k":"b","value":1,"anomaly":false,"score":null}
{"k":"a","value":12,"anomaly":false,"score":-0.7338}
{"k":"b","value":2,"anomaly":true,"score":null}
EOF
)"
}

@test "es-detect --zscore: a constant series scores 0; anomalies enter the statistics; --only-anomalies" {
	printf '{"value":%s}\n' 5 5 5 5 6 6 > "$T/in"
	run --separate-stderr es-detect --zscore 3 --window 3 "$T/in"
	assert_output "$(printf '%s\n' '{"value":5,"anomaly":false,"score":null}' \
		'{"value":5,"anomaly":false,"score":null}' '{"value":5,"anomaly":false,"score":null}' \
		'{"value":5,"anomaly":false,"score":0}' '{"value":6,"anomaly":true,"score":null}' \
		'{"value":6,"anomaly":false,"score":1.1547}')"
	run --separate-stderr es-detect --zscore 3 --window 3 --only-anomalies "$T/in"
	assert_output '{"value":6,"anomaly":true,"score":null}'
}

@test "es-detect --zscore --window D: the points of the last D of event time before it; --warmup" {
	# t=2: 10 12 -> mean 11, sd 1.414 -> 2.1213; t=3: 12 14 (10 is 3s old)
	# -> 61.5183; t=4: 14 100 -> -0.7564; t=6: 11 alone, below the warm-up
	run --separate-stderr es-detect --zscore 3 --window 3s --time-unit s --warmup 2 "$DF/timewin.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"ts":0,"value":10,"anomaly":false,"score":null}
{"ts":1,"value":12,"anomaly":false,"score":null}
{"ts":2,"value":14,"anomaly":false,"score":2.1213}
{"ts":3,"value":100,"anomaly":true,"score":61.5183}
{"ts":4,"value":11,"anomaly":false,"score":-0.7564}
{"ts":6,"value":12,"anomaly":false,"score":null}
EOF
)"
	# the default warm-up of a window of time is 10 points
	run --separate-stderr es-detect --zscore 3 --window 3s --time-unit s --time-field ts "$DF/timewin.ndjson"
	refute_output --partial '"anomaly":true'
	refute_output --regexp '"score":[0-9-]'
}

@test "es-detect --zscore --warmup W < N: scores from W points on" {
	run --separate-stderr es-detect -k k --zscore 3 --window 3 --warmup 2 "$DF/zscore.ndjson"
	# 14 vs 10 12: mean 11, sd 1.414 -> 2.1213
	assert_line --index 3 '{"k":"a","value":14,"anomaly":false,"score":2.1213}'
	assert_line --index 5 '{"k":"a","value":30,"anomaly":true,"score":9}'
}

# ---- --ewma, --mad ----

@test "es-detect --ewma --threshold: exponentially weighted mean and variance of the points before" {
	# m=10 v=0; 12: m=11 v=1; 11: score 0, m=11 v=0.5; 20: 9/0.7071 =
	# 12.7279, m=15.5 v=20.5; 20: 4.5/4.5277 = 0.9939
	run --separate-stderr es-detect --ewma 0.5 --threshold 2 --warmup 2 "$DF/ewma.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"value":10,"anomaly":false,"score":null}
{"value":12,"anomaly":false,"score":null}
{"value":11,"anomaly":false,"score":0}
{"value":20,"anomaly":true,"score":12.7279}
{"value":20,"anomaly":false,"score":0.9939}
EOF
)"
}

@test "es-detect --mad --window N: median and scaled median absolute deviation; an even window takes the middle two" {
	# 30 vs 10 11 10 12 11: median 11, MAD 1 -> 19/1.4826 = 12.8153;
	# 11 vs 11 10 12 11 30: median 11 -> 0
	run --separate-stderr es-detect --mad 3 --window 5 "$DF/mad.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"value":10,"anomaly":false,"score":null}
{"value":11,"anomaly":false,"score":null}
{"value":10,"anomaly":false,"score":null}
{"value":12,"anomaly":false,"score":null}
{"value":11,"anomaly":false,"score":null}
{"value":30,"anomaly":true,"score":12.8153}
{"value":11,"anomaly":false,"score":0}
EOF
)"
	# 100 vs 1 2 3 4: median 2.5, MAD 1 -> 97.5/1.4826 = 65.7628
	printf '{"value":%s}\n' 1 2 3 4 100 > "$T/in"
	run --separate-stderr es-detect --mad 3 --window 4 "$T/in"
	assert_line --index 4 '{"value":100,"anomaly":true,"score":65.7628}'
}

# ---- thresholds ----

@test "es-detect --above --clear: one anomaly per excursion, not one per reading" {
	run --separate-stderr es-detect --above 80 --clear 75 "$DF/above.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"value":70,"anomaly":false,"score":-10}
{"value":81,"anomaly":true,"score":1}
{"value":85,"anomaly":false,"score":5}
{"value":78,"anomaly":false,"score":-2}
{"value":82,"anomaly":false,"score":2}
{"value":74,"anomaly":false,"score":-6}
{"value":90,"anomaly":true,"score":10}
EOF
)"
	# without --clear the excursion ends at X itself: 78 ends it, 82 alerts
	run --separate-stderr es-detect --above 80 --only-anomalies "$DF/above.ndjson"
	assert_output "$(printf '%s\n' '{"value":81,"anomaly":true,"score":1}' \
		'{"value":82,"anomaly":true,"score":2}' '{"value":90,"anomaly":true,"score":10}')"
}

@test "es-detect --below --clear, and both with a --clear each; per key" {
	run --separate-stderr es-detect --below 10 --clear 15 --only-anomalies "$DF/below.ndjson"
	assert_output "$(printf '%s\n' '{"value":9,"anomaly":true,"score":1}' '{"value":5,"anomaly":true,"score":5}')"
	printf '%s\n' '{"d":"a","value":50}' '{"d":"b","value":95}' '{"d":"a","value":91}' \
		'{"d":"a","value":5}' '{"d":"b","value":92}' '{"d":"a","value":12}' '{"d":"a","value":3}' > "$T/in"
	run --separate-stderr es-detect -k d --above 90 --clear 80 --below 10 --clear 20 "$T/in"
	assert_output "$(cat <<'EOF'
{"d":"a","value":50,"anomaly":false,"score":-40}
{"d":"b","value":95,"anomaly":true,"score":5}
{"d":"a","value":91,"anomaly":true,"score":1}
{"d":"a","value":5,"anomaly":true,"score":5}
{"d":"b","value":92,"anomaly":false,"score":2}
{"d":"a","value":12,"anomaly":false,"score":-2}
{"d":"a","value":3,"anomaly":false,"score":7}
EOF
)"
}

# ---- the planted spikes ----

@test "es-detect --zscore finds every spike gen-sensors plants in temp readings, with no false alarm" {
	"$GEN" 120000 --devices 10 > "$T/all"
	es-filter 'sensor == "temp"' "$T/all" > "$T/temp"
	run_out es-detect -k device --zscore 5 --window 100 --only-anomalies "$T/temp"
	assert_equal "$status" 0
	# planted: temp readings whose per-device seq is a multiple of 997
	run jq -r 'select(.seq % 997 == 0) | .seq' "$T/temp"
	local planted=${#lines[@]}
	[ "$planted" -gt 30 ]
	run jq -r 'select(.seq % 997 != 0) | .seq' "$T/out"
	assert_output ''
	assert_equal "$(wc -l < "$T/out")" "$planted"
}

@test "es-detect --zscore and --mad agree with a plain Python computation on generated data" {
	command -v python3 > /dev/null || skip "python3 not installed"
	"$GEN" 30000 --devices 4 | es-filter 'sensor == "temp"' > "$T/temp"
	local m
	for m in "zscore 7 3" "mad 8 3" "zscore 50 4" "mad 51 4"; do
		set -- $m
		es-detect -k device --"$1" "$3" --window "$2" "$T/temp" |
			jq -r '"\(.anomaly) \(.score | if . == null then "null" else "\(.)" end)"' |
			awk '{ printf "%s %s\n", $1, $2 == "null" ? "null" : sprintf("%.4f", $2) }' > "$T/got"
		python3 "$DF/reference.py" "$1" "$2" "$3" < "$T/temp" > "$T/exp"
		# scores may differ in the last rounded digit (sums in another order)
		run awk 'NR == FNR { a[FNR] = $1; s[FNR] = $2; next }
			$1 != a[FNR] || ($2 != s[FNR] && ($2 == "null" || s[FNR] == "null" || ($2 - s[FNR])^2 > 2e-8)) {
				print FNR": "$0" vs "a[FNR]" "s[FNR]; bad++ } END { exit bad > 0 }' "$T/exp" "$T/got"
		assert_success
	done
}

# ---- formats ----

@test "es-detect: CSV in and out (two columns added to the header); NDJSON to CSV; CSV to NDJSON" {
	printf 'ts,device,value,note\n1000,a,10,"x, y"\n3000,a,11,"multi\nline"\n' > "$T/in.csv"
	run_out es-detect -k device --above 10.5 "$T/in.csv"
	printf 'ts,device,value,note,anomaly,score\n1000,a,10,"x, y",false,-0.5\n3000,a,11,"multi\nline",true,0.5\n' | assert_file_is "$T/out"
	run_out es-detect -k device --above 10.5 --output-format ndjson "$T/in.csv"
	printf '%s\n' '{"ts":1000,"device":"a","value":10,"note":"x, y","anomaly":false,"score":-0.5}' \
		'{"ts":3000,"device":"a","value":11,"note":"multi\nline","anomaly":true,"score":0.5}' | assert_file_is "$T/out"
	run_out es-detect --above 80 -o csv --input-format ndjson "$DF/above.ndjson"
	printf 'value,anomaly,score\n70,false,-10\n81,true,1\n85,false,5\n78,false,-2\n82,true,2\n74,false,-6\n90,true,10\n' | assert_file_is "$T/out"
}

@test "es-detect: NDJSON stays byte for byte before the added fields; fields already named anomaly or score are replaced" {
	printf '%s\n' '{ "value" : 5.50 , "x":[1, 2] }' '{"anomaly":"old","value":5,"score":1,"y":"\u00e9"}' > "$T/in"
	run --separate-stderr es-detect --above 1 "$T/in"
	assert_output "$(printf '%s\n' '{ "value" : 5.50 , "x":[1, 2] ,"anomaly":true,"score":4.5}' \
		'{"value":5,"y":"é","anomaly":false,"score":4}')"
	# a rebuilt record is converted: --null-values markers are written
	# as the null they read as (as -o csv writes them)
	printf '%s\n' '{"value":5,"n":"NA","score":1}' '{"value":5,"n":"NA"}' > "$T/in"
	run --separate-stderr es-detect --above 1 --null-values NA "$T/in"
	assert_output "$(printf '%s\n' '{"value":5,"n":null,"anomaly":true,"score":4}' \
		'{"value":5,"n":"NA","anomaly":false,"score":4}')"
}

# ---- bad input ----

@test "es-detect: a value that is not a number, or a bad time for --window D, is bad input: named, dead-lettered, counted" {
	local f="$DF/bad.ndjson"
	run --separate-stderr es-detect --zscore 3 --window 2s --time-unit s --warmup 2 --stats \
		--dead-letter "$T/dead" "$f"
	assert_success
	assert_output "$(printf '%s\n' '{"ts":1,"value":1,"anomaly":false,"score":null}' \
		'{"ts":9,"value":3,"anomaly":false,"score":null}')"
	assert_stderr "$(cat <<EOF
es-detect: $f:2: field 'value' is a string, a number is needed
es-detect: $f:3: field 'value' is missing, a number is needed
es-detect: $f:4: field 'value' is null, a number is needed
es-detect: $f:5: field 'value' is a boolean, a number is needed
es-detect: $f:6: field 'value' is an object or array, a number is needed
es-detect: $f:7: not a JSON object
es-detect: $f:8: missing time field (--time-field ts)
es-detect: $f:9: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)
{"program":"es-detect","in":10,"out":2,"bad":8,"late":0,"dropped":0,"filtered":0,"anomalies":0,"keys":1,"evicted":0,"trimmed":0,"state_bytes":256}
EOF
)"
	sed -n '2,9p' "$f" | assert_file_is "$T/dead"
	# a count window needs no time: records 8 and 9 are fine then
	run --separate-stderr es-detect --zscore 3 --window 2 "$f"
	assert_equal "${#lines[@]}" 4
}

@test "es-detect: a CSV cell that is not a number is bad input under its header; --strict makes it fatal" {
	printf 'ts,value\n1,1\n2,n/a\n3,5\n' > "$T/in.csv"
	run --separate-stderr es-detect --above 2 --dead-letter "$T/dead.csv" "$T/in.csv"
	assert_success
	assert_output "$(printf 'ts,value,anomaly,score\n1,1,false,-1\n3,5,true,3')"
	assert_stderr "es-detect: $T/in.csv:3: field 'value' is a string, a number is needed"
	printf 'ts,value\n2,n/a\n' | assert_file_is "$T/dead.csv"
	run --separate-stderr es-detect --above 2 --strict "$T/in.csv"
	[ "$status" -eq 3 ]
	assert_output "$(printf 'ts,value,anomaly,score\n1,1,false,-1')"
}

# ---- limits, stats, pipes, signals ----

@test "es-detect --max-keys: the least recently seen key is forgotten (its warm-up starts again), once said; --stats" {
	printf '{"d":"%s","value":1}\n' a b a c a b > "$T/in"
	run --separate-stderr es-detect -k d --above 0 --max-keys 2 --stats "$T/in"
	assert_success
	# each key's first reading is an excursion; b comes back after being
	# forgotten, so it alerts again
	assert_output "$(printf '%s\n' '{"d":"a","value":1,"anomaly":true,"score":1}' \
		'{"d":"b","value":1,"anomaly":true,"score":1}' '{"d":"a","value":1,"anomaly":false,"score":1}' \
		'{"d":"c","value":1,"anomaly":true,"score":1}' '{"d":"a","value":1,"anomaly":false,"score":1}' \
		'{"d":"b","value":1,"anomaly":true,"score":1}')"
	assert_stderr "$(printf '%s\n' 'es-detect: --max-keys 2 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-detect","in":6,"out":6,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":4,"keys":2,"evicted":2,"trimmed":0,"state_bytes":12}')"
}

# A key takes 5 bytes a field plus its value's text: "a" is 6 bytes, so
# --max-state 12 holds two series of --above, as --max-keys 2 does.
@test "es-detect --max-state: at the limit the least recently seen key is forgotten as at --max-keys, once said; --stats state_bytes" {
	printf '{"d":"%s","value":1}\n' a b a c a b > "$T/in"
	run --separate-stderr es-detect -k d --above 0 --max-state 12 --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"d":"a","value":1,"anomaly":true,"score":1}' \
		'{"d":"b","value":1,"anomaly":true,"score":1}' '{"d":"a","value":1,"anomaly":false,"score":1}' \
		'{"d":"c","value":1,"anomaly":true,"score":1}' '{"d":"a","value":1,"anomaly":false,"score":1}' \
		'{"d":"b","value":1,"anomaly":true,"score":1}')"
	assert_stderr "$(printf '%s\n' 'es-detect: --max-state 12 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-detect","in":6,"out":6,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":4,"keys":2,"evicted":2,"trimmed":0,"state_bytes":12}')"
	# the same records as at --max-keys 2
	es-detect -k d --above 0 --max-keys 2 "$T/in" 2> /dev/null > "$T/keys"
	cmp "$T/keys" <<< "$output"
}

@test "es-detect --max-state: windows count (16 bytes a point as allocated); a key forgotten for them warms up again" {
	printf '{"d":"%s","value":%s}\n' a 1 a 2 a 3 b 1 a 3 > "$T/in"
	# each window of 5 points takes 80 bytes, and its key 6: a and b do
	# not fit in 150, so b's window forgets a, whose 3 is then a first
	run --separate-stderr es-detect -k d --zscore 1 --window 5 --warmup 2 --max-state 150 --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"d":"a","value":1,"anomaly":false,"score":null}' \
		'{"d":"a","value":2,"anomaly":false,"score":null}' '{"d":"a","value":3,"anomaly":true,"score":2.1213}' \
		'{"d":"b","value":1,"anomaly":false,"score":null}' '{"d":"a","value":3,"anomaly":false,"score":null}')"
	assert_stderr "$(printf '%s\n' 'es-detect: --max-state 150 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-detect","in":5,"out":5,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":1,"keys":2,"evicted":2,"trimmed":0,"state_bytes":92}')"
	# unlimited: a's window is kept, its 3 is scored against 1, 2, 3
	run --separate-stderr es-detect -k d --zscore 1 --window 5 --warmup 2 --stats "$T/in"
	assert_line --index 4 '{"d":"a","value":3,"anomaly":false,"score":1}'
	assert_stderr '{"program":"es-detect","in":5,"out":5,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":1,"keys":2,"evicted":0,"trimmed":0,"state_bytes":172}'
	# --mad keeps a sorted copy too: 24 bytes a point
	run --separate-stderr es-detect -k d --mad 1 --window 5 --warmup 2 --stats "$T/in"
	assert_stderr '{"program":"es-detect","in":5,"out":5,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":1,"keys":2,"evicted":0,"trimmed":0,"state_bytes":252}'
}

@test "es-detect --max-state: a key bigger than the limit alone is still kept, its window too" {
	local big
	big=$(printf 'x%.0s' $(seq 1 100))
	printf '{"d":"%s","value":%s}\n' "$big" 1 "$big" 1 b 1 "$big" 1 > "$T/in"
	run --separate-stderr es-detect -k d --above 0 --max-state 10 --stats "$T/in"
	assert_success
	# the big key (105 bytes) is kept alone: its second reading is in the
	# same excursion; b evicts it, so its third alerts again
	assert_output "$(printf '%s\n' "{\"d\":\"$big\",\"value\":1,\"anomaly\":true,\"score\":1}" \
		"{\"d\":\"$big\",\"value\":1,\"anomaly\":false,\"score\":1}" '{"d":"b","value":1,"anomaly":true,"score":1}' \
		"{\"d\":\"$big\",\"value\":1,\"anomaly\":true,\"score\":1}")"
	assert_stderr "$(printf '%s\n' 'es-detect: --max-state 10 reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-detect","in":4,"out":4,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":3,"keys":1,"evicted":2,"trimmed":0,"state_bytes":105}')"
	printf '{"d":"%s","value":%s}\n' "$big" 1 "$big" 2 "$big" 9 > "$T/in"
	run --separate-stderr es-detect -k d --zscore 1 --window 5 --warmup 2 --max-state 10 --stats "$T/in"
	assert_line --index 2 "{\"d\":\"$big\",\"value\":9,\"anomaly\":true,\"score\":10.6066}"
	assert_stderr '{"program":"es-detect","in":3,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":1,"keys":1,"evicted":0,"trimmed":0,"state_bytes":185}'
}

@test "es-detect --max-state: 40 keys of 1 MiB under 8M take 8 MiB, not 40 (peak RSS)" {
	python3 -c '
import sys
for i in range(40):
    sys.stdout.write("{\"value\":1,\"v\":\"%s\"}\n" % (("%06d" % i) * ((1 << 20) // 6)))
' > "$T/in"
	/usr/bin/time -f %M -o "$T/rss" es-detect -k v --above 0 --max-state 8M --stats "$T/in" > "$T/out" 2> "$T/err"
	assert_equal "$(cat "$T/err")" "$(printf '%s\n' 'es-detect: --max-state 8M reached: forgetting the least recently seen key (counted as "evicted" in --stats)' \
		'{"program":"es-detect","in":40,"out":40,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":40,"keys":7,"evicted":33,"trimmed":0,"state_bytes":7340039}')"
	# 12 MiB measured; 45 MiB without the limit
	# (the bound is the plain build's: ASan and valgrind add their own)
	[ -n "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || [ "$(cat "$T/rss")" -lt "$(rss_bound 24576)" ] || fail "peak RSS $(cat "$T/rss") KiB"
}

@test "es-detect --window D holds at most 10000 points per key: the oldest go early, once said, counted as trimmed" {
	awk 'BEGIN { for (i = 0; i < 10005; i++) printf "{\"ts\":%d,\"value\":%d}\n", i, i % 7 }' > "$T/in"
	run --separate-stderr es-detect --zscore 100 --window 1h --time-unit ms --stats --only-anomalies "$T/in"
	assert_success
	assert_output ''
	assert_stderr "$(printf '%s\n' 'es-detect: a --window of time holds 10000 points of one key: the oldest go early (counted as "trimmed" in --stats)' \
		'{"program":"es-detect","in":10005,"out":0,"bad":0,"late":0,"dropped":0,"filtered":10005,"anomalies":0,"keys":1,"evicted":0,"trimmed":5,"state_bytes":160000}')"
}

@test "es-detect big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"value\":%d}\n", i % 10 }' > "$T/big"
	run bash -c 'es-detect --ewma 0.1 --threshold 3 "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"value":0,"anomaly":false,"score":null}'
}

@test "es-detect: a live pipe gets each record at once; SIGTERM ends it with exit 0 and --stats" {
	skip_if_slow
	mkfifo "$T/fifo"
	setsid es-detect --above 5 --stats < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	local pid=$! i st
	BG="$pid"
	exec {W}> "$T/fifo"
	printf '{"value":7}\n' >&"$W"
	for ((i = 0; i < 40; i++)); do
		[ -s "$T/out" ] && break
		sleep 0.05
	done
	assert_file_is "$T/out" <<< '{"value":7,"anomaly":true,"score":2}'
	kill -TERM "$pid"
	wait "$pid" && st=0 || st=$?
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" <<< '{"program":"es-detect","in":1,"out":1,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":1,"keys":1,"evicted":0,"trimmed":0,"state_bytes":0}'
}

# ---- usage ----

@test "es-detect: usage errors name the option and why, exit 2" {
	local -a cases=(
		'|a method is needed: --zscore, --ewma, --mad, --above or --below'
		'--zscore 3 --mad 3 --window 5|--mad: only one method may be given'
		'--ewma 0.1 --threshold 3 --above 1|--above: only one method may be given'
		'--zscore 3|--zscore needs --window N or D'
		'--mad 3|--mad needs --window N or D'
		'--ewma 0.1|--ewma needs --threshold K'
		'--ewma 1.5 --threshold 3|invalid argument '"'1.5'"' for --ewma: expected 0 < A <= 1'
		'--ewma 0 --threshold 3|invalid argument '"'0'"' for --ewma: must be above 0'
		'--zscore 3 --window 5 --threshold 2|--threshold goes with --ewma'
		'--ewma 0.1 --threshold 3 --window 5|--window goes with --zscore or --mad'
		'--zscore -1 --window 5|invalid argument '"'-1'"' for --zscore: must be above 0'
		'--zscore x --window 5|invalid argument '"'x'"' for --zscore: expected a number'
		'--zscore 3 --window 1|invalid argument '"'1'"' for --window: expected a count from 2 to 100000'
		'--zscore 3 --window 100001|invalid argument '"'100001'"' for --window: expected a count from 2 to 100000'
		'--zscore 3 --window 0s|invalid argument '"'0s'"' for --window: must be above 0'
		'--zscore 3 --window 5x|invalid argument '"'5x'"' for --window: unknown unit in duration (use ms, s, m, h, d) (a count or a duration)'
		'--zscore 3 --window 5 --warmup 6|--warmup 6 is more than the --window of 5 points'
		'--zscore 3 --window 5 --warmup 1|invalid argument '"'1'"' for --warmup: expected a count from 2 to 100000'
		'--above 5 --warmup 3|--warmup does not go with --above or --below'
		'--clear 3|--clear goes after --above or --below'
		'--above 5 --clear 6|--clear 6 is above --above 5: it must not be'
		'--below 5 --clear 4|--clear 4 is below --below 5: it must not be'
		'--above x|invalid argument '"'x'"' for --above: expected a number'
		'--above 1 --max-keys 0|invalid argument '"'0'"' for --max-keys: expected a count from 1 to 100000000'
		'--above 1 --max-state 0|invalid argument '"'0'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--above 1 --max-state 64x|invalid argument '"'64x'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--above 1 --max-state 1.5M|invalid argument '"'1.5M'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--above 1 --max-state -1|invalid argument '"'-1'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--above 1 --time-unit h|invalid argument '"'h'"' for --time-unit: expected s, ms, us, ns or auto'
		'--above 1 -k a,,b|invalid --key '"'a,,b'"' at column 3: expected a field name or a quoted key'
		'--above 1 -f a..b|invalid --field '"'a..b'"': expected a field name or a quoted key'
		'--above 1 -i xml|invalid argument '"'xml'"' for -i/--input-format: expected ndjson, json or csv'
	)
	assert_usage_errors es-detect "${cases[@]}"
}

@test "es-detect: an unknown option: getopt's message and the hint, exit 2" {
	assert_unknown_option es-detect
}

@test "es-detect --help: usage, every option, examples; --version" {
	run --separate-stderr es-detect --help
	assert_success
	assert_stderr ""
	assert_line --index 0 'Usage: es-detect METHOD [OPTION]... [FILE]...'
	assert_line --regexp '^ +es-detect -k device --zscore .+'
	assert_version es-detect
}

@test "es-detect: every long option is in --help, in man/es-detect.1 and in this file" {
	assert_long_options_documented es-detect \
		key field zscore window ewma threshold mad above below clear warmup only-anomalies \
		time-field time-unit max-keys max-state input-format output-format dead-letter strict stats help version
}

@test "man/es-detect.1 is clean for groff -man -ww" {
	assert_man_clean es-detect
}

# ---- --config reloads ----
# start_live, finish_live, await_out, await_err, rewrite_later and
# live_teardown: test_helper.bash.

@test "es-detect --check: good options exit 0 reading nothing; bad ones exit 2 with the message" {
	mkfifo "$T/in"
	printf 'key = k\nzscore = 3\nwindow = 10s\n' > "$T/d.conf"
	# stdin a FIFO nobody writes: a read would block until the timeout
	run --separate-stderr timeout 30 es-detect --config "$T/d.conf" --check - "$T/no-such-input" <> "$T/in"
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'zscore = 3\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-detect --config "$T/d.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-detect: --zscore needs --window N or D
Try 'es-detect --help' for more information."
	printf 'above = 1\nmax-state = 1.5M\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-detect --config "$T/d.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-detect: invalid argument '1.5M' for --max-state: expected a size > 0 (bytes, or with K, M or G)
Try 'es-detect --help' for more information."
	printf 'above = 1\nmax-state = 1048576\n' > "$T/d.conf"
	run --separate-stderr timeout 30 es-detect --config "$T/d.conf" --check <> "$T/in"
	assert_success
	assert_stderr ''
}

@test "es-detect --config: SIGHUP with the same window keeps each key's points and applies the new K; a bad file keeps the running one" {
	skip_if_slow
	printf 'zscore = 3\nwindow = 3\n' > "$T/d.conf"
	start_live es-detect --config "$T/d.conf"
	printf '{"value":10}\n{"value":11}\n{"value":12}\n{"value":13}\n' >&"$W"
	await_out 4
	printf 'zscore = 1.5\nwindow = 3\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "es-detect: --config $T/d.conf reloaded: the state of 1 key kept"
	# 14 against 11, 12, 13 from before the reload: score 2, over 1.5
	printf '{"value":14}\n' >&"$W"
	await_out 5
	printf 'zscore = 1.5\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"value":15}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"value":10,"anomaly":false,"score":null}
	{"value":11,"anomaly":false,"score":null}
	{"value":12,"anomaly":false,"score":null}
	{"value":13,"anomaly":false,"score":2}
	{"value":14,"anomaly":true,"score":2}
	{"value":15,"anomaly":true,"score":2}
	EOF2
	assert_file_is "$T/err" <<-EOF2
	es-detect: --config $T/d.conf reloaded: the state of 1 key kept
	es-detect: cannot reload --config $T/d.conf: --zscore needs --window N or D; keeping the running configuration
	EOF2
}

@test "es-detect --config: a reload that changes the window starts every key again, with its warm-up; nothing is written by it" {
	skip_if_slow
	printf 'key = k\nzscore = 1\nwindow = 2\n' > "$T/d.conf"
	start_live es-detect --config "$T/d.conf"
	printf '%s\n' '{"k":"a","value":1}' '{"k":"a","value":2}' '{"k":"a","value":3}' '{"k":"b","value":1}' >&"$W"
	await_out 4
	printf 'key = k\nzscore = 1\nwindow = 3\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err "reloaded"
	printf '%s\n' '{"k":"a","value":9}' '{"k":"a","value":9}' '{"k":"a","value":9}' '{"k":"a","value":9}' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","value":1,"anomaly":false,"score":null}
	{"k":"a","value":2,"anomaly":false,"score":null}
	{"k":"a","value":3,"anomaly":true,"score":2.1213}
	{"k":"b","value":1,"anomaly":false,"score":null}
	{"k":"a","value":9,"anomaly":false,"score":null}
	{"k":"a","value":9,"anomaly":false,"score":null}
	{"k":"a","value":9,"anomaly":false,"score":null}
	{"k":"a","value":9,"anomaly":false,"score":0}
	EOF2
	assert_file_is "$T/err" <<< "es-detect: --config $T/d.conf reloaded: the series changed: the state of 2 keys reset"
}

@test "es-detect --watch-config: a changed file is reloaded on a quiet input; an excursion under way is kept, the new clear level ends it" {
	skip_if_slow
	printf 'above = 5\nclear = 3\n' > "$T/d.conf"
	start_live es-detect --config "$T/d.conf" --watch-config
	printf '{"value":6}\n' >&"$W"
	await_out 1
	printf 'above = 10\nclear = 8\n' | rewrite_later "$T/d.conf"
	await_err "reloaded"
	# still in the excursion that 6 began: 11 is no new anomaly; 7 ends
	# it (at or below 8), then 12 is one
	printf '{"value":11}\n{"value":7}\n{"value":12}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"value":6,"anomaly":true,"score":1}
	{"value":11,"anomaly":false,"score":1}
	{"value":7,"anomaly":false,"score":-3}
	{"value":12,"anomaly":true,"score":2}
	EOF2
	assert_file_is "$T/err" <<< "es-detect: --config $T/d.conf reloaded: the state of 1 key kept"
}

@test "es-detect --watch-config: a lower --max-state forgets the least recently seen keys at once" {
	skip_if_slow
	printf 'key = k\nabove = 0\n' > "$T/d.conf"
	start_live es-detect --config "$T/d.conf" --watch-config --stats
	printf '{"k":"a","value":1}\n{"k":"b","value":1}\n' >&"$W"
	await_out 2
	# 6 bytes a key: 6 keeps b only
	printf 'key = k\nabove = 0\nmax-state = 6\n' | rewrite_later "$T/d.conf"
	await_err "reloaded"
	# b is still in its excursion; a was forgotten: it alerts again
	printf '{"k":"b","value":1}\n{"k":"a","value":1}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"k":"a","value":1,"anomaly":true,"score":1}
	{"k":"b","value":1,"anomaly":true,"score":1}
	{"k":"b","value":1,"anomaly":false,"score":1}
	{"k":"a","value":1,"anomaly":true,"score":1}
	EOF2
	assert_file_is "$T/err" <<-EOF2
	es-detect: --max-state 6 reached: forgetting the least recently seen key (counted as "evicted" in --stats)
	es-detect: --config $T/d.conf reloaded: the state of 2 keys kept
	{"program":"es-detect","in":4,"out":4,"bad":0,"late":0,"dropped":0,"filtered":0,"anomalies":3,"keys":2,"evicted":2,"trimmed":0,"state_bytes":12}
	EOF2
}

@test "es-detect --window D: readings dated 9999 and 2100 are dead-lettered, the scores as without them; --max-ahead" {
	printf '%s\n' '{"k":"a","ts":1798761600,"value":1}' '{"k":"a","ts":1798761601,"value":2}' \
		'{"k":"a","ts":1798761602,"value":1}' '{"k":"a","ts":1798761603,"value":2}' \
		'{"k":"a","ts":1798761604,"value":9}' > "$T/good"
	{ echo '{"k":"a","ts":253402300799,"value":5}'; sed -n 1,2p "$T/good"
	  echo '{"k":"a","ts":4102444800,"value":5}'; sed -n 3,5p "$T/good"; } > "$T/bad"
	run --separate-stderr es-detect -k k --zscore 3 --window 10s --warmup 2 --time-unit s "$T/good"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"k":"a","ts":1798761600,"value":1,"anomaly":false,"score":null}' \
		'{"k":"a","ts":1798761601,"value":2,"anomaly":false,"score":null}' \
		'{"k":"a","ts":1798761602,"value":1,"anomaly":false,"score":-0.7071}' \
		'{"k":"a","ts":1798761603,"value":2,"anomaly":false,"score":1.1547}' \
		'{"k":"a","ts":1798761604,"value":9,"anomaly":true,"score":12.9904}')"
	printf '%s\n' "$output" > "$T/exp"
	run --separate-stderr es-detect -k k --zscore 3 --window 10s --warmup 2 --time-unit s --max-ahead 1h --dead-letter "$T/dl" "$T/bad"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-detect: $T/bad:1: time 9999-12-31T23:59:59Z is more than 1h ahead of the stream's time 2027-01-01T00:00:00Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-detect: $T/bad:4: time 2100-01-01T00:00:00Z is more than 1h ahead of the stream's time 2027-01-01T00:00:01Z, and the events after it did not confirm the jump (--max-ahead)")"
	printf '%s\n' '{"k":"a","ts":253402300799,"value":5}' '{"k":"a","ts":4102444800,"value":5}' | assert_file_is "$T/dl"
}
