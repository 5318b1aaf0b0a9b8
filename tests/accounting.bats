#!/usr/bin/env bats
# Nothing is lost silently (edgestream(7), ACCOUNTING): for each program
# that reads records, a mix of good records and bad ones (invalid JSON, a
# ragged CSV row, a string where a number is needed, no time, a late event)
# and every record accounted for: the exact standard output, dead-letter
# file, late file, diagnostics and --stats line, the terms of the --stats
# line summed with jq, and the lines of the files counted on their own.
#
# "in" counts the lines that could not be read as records too (they are
# bad), so that in = out + filtered + bad + late + dropped holds as written.
bats_require_minimum_version 1.5.0
load test_helper

# acct PROG ARG...: PROG with --stats and --dead-letter $T/dead, standard
# input as the caller gives it; stdout in $T/out; the --stats line (the last
# of stderr) in $S, the lines before it in $D; the exit status in $status.
acct() {
	run_out "$@" --stats --dead-letter "$T/dead"
	S=$(tail -n 1 "$T/err")
	D=$(head -n -1 "$T/err")
}

# holds JQ: the jq expression is true of the --stats line $S.
holds() {
	jq -e "$1" <<< "$S" > /dev/null || fail "does not hold: $1 of $S"
}

# lines_are FILE JQ [SKIP]: FILE has as many lines, SKIP header lines aside,
# as the jq expression gives on $S.
lines_are() {
	local n want
	n=$(($(wc -l < "$1") - ${3:-0}))
	want=$(jq "$2" <<< "$S")
	[ "$n" -eq "$want" ] || fail "$1 has $n record lines, $2 of $S is $want"
}

# await_stat_in N: up to 10 s for the --stats-file $T/st of a live program
# to say that it has read N records.
await_stat_in() {
	local i
	for i in $(seq 100); do
		grep -q "\"in\":$1," "$T/st" 2> /dev/null && return 0
		sleep 0.1
	done
	fail "no \"in\":$1 in $T/st after 10 s: $(cat "$T/st" 2> /dev/null)"
}

# ---- one test per program ----

@test "accounting es-cat NDJSON: each record is written or dead-lettered" {
	cat > "$T/in" <<-'EOF'
	{"ts":1,"v":1}
	{"ts":2,"v":
	{"ts":3,"v":"x"}
	42

	{"v":5}
	{"ts":6,"v":6}
	EOF
	acct es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1,"v":1}
	{"ts":3,"v":"x"}
	{"v":5}
	{"ts":6,"v":6}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":2,"v":
	42
	EOF
	assert_equal "$D" "es-cat: stdin:2: invalid JSON at column 13: unexpected end of line
es-cat: stdin:4: not a JSON object"
	assert_equal "$S" '{"program":"es-cat","in":6,"out":4,"bad":2,"late":0,"dropped":0}'
	holds '.in == .out + .bad + .late + .dropped'
	lines_are "$T/out" .out
	lines_are "$T/dead" .bad
}

@test "accounting es-cat CSV: ragged rows cost their own rows only; quoted quotes and empty cells pass" {
	printf 'ts,v\n1,1\n2\n3,3,3\n4,"a""b"\n5,\n' > "$T/in"
	acct es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	ts,v
	1,1
	4,"a""b"
	5,
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	ts,v
	2
	3,3,3
	EOF
	assert_equal "$D" "es-cat: stdin:3: CSV row has 1 field, header has 2
es-cat: stdin:4: CSV row has 3 fields, header has 2"
	assert_equal "$S" '{"program":"es-cat","in":5,"out":3,"bad":2,"late":0,"dropped":0}'
	holds '.in == .out + .bad + .late + .dropped'
	lines_are "$T/out" .out 1
	lines_are "$T/dead" .bad 1
}

@test "accounting es-filter CSV: written, filtered by the expression, or bad" {
	cat > "$T/in" <<-'EOF'
	ts,id,v
	1,a,5
	2,a,1
	3,a,x
	4,a
	5,b,9
	6,b,
	EOF
	acct es-filter 'v > 2' "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	ts,id,v
	1,a,5
	5,b,9
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	ts,id,v
	3,a,x
	4,a
	EOF
	# An empty cell is null: "null > 2" is false, a decision, not bad input.
	assert_equal "$D" "es-filter: $T/in:4: field 'v' is a string, a number is needed
es-filter: $T/in:5: CSV row has 2 fields, header has 3"
	assert_equal "$S" '{"program":"es-filter","in":6,"out":2,"bad":2,"late":0,"dropped":0,"filtered":2}'
	holds '.in == .out + .filtered + .bad + .late + .dropped'
	lines_are "$T/out" .out 1
	lines_are "$T/dead" .bad 1
}

@test "accounting es-map NDJSON: written, or bad when an assignment cannot be computed" {
	cat > "$T/in" <<-'EOF'
	{"ts":1,"v":1}
	{"ts":2,"v":"x"}
	{"ts":3,"v":3
	{"ts":4}
	{"ts":5,"v":5}
	EOF
	acct es-map --set 'w = v * 2' < "$T/in"
	[ "$status" -eq 0 ]
	# A missing operand gives null (edgestream(7)): written, not bad.
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1,"v":1,"w":2}
	{"ts":4,"w":null}
	{"ts":5,"v":5,"w":10}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":2,"v":"x"}
	{"ts":3,"v":3
	EOF
	assert_equal "$D" "es-map: stdin:2: field 'v' is a string, a number is needed
es-map: stdin:3: invalid JSON at column 14: unexpected end of line"
	assert_equal "$S" '{"program":"es-map","in":5,"out":3,"bad":2,"late":0,"dropped":0}'
	holds '.in == .out + .bad + .late + .dropped'
	lines_are "$T/out" .out
	lines_are "$T/dead" .bad
}

@test "accounting es-window: each record is bad, late, or counted in a window written" {
	cat > "$T/in" <<-'EOF'
	{"ts":1,"v":1}
	{"ts":2,"v":"x"}
	{"v":3}
	{"ts":4,"v":4
	{"ts":12,"v":4}
	{"ts":3,"v":5}
	{"ts":13,"v":7}
	{"ts":25,"v":6}
	{"ts":19,"v":8}
	EOF
	acct es-window --tumbling 10s --agg 'count,sum(v)' --late "$T/late" < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"window_start":0,"window_end":10,"count":1,"sum_v":1}
	{"window_start":10,"window_end":20,"count":2,"sum_v":11}
	{"window_start":20,"window_end":30,"count":1,"sum_v":6}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":2,"v":"x"}
	{"v":3}
	{"ts":4,"v":4
	EOF
	assert_file_is "$T/late" <<-'EOF'
	{"ts":3,"v":5}
	{"ts":19,"v":8}
	EOF
	assert_equal "$D" "es-window: stdin:2: field 'v' is a string, a number is needed for sum_v
es-window: stdin:3: missing time field (--time-field ts)
es-window: stdin:4: invalid JSON at column 14: unexpected end of line
es-window: stdin:6: event time 1970-01-01T00:00:03Z is behind the watermark 1970-01-01T00:00:12Z: written to the --late file (further late events are counted; --lateness to wait longer)
es-window: 2 late events written to $T/late (behind the watermark by up to 9s; --lateness)"
	assert_equal "$S" '{"program":"es-window","in":9,"out":3,"bad":3,"late":2,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}'
	# out counts windows; the records in them are the sum of count.
	local windowed
	windowed=$(jq -s 'map(.count) | add' "$T/out")
	[ "$windowed" -eq 4 ]
	holds ".in == $windowed + .bad + .late + .dropped"
	lines_are "$T/out" .out
	lines_are "$T/dead" .bad
	lines_are "$T/late" .late
}

@test "accounting es-join --table: enriched, unmatched (the join's decision), or bad" {
	printf 'id,name\na,Alpha\nb,Beta\n' > "$T/table.csv"
	cat > "$T/in" <<-'EOF'
	{"ts":1,"id":"a","v":1}
	{"ts":2,"id":"c","v":2}
	{"ts":3,"id":"b","v":3
	{"ts":4,"v":4}
	{"ts":5,"id":"b","v":5}
	EOF
	acct es-join --table "$T/table.csv" --on id < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1,"id":"a","v":1,"name":"Alpha"}
	{"ts":5,"id":"b","v":5,"name":"Beta"}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":3,"id":"b","v":3
	EOF
	assert_equal "$D" "es-join: stdin:3: invalid JSON at column 23: unexpected end of line"
	assert_equal "$S" '{"program":"es-join","in":5,"out":2,"bad":1,"late":0,"dropped":0,"filtered":2,"matched":2,"unmatched":2,"table_rows":2,"reloads":0}'
	# An inner join's unmatched records are filtered (what the join
	# means, not lost; and unmatched); a record with no key field is
	# unmatched, not bad.
	holds '.in == .out + .filtered + .bad + .late + .dropped'
	holds '.filtered == .unmatched and .out == .matched'
	lines_are "$T/out" .out
	lines_are "$T/dead" .bad

	# --type left writes the unmatched records as they came.
	acct es-join --table "$T/table.csv" --on id --type left < "$T/in"
	assert_equal "$S" '{"program":"es-join","in":5,"out":4,"bad":1,"late":0,"dropped":0,"filtered":0,"matched":2,"unmatched":2,"table_rows":2,"reloads":0}'
	holds '.in == .out + .filtered + .bad + .late + .dropped'
	lines_are "$T/out" .out
}

@test "accounting es-join --left/--right: in pairs, unmatched, late or bad, on both sides" {
	cat > "$T/L" <<-'EOF'
	{"ts":1,"id":"a","l":1}
	{"ts":2,"id":"b","l":2
	{"ts":3,"id":"x","l":3}
	{"id":"a","l":4}
	{"ts":10,"id":"a","l":5}
	{"ts":2,"id":"a","l":6}
	EOF
	cat > "$T/R" <<-'EOF'
	{"ts":1,"id":"a","r":1}
	{"ts":"bad","id":"a","r":2}
	{"ts":11,"id":"a","r":3}
	{"ts":12,"id":"zz","r":4}
	EOF
	cd "$T"
	acct es-join --left L --right R --on id --within 2s --type full --late late
	[ "$status" -eq 0 ]
	assert_file_is out <<-'EOF'
	{"ts":1,"left_ts":1,"id":"a","l":1,"right_ts":1,"r":1}
	{"ts":3,"left_ts":3,"id":"x","l":3}
	{"ts":11,"left_ts":10,"id":"a","l":5,"right_ts":11,"r":3}
	{"ts":12,"right_ts":12,"id":"zz","r":4}
	EOF
	assert_file_is dead <<-'EOF'
	{"ts":2,"id":"b","l":2
	{"ts":"bad","id":"a","r":2}
	{"id":"a","l":4}
	EOF
	assert_file_is late <<-'EOF'
	{"ts":2,"id":"a","l":6}
	EOF
	assert_equal "$D" "es-join: L:2: invalid JSON at column 23: unexpected end of line
es-join: R:2: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)
es-join: L:4: missing time field (--time-field ts)
es-join: L:6: event time 1970-01-01T00:00:02Z is behind the watermark 1970-01-01T00:00:10Z: written to the --late file (further late events are counted; --lateness to wait longer)
es-join: 1 late event written to late (behind the watermark by up to 8s; --lateness)"
	# state_bytes counts 48 bytes a field on 32-bit armhf too (es-join(1))
	local sb=477
	assert_equal "$S" "{\"program\":\"es-join\",\"in\":10,\"out\":4,\"bad\":3,\"late\":1,\"dropped\":0,\"filtered\":0,\"matched\":2,\"unmatched\":2,\"evicted\":0,\"buffered\":3,\"state_bytes\":$sb}"
	# Each pair holds two records here (matched counts pairs).
	holds '.in == 2 * .matched + .unmatched + .bad + .late + .dropped'
	holds '.out == .matched + .unmatched'
	lines_are out .out
	lines_are dead .bad
	lines_are late .late

	# An inner join counts the unmatched records as filtered: what the
	# join means, not lost.
	acct es-join --left L --right R --on id --within 2s
	assert_equal "$S" "{\"program\":\"es-join\",\"in\":10,\"out\":2,\"bad\":3,\"late\":1,\"dropped\":0,\"filtered\":2,\"matched\":2,\"unmatched\":2,\"evicted\":0,\"buffered\":3,\"state_bytes\":$sb}"
	holds '.in == 2 * .out + .filtered + .bad + .late + .dropped'
	holds '.filtered == .unmatched'
}

@test "accounting es-dedup --within: written, duplicate, late or bad" {
	cat > "$T/in" <<-'EOF'
	{"ts":1,"id":"a"}
	{"ts":2,"id":"a"}
	{"ts":3,"id":"b"
	{"ts":3}
	{"id":"b"}
	{"ts":20,"id":"a"}
	{"ts":4,"id":"b"}
	{"ts":21,"id":"a"}
	{"ts":22,"id":"b"}
	EOF
	acct es-dedup --key id --within 5s --late "$T/late" < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1,"id":"a"}
	{"ts":20,"id":"a"}
	{"ts":22,"id":"b"}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":3,"id":"b"
	{"ts":3}
	{"id":"b"}
	EOF
	assert_file_is "$T/late" <<-'EOF'
	{"ts":4,"id":"b"}
	EOF
	assert_equal "$D" "es-dedup: stdin:3: invalid JSON at column 17: unexpected end of line
es-dedup: stdin:4: missing key field 'id'
es-dedup: stdin:5: missing time field (--time-field ts)
es-dedup: stdin:7: event time 1970-01-01T00:00:04Z is behind the watermark 1970-01-01T00:00:20Z: written to the --late file (further late events are counted; --lateness to wait longer)
es-dedup: 1 late event written to $T/late (behind the watermark by up to 16s; --lateness)"
	assert_equal "$S" '{"program":"es-dedup","in":9,"out":3,"bad":3,"late":1,"dropped":0,"duplicates":2,"keys":2,"evicted":0,"state_bytes":12}'
	# The duplicates are the filtered term.
	holds '.in == .out + .duplicates + .bad + .late + .dropped'
	lines_are "$T/out" .out
	lines_are "$T/dead" .bad
	lines_are "$T/late" .late
}

@test "accounting es-deadband CSV: passed, suppressed in the band, or bad" {
	cat > "$T/in" <<-'EOF'
	ts,id,value
	1,a,10
	2,a,10.5
	3,a,x
	4,a
	5,b,7
	,a,30
	7,a,12
	8,b,7.2
	EOF
	acct es-deadband --abs 1 --key id --max-silence 10s "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	ts,id,value
	1,a,10
	5,b,7
	7,a,12
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	ts,id,value
	3,a,x
	4,a
	,a,30
	EOF
	assert_equal "$D" "es-deadband: $T/in:4: field 'value' is a string, a number is needed
es-deadband: $T/in:5: CSV row has 2 fields, header has 3
es-deadband: $T/in:7: time field is null (--time-field ts)"
	assert_equal "$S" '{"program":"es-deadband","in":8,"out":3,"bad":3,"late":0,"dropped":0,"filtered":2,"keys":2,"evicted":0,"bytes_in":37,"bytes_out":20,"ratio":1.667,"bytes_ratio":1.85,"state_bytes":12}'
	# Two readings (10.5, 7.2) were inside the band: filtered.
	holds '.in == .out + .filtered + .bad + .late + .dropped'
	holds '.filtered == 2'
	holds '(.ratio * .out + 0.5 | floor) == .out + .filtered'
	lines_are "$T/out" .out 1
	lines_are "$T/dead" .bad 1
}

@test "accounting es-detect --only-anomalies: anomalies written, the rest filtered, bad" {
	cat > "$T/in" <<-'EOF'
	{"ts":1,"id":"a","value":10}
	{"ts":2,"id":"a","value":10}
	{"ts":3,"id":"a","value":"hot"}
	{"ts":4,"id":"a","value":99}
	{"ts":5,"id":"a","value":10
	{"id":"a"}
	{"ts":7,"id":"a","value":10}
	{"ts":8,"id":"a","value":70}
	EOF
	acct es-detect --above 50 --only-anomalies --key id < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":4,"id":"a","value":99,"anomaly":true,"score":49}
	{"ts":8,"id":"a","value":70,"anomaly":true,"score":20}
	EOF
	assert_file_is "$T/dead" <<-'EOF'
	{"ts":3,"id":"a","value":"hot"}
	{"ts":5,"id":"a","value":10
	{"id":"a"}
	EOF
	assert_equal "$D" "es-detect: stdin:3: field 'value' is a string, a number is needed
es-detect: stdin:5: invalid JSON at column 28: unexpected end of line
es-detect: stdin:6: field 'value' is missing, a number is needed"
	assert_equal "$S" '{"program":"es-detect","in":8,"out":2,"bad":3,"late":0,"dropped":0,"filtered":3,"anomalies":2,"keys":1,"evicted":0,"trimmed":0,"state_bytes":6}'
	# The three records that are not anomalies are filtered.
	holds '.in == .out + .filtered + .bad + .late + .dropped'
	holds '.filtered == 3'
	lines_are "$T/out" .anomalies
	lines_are "$T/dead" .bad
}

# ---- faults: the correct behaviour, to enable when the fix lands ----

@test "accounting: in counts the lines that could not be read (every program)" {
	printf '{"ts":1,"id":"a","value":1,"v":1}\n{"ts":2,\n' > "$T/in"
	printf 'id,name\na,A\n' > "$T/table.csv"
	local -a progs=(
		"es-cat"
		"es-filter v>0"
		"es-map --set w=v"
		"es-window --tumbling 10s"
		"es-join --table $T/table.csv --on id --type left"
		"es-dedup --key id"
		"es-deadband --abs 1"
		"es-detect --above 5"
	)
	local p
	for p in "${progs[@]}"; do
		# shellcheck disable=SC2086
		acct $p < "$T/in"
		holds '.in == 2 and .bad == 1' || fail "$p: $S"
	done
}

@test "accounting: the first late event is said on stderr, and the count at exit" {
	printf '{"ts":20,"id":"a"}\n{"ts":1,"id":"a"}\n{"ts":2,"id":"a"}\n' > "$T/in"
	local p
	for p in "es-window --tumbling 5s" "es-dedup --key id --within 5s"; do
		# shellcheck disable=SC2086
		run_out $p < "$T/in"
		[ "$status" -eq 0 ]
		# one line for the first late event, one at exit with the count
		assert_equal "$stderr" "${p%% *}: stdin:2: event time 1970-01-01T00:00:01Z is behind the watermark 1970-01-01T00:00:20Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)
${p%% *}: 2 late events dropped (behind the watermark by up to 19s; --lateness, --late FILE)"
	done
}

@test "accounting es-window: SIGTERM without --flush-on-exit says on stderr what it drops" {
	mkfifo "$T/fifo"
	es-window --tumbling 1h --stats --stats-file "$T/st" --stats-every 50ms \
		< "$T/fifo" > "$T/out" 2> "$T/err" &
	local pid=$!
	exec {w}> "$T/fifo"
	printf '{"ts":1}\n{"ts":2}\n' >&$w
	await_stat_in 2
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_file_is "$T/out" < /dev/null
	# Said on stderr, in events (2) as well as windows (1, "dropped").
	assert_file_is "$T/err" <<-'EOF'
	es-window: stopped by a signal: 1 open window not written (2 events in it; --flush-on-exit writes them)
	{"program":"es-window","in":2,"out":0,"bad":0,"late":0,"dropped":1,"groups":1,"evicted":0,"state_bytes":0}
	EOF
}

@test "accounting es-join --left/--right: SIGTERM counts and says the buffered events it drops" {
	mkfifo "$T/l" "$T/r"
	es-join --left "$T/l" --right "$T/r" --on id --within 1h --type full --stats \
		--stats-file "$T/st" --stats-every 50ms > "$T/out" 2> "$T/err" &
	local pid=$! wl wr
	exec {wl}> "$T/l" {wr}> "$T/r"
	printf '{"ts":1,"id":"a"}\n{"ts":2,"id":"b"}\n' >&$wl
	printf '{"ts":3,"id":"c"}\n' >&$wr
	await_stat_in 3
	kill -TERM "$pid"
	wait "$pid"
	exec {wl}>&- {wr}>&-
	assert_file_is "$T/out" < /dev/null
	local sb=327	# the same on 32-bit armhf: 48 bytes a field (es-join(1))
	assert_file_is "$T/err" <<-EOF
	es-join: stopped by a signal: 3 buffered events dropped (3 never matched: counted as dropped)
	{"program":"es-join","in":3,"out":0,"bad":0,"late":0,"dropped":3,"filtered":0,"matched":0,"unmatched":0,"evicted":0,"buffered":3,"state_bytes":$sb}
	EOF
}
