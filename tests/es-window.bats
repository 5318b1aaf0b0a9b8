#!/usr/bin/env bats
# es-window: every window kind and aggregate on hand-made fixtures with
# known answers (tests/fixtures/window), event time and lateness, late
# events, groups, formats, bad input, state limits, the idle rule and
# signals on a live FIFO, usage errors, and differential runs against
# Miller and Python on generated data.
#
# Most fixtures use small millisecond times (--time-unit ms): 1000 is one
# second after the epoch, so windows read 0, 5000, 10000...
# The common --stats-file and --stats-every: tests/stats-file.bats; --config:
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
# tests/config.bats, and its reload (SIGHUP, --watch-config, --check) here.
bats_require_minimum_version 1.5.0
load test_helper
load live_helper

WF="$BATS_TEST_DIRNAME/fixtures/window"
GEN="$BATS_TEST_DIRNAME/../../shared/bench/gen-sensors"

setup() {
	T="$BATS_TEST_TMPDIR"
	BG=""		# process group leaders started by this test
	W=""		# a FIFO's write end, held by this shell
}

teardown() {
	bg_teardown
}

# ---- live input helpers ----
# bg_teardown, start_bg, open_writer, close_writer, await_exp, await_exit
# (2 s) and since: live_helper.bash (as in latency.bats).

# ---- tumbling ----

@test "es-window --tumbling: per window and group, groups in order of first event, ends by watermark" {
	run --separate-stderr es-window --tumbling 5s --time-unit ms -g device \
		-a 'count,sum(value),mean(value),min(value),max(value)' "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":0,"window_end":5000,"device":"a","count":3,"sum_value":9,"mean_value":3,"min_value":1,"max_value":5}
{"window_start":0,"window_end":5000,"device":"b","count":1,"sum_value":10,"mean_value":10,"min_value":10,"max_value":10}
{"window_start":5000,"window_end":10000,"device":"b","count":1,"sum_value":20,"mean_value":20,"min_value":20,"max_value":20}
{"window_start":10000,"window_end":15000,"device":"a","count":1,"sum_value":7,"mean_value":7,"min_value":7,"max_value":7}
{"window_start":10000,"window_end":15000,"device":"b","count":1,"sum_value":30,"mean_value":30,"min_value":30,"max_value":30}
EOF
)"
}

@test "es-window --tumbling: the default aggregate is count; no group: one record per window" {
	run --separate-stderr es-window --tumbling 5s --time-unit ms "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":5000,"count":4}' \
		'{"window_start":5000,"window_end":10000,"count":1}' \
		'{"window_start":10000,"window_end":15000,"count":2}')"
}

@test "es-window --tumbling: an event at a window's end belongs to the next window ([start, end))" {
	printf '{"ts":0}\n{"ts":4999}\n{"ts":5000}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 5s --time-unit ms "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":5000,"count":2}' \
		'{"window_start":5000,"window_end":10000,"count":1}')"
}

@test "es-window --tumbling: times before 1970 floor to the window below" {
	printf '{"ts":-1}\n{"ts":-5000}\n{"ts":-5001}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 5s --time-unit ms --lateness 10s "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' \
		'{"window_start":-10000,"window_end":-5000,"count":1}' \
		'{"window_start":-5000,"window_end":0,"count":2}')"
}

@test "es-window --tumbling --offset: windows shifted by the offset" {
	printf '{"ts":1000}\n{"ts":2500}\n{"ts":4100}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 2s --offset 500ms --time-unit ms "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' \
		'{"window_start":500,"window_end":2500,"count":1}' \
		'{"window_start":2500,"window_end":4500,"count":2}')"
	# A day in UTC+2 (local midnights): --tumbling 1d --offset 22h
	run --separate-stderr es-window --tumbling 1d --offset 22h <<< '{"ts":"2027-01-01T23:30:00Z"}'
	assert_success
	assert_output '{"window_start":"2027-01-01T22:00:00Z","window_end":"2027-01-02T22:00:00Z","count":1}'
}

# ---- hopping ----

@test "es-window --hopping 10s --every 5s: each event in two windows, emitted by start" {
	run --separate-stderr es-window --hopping 10s --every 5s --time-unit ms -g device \
		-a 'count,sum(value)' "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":-5000,"window_end":5000,"device":"a","count":3,"sum_value":9}
{"window_start":-5000,"window_end":5000,"device":"b","count":1,"sum_value":10}
{"window_start":0,"window_end":10000,"device":"a","count":3,"sum_value":9}
{"window_start":0,"window_end":10000,"device":"b","count":2,"sum_value":30}
{"window_start":5000,"window_end":15000,"device":"b","count":2,"sum_value":50}
{"window_start":5000,"window_end":15000,"device":"a","count":1,"sum_value":7}
{"window_start":10000,"window_end":20000,"device":"a","count":1,"sum_value":7}
{"window_start":10000,"window_end":20000,"device":"b","count":1,"sum_value":30}
EOF
)"
}

@test "es-window --hopping with --every equal to the size is --tumbling" {
	run_out es-window --hopping 5s --every 5s --time-unit ms -g device -a 'count,sum(value)' "$WF/readings.ndjson"
	[ "$status" -eq 0 ]
	cp "$T/out" "$T/hop"
	run_out es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' "$WF/readings.ndjson"
	assert_file_is "$T/hop" < "$T/out"
}

@test "es-window --hopping 3s --every 1s --offset 500ms: three windows per event" {
	run --separate-stderr es-window --hopping 3s --every 1s --offset 500ms --time-unit ms <<< '{"ts":1000}'
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":-1500,"window_end":1500,"count":1}' \
		'{"window_start":-500,"window_end":2500,"count":1}' \
		'{"window_start":500,"window_end":3500,"count":1}')"
}

# ---- sliding ----

@test "es-window --sliding 3s: per event, (t - 3s, t] of its group" {
	run --separate-stderr es-window --sliding 3s --time-unit ms -g device \
		-a 'count,sum(value)' "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":-2000,"window_end":1000,"device":"a","count":1,"sum_value":1}
{"window_start":-1000,"window_end":2000,"device":"b","count":1,"sum_value":10}
{"window_start":500,"window_end":3500,"device":"a","count":2,"sum_value":4}
{"window_start":1000,"window_end":4000,"device":"a","count":2,"sum_value":8}
{"window_start":6999,"window_end":9999,"device":"b","count":1,"sum_value":20}
{"window_start":7000,"window_end":10000,"device":"a","count":1,"sum_value":7}
{"window_start":9000,"window_end":12000,"device":"b","count":2,"sum_value":50}
EOF
)"
}

@test "es-window --sliding with --lateness: out-of-order events join later windows, not earlier ones" {
	# state_bytes: buffered events are 32 bytes a value (on 32-bit ARM too)
	local peak1=261 peak2=65
	printf '%s\n' '{"ts":1000,"v":1}' '{"ts":3000,"v":2}' '{"ts":2000,"v":4}' \
		'{"ts":5000,"v":8}' '{"ts":3500,"v":16}' '{"ts":2500,"v":32}' > "$T/in"
	run --separate-stderr es-window --sliding 2s --lateness 2s --time-unit ms -a 'count,sum(v)' --stats "$T/in"
	assert_success
	# 2000 is not in the window of 3000, which went out before it came;
	# 2500 is behind the watermark (5000 - 2s): late.
	assert_output "$(cat <<'EOF'
{"window_start":-1000,"window_end":1000,"count":1,"sum_v":1}
{"window_start":1000,"window_end":3000,"count":1,"sum_v":2}
{"window_start":0,"window_end":2000,"count":2,"sum_v":5}
{"window_start":3000,"window_end":5000,"count":1,"sum_v":8}
{"window_start":1500,"window_end":3500,"count":3,"sum_v":22}
EOF
)"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:6: event time 1970-01-01T00:00:02.500Z is behind the watermark 1970-01-01T00:00:03Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 1 late event dropped (behind the watermark by up to 500ms; --lateness, --late FILE)' \
		'{"program":"es-window","in":6,"out":5,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":'"$peak1"'}')"
	run --separate-stderr es-window --sliding 2s --time-unit ms -a 'count,sum(v)' --stats "$T/in"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:3: event time 1970-01-01T00:00:02Z is behind the watermark 1970-01-01T00:00:03Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 3 late events dropped (behind the watermark by up to 2s500ms; --lateness, --late FILE)' \
		'{"program":"es-window","in":6,"out":3,"bad":0,"late":3,"dropped":0,"groups":1,"evicted":0,"state_bytes":'"$peak2"'}')"
}

# ---- session ----

@test "es-window --session with lateness: an out-of-order event that bridges two sessions merges them" {
	run --separate-stderr es-window --session 3s --lateness 5s --time-unit ms -g k \
		-a 'count,sum(value),first(value),last(value)' "$WF/sessions.ndjson"
	assert_success
	assert_stderr ""
	# a: 1000, 2000 make [1000, 5000); 6000 opens [6000, 9000); 4000 is
	# within 3s of both: one session [1000, 9000). Sessions go out by end.
	assert_output "$(cat <<'EOF'
{"window_start":1500,"window_end":4500,"k":"b","count":1,"sum_value":100,"first_value":100,"last_value":100}
{"window_start":5500,"window_end":8500,"k":"b","count":1,"sum_value":200,"first_value":200,"last_value":200}
{"window_start":1000,"window_end":9000,"k":"a","count":4,"sum_value":10,"first_value":1,"last_value":3}
{"window_start":20000,"window_end":23000,"k":"a","count":1,"sum_value":5,"first_value":5,"last_value":5}
{"window_start":21000,"window_end":24000,"k":"b","count":1,"sum_value":300,"first_value":300,"last_value":300}
EOF
)"
}

@test "es-window --session without lateness: an emitted session is not reopened; the event starts a new one" {
	run --separate-stderr es-window --session 3s --time-unit ms -g k -a 'count,sum(value)' --stats "$WF/sessions.ndjson"
	assert_success
	# 6000 closes a's [1000, 5000); 4000 then joins [6000, 9000) only.
	assert_output "$(cat <<'EOF'
{"window_start":1500,"window_end":4500,"k":"b","count":1,"sum_value":100}
{"window_start":1000,"window_end":5000,"k":"a","count":2,"sum_value":3}
{"window_start":5500,"window_end":8500,"k":"b","count":1,"sum_value":200}
{"window_start":4000,"window_end":9000,"k":"a","count":2,"sum_value":7}
{"window_start":20000,"window_end":23000,"k":"a","count":1,"sum_value":5}
{"window_start":21000,"window_end":24000,"k":"b","count":1,"sum_value":300}
EOF
)"
	assert_stderr '{"program":"es-window","in":8,"out":6,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":0,"state_bytes":12}'
}

@test "es-window --session: events exactly GAP apart are two sessions, whatever their arrival order" {
	# --help: "open while events come less than GAP apart".
	run --separate-stderr es-window --session 3s --lateness 5s --time-unit ms -a 'count,sum(v)' \
		<<< "$(printf '{"ts":5000,"v":1}\n{"ts":8000,"v":2}')"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":5000,"window_end":8000,"count":1,"sum_v":1}' \
		'{"window_start":8000,"window_end":11000,"count":1,"sum_v":2}')"
	run --separate-stderr es-window --session 3s --lateness 5s --time-unit ms -a 'count,sum(v)' \
		<<< "$(printf '{"ts":8000,"v":2}\n{"ts":5000,"v":1}')"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":5000,"window_end":8000,"count":1,"sum_v":1}' \
		'{"window_start":8000,"window_end":11000,"count":1,"sum_v":2}')"
}

@test "es-window --session: an event inside a session that is still open is never late" {
	# 1000..9000 every 2 s is one session [1000, 12000), open at watermark
	# 9000; 2000 belongs to it (all its windows were not emitted).
	printf '{"ts":%d}\n' 1000 3000 5000 7000 9000 2000 > "$T/in"
	run --separate-stderr es-window --session 3s --time-unit ms -a count --stats "$T/in"
	assert_success
	assert_output '{"window_start":1000,"window_end":12000,"count":6}'
	assert_stderr '{"program":"es-window","in":6,"out":1,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}'
}

@test "es-window --session --max-session: a session is cut at start + D" {
	printf '{"ts":%d}\n' 0 2000 4000 6000 8000 10000 20000 > "$T/in"
	run --separate-stderr es-window --session 3s --max-session 5s --time-unit ms -a count "$T/in"
	assert_success
	assert_stderr ""
	# 0, 2000, 4000: [0, 5000) (capped below 4000 + 3s); 6000 and later
	# start anew: [6000, 11000) holds 6000, 8000, 10000.
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":5000,"count":3}' \
		'{"window_start":6000,"window_end":11000,"count":3}' \
		'{"window_start":20000,"window_end":23000,"count":1}')"
}

@test "es-window --session --max-session: the same sessions whatever the arrival order within lateness" {
	printf '{"ts":1000,"v":1}\n{"ts":3900,"v":3}\n{"ts":6500,"v":2}\n' > "$T/inorder"
	printf '{"ts":1000,"v":1}\n{"ts":6500,"v":2}\n{"ts":3900,"v":3}\n' > "$T/reordered"
	local exp
	exp="$(printf '%s\n' \
		'{"window_start":1000,"window_end":5000,"count":2,"sum_v":4,"last_v":3}' \
		'{"window_start":6500,"window_end":9500,"count":1,"sum_v":2,"last_v":2}')"
	run --separate-stderr es-window --session 3s --max-session 4s --lateness 10s --time-unit ms \
		-a 'count,sum(v),last(v)' "$T/inorder"
	assert_success
	assert_output "$exp"
	run --separate-stderr es-window --session 3s --max-session 4s --lateness 10s --time-unit ms \
		-a 'count,sum(v),last(v)' "$T/reordered"
	assert_success
	assert_output "$exp"
}

# ---- count ----

@test "es-window --session --max-session: an out-of-order event that pulls a capped session's end behind the watermark writes it at once" {
	skip_if_slow
	start_bg es-window --session 50ms --max-session 60ms --lateness 100ms --time-unit ms -g d
	open_writer
	# a's session [100, 150) is open at watermark 140; 51 joins it (it
	# touches it and fits in 60 ms): [51, 111), behind the watermark
	printf '%s\n' '{"ts":100,"d":"a"}' '{"ts":240,"d":"b"}' '{"ts":51,"d":"a"}' >&"$W"
	printf '{"window_start":51,"window_end":111,"d":"a","count":2}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":240,"window_end":290,"d":"b","count":1}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" < /dev/null
}

@test "es-window --count 2: N events per group; start/end are their times; a partial window at the end" {
	run --separate-stderr es-window --count 2 --time-unit ms -g device -a 'count,sum(value)' "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":1000,"window_end":3500,"device":"a","count":2,"sum_value":4}
{"window_start":2000,"window_end":9999,"device":"b","count":2,"sum_value":30}
{"window_start":4000,"window_end":10000,"device":"a","count":2,"sum_value":12}
{"window_start":12000,"window_end":12000,"device":"b","count":1,"sum_value":30}
EOF
)"
}

@test "es-window --count 3 --every 1: a window starts at every event (overlapping)" {
	run --separate-stderr es-window --count 3 --every 1 --time-unit ms -g device -a 'count,sum(value)' "$WF/readings.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":1000,"window_end":4000,"device":"a","count":3,"sum_value":9}
{"window_start":3500,"window_end":10000,"device":"a","count":3,"sum_value":15}
{"window_start":2000,"window_end":12000,"device":"b","count":3,"sum_value":60}
{"window_start":4000,"window_end":10000,"device":"a","count":2,"sum_value":12}
{"window_start":9999,"window_end":12000,"device":"b","count":2,"sum_value":50}
{"window_start":10000,"window_end":10000,"device":"a","count":1,"sum_value":7}
{"window_start":12000,"window_end":12000,"device":"b","count":1,"sum_value":30}
EOF
)"
}

@test "es-window --count 3 --every 2: windows of events 1-3, 3-5, 5-7, then 7" {
	printf '{"ts":%d000,"v":%d}\n' 1 1 2 2 3 3 4 4 5 5 6 6 7 7 > "$T/in"
	run --separate-stderr es-window --count 3 --every 2 --time-unit ms -a 'count,sum(v),first(v),last(v),rate' "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":1000,"window_end":3000,"count":3,"sum_v":6,"first_v":1,"last_v":3,"rate":1.5}
{"window_start":3000,"window_end":5000,"count":3,"sum_v":12,"first_v":3,"last_v":5,"rate":1.5}
{"window_start":5000,"window_end":7000,"count":3,"sum_v":18,"first_v":5,"last_v":7,"rate":1.5}
{"window_start":7000,"window_end":7000,"count":1,"sum_v":7,"first_v":7,"last_v":7,"rate":null}
EOF
)"
}

@test "es-window --count: no lateness, an old event is never late; start/end are the earliest and latest times" {
	printf '{"ts":5000,"v":1}\n{"ts":1000,"v":2}\n{"ts":3000,"v":3}\n{"ts":0,"v":4}\n' > "$T/in"
	run --separate-stderr es-window --count 3 --time-unit ms -a 'count,first(v),last(v)' --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":1000,"window_end":5000,"count":3,"first_v":2,"last_v":1}' \
		'{"window_start":0,"window_end":0,"count":1,"first_v":4,"last_v":4}')"
	assert_stderr '{"program":"es-window","in":4,"out":2,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}'
}

@test "es-window --count-window N --every M: windows of N events, a new one every M; --count is its old name" {
	printf '{"ts":1000,"v":1}\n{"ts":2000,"v":2}\n{"ts":3000,"v":3}\n{"ts":4000,"v":4}\n' > "$T/in"
	run --separate-stderr es-window --count-window 2 --every 1 --time-unit ms -a 'count,sum(v)' "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":1000,"window_end":2000,"count":2,"sum_v":3}' \
		'{"window_start":2000,"window_end":3000,"count":2,"sum_v":5}' \
		'{"window_start":3000,"window_end":4000,"count":2,"sum_v":7}' \
		'{"window_start":4000,"window_end":4000,"count":1,"sum_v":4}')"
	es-window --count 2 --every 1 --time-unit ms -a 'count,sum(v)' "$T/in" > "$T/old"
	assert_file_is "$T/old" <<< "$output"
}

# ---- aggregates ----

@test "es-window: every aggregate on one window (known answers; events out of order)" {
	run --separate-stderr es-window --tumbling 10s --time-unit ms \
		-a 'count,sum(v),mean(v),min(v),max(v),first(v),last(v),median(v),p95(v),p25(v),p99.9(v),p12.5(v),distinct(v),rate,delta(v),first(s),last(s),distinct(s)' \
		"$WF/aggs.ndjson"
	assert_success
	assert_stderr ""
	# v = 2 4 4 4 5 5 7 9: mean 5; nearest rank: median rank 4 -> 4,
	# p95 rank 8 -> 9, p25 rank 2 -> 4, p12.5 rank 1 -> 2.
	# first/last by event time: ts 1000 (v 2, "a") and ts 8000 (v 9, "h").
	assert_output '{"window_start":0,"window_end":10000,"count":8,"sum_v":40,"mean_v":5,"min_v":2,"max_v":9,"first_v":2,"last_v":9,"median_v":4,"p95_v":9,"p25_v":4,"p99_9_v":9,"p12_5_v":2,"distinct_v":5,"rate":0.8,"delta_v":7,"first_s":"a","last_s":"h","distinct_s":8}'
	# sample variance (n - 1): 32/7, to 12 significant digits
	run --separate-stderr bash -c 'es-window --tumbling 10s --time-unit ms -a "var(v),stddev(v)" "$1" |
		jq -r "[.var_v, .stddev_v] | map(. * 1e11 | round) | @tsv"' _ "$WF/aggs.ndjson"
	assert_success
	assert_output "$(printf '457142857143\t213808993530')"
}

@test "es-window -a: 'as name' renames; default names are kind_path with non-word characters as _" {
	printf '{"ts":1,"meta":{"t":2.5},"odd key":3}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s \
		-a 'count as n,mean(meta.t),max("odd key"),p99.5(meta.t) as "p 99.5",rate as r' "$T/in"
	assert_success
	assert_stderr ""
	assert_output '{"window_start":0,"window_end":60,"n":1,"mean_meta_t":2.5,"max__odd_key_":3,"p 99.5":2.5,"r":0.016666666666666666}'
}

@test "es-window: null and missing values are skipped by an aggregate; count and rate count events" {
	printf '{"ts":1000,"v":null}\n{"ts":2000}\n{"ts":3000,"v":6}\n{"ts":4000,"v":2}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms \
		-a 'count,rate,sum(v),mean(v),min(v),first(v),last(v),distinct(v),stddev(v)' "$T/in"
	assert_success
	assert_stderr ""
	assert_output '{"window_start":0,"window_end":10000,"count":4,"rate":0.4,"sum_v":8,"mean_v":4,"min_v":2,"first_v":6,"last_v":2,"distinct_v":2,"stddev_v":2.8284271247461903}'
	# With no value at all, every aggregate of the field is null.
	printf '{"ts":1000,"v":null}\n{"ts":2000}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms \
		-a 'count,rate,sum(v),mean(v),min(v),max(v),stddev(v),var(v),first(v),last(v),median(v),p95(v),distinct(v),delta(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":10000,"count":2,"rate":0.2,"sum_v":null,"mean_v":null,"min_v":null,"max_v":null,"stddev_v":null,"var_v":null,"first_v":null,"last_v":null,"median_v":null,"p95_v":null,"distinct_v":null,"delta_v":null}'
}

@test "es-window: stddev and var of one value are null (sample, n - 1)" {
	run --separate-stderr es-window --tumbling 10s --time-unit ms -a 'stddev(v),var(v),mean(v)' <<< '{"ts":1,"v":5}'
	assert_success
	assert_output '{"window_start":0,"window_end":10000,"stddev_v":null,"var_v":null,"mean_v":5}'
}

@test "es-window: integers stay integers; one double makes sum a double; min/max keep the input's type" {
	printf '{"ts":1,"v":3}\n{"ts":2,"v":2.5}\n{"ts":3,"v":10}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'sum(v),min(v),max(v),delta(v),median(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"sum_v":15.5,"min_v":2.5,"max_v":10,"delta_v":7,"median_v":3}'
}

@test "es-window: an integer sum that overflows 64 bits becomes a double with the right sign" {
	printf '{"ts":1,"v":9223372036854775807}\n{"ts":2,"v":1}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'sum(v),max(v),delta(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"sum_v":9.223372036854776e+18,"max_v":9223372036854775807,"delta_v":-9223372036854775806}'
	printf '{"ts":1,"v":-9223372036854775807}\n{"ts":2,"v":-9}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'sum(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"sum_v":-9.223372036854776e+18}'
}

@test "es-window: first/last ties on event time: first keeps the earliest arrival, last takes the latest" {
	printf '{"ts":5,"v":"x"}\n{"ts":5,"v":"y"}\n{"ts":5,"v":"z"}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'first(v),last(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"first_v":"x","last_v":"z"}'
}

@test "es-window: first/last keep any value as written (strings, objects, numbers); distinct compares numbers by value" {
	printf '%s\n' '{"ts":3,"v":{"a":[1, 2]},"n":1.0}' '{"ts":1,"v":"caf\u00e9","n":1}' '{"ts":2,"v":true,"n":1e0}' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'first(v),last(v),distinct(n),last(n)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"first_v":"café","last_v":{"a":[1, 2]},"distinct_n":1,"last_n":1.0}'
}

@test "es-window: percentiles and distinct are exact up to 10000 values in a window" {
	# 1..10000 in a shuffled order, one window
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "{\"ts\":%d,\"v\":%d}\n", i, (i * 7919) % 10000 + 1 }' > "$T/in"
	run --separate-stderr es-window --tumbling 1h --time-unit ms -a 'count,median(v),p95(v),p99.9(v),p1(v),distinct(v)' "$T/in"
	assert_success
	assert_stderr ""
	assert_output '{"window_start":0,"window_end":3600000,"count":10000,"median_v":5000,"p95_v":9500,"p99_9_v":9990,"p1_v":100,"distinct_v":10000}'
}

@test "es-window: a percentile found by selection is the value a stable sort puts at its rank, -0 and 0 kept apart in arrival order" {
	# 42 values in one window (more than the selection sorts outright),
	# zeros of both signs among them: equal as numbers, written apart
	for v in 0.0 -0.0 1 -0.0 -2.5 0.0 3 -0.0 0.0 7 -1 0.0 -0.0 2 0.0 -0.0 5 -3 0.0 -0.0 4; do
		printf '{"ts":1000,"value":%s}\n' "$v"
	done > "$T/one"
	cat "$T/one" "$T/one" > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms \
		-a 'p5(value),p10(value),p15(value),p20(value),p25(value),p30(value),median(value),p60(value),p70(value),p75(value),p95(value)' "$T/in"
	assert_success
	assert_stderr ""
	assert_output '{"window_start":0,"window_end":10000,"p5_value":-2.5,"p10_value":-1,"p15_value":0,"p20_value":-0,"p25_value":-0,"p30_value":0,"median_value":-0,"p60_value":-0,"p70_value":-0,"p75_value":1,"p95_value":5}'
}

@test "es-window: beyond 10000 values, percentiles (t-digest) within 0.5% in rank and distinct (HyperLogLog) within 3%" {
	python3 - "$T" <<'PY'
import json, random, sys
r = random.Random(1)
with open(sys.argv[1] + "/in", "w") as f:
    for i in range(50000):
        f.write('{"ts":%d,"v":%.6f,"k":"k%d"}\n' % (i, r.gauss(0, 1), r.randrange(30000)))
PY
	run_out es-window --tumbling 1h --time-unit ms -a 'count,median(v),p95(v),p99(v),p1(v),distinct(k),distinct(v),min(v),max(v)' "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run python3 - "$T" <<'PY'
import bisect, json, sys
t = sys.argv[1]
vs, ks = [], set()
for line in open(t + "/in"):
    o = json.loads(line)
    vs.append(o["v"]); ks.add(o["k"])
vs.sort(); n = len(vs)
out = [json.loads(l) for l in open(t + "/out")]
assert len(out) == 1, out
o = out[0]
bad = []
if o["count"] != n: bad.append("count")
if o["min_v"] != vs[0] or o["max_v"] != vs[-1]: bad.append("min/max")
for name, p in (("median_v", 50), ("p95_v", 95), ("p99_v", 99), ("p1_v", 1)):
    # the rank the estimate has in the data, against the asked rank
    lo = bisect.bisect_left(vs, o[name]); hi = bisect.bisect_right(vs, o[name])
    want = p / 100 * n
    err = 0 if lo <= want <= hi else min(abs(lo - want), abs(hi - want)) / n
    if err > 0.005: bad.append("%s rank error %.4f" % (name, err))
for name, exact in (("distinct_k", len(ks)), ("distinct_v", len(set(vs)))):
    if abs(o[name] - exact) / exact > 0.03: bad.append("%s %d vs %d" % (name, o[name], exact))
print(" ".join(bad) or "ok")
PY
	assert_output ok
}

# ---- time, watermark and lateness ----

@test "es-window --lateness 2s: out-of-order events within lateness count; later ones are late" {
	run --separate-stderr es-window --tumbling 5s --lateness 2s --time-unit ms -a 'count,sum(value)' --stats "$WF/late.ndjson"
	assert_success
	# 4000 comes after 6000 but the watermark is 4000: [0, 5000) is open.
	# After 12000 (watermark 10000), 4999, 9000 and 9500 are late.
	assert_output "$(cat <<'EOF'
{"window_start":0,"window_end":5000,"count":2,"sum_value":4}
{"window_start":5000,"window_end":10000,"count":1,"sum_value":2}
{"window_start":10000,"window_end":15000,"count":1,"sum_value":4}
{"window_start":15000,"window_end":20000,"count":1,"sum_value":7}
EOF
)"
	assert_stderr "$(printf '%s\n' \
		"es-window: $WF/late.ndjson:5: event time 1970-01-01T00:00:04.999Z is behind the watermark 1970-01-01T00:00:10Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 3 late events dropped (behind the watermark by up to 5s1ms; --lateness, --late FILE)' \
		'{"program":"es-window","in":8,"out":4,"bad":0,"late":3,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window --late FILE: late events raw, one a line; counted in --stats" {
	printf 'stale line\n' > "$T/late"
	run --separate-stderr es-window --tumbling 5s --time-unit ms -a 'count,sum(value)' \
		--late "$T/late" --stats "$WF/late.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"window_start":0,"window_end":5000,"count":1,"sum_value":1}
{"window_start":5000,"window_end":10000,"count":1,"sum_value":2}
{"window_start":10000,"window_end":15000,"count":1,"sum_value":4}
{"window_start":15000,"window_end":20000,"count":1,"sum_value":7}
EOF
)"
	assert_stderr "$(printf '%s\n' \
		"es-window: $WF/late.ndjson:3: event time 1970-01-01T00:00:04Z is behind the watermark 1970-01-01T00:00:06Z: written to the --late file (further late events are counted; --lateness to wait longer)" \
		"es-window: 4 late events written to $T/late (behind the watermark by up to 7s1ms; --lateness)" \
		'{"program":"es-window","in":8,"out":4,"bad":0,"late":4,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
	# appended, byte for byte
	printf '%s\n' 'stale line' '{"ts":4000,"value":3}' '{"ts":4999,"value":5}' \
		'{"ts":9000,"value":6}' '{"ts":9500,"value":8}' | assert_file_is "$T/late"
}

@test "es-window --late FILE with CSV input: late rows under their header" {
	printf 'ts,device,value\n1000,a,1\n6000,"b,c",2\n2000,a,3\n7000,a,4\n3000,b,5\n' > "$T/in.csv"
	run --separate-stderr es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' --late "$T/late.csv" "$T/in.csv"
	assert_success
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in.csv:4: event time 1970-01-01T00:00:02Z is behind the watermark 1970-01-01T00:00:06Z: written to the --late file (further late events are counted; --lateness to wait longer)" \
		"es-window: 2 late events written to $T/late.csv (behind the watermark by up to 4s; --lateness)")"
	assert_output "$(printf '%s\n' 'window_start,window_end,device,count,sum_value' \
		'0,5000,a,1,1' '5000,10000,"b,c",1,2' '5000,10000,a,1,4')"
	printf 'ts,device,value\n2000,a,3\n3000,b,5\n' | assert_file_is "$T/late.csv"
}

@test "es-window --late FILE that cannot be opened: exit 1 at start" {
	run --separate-stderr es-window --tumbling 5s --late "$T/no/late" <<< '{"ts":1}'
	[ "$status" -eq 1 ]
	assert_output ''
	assert_stderr "es-window: cannot open late-events file $T/no/late: No such file or directory"
}

@test "es-window: an event whose window ends at the watermark is late; one just inside is not" {
	printf '{"ts":10000}\n{"ts":4999}\n{"ts":5000}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 5s --lateness 5s --time-unit ms --stats --late "$T/late" "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":5000,"window_end":10000,"count":1}' \
		'{"window_start":10000,"window_end":15000,"count":1}')"
	assert_file_is "$T/late" <<< '{"ts":4999}'
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:2: event time 1970-01-01T00:00:04.999Z is behind the watermark 1970-01-01T00:00:05Z: written to the --late file (further late events are counted; --lateness to wait longer)" \
		"es-window: 1 late event written to $T/late (behind the watermark by up to 1ms; --lateness)" \
		'{"program":"es-window","in":3,"out":2,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window --hopping: an event is late only when all its windows were emitted (as Flink)" {
	# 12000 closes [-5000, 5000) and [0, 10000); 6000 still goes to the open
	# [5000, 15000); 4000's windows are all gone: late.
	printf '{"ts":1000}\n{"ts":12000}\n{"ts":6000}\n{"ts":4000}\n' > "$T/in"
	run --separate-stderr es-window --hopping 10s --every 5s --time-unit ms --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":-5000,"window_end":5000,"count":1}' \
		'{"window_start":0,"window_end":10000,"count":1}' \
		'{"window_start":5000,"window_end":15000,"count":2}' \
		'{"window_start":10000,"window_end":20000,"count":1}')"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:4: event time 1970-01-01T00:00:04Z is behind the watermark 1970-01-01T00:00:12Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 1 late event dropped (behind the watermark by up to 8s; --lateness, --late FILE)' \
		'{"program":"es-window","in":4,"out":4,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window: the watermark is global: one group's events close another group's windows" {
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":11000,"d":"b"}' '{"ts":2000,"d":"a"}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":10000,"d":"a","count":1}' \
		'{"window_start":10000,"window_end":20000,"d":"b","count":1}')"
	# a's window closed (and a was forgotten) before b took a slot
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:3: event time 1970-01-01T00:00:02Z is behind the watermark 1970-01-01T00:00:11Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 1 late event dropped (behind the watermark by up to 9s; --lateness, --late FILE)' \
		'{"program":"es-window","in":3,"out":2,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":6}')"
}

@test "es-window: RFC 3339 times (CSV input, offsets and fractions) give RFC 3339 windows" {
	run --separate-stderr es-window --tumbling 10s -g device -a 'count,sum(value)' "$WF/rfc3339.csv"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' 'window_start,window_end,device,count,sum_value' \
		'2027-01-01T00:00:00Z,2027-01-01T00:00:10Z,a,2,3.5' \
		'2027-01-01T00:00:00Z,2027-01-01T00:00:10Z,b,1,3' \
		'2027-01-01T00:00:10Z,2027-01-01T00:00:20Z,a,1,4')"
	run --separate-stderr es-window --tumbling 250ms <<< '{"ts":"2027-01-01T00:00:00.3Z"}'
	assert_output '{"window_start":"2027-01-01T00:00:00.250Z","window_end":"2027-01-01T00:00:00.500Z","count":1}'
}

@test "es-window: epoch seconds and milliseconds are told apart by magnitude" {
	run --separate-stderr es-window --tumbling 1m <<< '{"ts":1798761601}'
	assert_success
	assert_output '{"window_start":1798761600,"window_end":1798761660,"count":1}'
	run --separate-stderr es-window --tumbling 1m <<< '{"ts":1798761601000}'
	assert_output '{"window_start":1798761600000,"window_end":1798761660000,"count":1}'
	run --separate-stderr es-window --tumbling 1s <<< '{"ts":1798761601.75}'
	assert_output '{"window_start":1798761601,"window_end":1798761602,"count":1}'
}

@test "es-window --time-unit auto: below 1e11 s, below 1e14 ms, below 1e17 us, else ns" {
	run --separate-stderr es-window --tumbling 10s <<< '{"ts":99999999999}'
	assert_output '{"window_start":99999999990,"window_end":100000000000,"count":1}'
	run --separate-stderr es-window --tumbling 10s <<< '{"ts":100000000000}'
	assert_output '{"window_start":100000000000,"window_end":100000010000,"count":1}'
	run --separate-stderr es-window --tumbling 10s <<< '{"ts":100000000000000}'
	assert_output '{"window_start":100000000000000,"window_end":100000010000000,"count":1}'
	run --separate-stderr es-window --tumbling 10s <<< '{"ts":100000000000000000}'
	assert_output '{"window_start":100000000000000000,"window_end":100000010000000000,"count":1}'
	# the first value decides for the rest of the input: a later value of
	# another size is bad input, not a time misread by a factor of 1000
	run --separate-stderr es-window --tumbling 10s --stats <<< "$(printf '{"ts":1798761601000}\n{"ts":1798761602}')"
	assert_output '{"window_start":1798761600000,"window_end":1798761610000,"count":1}'
	assert_stderr "$(printf '%s\n' \
		"es-window: stdin:2: time 1798761602 is seconds by its size, but this input's times are milliseconds (guessed from its first time; say which with --time-unit) (--time-field ts)" \
		'{"program":"es-window","in":2,"out":1,"bad":1,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
	run --separate-stderr es-window --tumbling 10s --stats <<< "$(printf '{"ts":12}\n{"ts":1798761600127}\n{"ts":13}')"
	assert_output '{"window_start":10,"window_end":20,"count":2}'
	assert_stderr "$(printf '%s\n' \
		"es-window: stdin:2: time 1798761600127 is milliseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit) (--time-field ts)" \
		'{"program":"es-window","in":3,"out":1,"bad":1,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window --time-unit s|ms|us|ns: the same number read in each unit" {
	run --separate-stderr es-window --tumbling 1s --time-unit s <<< '{"ts":1500}'
	assert_output '{"window_start":1500,"window_end":1501,"count":1}'
	run --separate-stderr es-window --tumbling 1s --time-unit ms <<< '{"ts":1500}'
	assert_output '{"window_start":1000,"window_end":2000,"count":1}'
	run --separate-stderr es-window --tumbling 1ms --time-unit us <<< '{"ts":1500}'
	assert_output '{"window_start":1000,"window_end":2000,"count":1}'
	run --separate-stderr es-window --tumbling 1us --time-unit ns <<< '{"ts":1500}'
	assert_output '{"window_start":1000,"window_end":2000,"count":1}'
	run --separate-stderr es-window --tumbling 1s --time-unit auto <<< '{"ts":1500}'
	assert_output '{"window_start":1500,"window_end":1501,"count":1}'
	# a value out of range in the unit is bad input
	run --separate-stderr es-window --tumbling 1s --time-unit s <<< '{"ts":1798761602000000}'
	assert_success
	assert_output ''
	assert_stderr "es-window: stdin:1: event time out of range (years -99999 to 99999) (--time-field ts)"
}

@test "es-window --time-format rfc3339|s|ms|us|ns: window_start/end written that way" {
	local f
	for f in rfc3339 s ms us ns; do
		run --separate-stderr es-window --tumbling 10s --time-format "$f" <<< '{"ts":1798761601000}'
		assert_success
		case $f in
		rfc3339) assert_output '{"window_start":"2027-01-01T00:00:00Z","window_end":"2027-01-01T00:00:10Z","count":1}' ;;
		s) assert_output '{"window_start":1798761600,"window_end":1798761610,"count":1}' ;;
		ms) assert_output '{"window_start":1798761600000,"window_end":1798761610000,"count":1}' ;;
		us) assert_output '{"window_start":1798761600000000,"window_end":1798761610000000,"count":1}' ;;
		ns) assert_output '{"window_start":1798761600000000000,"window_end":1798761610000000000,"count":1}' ;;
		esac
	done
	# RFC 3339 input to epoch ms, as CSV
	run --separate-stderr es-window --tumbling 10s -g device --time-format ms "$WF/rfc3339.csv"
	assert_output "$(printf '%s\n' 'window_start,window_end,device,count' \
		'1798761600000,1798761610000,a,2' '1798761600000,1798761610000,b,1' '1798761610000,1798761620000,a,1')"
}

@test "es-window --time-field: another field, also a nested path" {
	printf '{"at":1000,"meta":{"t":"2027-01-01T00:00:05Z"}}\n' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-field at --time-unit ms "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":10000,"count":1}'
	run --separate-stderr es-window --tumbling 10s --time-field meta.t "$T/in"
	assert_success
	assert_output '{"window_start":"2027-01-01T00:00:00Z","window_end":"2027-01-01T00:00:10Z","count":1}'
	run --separate-stderr es-window --tumbling 10s "$T/in"
	assert_stderr "es-window: $T/in:1: missing time field (--time-field ts)"
}

@test "es-window --time processing: arrival time, windows in epoch ms" {
	printf 'd\na\nb\na\n' > "$T/in.csv"
	local before after
	before=$(date +%s%3N)
	run --separate-stderr es-window --time processing --tumbling 1h -g d -o ndjson "$T/in.csv"
	after=$(date +%s%3N)
	assert_success
	assert_stderr ""
	assert_equal "${#lines[@]}" 2
	run python3 -c '
import json, sys
before, after = int(sys.argv[1]), int(sys.argv[2])
rows = [json.loads(l) for l in sys.stdin]
for r in rows:
    assert isinstance(r["window_start"], int) and r["window_end"] - r["window_start"] == 3600000, r
    assert r["window_start"] % 3600000 == 0 and before - 3600000 < r["window_start"] <= after, r
print(sorted((r["d"], r["count"]) for r in rows))
' "$before" "$after" <<< "$output"
	assert_output "[('a', 2), ('b', 1)]"
}

# ---- groups ----

@test "es-window -g: a missing field and null are one group, written as null" {
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g device -a 'count,sum(value)' "$WF/groups.ndjson"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":10000,"device":"a","count":3,"sum_value":9}' \
		'{"window_start":0,"window_end":10000,"device":null,"count":2,"sum_value":6}')"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g device -a 'count' -o csv "$WF/groups.ndjson"
	assert_output "$(printf '%s\n' 'window_start,window_end,device,count' '0,10000,a,3' '0,10000,,2')"
}

@test "es-window -g device,sensor: two fields, in the order given" {
	run --separate-stderr es-window --tumbling 10s --time-unit ms --group-by device,sensor --agg 'count,sum(value)' "$WF/groups.ndjson"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"window_start":0,"window_end":10000,"device":"a","sensor":"t","count":2,"sum_value":6}
{"window_start":0,"window_end":10000,"device":null,"sensor":"t","count":2,"sum_value":6}
{"window_start":0,"window_end":10000,"device":"a","sensor":"h","count":1,"sum_value":3}
EOF
)"
}

@test "es-window -g meta.site: a nested path, named by its text" {
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g meta.site -a 'count,sum(value)' "$WF/groups.ndjson"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":10000,"meta.site":"p1","count":3,"sum_value":9}' \
		'{"window_start":0,"window_end":10000,"meta.site":"p2","count":1,"sum_value":2}' \
		'{"window_start":0,"window_end":10000,"meta.site":null,"count":1,"sum_value":4}')"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g meta.site -o csv "$WF/groups.ndjson"
	assert_line --index 0 'window_start,window_end,meta.site,count'
}

@test "es-window -g: numbers group by value (1.50 is 1.5), strings apart from numbers, NDJSON and CSV alike" {
	printf '%s\n' '{"ts":1,"d":1.50}' '{"ts":2,"d":1.5}' '{"ts":3,"d":"1.5"}' '{"ts":4,"d":"a"}' > "$T/a.ndjson"
	printf 'ts,d\n5,a\n6,1.5\n' > "$T/b.csv"
	run --separate-stderr es-window --tumbling 1m -g d "$T/a.ndjson" "$T/b.csv"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":60,"d":1.5,"count":3}' \
		'{"window_start":0,"window_end":60,"d":"1.5","count":1}' \
		'{"window_start":0,"window_end":60,"d":"a","count":2}')"
}

# ---- formats ----

@test "es-window: CSV in, CSV out: a header of window_start, window_end, groups, aggregates; cells quoted as needed" {
	printf 'ts,device,value\n1000,"x, y",1\n2000,plain,2\n3000,"x, y",3\n' > "$T/in.csv"
	run_out es-window --tumbling 10s --time-unit ms -g device -a 'count,mean(value),first(device) as "first dev"' "$T/in.csv"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '%s\n' 'window_start,window_end,device,count,mean_value,first dev' \
		'0,10000,"x, y",2,2,"x, y"' '0,10000,plain,1,2,plain' | assert_file_is "$T/out"
}

@test "es-window -o csv on NDJSON input; -o ndjson on CSV input" {
	run_out es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' -o csv "$WF/readings.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' 'window_start,window_end,device,count,sum_value' '0,5000,a,3,9' '0,5000,b,1,10' \
		'5000,10000,b,1,20' '10000,15000,a,1,7' '10000,15000,b,1,30' | assert_file_is "$T/out"
	es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' -o csv "$WF/readings.ndjson" > "$T/w.csv"
	es-cat -o csv "$WF/readings.ndjson" > "$T/in.csv"
	run_out es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' --input-format csv --output-format ndjson "$T/in.csv"
	[ "$status" -eq 0 ]
	es-window --tumbling 5s --time-unit ms -g device -a 'count,sum(value)' "$WF/readings.ndjson" | assert_file_is "$T/out"
}

@test "es-window: empty input: nothing written, exit 0" {
	run_out es-window --tumbling 5s --stats < /dev/null
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" < /dev/null
	assert_equal "$stderr" '{"program":"es-window","in":0,"out":0,"bad":0,"late":0,"dropped":0,"groups":0,"evicted":0,"state_bytes":0}'
}

@test "es-window: empty input with every window kind: nothing written, exit 0" {
	local k
	for k in "--tumbling 1s" "--hopping 2s --every 1s" "--sliding 1s" "--session 1s" "--count 2"; do
		run --separate-stderr es-window $k -a 'count,sum(v)' < /dev/null
		assert_success
		assert_output ''
		assert_stderr ''
	done
}

@test "es-window --count 1 and --sliding: nothing left open at the end of the input" {
	printf '{"ts":1000,"v":1}\n{"ts":2000,"v":2}\n' > "$T/in"
	run --separate-stderr es-window --count 1 --time-unit ms -a 'count,sum(v)' "$T/in"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' \
		'{"window_start":1000,"window_end":1000,"count":1,"sum_v":1}' \
		'{"window_start":2000,"window_end":2000,"count":1,"sum_v":2}')"
	run --separate-stderr es-window --sliding 1s --time-unit ms -a 'rate,count,sum(v)' "$T/in"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":1000,"rate":1,"count":1,"sum_v":1}' \
		'{"window_start":1000,"window_end":2000,"rate":1,"count":1,"sum_v":2}')"
}

@test "es-window: an input that cannot be opened: exit 1, the other inputs still read" {
	run --separate-stderr es-window --tumbling 5s --time-unit ms "$T/nope" "$WF/late.ndjson"
	[ "$status" -eq 1 ]
	assert_stderr "$(printf '%s\n' \
		"es-window: cannot open $T/nope: No such file or directory" \
		"es-window: $WF/late.ndjson:3: event time 1970-01-01T00:00:04Z is behind the watermark 1970-01-01T00:00:06Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 4 late events dropped (behind the watermark by up to 7s1ms; --lateness, --late FILE)')"
	assert_equal "${#lines[@]}" 4
}

@test "es-window --count 1 big | head -1: exit 0, nothing on stderr" {
	"$GEN" 20000 > "$T/big"
	run bash -c 'es-window --count 1 -g device "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"window_start":1798761600000,"window_end":1798761600000,"device":"gw-000","count":1}'
}

# ---- bad input ----

@test "es-window: bad input (missing or invalid time, a non-number for mean) is reported, dead-lettered, counted; the rest goes on" {
	run --separate-stderr es-window --tumbling 5s --time-unit ms -a 'count,mean(value)' --stats \
		--dead-letter "$T/dead" "$WF/bad.ndjson"
	assert_success
	# null and missing values are fine (skipped by mean, counted by count)
	assert_output '{"window_start":0,"window_end":5000,"count":4,"mean_value":2.5}'
	local f="$WF/bad.ndjson"
	assert_stderr "$(cat <<EOF
es-window: $f:2: missing time field (--time-field ts)
es-window: $f:3: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)
es-window: $f:4: field 'value' is a string, a number is needed for mean_value
es-window: $f:7: field 'value' is a boolean, a number is needed for mean_value
es-window: $f:8: field 'value' is an object or array, a number is needed for mean_value
es-window: $f:9: time field is not a number or an RFC 3339 string (--time-field ts)
es-window: $f:10: not a JSON object
{"program":"es-window","in":11,"out":1,"bad":7,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}
EOF
)"
	printf '%s\n' '{"value":2}' '{"ts":"yesterday","value":3}' '{"ts":2000,"value":"n/a"}' \
		'{"ts":3000,"value":true}' '{"ts":3100,"value":[1]}' '{"ts":true,"value":1}' 'not json' |
		assert_file_is "$T/dead"
}

@test "es-window: a record with a bad value is skipped whole (no aggregate sees it), and only numeric aggregates need a number" {
	printf '%s\n' '{"ts":1,"v":1}' '{"ts":2,"v":"x"}' > "$T/in"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'count,last(v),sum(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"count":1,"last_v":1,"sum_v":1}'
	assert_stderr "es-window: $T/in:2: field 'v' is a string, a number is needed for sum_v"
	run --separate-stderr es-window --tumbling 1m --time-unit s -a 'count,first(v),last(v),distinct(v)' "$T/in"
	assert_success
	assert_output '{"window_start":0,"window_end":60,"count":2,"first_v":1,"last_v":"x","distinct_v":2}'
	assert_stderr ""
}

@test "es-window: a CSV cell that is not a number for mean is bad; an empty cell is null" {
	printf 'ts,value\n1000,1\n2000,n/a\n3000,\n4000,3\n' > "$T/in.csv"
	run --separate-stderr es-window --tumbling 5s --time-unit ms -a 'count,mean(value)' --dead-letter "$T/dead.csv" "$T/in.csv"
	assert_success
	assert_output "$(printf 'window_start,window_end,count,mean_value\n0,5000,3,2')"
	assert_stderr "es-window: $T/in.csv:3: field 'value' is a string, a number is needed for mean_value"
	printf 'ts,value\n2000,n/a\n' | assert_file_is "$T/dead.csv"
}

@test "es-window: CSV in, NDJSON or line protocol out: a record whose group, first or last cell is not UTF-8 is bad input, counted and dead-lettered; CSV out keeps the bytes" {
	printf 'ts,d,v,n\n1000,a,1,1\n2000,\xb1x,2,2\n3000,a,\xff,3\n4000,a,4,\xfe\n5000,a,5,5\n' > "$T/in.csv"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a 'count,first(v),last(v),sum(n)' \
		-o ndjson --stats --dead-letter "$T/dead.csv" "$T/in.csv"
	assert_success
	# the third cell of line 4 is no number: bad for sum_n, as ever
	assert_output '{"window_start":0,"window_end":10000,"d":"a","count":2,"first_v":1,"last_v":5,"sum_n":6}'
	assert_stderr "es-window: $T/in.csv:3: invalid UTF-8 in CSV field 'd'
es-window: $T/in.csv:4: invalid UTF-8 in CSV field 'v'
es-window: $T/in.csv:5: field 'n' is a string, a number is needed for sum_n
{\"program\":\"es-window\",\"in\":5,\"out\":1,\"bad\":3,\"late\":0,\"dropped\":0,\"groups\":1,\"evicted\":0,\"state_bytes\":6}"
	printf 'ts,d,v,n\n2000,\xb1x,2,2\n3000,a,\xff,3\n4000,a,4,\xfe\n' | assert_file_is "$T/dead.csv"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a 'count,last(v)' \
		-o influx --measurement m --tags d --timestamp-field window_start "$T/in.csv"
	assert_success
	assert_output 'm,d=a window_end=10000i,count=3i,last_v=5i 0'
	assert_stderr "es-window: $T/in.csv:3: invalid UTF-8 in CSV field 'd'
es-window: $T/in.csv:4: invalid UTF-8 in CSV field 'v'"
	# no -o, an NDJSON file first: the windows are NDJSON, so the CSV file's cells are checked
	printf '{"ts":500,"d":"a","v":0}\n' > "$T/first.ndjson"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a 'count,last(v)' \
		"$T/first.ndjson" "$T/in.csv"
	assert_success
	assert_output '{"window_start":0,"window_end":10000,"d":"a","count":4,"last_v":5}'
	assert_stderr "es-window: $T/in.csv:3: invalid UTF-8 in CSV field 'd'
es-window: $T/in.csv:4: invalid UTF-8 in CSV field 'v'"
	# CSV out: bytes in, the same bytes out
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a 'count,last(v)' "$T/in.csv"
	assert_success
	assert_output "$(printf 'window_start,window_end,d,count,last_v\n0,10000,a,4,5\n0,10000,\xb1x,1,2')"
	assert_stderr ""
}

@test "es-window --strict: the first bad line is fatal, exit 3" {
	run --separate-stderr es-window --tumbling 5s --time-unit ms -a 'count,mean(value)' --strict --stats "$WF/bad.ndjson"
	[ "$status" -eq 3 ]
	assert_stderr "$(printf '%s\n' "es-window: $WF/bad.ndjson:2: missing time field (--time-field ts)" \
		'{"program":"es-window","in":2,"out":0,"bad":1,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

# ---- state limits ----

@test "es-window --max-groups 2: the least recently seen group's windows go out early; one warning; evicted in --stats" {
	printf '%s\n' '{"ts":1000,"d":"a","v":1}' '{"ts":1100,"d":"b","v":2}' '{"ts":1200,"d":"a","v":3}' \
		'{"ts":1300,"d":"c","v":4}' '{"ts":1400,"d":"b","v":5}' '{"ts":1500,"d":"d","v":6}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-groups 2 -g d -a 'count,sum(v)' --stats "$T/in"
	assert_success
	# c evicts b (a was seen later), b evicts a, d evicts c; b and d at the end.
	assert_output "$(cat <<'EOF'
{"window_start":0,"window_end":10000,"d":"b","count":1,"sum_v":2}
{"window_start":0,"window_end":10000,"d":"a","count":2,"sum_v":4}
{"window_start":0,"window_end":10000,"d":"c","count":1,"sum_v":4}
{"window_start":0,"window_end":10000,"d":"b","count":1,"sum_v":5}
{"window_start":0,"window_end":10000,"d":"d","count":1,"sum_v":6}
EOF
)"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-groups 2 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":6,"out":5,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":3,"state_bytes":12}')"
}

@test "es-window -k/--key and --max-keys: the same output as their aliases -g/--group-by and --max-groups" {
	printf '%s\n' '{"ts":1000,"d":"a","s":1,"v":1}' '{"ts":1100,"d":"b","s":1,"v":2}' \
		'{"ts":1200,"d":"a","s":2,"v":3}' '{"ts":1300,"d":"c","s":1,"v":4}' \
		'{"ts":1400,"d":"b","s":1,"v":5}' '{"ts":6500,"d":"a","s":1,"v":6}' > "$T/in"
	local expected
	# as -g gives it: (a,1) goes at (a,2), (b,1) at (c,1), (a,2) at (b,1), (c,1) at (a,1)
	expected="$(cat <<'EOF'
{"window_start":0,"window_end":5000,"d":"a","s":1,"count":1,"sum_v":1}
{"window_start":0,"window_end":5000,"d":"b","s":1,"count":1,"sum_v":2}
{"window_start":0,"window_end":5000,"d":"a","s":2,"count":1,"sum_v":3}
{"window_start":0,"window_end":5000,"d":"c","s":1,"count":1,"sum_v":4}
{"window_start":0,"window_end":5000,"d":"b","s":1,"count":1,"sum_v":5}
{"window_start":5000,"window_end":10000,"d":"a","s":1,"count":1,"sum_v":6}
EOF
)"
	local args
	for args in '-g d,s --max-groups 2' '-k d,s --max-keys 2' '--key d --key s --max-keys 2' \
		'--group-by d -k s --max-groups 2'; do
		run --separate-stderr es-window --tumbling 5s --time-unit ms $args -a 'count,sum(v)' "$T/in"
		assert_success
		assert_output "$expected"
		assert_stderr 'es-window: --max-groups 2 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)'
	done
	# a usage error names the option as given
	run --separate-stderr es-window --tumbling 5s -k 'a,,b' < /dev/null
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "es-window: invalid --key 'a,,b' at column 3: expected a field name or a quoted key"
	run --separate-stderr es-window --tumbling 5s --max-keys 0 < /dev/null
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "es-window: invalid argument '0' for --max-keys: expected a count > 0"
}

@test "es-window --max-groups 1 with sessions and hopping windows: every open window of the group goes out" {
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":1500,"d":"a"}' '{"ts":2000,"d":"b"}' > "$T/in"
	run --separate-stderr es-window --session 5s --time-unit ms --max-groups 1 -g d --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":1000,"window_end":6500,"d":"a","count":2}' \
		'{"window_start":2000,"window_end":7000,"d":"b","count":1}')"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-groups 1 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":3,"out":2,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":1,"state_bytes":6}')"
	run --separate-stderr es-window --hopping 10s --every 5s --time-unit ms --max-groups 1 -g d "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":-5000,"window_end":5000,"d":"a","count":2}' \
		'{"window_start":0,"window_end":10000,"d":"a","count":2}' \
		'{"window_start":-5000,"window_end":5000,"d":"b","count":1}' \
		'{"window_start":0,"window_end":10000,"d":"b","count":1}')"
}

@test "es-window --stats: groups is the peak of live groups; groups whose windows closed are freed" {
	# 11 groups in the first window, then only x in each later one
	{ for d in 0 1 2 3 4 5 6 7 8 9; do printf '{"ts":%d,"d":%d}\n' "$d" "$d"; done
	  for t in 9 10000 20000 30000 40000 50000; do printf '{"ts":%d,"d":"x"}\n' "$t"; done; } > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --group-by d --stats "$T/in"
	assert_success
	assert_equal "${#lines[@]}" 16
	assert_stderr '{"program":"es-window","in":16,"out":16,"bad":0,"late":0,"dropped":0,"groups":11,"evicted":0,"state_bytes":66}'
}

@test "es-window --max-groups: the windows an event's watermark closes free their groups before it needs a slot" {
	# c at 11000 closes [0, 10000) of a and b: nothing is evicted early.
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":2000,"d":"b"}' '{"ts":11000,"d":"c"}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-groups 2 -g d --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":10000,"d":"a","count":1}' \
		'{"window_start":0,"window_end":10000,"d":"b","count":1}' \
		'{"window_start":10000,"window_end":20000,"d":"c","count":1}')"
	assert_stderr '{"program":"es-window","in":3,"out":3,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":0,"state_bytes":12}'
}

@test "es-window --max-state: group keys count their bytes; at the limit the least recently seen group's windows go out early, as at --max-groups" {
	local a b c d
	# keys of 1000 bytes: 1005 stored (a type byte, a 4-byte length), two fit in 2k
	a=$(printf 'a%.0s' $(seq 1000)) b=$(printf 'b%.0s' $(seq 1000))
	c=$(printf 'c%.0s' $(seq 1000)) d=$(printf 'd%.0s' $(seq 1000))
	printf '{"ts":%d,"d":"%s","v":%d}\n' 1000 "$a" 1 1100 "$b" 2 1200 "$a" 3 1300 "$c" 4 \
		1400 "$b" 5 1500 "$d" 6 > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-state 2k -g d -a 'count,sum(v)' --stats "$T/in"
	assert_success
	# as at --max-groups 2: c evicts b (a was seen later), b evicts a, d evicts c
	assert_output "$(printf '{"window_start":0,"window_end":10000,"d":"%s","count":%d,"sum_v":%d}\n' \
		"$b" 1 2 "$a" 2 4 "$c" 1 4 "$b" 1 5 "$d" 1 6)"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-state 2k reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":6,"out":5,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":3,"state_bytes":2010}')"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-groups 2 -g d -a 'count,sum(v)' "$T/in"
	assert_output "$(printf '{"window_start":0,"window_end":10000,"d":"%s","count":%d,"sum_v":%d}\n' \
		"$b" 1 2 "$a" 2 4 "$c" 1 4 "$b" 1 5 "$d" 1 6)"
}

@test "es-window --max-state: the aggregates' heap counts (last of long strings, distinct); the event's own group stays" {
	local x y
	x=$(printf 'x%.0s' $(seq 100)) y=$(printf 'y%.0s' $(seq 100))
	# a 100-byte last(s) keeps 128 bytes: a holds 6 + 128, b as much; at b
	# the total, 268, passes 200 and a (not b, the event's) goes; a short
	# string is kept inline, on no heap
	printf '{"ts":%d,"d":"%s","s":"%s"}\n' 1000 a "$x" 1100 b "$y" 1200 a z > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-state 200 -g d -a 'count,last(s)' --stats "$T/in"
	assert_success
	assert_output "$(printf '{"window_start":0,"window_end":10000,"d":"%s","count":1,"last_s":"%s"}\n' a "$x" b "$y" a z)"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-state 200 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":3,"out":3,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":1,"state_bytes":268}')"
	# distinct: its exact set takes 512 bytes from the first value (a
	# table of 16 slots and a 256-byte arena); with 1k, one group's window
	# and another's key fit, two windows do not
	printf '%s\n' '{"ts":1000,"d":"a","v":1}' '{"ts":1100,"d":"a","v":2}' '{"ts":1200,"d":"b","v":1}' \
		'{"ts":1300,"d":"a","v":3}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-state 1k -g d -a 'count,distinct(v)' --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":0,"window_end":10000,"d":"a","count":2,"distinct_v":2}' \
		'{"window_start":0,"window_end":10000,"d":"b","count":1,"distinct_v":1}' \
		'{"window_start":0,"window_end":10000,"d":"a","count":1,"distinct_v":1}')"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-state 1k reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":4,"out":3,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":2,"state_bytes":1036}')"
	# without the limit: nothing evicted, the same peak
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a 'count,distinct(v)' --stats "$T/in"
	assert_success
	assert_stderr '{"program":"es-window","in":4,"out":2,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":0,"state_bytes":1036}'
}

@test "es-window --max-state --sliding: buffered events count (32 bytes a value); an evicted group's later windows start afresh" {
	# a holds 6 + 2 x 32 bytes, b's first event makes 108: a goes (its
	# windows were written at its events; its buffered events are
	# forgotten); a again makes 76, b's second 108: a goes again (a value
	# counts 32 bytes on 32-bit ARM too)
	local max=100 peak=108
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":2000,"d":"a"}' '{"ts":3000,"d":"b"}' '{"ts":4000,"d":"a"}' \
		'{"ts":5000,"d":"b"}' > "$T/in"
	run --separate-stderr es-window --sliding 10s --time-unit ms --max-state "$max" -g d --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":-9000,"window_end":1000,"d":"a","count":1}' \
		'{"window_start":-8000,"window_end":2000,"d":"a","count":2}' \
		'{"window_start":-7000,"window_end":3000,"d":"b","count":1}' \
		'{"window_start":-6000,"window_end":4000,"d":"a","count":1}' \
		'{"window_start":-5000,"window_end":5000,"d":"b","count":2}')"
	assert_stderr "$(printf '%s\n' \
		"es-window: --max-state $max reached: emitting the windows of the least recently seen group early (counted as \"evicted\" in --stats)" \
		'{"program":"es-window","in":5,"out":5,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":2,"state_bytes":'"$peak"'}')"
}

@test "es-window --max-state: a group larger than SIZE alone is still taken, with all its events" {
	local big
	big=$(printf 'k%.0s' $(seq 5000))
	printf '{"ts":%d,"d":"%s"}\n' 1000 small 2000 "$big" 3000 "$big" 4000 small > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-state 1k -g d --stats "$T/in"
	assert_success
	# the big key (5005 bytes) pushes small out first, then stays alone
	assert_output "$(printf '{"window_start":0,"window_end":10000,"d":"%s","count":%d}\n' small 1 "$big" 2 small 1)"
	assert_stderr "$(printf '%s\n' \
		'es-window: --max-state 1k reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":4,"out":3,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":2,"state_bytes":5005}')"
	# alone from the start: nothing to evict, nothing said
	run --separate-stderr es-window --tumbling 10s --time-unit ms --max-state 1 -g d --stats <<< "{\"ts\":1000,\"d\":\"$big\"}"
	assert_success
	assert_output "{\"window_start\":0,\"window_end\":10000,\"d\":\"$big\",\"count\":1}"
	assert_stderr '{"program":"es-window","in":1,"out":1,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":5005}'
}

# ---- end of input, live input, signals ----

@test "es-window: at end of input every open window of every kind is emitted" {
	printf '{"ts":1000,"d":"a"}\n{"ts":1200,"d":"b"}\n' > "$T/in"
	local k
	for k in "--tumbling 1h" "--hopping 1h --every 30m" "--session 1h" "--count 100"; do
		run --separate-stderr es-window $k --time-unit ms -g d --stats "$T/in"
		assert_success
		assert_line --regexp '"d":"a","count":1\}$'
		assert_line --regexp '"d":"b","count":1\}$'
	done
}

@test "es-window: a window comes out from a live FIFO as soon as the watermark passes its end" {
	skip_if_slow
	start_bg es-window --tumbling 10s --time-unit ms -g d
	open_writer
	printf '{"ts":1000,"d":"a"}\n{"ts":9000,"d":"b"}\n' >&"$W"
	sleep 0.3
	assert_file_is "$T/out" < /dev/null
	printf '{"ts":10000,"d":"a"}\n' >&"$W"
	printf '%s\n' '{"window_start":0,"window_end":10000,"d":"a","count":1}' \
		'{"window_start":0,"window_end":10000,"d":"b","count":1}' > "$T/exp"
	await_exp
	kill -0 "$PID" || fail "es-window ended before its input did"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '%s\n' '{"window_start":10000,"window_end":20000,"d":"a","count":1}' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" < /dev/null
}

@test "es-window: the output does not depend on how fast events arrive (one block, or line by line with pauses)" {
	skip_if_slow
	"$GEN" 40 --devices 3 --rate 4 --disorder 400 --seed 3 > "$T/in"
	local k line
	for k in "--tumbling 2s --lateness 300ms" "--hopping 2s --every 1s --lateness 300ms" \
		 "--session 600ms --lateness 300ms" "--sliding 1s --lateness 300ms" "--count 3 --every 2"; do
		es-window $k -g device -a 'count,sum(value),first(value)' --stats < "$T/in" > "$T/block" 2> "$T/block.err"
		[ -s "$T/block" ]
		start_bg es-window $k -g device -a 'count,sum(value),first(value)' --stats
		open_writer
		while IFS= read -r line; do
			printf '%s\n' "$line" >&"$W"
			sleep 0.01
		done < "$T/in"
		close_writer
		await_exit "$PID"
		[ "$st" -eq 0 ]
		assert_file_is "$T/out" < "$T/block"
		assert_file_is "$T/err" < "$T/block.err"
	done
}

@test "es-window --idle: on a live FIFO whose writer stays open, a window closes after the silence the rule needs" {
	skip_if_slow
	start_bg es-window --tumbling 2s --idle 500ms --time-unit ms
	open_writer
	local t0
	t0=$EPOCHREALTIME
	printf '{"ts":500}\n' >&"$W"
	# [0, 2000) closes when max_t + silence reaches 2000: after 1.5 s.
	sleep 1
	[ -s "$T/out" ] && fail "window written after $(since "$t0") s, before the idle rule closes it (1.5 s)"
	printf '{"window_start":0,"window_end":2000,"count":1}\n' > "$T/exp"
	await_exp 1.5
	kill -0 "$PID" || fail "es-window ended before its input did"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" < /dev/null
}

@test "es-window --idle: a session closes on a quiet input; a later event behind the wall-clock watermark is late" {
	skip_if_slow
	start_bg es-window --session 1s --idle 300ms --time-unit ms -g d --stats --late "$T/late"
	open_writer
	printf '{"ts":5000,"d":"a"}\n{"ts":5200,"d":"a"}\n' >&"$W"
	# the session [5000, 6200) closes after 1 s of silence
	printf '{"window_start":5000,"window_end":6200,"d":"a","count":2}\n' > "$T/exp"
	await_exp 2
	# the watermark is now at least 6200: a session of 5100 would end at 6100
	printf '{"ts":5100,"d":"a"}\n{"ts":9000,"d":"a"}\n' >&"$W"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":9000,"window_end":10000,"d":"a","count":1}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/late" <<< '{"ts":5100,"d":"a"}'
	# the watermark followed the wall clock: its value varies
	sed -E 's/watermark [^ ]+Z:/watermark W:/; s/up to [^;]+;/up to D;/' "$T/err" > "$T/err.masked"
	assert_file_is "$T/err.masked" <<EOF
es-window: stdin:3: event time 1970-01-01T00:00:05.100Z is behind the watermark W: written to the --late file (further late events are counted; --lateness to wait longer)
es-window: 1 late event written to $T/late (behind the watermark by up to D; --lateness)
{"program":"es-window","in":4,"out":2,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":6}
EOF
}

@test "es-window without --idle: a quiet input closes nothing" {
	skip_if_slow
	start_bg es-window --tumbling 100ms --time-unit ms
	open_writer
	printf '{"ts":0}\n' >&"$W"
	sleep 1
	assert_file_is "$T/out" < /dev/null
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< '{"window_start":0,"window_end":100,"count":1}'
}

@test "es-window --flush-on-exit: SIGTERM emits the open windows, exit 0" {
	skip_if_slow
	start_bg es-window --tumbling 10s --time-unit ms -g d --flush-on-exit --stats
	open_writer
	printf '{"ts":1000,"d":"x"}\n{"ts":2000,"d":"y"}\n{"ts":12000,"d":"x"}\n' >&"$W"
	printf '%s\n' '{"window_start":0,"window_end":10000,"d":"x","count":1}' \
		'{"window_start":0,"window_end":10000,"d":"y","count":1}' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '%s\n' '{"window_start":10000,"window_end":20000,"d":"x","count":1}' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<< '{"program":"es-window","in":3,"out":3,"bad":0,"late":0,"dropped":0,"groups":2,"evicted":0,"state_bytes":12}'
}

@test "es-window --flush-on-exit: SIGINT too, for sessions and count windows" {
	skip_if_slow
	local k
	for k in "--session 1m" "--count 5"; do
		start_bg es-window $k --time-unit ms --flush-on-exit
		open_writer
		printf '{"ts":1000}\n{"ts":2000}\n' >&"$W"
		sleep 0.3
		kill -INT "$PID"
		await_exit "$PID"
		[ "$st" -eq 0 ]
		close_writer
		case $k in
		--session*) assert_file_is "$T/out" <<< '{"window_start":1000,"window_end":62000,"count":2}' ;;
		--count*) assert_file_is "$T/out" <<< '{"window_start":1000,"window_end":2000,"count":2}' ;;
		esac
	done
}

@test "es-window without --flush-on-exit: SIGTERM drops the open windows, exit 0" {
	skip_if_slow
	start_bg es-window --tumbling 10s --time-unit ms --stats
	open_writer
	printf '{"ts":1000}\n{"ts":12000}\n' >&"$W"
	printf '{"window_start":0,"window_end":10000,"count":1}\n' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	# the open window was dropped: said on stderr and in --stats
	assert_file_is "$T/err" <<'EOF'
es-window: stopped by a signal: 1 open window not written (1 event in it; --flush-on-exit writes them)
{"program":"es-window","in":2,"out":1,"bad":0,"late":0,"dropped":1,"groups":1,"evicted":0,"state_bytes":0}
EOF
}

@test "es-window: SIGHUP reopens the --late file (log rotation)" {
	skip_if_slow
	start_bg es-window --tumbling 1s --time-unit ms --late "$T/late"
	open_writer
	printf '{"ts":5000}\n{"ts":1}\n' >&"$W"
	local i
	for ((i = 0; i < 40; i++)); do
		[ -s "$T/late" ] && break
		sleep 0.05
	done
	assert_file_is "$T/late" <<< '{"ts":1}'
	mv "$T/late" "$T/late.1"
	kill -HUP "$PID"
	sleep 0.2
	printf '{"ts":2}\n' >&"$W"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/late.1" <<< '{"ts":1}'
	assert_file_is "$T/late" <<< '{"ts":2}'
	assert_file_is "$T/out" <<< '{"window_start":5000,"window_end":6000,"count":1}'
}

@test "es-window --time processing on a live FIFO: windows close on the wall clock" {
	skip_if_slow
	start_bg es-window --time processing --tumbling 200ms -g d
	open_writer
	printf '{"d":"a"}\n' >&"$W"
	local i
	for ((i = 0; i < 30; i++)); do
		[ -s "$T/out" ] && break
		sleep 0.05
	done
	run cat "$T/out"
	assert_output --regexp '^\{"window_start":[0-9]+,"window_end":[0-9]+,"d":"a","count":1\}$'
	[[ $output =~ \"window_start\":([0-9]+),\"window_end\":([0-9]+) ]]
	[ $((BASH_REMATCH[2] - BASH_REMATCH[1])) -eq 200 ]
	[ $((BASH_REMATCH[1] % 200)) -eq 0 ]
	kill -0 "$PID" || fail "es-window ended before its input did"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
}

# ---- --config reload (SIGHUP, --watch-config) and --check ----

# await_err: test_helper.bash.

# sync_input N: sends a line without a time, line N of the input, and waits
# for its report: every line before it has then been handled, so a reload
# that follows cannot come before them.
sync_input() {
	printf '{}\n' >&"$W"
	await_err "es-window: stdin:$1: missing time field (--time-field ts)"
}

# new_conf TEXT: replaces $T/w.conf whole (a rename, as an editor or
# deployment does), with a modification time later than the last one.
new_conf() {
	CONF_AGE=$(( ${CONF_AGE:-600} - 60 ))
	printf '%s\n' "$1" > "$T/w.conf.new"
	touch -d "$CONF_AGE seconds ago" "$T/w.conf.new"
	mv "$T/w.conf.new" "$T/w.conf"
}

@test "es-window --check: a good configuration exits 0 and reads nothing, not even the input; a bad one exits 2 with the message" {
	mkfifo "$T/fifo"
	printf 'tumbling = 10s\ngroup-by = d\nagg = count,p95(v)\nlate = %s\n' "$T/late" > "$T/w.conf"
	# nobody writes the FIFO: reading it would block until the timeout
	run --separate-stderr timeout 30 es-window --config "$T/w.conf" --check "$T/fifo"
	assert_success
	assert_output ''
	assert_stderr ''
	[ ! -e "$T/late" ] || fail "--check created the --late file"
	run --separate-stderr timeout 30 es-window --check --tumbling 10s -a 'p95(v),p95(v)' <> "$T/fifo"
	assert_failure 2
	assert_stderr "es-window: invalid --agg 'p95(v),p95(v)': duplicate aggregate name 'p95_v'
Try 'es-window --help' for more information."
	printf 'hopping = 10s\n' > "$T/w.conf"
	run --separate-stderr timeout 30 es-window --config "$T/w.conf" --check <> "$T/fifo"
	assert_failure 2
	assert_stderr "es-window: --hopping needs --every
Try 'es-window --help' for more information."
}

@test "es-window --config: SIGHUP with the same window definition keeps the open window (records before and after); new --lateness and --late apply" {
	skip_if_slow
	printf 'tumbling = 10s\ntime-unit = ms\nagg = count,sum(v)\nlate = %s\n' "$T/late1" > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --stats
	open_writer
	printf '%s\n' '{"ts":1000,"v":1}' '{"ts":10500,"v":3}' '{"ts":500,"v":0}' >&"$W"
	sync_input 4
	# the same definition written another way; lateness and late change
	new_conf "$(printf 'agg = count, sum(v)\ntime-unit = ms\ntumbling = 10000ms\nlateness = 5s\nlate = %s' "$T/late2")"
	kill -HUP "$PID"
	await_err "es-window: --config $T/w.conf reloaded: same window definition, open windows kept"
	# 9000 is late (its window was written); 12000 counts after 21000:
	# the watermark trails by 5 s now
	printf '%s\n' '{"ts":16000,"v":4}' '{"ts":9000,"v":5}' '{"ts":21000,"v":6}' \
		'{"ts":12000,"v":7}' >&"$W"
	printf '{"ts":26000,"v":8}\n' >&"$W"
	printf '%s\n' '{"window_start":0,"window_end":10000,"count":1,"sum_v":1}' \
		'{"window_start":10000,"window_end":20000,"count":3,"sum_v":14}' > "$T/exp"
	await_exp 3
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":20000,"window_end":30000,"count":2,"sum_v":14}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/late1" <<< '{"ts":500,"v":0}'
	assert_file_is "$T/late2" <<< '{"ts":9000,"v":5}'
	assert_file_is "$T/err" <<EOT
es-window: stdin:3: event time 1970-01-01T00:00:00.500Z is behind the watermark 1970-01-01T00:00:10.500Z: written to the --late file (further late events are counted; --lateness to wait longer)
es-window: stdin:4: missing time field (--time-field ts)
es-window: --config $T/w.conf reloaded: same window definition, open windows kept
es-window: 2 late events written to $T/late2 (behind the watermark by up to 10s; --lateness)
{"program":"es-window","in":9,"out":3,"bad":1,"late":2,"dropped":0,"groups":1,"evicted":0,"state_bytes":0,"reloads":1}
EOT
}

@test "es-window --config: a new window definition writes the open windows at once, then windows the rest anew; the watermark stays" {
	skip_if_slow
	printf 'tumbling = 10s\ngroup-by = d\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms --late "$T/late"
	open_writer
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":2000,"d":"b"}' '{"ts":11000,"d":"a"}' \
		'{"ts":12000,"d":"b"}' >&"$W"
	sync_input 5
	printf '%s\n' '{"window_start":0,"window_end":10000,"d":"a","count":1}' \
		'{"window_start":0,"window_end":10000,"d":"b","count":1}' > "$T/exp"
	await_exp
	new_conf "$(printf 'tumbling = 5s\nagg = count,max(v)')"
	kill -HUP "$PID"
	# the open windows go out as at the end of the input, before any record
	printf '%s\n' '{"window_start":10000,"window_end":20000,"d":"a","count":1}' \
		'{"window_start":10000,"window_end":20000,"d":"b","count":1}' >> "$T/exp"
	await_exp
	await_err "es-window: --config $T/w.conf reloaded: new window definition, 2 open windows written"
	# 7000 is behind the watermark (12000) and its new window [5000,
	# 10000) ends before it: late. The new windows hold only new records.
	printf '%s\n' '{"ts":7000,"v":1,"d":"a"}' '{"ts":12500,"v":2,"d":"a"}' \
		'{"ts":14000,"v":3,"d":"b"}' '{"ts":16000,"v":4,"d":"a"}' >&"$W"
	printf '{"window_start":10000,"window_end":15000,"count":2,"max_v":3}\n' >> "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":15000,"window_end":20000,"count":1,"max_v":4}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/late" <<< '{"ts":7000,"v":1,"d":"a"}'
	assert_file_is "$T/err" <<EOT
es-window: stdin:5: missing time field (--time-field ts)
es-window: --config $T/w.conf reloaded: new window definition, 2 open windows written
es-window: stdin:6: event time 1970-01-01T00:00:07Z is behind the watermark 1970-01-01T00:00:12Z: written to the --late file (further late events are counted; --lateness to wait longer)
es-window: 1 late event written to $T/late (behind the watermark by up to 5s; --lateness)
EOT
}

@test "es-window --config: from event time to processing time: the open windows go out and the watermark starts again" {
	skip_if_slow
	printf 'tumbling = 10s\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms
	open_writer
	# event times far in the future: a watermark kept from them would make
	# every wall-clock time late
	printf '%s\n' '{"ts":99999999000000}' '{"ts":99999999001000}' >&"$W"
	sync_input 3
	new_conf "$(printf 'tumbling = 100ms\ntime = processing')"
	kill -HUP "$PID"
	printf '{"window_start":99999999000000,"window_end":99999999010000,"count":2}\n' > "$T/exp"
	await_exp
	await_err "es-window: --config $T/w.conf reloaded: new window definition, 1 open window written; the watermark starts again"
	printf '{}\n{}\n' >&"$W"
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(wc -l < "$T/out")" -ge 2 ] && break
		sleep 0.05
	done
	run sed 1d "$T/out"
	# both records in windows of the wall clock (one, or two if they
	# straddle a boundary), none late
	assert_output --regexp '^\{"window_start":[0-9]{13},"window_end":[0-9]{13},"count":[12]\}'
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	run awk -F'"count":' '{ s += $2 + 0 } END { print s }' "$T/out"
	assert_output 4
}

@test "es-window --watch-config: a changed file is reloaded on a quiet input; a bad one keeps the running configuration" {
	skip_if_slow
	printf 'tumbling = 10s\n' > "$T/w.conf"
	touch -d '10 minutes ago' "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --watch-config --time-unit ms
	open_writer
	printf '{"ts":1000}\n' >&"$W"
	sync_input 2	# running: the file is not changed under its start
	new_conf 'hopping = 10s'
	await_err "es-window: cannot reload --config $T/w.conf: --hopping needs --every; keeping the running configuration"
	printf '{"ts":2000}\n' >&"$W"
	new_conf "$(printf 'tumbling = 10s\nlateness = 1s')"
	await_err "es-window: --config $T/w.conf reloaded: same window definition, open windows kept"
	# with the new lateness 10500 does not close [0, 10000); 11500 does
	printf '{"ts":10500}\n{"ts":11500}\n' >&"$W"
	printf '{"window_start":0,"window_end":10000,"count":2}\n' > "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":10000,"window_end":20000,"count":2}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOT
es-window: stdin:2: missing time field (--time-field ts)
es-window: cannot reload --config $T/w.conf: --hopping needs --every; keeping the running configuration
es-window: --config $T/w.conf reloaded: same window definition, open windows kept
EOT
}

@test "es-window --config: a lower --max-groups writes the least recently seen groups' windows at the reload; a new --idle closes windows on a quiet input" {
	skip_if_slow
	printf 'tumbling = 2s\ngroup-by = d\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms --stats
	open_writer
	printf '%s\n' '{"ts":500,"d":"a"}' '{"ts":600,"d":"b"}' '{"ts":700,"d":"c"}' '{"ts":800,"d":"a"}' >&"$W"
	sync_input 5
	new_conf "$(printf 'tumbling = 2s\ngroup-by = d\nmax-groups = 1\nidle = 300ms')"
	kill -HUP "$PID"
	printf '%s\n' '{"window_start":0,"window_end":2000,"d":"b","count":1}' \
		'{"window_start":0,"window_end":2000,"d":"c","count":1}' > "$T/exp"
	await_exp
	# [0, 2000) of a closes after 1.2 s of silence (2000 - 800 ms), without
	# any record
	printf '{"window_start":0,"window_end":2000,"d":"a","count":2}\n' >> "$T/exp"
	await_exp 3
	kill -0 "$PID" || fail "es-window ended before its input did"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOT
es-window: stdin:5: missing time field (--time-field ts)
es-window: --max-groups 1 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)
es-window: --config $T/w.conf reloaded: same window definition, open windows kept; --max-groups 1: the windows of 2 groups written early
{"program":"es-window","in":5,"out":3,"bad":1,"late":0,"dropped":0,"groups":3,"evicted":2,"state_bytes":18,"reloads":1}
EOT
}

@test "es-window --config: a lower --max-state writes the least recently seen groups' windows at the reload; a bad SIZE is refused by --check" {
	skip_if_slow
	run --separate-stderr timeout 30 es-window --check --tumbling 2s --max-state 512k < /dev/null
	assert_success
	assert_stderr ''
	run --separate-stderr timeout 30 es-window --check --tumbling 2s --max-state 12x < /dev/null
	assert_failure 2
	assert_stderr "es-window: invalid argument '12x' for --max-state: expected a size > 0 (bytes, or with K, M or G)
Try 'es-window --help' for more information."
	printf 'tumbling = 2s\ngroup-by = d\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms --stats
	open_writer
	# keys of 6 bytes each: 18 held
	printf '%s\n' '{"ts":500,"d":"a"}' '{"ts":600,"d":"b"}' '{"ts":700,"d":"c"}' '{"ts":800,"d":"a"}' >&"$W"
	sync_input 5
	new_conf "$(printf 'tumbling = 2s\ngroup-by = d\nmax-state = 12x')"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	# 12: b, the least recently seen, goes at once; then d's key needs
	# room: c goes
	new_conf "$(printf 'tumbling = 2s\ngroup-by = d\nmax-state = 12')"
	kill -HUP "$PID"
	printf '%s\n' '{"window_start":0,"window_end":2000,"d":"b","count":1}' > "$T/exp"
	await_exp 3
	printf '{"ts":900,"d":"d"}\n' >&"$W"
	printf '%s\n' '{"window_start":0,"window_end":2000,"d":"c","count":1}' >> "$T/exp"
	await_exp 3
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '%s\n' '{"window_start":0,"window_end":2000,"d":"a","count":2}' \
		'{"window_start":0,"window_end":2000,"d":"d","count":1}' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOT
es-window: stdin:5: missing time field (--time-field ts)
es-window: cannot reload --config $T/w.conf: invalid argument '12x' for --max-state: expected a size > 0 (bytes, or with K, M or G); keeping the running configuration
es-window: --max-state 12 reached: emitting the windows of the least recently seen group early (counted as "evicted" in --stats)
es-window: --config $T/w.conf reloaded: same window definition, open windows kept; --max-state 12: the windows of 1 group written early
{"program":"es-window","in":6,"out":4,"bad":1,"late":0,"dropped":0,"groups":3,"evicted":2,"state_bytes":18,"reloads":1}
EOT
}

@test "es-window --config: with CSV output a new definition with other fields starts a new header line; --flush-on-exit and --time-format apply" {
	skip_if_slow
	printf 'tumbling = 10s\nagg = count\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms -o csv
	open_writer
	printf '{"ts":1000,"v":1}\n{"ts":12000,"v":2}\n' >&"$W"
	printf 'window_start,window_end,count\n0,10000,1\n' > "$T/exp"
	await_exp
	new_conf "$(printf 'tumbling = 10s\nagg = count,sum(v)\nflush-on-exit\ntime-format = s')"
	kill -HUP "$PID"
	printf '10000,20000,1\n' >> "$T/exp"
	await_exp
	printf '{"ts":13000,"v":3}\n{"ts":21000,"v":4}\n' >&"$W"
	printf 'window_start,window_end,count,sum_v\n10,20,1,3\n' >> "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '20,30,1,4\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
}

@test "es-window --config: a new --late file that cannot be opened keeps the running configuration, open windows and all" {
	skip_if_slow
	printf 'tumbling = 10s\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms
	open_writer
	printf '{"ts":1000}\n' >&"$W"
	sync_input 2
	new_conf "$(printf 'tumbling = 1m\nlate = %s/no-such-dir/late' "$T")"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"ts":2000}\n' >&"$W"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< '{"window_start":0,"window_end":10000,"count":2}'
	assert_file_is "$T/err" <<EOT
es-window: stdin:2: missing time field (--time-field ts)
es-window: cannot reload --config $T/w.conf: cannot open late-events file $T/no-such-dir/late: No such file or directory; keeping the running configuration
EOT
}

@test "es-window -o influx: a --timestamp-field or --measurement '{F}' the windows do not have is a usage error at start, and a reload that would lose it is refused; a window that cannot be a line is counted as dropped" {
	run --separate-stderr es-window --tumbling 10s -g d -a count -o influx --measurement m --check
	assert_failure 2
	assert_stderr "es-window: -o influx: no field 'ts' is written (--timestamp-field; none: the server's clock); the windows have window_start, window_end, d, count
Try 'es-window --help' for more information."
	run --separate-stderr es-window --tumbling 10s -a count -o influx --measurement '{d}' --timestamp-field window_end --check
	assert_failure 2
	assert_stderr "es-window: -o influx: no field 'd' is written (--measurement); the windows have window_start, window_end, count
Try 'es-window --help' for more information."
	# a window the line protocol cannot carry (its measurement null): said, counted as dropped
	printf '%s\n' '{"ts":1000,"d":null}' '{"ts":2000,"d":"a"}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s --time-unit ms -g d -a count -o influx \
		--measurement '{d}' --timestamp-field window_start --stats "$T/in"
	assert_success
	assert_output 'a window_end=10000i,count=1i 0'
	assert_stderr "es-window: cannot write a window: no measurement: field 'd' is null (--measurement)
{\"program\":\"es-window\",\"in\":2,\"out\":1,\"bad\":0,\"late\":0,\"dropped\":1,\"groups\":2,\"evicted\":0,\"state_bytes\":11}"
	skip_if_slow
	printf 'tumbling = 10s\ngroup-by = d\n' > "$T/w.conf"
	start_bg es-window --config "$T/w.conf" --time-unit ms -o influx --measurement '{d}' \
		--timestamp-field window_start --precision ms
	open_writer
	printf '{"ts":1000,"d":"a"}\n' >&"$W"
	sync_input 2
	new_conf "$(printf 'tumbling = 10s\ngroup-by = e\n')"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"ts":2000,"d":"a"}\n' >&"$W"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< 'a window_end=10000i,count=2i 0'
	assert_file_is "$T/err" <<EOT
es-window: stdin:2: missing time field (--time-field ts)
es-window: cannot reload --config $T/w.conf: -o influx: no field 'd' is written (--measurement); the windows have window_start, window_end, e, count; keeping the running configuration
EOT
}

# ---- usage ----

@test "es-window: usage errors name the option and why, exit 2" {
	local -a cases=(
		'|a window is needed: --tumbling, --hopping, --sliding, --session or --count-window'
		'--tumbling 5s --session 2s|--session: only one window kind may be given'
		'--count 5 --sliding 1s|--sliding: only one window kind may be given'
		'--hopping 10s|--hopping needs --every'
		'--hopping 5s --every 10s|--every must not exceed the --hopping size'
		'--hopping 10s --every x|invalid duration '"'x'"' for --every: expected a number in duration'
		'--hopping 10s --every 0|invalid duration '"'0'"' for --every: must be above 0'
		'--count 3 --every x|invalid argument '"'x'"' for --every: expected a count > 0'
		'--tumbling 5s --every 2s|--every goes with --hopping or --count-window'
		'--session 5s --every 2s|--every goes with --hopping or --count-window'
		'--tumbling 5x|invalid duration '"'5x'"' for --tumbling: unknown unit in duration (use ms, s, m, h, d)'
		'--tumbling 10|invalid duration '"'10'"' for --tumbling: missing unit in duration'
		'--tumbling 0|invalid duration '"'0'"' for --tumbling: must be above 0'
		'--tumbling -1s|invalid duration '"'-1s'"' for --tumbling: negative duration'
		'--sliding 0s|invalid duration '"'0s'"' for --sliding: must be above 0'
		'--session 0|invalid duration '"'0'"' for --session: must be above 0'
		'--count 0|invalid argument '"'0'"' for --count: expected a count > 0'
		'--count x|invalid argument '"'x'"' for --count: expected a count > 0'
		'--count-window 0|invalid argument '"'0'"' for --count-window: expected a count > 0'
		'--tumbling 5s --max-session 1m|--max-session goes with --session'
		'--session 5s --offset 1s|--offset goes with --tumbling or --hopping'
		'--tumbling 5s --lateness -1s|invalid duration '"'-1s'"' for --lateness: negative duration'
		'--tumbling 5s --idle 0|invalid duration '"'0'"' for --idle: must be above 0'
		'--tumbling 5s --max-groups 0|invalid argument '"'0'"' for --max-groups: expected a count > 0'
		'--tumbling 5s --max-state 0|invalid argument '"'0'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--tumbling 5s --max-state 64X|invalid argument '"'64X'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--tumbling 5s --max-state -1M|invalid argument '"'-1M'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--tumbling 5s --max-state 1.5M|invalid argument '"'1.5M'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--tumbling 5s --max-state 99999999999G|invalid argument '"'99999999999G'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--tumbling 5s --time bogus|invalid argument '"'bogus'"' for --time: expected event or processing'
		'--tumbling 5s --time-unit h|invalid argument '"'h'"' for --time-unit: expected s, ms, us, ns or auto'
		'--tumbling 5s --time-format auto|invalid argument '"'auto'"' for --time-format: expected rfc3339, s, ms, us or ns'
		'--tumbling 5s --time-field a..b|invalid --time-field '"'a..b'"': expected a field name or a quoted key'
		'--tumbling 5s -g a,,b|invalid --group-by '"'a,,b'"' at column 3: expected a field name or a quoted key'
		'--tumbling 5s -g a,|invalid --group-by '"'a,'"' at column 2: expected '"','"''
		'--tumbling 5s -a bogus|invalid --agg '"'bogus'"': unknown aggregate '"'bogus'"''
		'--tumbling 5s -a mean|invalid --agg '"'mean'"': aggregate '"'mean'"' needs a field: mean(f)'
		'--tumbling 5s -a count(v)|invalid --agg '"'count(v)'"': aggregate '"'count'"' takes no field'
		'--tumbling 5s -a p100(v)|invalid --agg '"'p100(v)'"': invalid percentile '"'p100'"' (use p1 to p99.9...)'
		'--tumbling 5s -a count,count|invalid --agg '"'count,count'"': duplicate aggregate name '"'count'"''
		'--tumbling 5s -i xml|invalid argument '"'xml'"' for -i/--input-format: expected ndjson, json or csv'
	)
	assert_usage_errors es-window "${cases[@]}"
}

@test "es-window: an unknown option or a missing argument: getopt's message and the hint, exit 2" {
	run --separate-stderr es-window --tumbling 5s --bogus < /dev/null
	[ "$status" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "es-window: unrecognized option '--bogus'"
	assert_equal "${stderr_lines[1]}" "Try 'es-window --help' for more information."
	run --separate-stderr es-window --tumbling
	[ "$status" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "es-window: option '--tumbling' requires an argument"
}

@test "es-window --help: usage, every option, examples; exit 0" {
	run --separate-stderr es-window --help
	assert_success
	assert_stderr ""
	assert_line --index 0 'Usage: es-window WINDOW [OPTION]... [FILE]...'
	assert_line --regexp '^ +es-window --tumbling .+'
	assert_line --regexp '^ +-k, --key '
	assert_line '  -g, --group-by F1,F2     the same as -k/--key'
	assert_line '      --max-groups N       the same as --max-keys'
	assert_line --regexp '^ +-a, --agg '
	# the guess of --time-unit is stated
	assert_output --partial 'below 1e11 s, 1e14 ms,'
}

@test "es-window: every long option is in --help, in man/es-window.1 and in this file" {
	assert_long_options_documented es-window \
		tumbling hopping every sliding session max-session count offset key group-by agg \
		time-field time-unit time time-format lateness late idle flush-on-exit max-keys max-groups \
		max-state max-ahead \
		input-format output-format dead-letter strict stats config check watch-config help version
}

@test "es-window --version" {
	run --separate-stderr es-window --version
	assert_success
	assert_output 'es-window (edgestream) 0.1.0'
	assert_stderr ""
}

@test "man/es-window.1 is clean for groff -man -ww" {
	command -v groff > /dev/null || skip "groff not installed"
	run groff -man -Tutf8 -ww -z "$BATS_TEST_DIRNAME/../man/es-window.1"
	assert_success
	assert_output ''
}

# ---- differential ----

# Compares es-window's tumbling 10 s windows (NDJSON, file $1) with
# Miller's stats1 over a computed window column (file $2); numbers equal
# within 1e-9 relative (about 9 significant digits, without the rounding
# edge).
compare_with_mlr() {
	python3 - "$1" "$2" <<'PY'
import json, math, sys
class r(float):
    def __eq__(a, b): return b is not None and math.isclose(a, b, rel_tol=1e-9)
    def __ne__(a, b): return not a == b
    def __hash__(a): return 0
es, ml = {}, {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["window_end"] - o["window_start"] == 10000, o
    es[(o["device"], o["window_start"])] = tuple(r(o[k]) for k in ("count", "sum_value", "mean_value", "min_value", "max_value"))
for line in open(sys.argv[2]):
    o = json.loads(line)
    ml[(o["device"], int(o["win"]))] = tuple(r(o["value_" + k]) for k in ("count", "sum", "mean", "min", "max"))
diff = [k for k in set(es) | set(ml) if es.get(k) != ml.get(k)]
print("%d windows, %d differ %s" % (len(ml), len(diff), [(k, es.get(k), ml.get(k)) for k in sorted(diff)[:3]]))
PY
}

@test "differential: es-window --tumbling 10s vs mlr stats1 (count/sum/mean/min/max by device), 20000 records out of order" {
	command -v mlr > /dev/null || skip "mlr not installed"
	# disorder up to 700 ms each way: with --lateness 2s nothing is late
	"$GEN" 20000 --disorder 700 --seed 7 > "$T/in"
	run_out es-window --tumbling 10s --lateness 2s --stats -g device \
		-a 'count,sum(value),mean(value),min(value),max(value)' "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" '{"program":"es-window","in":20000,"out":376,"bad":0,"late":0,"dropped":0,"groups":100,"evicted":0,"state_bytes":1100}'
	mv "$T/out" "$T/es"
	mlr --ijsonl --ojsonl put '$win=int($ts/10000)*10000' then stats1 -a count,sum,mean,min,max -f value -g device,win "$T/in" > "$T/mlr"
	run compare_with_mlr "$T/es" "$T/mlr"
	assert_output '376 windows, 0 differ []'
}

@test "differential: the same with CSV input (and CSV output read back)" {
	command -v mlr > /dev/null || skip "mlr not installed"
	"$GEN" 20000 --format csv --seed 11 > "$T/in.csv"
	es-window --tumbling 10s -g device -a 'count,sum(value),mean(value),min(value),max(value)' "$T/in.csv" |
		es-cat -o ndjson > "$T/es"
	mlr --icsv --ojsonl put '$win=int($ts/10000)*10000' then stats1 -a count,sum,mean,min,max -f value -g device,win "$T/in.csv" > "$T/mlr"
	run compare_with_mlr "$T/es" "$T/mlr"
	assert_output '200 windows, 0 differ []'
}

@test "differential: stddev, var, median, p95, first, last, distinct, delta, rate vs Python on 20000 records" {
	"$GEN" 20000 --seed 5 > "$T/in"
	run_out es-window --tumbling 10s -g device,sensor \
		-a 'count,stddev(value),var(value),median(value),p95(value),first(seq),last(seq),distinct(site),delta(seq),rate' "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run python3 - "$T/in" "$T/out" <<'PY'
import json, math, statistics, sys
class r(float):
    # equal within 1e-9 relative: the sums and moments may differ in the
    # last bits from Python's exact ones
    def __new__(cls, x): return None if x is None else float.__new__(cls, x)
    def __eq__(a, b): return b is not None and math.isclose(a, b, rel_tol=1e-9)
    def __ne__(a, b): return not a == b
    def __hash__(a): return 0
groups = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    w = o["ts"] // 10000 * 10000
    groups.setdefault((w, o["device"], o["sensor"]), []).append(o)
exp = {}
for k, evs in groups.items():
    v = sorted(e["value"] for e in evs)
    n = len(v)
    rank = lambda p: max(1, math.ceil(p * n - p * n * 1e-12))
    by_t = sorted(evs, key=lambda e: e["ts"])	# stable: ties keep arrival order
    first = by_t[0]["seq"]
    last = max(by_t, key=lambda e: e["ts"])
    last = [e for e in by_t if e["ts"] == last["ts"]][-1]["seq"]
    exp[k] = (n, r(statistics.stdev(v)) if n > 1 else None, r(statistics.variance(v)) if n > 1 else None,
              r(v[rank(0.5) - 1]), r(v[rank(0.95) - 1]), first, last,
              len({e["site"] for e in evs}), last - first, r(n / 10))
got = {}
for line in open(sys.argv[2]):
    o = json.loads(line)
    got[(o["window_start"], o["device"], o["sensor"])] = (o["count"], r(o["stddev_value"]), r(o["var_value"]),
        r(o["median_value"]), r(o["p95_value"]), o["first_seq"], o["last_seq"], o["distinct_site"], o["delta_seq"], r(o["rate"]))
diff = [k for k in set(exp) | set(got) if exp.get(k) != got.get(k)]
print("%d windows, %d differ %s" % (len(exp), len(diff), [(k, got.get(k), exp.get(k)) for k in sorted(diff)[:2]]))
PY
	assert_output --regexp '^[0-9]+ windows, 0 differ \[\]$'
}

@test "es-window --sliding: at most 10000 buffered events per group, the oldest forgotten with a warning" {
	skip_if_slow
	# state_bytes: 10000 events of 32 bytes (on 32-bit ARM too)
	local peak=320000
	seq 1 10001 | awk '{printf "{\"ts\":%d,\"v\":1}\n", $1}' > "$T/in"
	run_out es-window --sliding 1h --time-unit ms --stats -a count "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$(tail -n 2 "$T/out")" "$(printf '%s\n' \
		'{"window_start":-3590000,"window_end":10000,"count":10000}' \
		'{"window_start":-3589999,"window_end":10001,"count":10000}')"
	assert_equal "$(wc -l < "$T/out")" 10001
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-window: a sliding window holds 10000 events of one group: forgetting the oldest (counted as "evicted" in --stats)' \
		'{"program":"es-window","in":10001,"out":10001,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":1,"state_bytes":'"$peak"'}')"
}

# ---- one bad clock must not silence the program (--max-ahead) ----

# A stream of 2027 readings, and the same with a reading dated 9999 and one
# dated 2100 added (at the start, in the middle).
far_future_inputs() {
	printf '%s\n' '{"ts":"2027-01-01T00:00:01Z","v":1}' '{"ts":"2027-01-01T00:00:04Z","v":2}' \
		'{"ts":"2027-01-01T00:00:06Z","v":3}' '{"ts":"2027-01-01T00:00:11Z","v":4}' \
		'{"ts":"2027-01-01T00:00:12Z","v":5}' > "$T/good"
	{ echo '{"ts":"9999-12-31T23:59:59Z","v":100}'; sed -n 1,2p "$T/good"
	  echo '{"ts":"2100-01-01T00:00:00Z","v":200}'; sed -n 3,5p "$T/good"; } > "$T/bad1"
	{ echo '{"ts":"2100-01-01T00:00:00Z","v":200}'; sed -n 1,3p "$T/good"
	  echo '{"ts":"9999-12-31T23:59:59Z","v":100}'; sed -n 4,5p "$T/good"; } > "$T/bad2"
}

@test "es-window: readings dated 9999 and 2100, first or in the middle, move no watermark: dead-lettered, the windows as without them" {
	far_future_inputs
	run --separate-stderr es-window --tumbling 5s -a 'count,sum(v)' "$T/good"
	assert_success
	assert_stderr ''
	printf '%s\n' "$output" > "$T/exp"
	assert_equal "$(cat "$T/exp")" "$(printf '%s\n' \
		'{"window_start":"2027-01-01T00:00:00Z","window_end":"2027-01-01T00:00:05Z","count":2,"sum_v":3}' \
		'{"window_start":"2027-01-01T00:00:05Z","window_end":"2027-01-01T00:00:10Z","count":1,"sum_v":3}' \
		'{"window_start":"2027-01-01T00:00:10Z","window_end":"2027-01-01T00:00:15Z","count":2,"sum_v":9}')"
	run --separate-stderr es-window --tumbling 5s -a 'count,sum(v)' --dead-letter "$T/dl1" --stats "$T/bad1"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/bad1:1: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:01Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-window: $T/bad1:4: time 2100-01-01T00:00:00Z is more than 1d ahead of the stream's time 2027-01-01T00:00:04Z, and the events after it did not confirm the jump (--max-ahead)" \
		'{"program":"es-window","in":7,"out":3,"bad":2,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
	printf '%s\n' '{"ts":"9999-12-31T23:59:59Z","v":100}' '{"ts":"2100-01-01T00:00:00Z","v":200}' | assert_file_is "$T/dl1"
	run --separate-stderr es-window --tumbling 5s -a 'count,sum(v)' --dead-letter "$T/dl2" "$T/bad2"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/bad2:1: time 2100-01-01T00:00:00Z is more than 1d ahead of the stream's time 2027-01-01T00:00:01Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-window: $T/bad2:5: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:06Z, and the events after it did not confirm the jump (--max-ahead)")"
	printf '%s\n' '{"ts":"2100-01-01T00:00:00Z","v":200}' '{"ts":"9999-12-31T23:59:59Z","v":100}' | assert_file_is "$T/dl2"
}

@test "es-window: a genuine jump of a week (3 events in a row) loses nothing; one the input ends on is bad" {
	printf '%s\n' '{"ts":"2027-01-01T00:00:01Z","v":1}' '{"ts":"2027-01-01T00:00:06Z","v":2}' \
		'{"ts":"2027-01-08T00:00:01Z","v":3}' '{"ts":"2027-01-08T00:00:02Z","v":4}' \
		'{"ts":"2027-01-08T00:00:03Z","v":5}' '{"ts":"2027-01-08T00:00:09Z","v":6}' \
		'{"ts":"2027-01-15T00:00:00Z","v":7}' > "$T/in"
	run --separate-stderr es-window --tumbling 5s -a 'count,sum(v)' --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"window_start":"2027-01-01T00:00:00Z","window_end":"2027-01-01T00:00:05Z","count":1,"sum_v":1}' \
		'{"window_start":"2027-01-01T00:00:05Z","window_end":"2027-01-01T00:00:10Z","count":1,"sum_v":2}' \
		'{"window_start":"2027-01-08T00:00:00Z","window_end":"2027-01-08T00:00:05Z","count":3,"sum_v":12}' \
		'{"window_start":"2027-01-08T00:00:05Z","window_end":"2027-01-08T00:00:10Z","count":1,"sum_v":6}')"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:7: time 2027-01-15T00:00:00Z is more than 1d ahead of the stream's time 2027-01-08T00:00:09Z, and the input ended before events confirmed the jump (--max-ahead)" \
		'{"program":"es-window","in":7,"out":4,"bad":1,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window: an event of the old range between the held ones contradicts the jump" {
	printf '%s\n' '{"ts":1000}' '{"ts":2000}' '{"ts":900000000}' '{"ts":900001000}' \
		'{"ts":3000}' '{"ts":6000}' > "$T/in"
	run --separate-stderr es-window --tumbling 5s --time-unit ms --max-ahead 1h "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"window_start":0,"window_end":5000,"count":3}' \
		'{"window_start":5000,"window_end":10000,"count":1}')"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:3: time 1970-01-11T10:00:00Z is more than 1h ahead of the stream's time 1970-01-01T00:00:02Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-window: $T/in:4: time 1970-01-11T10:00:01Z is more than 1h ahead of the stream's time 1970-01-01T00:00:02Z, and the events after it did not confirm the jump (--max-ahead)")"
}

@test "es-window --max-ahead 0: the rule is off, a far-future event moves the watermark" {
	printf '%s\n' '{"ts":1000}' '{"ts":253402300799000}' '{"ts":2000}' > "$T/in"
	run --separate-stderr es-window --tumbling 5s --time-unit ms --max-ahead 0 --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"window_start":0,"window_end":5000,"count":1}' \
		'{"window_start":253402300795000,"window_end":253402300800000,"count":1}')"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/in:3: event time 1970-01-01T00:00:02Z is behind the watermark 9999-12-31T23:59:59Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-window: 1 late event dropped (behind the watermark by up to 2932896d23h59m57s; --lateness, --late FILE)' \
		'{"program":"es-window","in":3,"out":2,"bad":0,"late":1,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
}

@test "es-window: a daily export (dates alone, 2 days apart) under the default --max-ahead is bad input with a hint, said once; --max-ahead 3d reads it" {
	printf 'ts,v\n2012-01-01,1\n2012-01-03,2\n2012-01-05,3\n2012-01-07,4\n' > "$T/daily.csv"
	run --separate-stderr es-window --tumbling 1d --agg count --stats "$T/daily.csv"
	assert_success
	assert_output "$(printf '%s\n' window_start,window_end,count \
		2012-01-01T00:00:00Z,2012-01-02T00:00:00Z,1)"
	assert_stderr "$(printf '%s\n' \
		"es-window: $T/daily.csv:4: time 2012-01-05T00:00:00Z is more than 1d ahead of the stream's time 2012-01-01T00:00:00Z, and the events after it did not confirm the jump (--max-ahead)" \
		'es-window: events here come more than 1d apart: for data of one event a day or slower (daily or monthly exports), give --max-ahead a duration above their spacing, or 0 to turn the rule off' \
		"es-window: $T/daily.csv:5: time 2012-01-07T00:00:00Z is more than 1d ahead of the stream's time 2012-01-01T00:00:00Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-window: $T/daily.csv:3: time 2012-01-03T00:00:00Z is more than 1d ahead of the stream's time 2012-01-01T00:00:00Z, and the input ended before events confirmed the jump (--max-ahead)" \
		'{"program":"es-window","in":4,"out":1,"bad":3,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}')"
	run --separate-stderr es-window --tumbling 1d --agg count --stats --max-ahead 3d "$T/daily.csv"
	assert_success
	assert_output "$(printf '%s\n' window_start,window_end,count \
		2012-01-01T00:00:00Z,2012-01-02T00:00:00Z,1 \
		2012-01-03T00:00:00Z,2012-01-04T00:00:00Z,1 \
		2012-01-05T00:00:00Z,2012-01-06T00:00:00Z,1 \
		2012-01-07T00:00:00Z,2012-01-08T00:00:00Z,1)"
	assert_stderr '{"program":"es-window","in":4,"out":4,"bad":0,"late":0,"dropped":0,"groups":1,"evicted":0,"state_bytes":0}'
}

@test "es-window: on a live pipe a held far-future event is decided after 2 s without confirmation" {
	skip_if_slow
	start_bg es-window --tumbling 1s --time-unit ms --dead-letter "$T/dl"
	open_writer
	printf '%s\n' '{"ts":100}' '{"ts":253402300799000}' >&"$W"
	await_err "es-window: stdin:2: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 1970-01-01T00:00:00.100Z, and no event confirmed the jump within 2s (--max-ahead)" 4
	printf '%s\n' '{"ts":1100}' >&"$W"
	printf '{"window_start":0,"window_end":1000,"count":1}\n' > "$T/exp"
	await_exp 2
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	printf '{"window_start":1000,"window_end":2000,"count":1}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/dl" <<< '{"ts":253402300799000}'
}

@test "es-window: gen-sensors output gives the same windows as before the --max-ahead rule" {
	GEN="$BATS_TEST_DIRNAME/../../shared/bench/gen-sensors"
	[ -x "$GEN" ] || skip "no $GEN"
	# md5 of the output of the build before --max-ahead (git a363b15)
	run bash -c "'$GEN' --seed 7 --disorder 30 20000 | es-window --tumbling 10s -g device,sensor -a 'count,mean(value),max(value)' 2>'$T/err' | md5sum"
	assert_output 'ce4b09438ebd7ef9a5261cde37f0470a  -'
	assert_file_is "$T/err" <<'EOF'
es-window: stdin:5: event time 2026-12-31T23:59:59.973Z is behind the watermark 2027-01-01T00:00:00.007Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)
es-window: 90 late events dropped (behind the watermark by up to 60ms; --lateness, --late FILE)
EOF
	run bash -c "'$GEN' --seed 7 --format csv 20000 | es-window --tumbling 1m -g device -a count | md5sum"
	assert_output '4543352ddb7412ef6dbb5160518fd0f6  -'
}

@test "es-window: SIGTERM without --flush-on-exit says how many open windows and events are not written" {
	skip_if_slow
	start_bg es-window --tumbling 10s --time-unit ms -g d
	open_writer
	printf '%s\n' '{"ts":1000,"d":"a"}' '{"ts":2000,"d":"a"}' '{"ts":3000,"d":"b"}' >&"$W"
	sleep 0.3
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < /dev/null
	assert_file_is "$T/err" <<< 'es-window: stopped by a signal: 2 open windows not written (3 events in them; --flush-on-exit writes them)'
}

@test "es-window: groups of keys of every length, prefixes of one another, strings and numbers, counted as awk counts them" {
	# the raw-key cache keeps keys of up to 48 bytes in words: these keys
	# run from 4 to 74 bytes, share prefixes ("x","yx" and "xy","x"), and
	# a number and a string of one text differ
	awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) {
		a = ""; b = ""; la = int(rand() * 40); lb = int(rand() * 30)
		if (rand() < 0.7) { la = la % 3; lb = lb % 3 }
		for (j = 0; j < la; j++) a = a (rand() < 0.5 ? "x" : "y")
		for (j = 0; j < lb; j++) b = b (rand() < 0.5 ? "x" : "y")
		b = rand() < 0.2 ? int(rand() * 3) : "\"" b "\""
		printf "{\"ts\":%d,\"a\":\"%s\",\"b\":%s}\n", i, a, b } }' > "$T/in"
	sed 's/.*"a":\(.*\),"b":\(.*\)}$/\1 \2/' "$T/in" | sort | uniq -c |
		awk '{ print $2, $3, $1 }' | sort > "$T/want"
	run --separate-stderr es-window --tumbling 1d --group-by a,b --agg count "$T/in"
	assert_success
	assert_stderr ''
	sed 's/.*"a":\(.*\),"b":\(.*\),"count":\([0-9]*\)}$/\1 \2 \3/' <<< "$output" |
		sort > "$T/got"
	[ "$(wc -l < "$T/want")" -gt 1000 ] || fail "too few keys: $(wc -l < "$T/want")"
	cmp "$T/want" "$T/got" || fail "$(diff "$T/want" "$T/got" | head)"
}

