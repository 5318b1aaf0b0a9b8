#!/usr/bin/env bats
# The main example (examples/screening): the generator of raw gate data and
# the pipeline of es-* programs. The generator knows what it planted (fever
# passes, the per-minute summary, the camera faults), so the pipeline's
# upstream records are checked against it exactly.
bats_require_minimum_version 1.5.0
# a broker of the test's own (setup, teardown, broker_start/stop/run)
load mqtt_helper

ROOT="$BATS_TEST_DIRNAME/.."
PIPELINE="$ROOT/examples/screening/pipeline.sh"
GEN="$(dirname "$UNIT")/examples/screening/gen-screening"
# A quarter of an hour at 4 gates, one fever in 15 passes: about 300
# passes, 35,000 readings, a dozen fevers, each camera fault in it.
DAY=(--hours 0.25 --gates 4 --fever-one-in 15 --seed 7)

setup_file() {
	local d="$BATS_FILE_TMPDIR"
	"$(dirname "${ES_UNIT:-$ES_BIN/unit}")/examples/screening/gen-screening" \
		--hours 0.25 --gates 4 --fever-one-in 15 --seed 7 \
		--thermal "$d/thermal.ndjson" --badges "$d/badges.ndjson" \
		--truth "$d/truth.ndjson" --truth-summary "$d/truth-summary.ndjson" \
		--truth-anomalies "$d/truth-anomalies.ndjson"
}

# normal FILE...: the records of FILEs with sorted keys and numbers as jq
# writes them (37.00 and 37 are one number), sorted: for comparing sets.
normal() {
	cat "$@" | jq -c -S . | LC_ALL=C sort
}

@test "gen-screening: the same seed writes the same bytes, another seed others" {
	local d="$BATS_FILE_TMPDIR"
	"$GEN" "${DAY[@]}" --thermal "$T/th" --badges "$T/bd"
	cmp "$T/th" "$d/thermal.ndjson"
	cmp "$T/bd" "$d/badges.ndjson"
	"$GEN" --hours 0.25 --gates 4 --seed 8 --thermal "$T/th8" --badges "$T/bd8"
	! cmp -s "$T/th8" "$T/th"
	run head -2 "$d/thermal.ndjson"
	assert_output '{"ts":1803880800372,"gate":"G3","track_id":"G3-000155","temp":35.41,"frame":"cam3/0000000.jpg"}
{"ts":1803880800572,"gate":"G3","track_id":"G3-000155","temp":35.65,"frame":"cam3/0000006.jpg"}'
	run head -2 "$d/badges.ndjson"
	assert_output '{"ts":1803880800974,"gate":"G3","badge":"B00034","name":"Frances Lamarr"}
{"ts":1803880802419,"gate":"G2","badge":"B01599","name":"Bjarne Shannon"}'
	# readings arrive out of order (often), by less than a second (always)
	jq -r .ts "$d/thermal.ndjson" > "$T/ts"
	run awk 'NR > 1 && $1 < max - 800 { late++ }
		 NR > 1 && $1 < prev { back++ }
		 $1 > max { max = $1 } { prev = $1 }
		 END { print late + 0, (back > 1000) }' "$T/ts"
	assert_output "0 1"
	run wc -l < "$d/truth.ndjson"
	assert_output 13
}

@test "screening pipeline over files: alerts, summary and camera anomalies are exactly what was planted" {
	local d="$BATS_FILE_TMPDIR"
	run "$PIPELINE" "$d/thermal.ndjson" "$d/badges.ndjson" "$T/out"
	assert_success
	# every fever pass, with its badge, name, temperature and frame; nobody else
	assert_equal "$(jq -c '{gate,badge,name,max_temp,frame}' "$T/out/alerts.ndjson" | normal)" \
		"$(jq -c '{gate,badge,name,max_temp,frame}' "$d/truth.ndjson" | normal)"
	# the face was first seen at the planted time
	assert_equal "$(jq -c '{gate,badge,ts}' "$T/out/alerts.ndjson" | normal)" \
		"$(es-map --time-unit ms --time-format rfc3339 --keep gate,badge,ts \
		   "$d/truth.ndjson" | normal)"
	assert_equal "$(normal "$T/out/summary.ndjson")" "$(normal "$d/truth-summary.ndjson")"
	assert_equal "$(normal "$T/out/anomalies-silent.ndjson" "$T/out/anomalies-stuck.ndjson")" \
		"$(normal "$d/truth-anomalies.ndjson")"
	run cat "$d/truth-anomalies.ndjson"
	assert_output '{"window_start":"2027-03-01T06:04:00Z","window_end":"2027-03-01T06:05:00Z","gate":"G3","badges_without_face":5,"problem":"camera silent"}
{"window_start":"2027-03-01T06:08:00Z","window_end":"2027-03-01T06:09:00Z","gate":"G4","stuck_passes":3,"problem":"camera stuck"}
{"window_start":"2027-03-01T06:09:00Z","window_end":"2027-03-01T06:10:00Z","gate":"G4","stuck_passes":4,"problem":"camera stuck"}'
	# nothing late, nothing bad in this day; the counters of the two stateful stages
	assert_file_is "$T/out/dead.ndjson" < /dev/null
	assert_file_is "$T/out/late.ndjson" < /dev/null
	# every reading stored (the raw readings of the day), passed on once stored
	# (how many commits, and so the bytes, depends on the timing: a batch
	# is committed every 10000 readings or 200 ms after its first)
	run jq -c 'select(.program == "es-archive") | del(.commits, .bytes)' "$T/out/stats.log"
	assert_output '{"program":"es-archive","in":34788,"out":34788,"bad":0,"late":0,"dropped":0,"stored":34788,"unstored":0,"expired_age":0,"expired_size":0,"oldest":"2027-03-01T06:00:00.372Z","newest":"2027-03-01T06:14:56.828Z"}'
	run es-archive --dir "$T/out/raw" --from 0
	assert_equal "$(printf '%s\n' "$output" | LC_ALL=C sort)" "$(LC_ALL=C sort "$d/thermal.ndjson")"
	# 303 passes, 7 of them at the dead camera: 296 faces, 303 badges
	run grep -v '"program":"es-archive"' "$T/out/stats.log"
	assert_line --index 0 '{"program":"es-window","in":34788,"out":296,"bad":0,"late":0,"dropped":0,"groups":4,"evicted":0,"state_bytes":84}'
	assert_line --index 1 --partial '{"program":"es-join","in":599,"out":303,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":296,"unmatched":7,'
}

@test "screening pipeline: a malformed reading goes to the dead letters and costs nothing else" {
	local d="$BATS_FILE_TMPDIR"
	# line 1000 cut short: its track loses one reading, nothing more
	awk 'NR == 1000 { print substr($0, 1, 40); next } { print }' \
		"$d/thermal.ndjson" > "$T/thermal"
	run "$PIPELINE" "$T/thermal" "$d/badges.ndjson" "$T/out"
	assert_success
	assert_file_is "$T/out/dead.ndjson" <<< "$(sed -n '1000s/^\(.\{40\}\).*/\1/p' "$d/thermal.ndjson")"
	run cat "$T/out/stats.log"
	assert_line --index 0 --partial "es-archive: $T/thermal:1000: invalid JSON at column 41"
	assert_line --index 1 --partial '{"program":"es-archive","in":34788,"out":34787,"bad":1,"late":0,"dropped":0,"stored":34787,'
	assert_equal "$(jq -c '{gate,badge,name}' "$T/out/alerts.ndjson" | normal)" \
		"$(jq -c '{gate,badge,name}' "$d/truth.ndjson" | normal)"
}

@test "screening pipeline live: paced into named pipes, the same upstream records as over files" {
	skip_if_slow
	local d="$BATS_FILE_TMPDIR"
	"$PIPELINE" "$d/thermal.ndjson" "$d/badges.ndjson" "$T/batch"
	mkfifo "$T/th" "$T/bd"
	"$PIPELINE" "$T/th" "$T/bd" "$T/live" &
	local pid=$!
	# 15 minutes of events in about 3 s
	"$GEN" "${DAY[@]}" --rate 300 --thermal "$T/th" --badges "$T/bd"
	wait "$pid"
	local f
	for f in alerts summary anomalies-silent anomalies-stuck; do
		cmp "$T/batch/$f.ndjson" "$T/live/$f.ndjson" || fail "$f differs"
	done
	[ -s "$T/live/alerts.ndjson" ]
}

@test "gen-screening: --help, and a bad option or value is a usage error" {
	run "$GEN" --help
	assert_success
	assert_line --index 0 'Usage: gen-screening --thermal FILE --badges FILE [OPTION]...'
	run --separate-stderr "$GEN" --thermal "$T/a" --badges "$T/b" --gates 0
	assert_failure 2
	assert_equal "$stderr" "gen-screening: invalid --gates '0' (1 to 99)"
	run --separate-stderr "$GEN" --thermal "$T/a"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gen-screening: --thermal and --badges are needed"
}

@test "screening pipeline live to MQTT: the broker restarted mid-run, every alert arrives (spool, QoS 1)" {
	skip_if_slow
	local d="$BATS_FILE_TMPDIR"
	broker_start
	# a subscriber whose session outlives the broker's restart
	bg "$T/alerts" "$T/sub.err" es-mqtt-sub -h 127.0.0.1 -p "$PORT" -q 1 \
		--persistent --id screening-test-sub -t screening/alerts
	wait_subscribed screening/alerts
	mkfifo "$T/th" "$T/bd"
	BROKER=127.0.0.1:$PORT TOPIC_PREFIX=screening \
		"$PIPELINE" "$T/th" "$T/bd" "$T/out" &
	local pipeline=$!
	echo "$pipeline" >> "$T/bg.pids"
	# 15 minutes of events in about 6 s; the broker is away for 1.5 s of it
	"$GEN" "${DAY[@]}" --rate 150 --thermal "$T/th" --badges "$T/bd" &
	local gen=$!
	sleep 2
	broker_stop
	sleep 1.5
	broker_run
	wait "$gen"
	wait_status "$pipeline"
	[ "$status" -eq 0 ] || fail "pipeline: exit $status: $(cat "$T/out/stats.log")"
	wait_lines "$T/alerts" "$(wc -l < "$d/truth.ndjson")" 20
	# At least once: an alert in flight when the broker went may come twice
	# (es-dedup --key badge,ts drops such copies downstream); none is lost.
	assert_equal "$(jq -c '{gate,badge,name,max_temp,frame}' "$T/alerts" | normal | uniq)" \
		"$(jq -c '{gate,badge,name,max_temp,frame}' "$d/truth.ndjson" | normal)"
	# the publishers did see the broker go: they reconnected
	run grep -c '"reconnects":[1-9]' "$T/out/stats.log"
	[ "$output" -ge 1 ] || fail "no publisher reconnected: $(cat "$T/out/stats.log")"
}

@test "make demo's script: a generated hour through its own broker, the report, every fever checked, the minute around the first alert replayed; nothing of it left running" {
	"$GEN" --hours 1 --thermal "$T/th" --badges "$T/bd" --truth "$T/truth"
	mkdir "$T/tmp"
	run env ES_BIN="$ES_BIN" GEN="$GEN" TMPDIR="$T/tmp" bash "$ROOT/examples/screening/demo.sh" 1
	assert_success
	local n
	n=$(wc -l < "$T/truth")
	assert_line --regexp "^  upstream +[0-9]+ records +[0-9.]+ MB  \($n alerts, [0-9]+ summaries, [0-9]+ anomalies\)$"
	assert_line --regexp "^  reduction +[0-9]+x fewer records; upstream is 0\.[0-9]+% of the raw bytes$"
	assert_line "check: all $n planted fevers alerted, no false alert"
	# the dead camera: from 25% to 35% of the hour
	assert_line --regexp "^  G3   camera silent  06:1[5-6] to 06:2[0-1] UTC, [0-9]+ minutes$"
	# the replay: the readings of the first alert's gate within 30 s of its
	# face's first reading, counted here from the generated readings
	local first gate ts max want msgs
	first=$(jq -c -s 'sort_by(.ts) | .[0]' "$T/truth")
	gate=$(jq -r .gate <<< "$first") ts=$(jq .ts <<< "$first") max=$(jq .max_temp <<< "$first")
	want=$(jq --arg g "$gate" --argjson t "$ts" \
		'select(.gate == $g and .ts >= $t - 30000 and .ts < $t + 30000)' -c "$T/th" | wc -l)
	msgs=$(((want + 99) / 100))
	assert_line --regexp "^  \{\"from\":$((ts - 30000)),\"to\":$((ts + 30000)),\"key_is\":\{\"gate\":\"$gate\"\},\"reply\":\"screening-demo-[0-9]+/center/replay-1\"\}$"
	assert_line --regexp "^  the alert's highest reading: $max C at cam[0-9]+/[0-9]+\.jpg, track $gate-[0-9]+$"
	assert_line "  $want readings of gate $gate in $msgs messages"
	assert_line "check: the replay is es-archive's query of the same minute, record for record, and holds the alert's first frame"
	[ "$want" -gt 100 ] || fail "only $want readings around the first alert"
	# nothing the demo started is left: its broker (its config under
	# TMPDIR), and the clients of its port; other brokers (other tests)
	# may come and go meanwhile
	local port
	port=$(sed -n 's/^broker: mosquitto on 127\.0\.0\.1:\([0-9]*\) (started for the demo)$/\1/p' <<< "$output")
	[ -n "$port" ] || fail "no port in the demo's output"
	run pgrep -f -- "$T/tmp/"
	assert_output ''
	run pgrep -f -- "-p $port( |\$)"
	assert_output ''
}
