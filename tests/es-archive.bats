#!/usr/bin/env bats
# es-archive: storing (pass-through byte for byte, stored once committed),
# queries (--from, --to, --where, --key-is, event-time order, -o csv),
# retention (--max-size, --max-age), SIGKILL while storing, a full file
# system, bad input, --check, usage errors, --stats.
# The common --stats-file and --config: tests/stats-file.bats, config.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

D="$BATS_TEST_DIRNAME/archive"
STATS0='"late":0,"dropped":0'

teardown() {
	live_teardown
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2> /dev/null || true
	fi
}

# stats_of: the --stats line of $stderr (its last line).
stats_of() {
	printf '%s\n' "$stderr" | tail -1
}

@test "es-archive: records pass through byte for byte; --stats counts them stored" {
	run_out es-archive --dir "$T/a" -k device,sensor --stats "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	cmp "$D/readings.ndjson" "$T/out"
	assert_equal "$stderr" '{"program":"es-archive","in":7,"out":7,"bad":0,'"$STATS0"',"stored":7,"unstored":0,"commits":1,"expired_age":0,"expired_size":0,"bytes":16384,"oldest":"2026-01-01T00:00:00Z","newest":"2026-01-01T00:02:00Z"}'
}

@test "es-archive --from: every record in event-time order, equal times in the order stored" {
	es-archive --dir "$T/a" -k device,sensor "$D/readings.ndjson" > /dev/null
	run_out es-archive --dir "$T/a" --from 0 --stats
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600,"device":"gw-1","sensor":"temp","value":36.5}
	{ "ts" : 1767225600 , "device" : "gw-2" , "sensor" : "hum" , "value" : 41.0 }
	{"ts":1767225601,"device":"gw-1","sensor":"hum","value":40}
	{"ts":1767225605,"device":"gw-2","sensor":"temp","value":38.0}
	{"ts":1767225605,"device":7,"sensor":"temp","value":1e1}
	{"ts":1767225660,"device":"gw-1","sensor":"temp","value":36.7}
	{"ts":1767225720,"device":"gw-1","sensor":"temp","value":37.9}
	EOF
	assert_equal "$stderr" '{"program":"es-archive","in":7,"out":7,"bad":0,'"$STATS0"',"filtered":0}'
}

@test "es-archive --from --to: [T1, T2), RFC 3339 or epoch in any unit" {
	es-archive --dir "$T/a" "$D/readings.ndjson" > /dev/null
	run_out es-archive --dir "$T/a" --from 2026-01-01T00:00:01Z --to 1767225660
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225601,"device":"gw-1","sensor":"hum","value":40}
	{"ts":1767225605,"device":"gw-2","sensor":"temp","value":38.0}
	{"ts":1767225605,"device":7,"sensor":"temp","value":1e1}
	EOF
	# the same span in milliseconds and with an offset
	run_out es-archive --dir "$T/a" --from 1767225601000 --to 2026-01-01T01:01:00+01:00
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225601,"device":"gw-1","sensor":"hum","value":40}
	{"ts":1767225605,"device":"gw-2","sensor":"temp","value":38.0}
	{"ts":1767225605,"device":7,"sensor":"temp","value":1e1}
	EOF
	# a time without an offset is in --timezone (UTC by default)
	run_out es-archive --dir "$T/a" --from '2026-01-01 01:00:01' --to 2026-01-01T00:01:00Z --timezone Europe/Rome
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225601,"device":"gw-1","sensor":"hum","value":40}
	{"ts":1767225605,"device":"gw-2","sensor":"temp","value":38.0}
	{"ts":1767225605,"device":7,"sensor":"temp","value":1e1}
	EOF
	run_out es-archive --dir "$T/a" --to 2026-01-01T00:00:01Z
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600,"device":"gw-1","sensor":"temp","value":36.5}
	{ "ts" : 1767225600 , "device" : "gw-2" , "sensor" : "hum" , "value" : 41.0 }
	EOF
	run_out es-archive --dir "$T/a" --from 2026-01-01T00:02:00.000001Z
	assert_file_is "$T/out" < /dev/null
}

@test "es-archive --where, --key-is: the expression language; the key as stored; -o csv" {
	es-archive --dir "$T/a" -k device,sensor "$D/readings.ndjson" > /dev/null
	run_out es-archive --dir "$T/a" --where 'value >= 38 || sensor == "hum"' --stats
	assert_file_is "$T/out" <<-'EOF'
	{ "ts" : 1767225600 , "device" : "gw-2" , "sensor" : "hum" , "value" : 41.0 }
	{"ts":1767225601,"device":"gw-1","sensor":"hum","value":40}
	{"ts":1767225605,"device":"gw-2","sensor":"temp","value":38.0}
	EOF
	assert_equal "$stderr" '{"program":"es-archive","in":7,"out":3,"bad":0,'"$STATS0"',"filtered":4}'
	# a number matches its text, in any order of the fields
	run_out es-archive --dir "$T/a" --key-is sensor=temp --key-is device=7
	assert_file_is "$T/out" <<< '{"ts":1767225605,"device":7,"sensor":"temp","value":1e1}'
	run_out es-archive --dir "$T/a" --key-is device=gw-1 --key-is sensor=temp --to 1767225700000 -o csv
	assert_file_is "$T/out" <<-'EOF'
	ts,device,sensor,value
	1767225600,gw-1,temp,36.5
	1767225660,gw-1,temp,36.7
	EOF
	run --separate-stderr es-archive --dir "$T/a" --key-is device=gw-1
	assert_failure 2
	assert_stderr "es-archive: --key-is: give one FIELD=VALUE for each field of the archive's key, device,sensor"
	es-archive --dir "$T/b" "$D/readings.ndjson" > /dev/null
	run --separate-stderr es-archive --dir "$T/b" --key-is device=gw-1
	assert_failure 2
	assert_stderr "es-archive: --key-is: the archive in $T/b has no key (it was stored without --key); use --where"
}

@test "es-archive: slices of 3000 out-of-order records, against a jq reference (stable sort by time)" {
	# times from 0 to 599 s, 5 records a second on average, in no order
	awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) printf "{\"ts\":%d,\"i\":%d,\"k\":\"d%d\"}\n", 1767225600 + int(rand() * 600), i, i % 7 }' > "$T/in"
	es-archive --dir "$T/a" -k k --commit-every 250 "$T/in" > /dev/null
	local lo hi
	for lo in 0 17 299 598; do
		hi=$((lo + 60))
		es-archive --dir "$T/a" --from $((1767225600 + lo)) --to $((1767225600 + hi)) > "$T/got"
		jq -c --slurp --argjson lo $((1767225600 + lo)) --argjson hi $((1767225600 + hi)) \
			'map(select(.ts >= $lo and .ts < $hi)) | sort_by(.ts) | .[]' "$T/in" > "$T/want"
		[ -s "$T/want" ] || fail "an empty reference for $lo"
		cmp "$T/want" "$T/got" || fail "slice from $lo differs"
	done
	es-archive --dir "$T/a" --from 1767225900 --to 1767226000 --key-is k=d3 > "$T/got"
	jq -c --slurp 'map(select(.ts >= 1767225900 and .ts < 1767226000 and .k == "d3")) | sort_by(.ts) | .[]' "$T/in" > "$T/want"
	cmp "$T/want" "$T/got"
}

@test "es-archive: CSV passes as CSV, is stored as NDJSON, comes back in either" {
	run_out es-archive --dir "$T/a" "$D/readings.csv"
	cmp "$D/readings.csv" "$T/out"
	run_out es-archive --dir "$T/a" --from 0
	assert_file_is "$T/out" <<-'EOF'
	{"ts":"2026-01-01T00:00:00Z","device":"gw-1","sensor":"temp","value":36.5}
	{"ts":"2026-01-01T00:00:05Z","device":"gw 2, east","sensor":"temp","value":38.0}
	{"ts":"2026-01-01T00:01:00Z","device":"gw-1","sensor":"hum","value":null}
	EOF
	run_out es-archive --dir "$T/a" --from 0 -o csv
	assert_file_is "$T/out" <<-'EOF'
	ts,device,sensor,value
	2026-01-01T00:00:00Z,gw-1,temp,36.5
	2026-01-01T00:00:05Z,"gw 2, east",temp,38.0
	2026-01-01T00:01:00Z,gw-1,hum,
	EOF
}

@test "es-archive: a second run adds to the archive; another --key, or another writer, is refused" {
	head -3 "$D/readings.ndjson" | es-archive --dir "$T/a" -k device > /dev/null
	tail -n +4 "$D/readings.ndjson" | es-archive --dir "$T/a" -k device > /dev/null
	run_out es-archive --dir "$T/a" --from 0
	[ "$(wc -l < "$T/out")" -eq 7 ]
	run --separate-stderr es-archive --dir "$T/a" -k sensor < /dev/null
	assert_failure 2
	assert_stderr "es-archive: $T/a: the archive is keyed on 'device', not 'sensor' (a new --key needs a new --dir)"
	skip_if_slow
	start_live es-archive --dir "$T/a" -k device
	echo '{"ts":1767225800,"device":"gw-9"}' >&"$W"
	await_out 1
	run --separate-stderr es-archive --dir "$T/a" -k device < /dev/null
	assert_failure 1
	assert_stderr "es-archive: $T/a is in use by another es-archive storing into it"
	finish_live
	[ "$status" -eq 0 ]
}

# ---- when a record is stored ----

@test "es-archive: a record is queryable by the time it is written downstream (live input)" {
	skip_if_slow
	start_live es-archive --dir "$T/a" --commit-every 1000 --commit-interval 1h
	echo '{"ts":1767225600,"n":1}' >&"$W"
	await_out 1
	# the input paused: its batch was committed before it went on
	run es-archive --dir "$T/a" --from 0
	assert_output '{"ts":1767225600,"n":1}'
	echo '{"ts":1767225601,"n":2}' >&"$W"
	await_out 2
	run es-archive --dir "$T/a" --from 0
	assert_output "$(printf '%s\n' '{"ts":1767225600,"n":1}' '{"ts":1767225601,"n":2}')"
	finish_live
	[ "$status" -eq 0 ]
}

@test "es-archive --commit-every, --commit-interval: batches of N records, or of D, whichever first" {
	awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"ts\":%d}\n", 1767225600 + i }' > "$T/in"
	run_out es-archive --dir "$T/a" --commit-every 3 --stats "$T/in"
	# 3 + 3 + 3 + 1 (at the end of the input)
	assert_equal "$stderr" '{"program":"es-archive","in":10,"out":10,"bad":0,'"$STATS0"',"stored":10,"unstored":0,"commits":4,"expired_age":0,"expired_size":0,"bytes":16384,"oldest":"2026-01-01T00:00:00Z","newest":"2026-01-01T00:00:09Z"}'
	cmp "$T/in" "$T/out"
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"ts\":%d}\n", 1767225600 + i }' > "$T/in"
	run_out es-archive --dir "$T/b" --commit-every 1000000 --commit-interval 1h --stats "$T/in"
	assert_equal "$(grep -o '"commits":[0-9]*' <<< "$stderr")" '"commits":1'
	# 200000 records take more than 1ms: more batches
	run_out es-archive --dir "$T/c" --commit-every 1000000 --commit-interval 1ms --stats "$T/in"
	[ "$(grep -o '"commits":[0-9]*' <<< "$stderr" | cut -d: -f2)" -gt 1 ]
	assert_equal "$(grep -o '"stored":[0-9]*' <<< "$stderr")" '"stored":200000'
}

@test "es-archive: SIGKILL while storing: whatever went downstream is queryable after a restart" {
	skip_if_slow
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{\"ts\":17672256%05d,\"n\":%d}\n", i, i }' > "$T/in"
	split -l 1000 "$T/in" "$T/part."
	mkfifo "$T/fifo"
	es-archive --dir "$T/a" --commit-every 700 < "$T/fifo" > "$T/out" 2> "$T/err" &
	PID=$!
	# the feeder in a process group of its own (BG: live_teardown)
	setsid sh -c 'for f in "$1"/part.*; do cat "$f"; sleep 0.02; done > "$1/fifo"' sh "$T" &
	BG=$!
	await_out 5000
	kill -KILL "$PID"
	wait "$PID" || true
	PID=""
	kill -TERM -- "-$BG" 2> /dev/null || true
	local n
	n=$(wc -l < "$T/out")
	[ "$n" -lt 100000 ] || fail "the stream was over before the kill"
	head -n "$n" "$T/out" > "$T/passed"
	run_out es-archive --dir "$T/a" --from 0
	[ "$status" -eq 0 ]
	# every line that went downstream comes back, in order
	head -n "$n" "$T/out" | cmp - "$T/passed"
	# and nothing but the input: what was stored is a prefix of it
	cmp "$T/out" <(head -n "$(wc -l < "$T/out")" "$T/in")
	# a restart stores on after what the killed run committed
	echo '{"ts":1767225700000,"n":-1}' | es-archive --dir "$T/a" > /dev/null
	run es-archive --dir "$T/a" --from 1767225700000
	assert_output '{"ts":1767225700000,"n":-1}'
}

@test "es-archive: SIGTERM commits what is held, writes it on and exits 0" {
	skip_if_slow
	start_live es-archive --dir "$T/a" --commit-interval 1h --stats
	printf '{"ts":1767225600,"n":1}\n{"ts":1767225601,"n":2}\n' >&"$W"
	await_out 2
	kill -TERM "$PID"
	finish_live
	[ "$status" -eq 0 ]
	run es-archive --dir "$T/a" --from 0
	assert_output "$(printf '%s\n' '{"ts":1767225600,"n":1}' '{"ts":1767225601,"n":2}')"
}

@test "es-archive --sync full: each commit is fsynced; normal: only checkpoints are" {
	command -v strace > /dev/null || skip "strace is not installed"
	[ -z "${ES_SANITIZE:-}" ] || skip "LeakSanitizer does not run under strace"
	skip_if_slow
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "{\"ts\":%d}\n", 1767225600 + i }' > "$T/in"
	strace -f -o "$T/trace" -e trace=fsync,fdatasync es-archive --dir "$T/a" --sync full --commit-every 1 "$T/in" > /dev/null
	local full normal
	full=$(grep -c 'sync(' "$T/trace")
	strace -f -o "$T/trace" -e trace=fsync,fdatasync es-archive --dir "$T/b" --sync normal --commit-every 1 "$T/in" > /dev/null
	normal=$(grep -c 'sync(' "$T/trace")
	[ "$full" -ge 40 ] || fail "--sync full: $full fsyncs for 40 commits"
	[ "$normal" -lt 10 ] || fail "--sync normal: $normal fsyncs for 40 commits"
	run es-archive --dir "$T/a" --from 0
	[ "${#lines[@]}" -eq 40 ]
}

@test "es-archive --stats-file: the archive's counters, rewritten while it runs" {
	run_out es-archive --dir "$T/a" --stats-file "$T/s.json" "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	run jq -c '{in, out, stored, unstored, commits, bytes, oldest, newest}' "$T/s.json"
	assert_output '{"in":7,"out":7,"stored":7,"unstored":0,"commits":1,"bytes":16384,"oldest":"2026-01-01T00:00:00Z","newest":"2026-01-01T00:02:00Z"}'
}

# ---- retention ----

@test "es-archive --max-age: records older than the newest by more than D go, oldest first, counted" {
	awk 'BEGIN { for (i = 0; i <= 10; i++) printf "{\"ts\":%d,\"n\":%d}\n", 1767225600 + 10 * i, i }' > "$T/in"
	run_out es-archive --dir "$T/a" --max-age 30s --commit-every 2 --stats "$T/in"
	cmp "$T/in" "$T/out"
	# the newest is 1767225700: 0 to 60 (7 records) are more than 30 s older
	assert_equal "$stderr" '{"program":"es-archive","in":11,"out":11,"bad":0,'"$STATS0"',"stored":11,"unstored":0,"commits":6,"expired_age":7,"expired_size":0,"bytes":16384,"oldest":"2026-01-01T00:01:10Z","newest":"2026-01-01T00:01:40Z"}'
	run_out es-archive --dir "$T/a" --from 0
	tail -4 "$T/in" | cmp - "$T/out"
}

@test "es-archive --max-age: a record from a clock far ahead does not empty the archive" {
	local now
	now=$(date +%s)
	printf '{"ts":%d,"n":1}\n{"ts":%d,"n":2}\n{"ts":%d,"n":3}\n{"ts":%d,"n":4}\n' \
		$((now - 7200)) $((now - 60)) $((now + 3153600000)) $((now - 30)) > "$T/in"
	run_out es-archive --dir "$T/a" --max-age 1h --stats "$T/in"
	# the newest counts as now: only the record of 2 hours ago goes
	assert_equal "$(grep -o '"expired_age":[0-9]*' <<< "$stderr")" '"expired_age":1'
	run_out es-archive --dir "$T/a" --from 0
	assert_file_is "$T/out" <<-EOF
	{"ts":$((now - 60)),"n":2}
	{"ts":$((now - 30)),"n":4}
	{"ts":$((now + 3153600000)),"n":3}
	EOF
}

@test "es-archive --max-size: the oldest records go until the rest fits, counted; the newest stay" {
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "{\"ts\":%d,\"n\":%d,\"pad\":\"%0150d\"}\n", 1767225600 + i, i, i }' > "$T/in"
	run_out es-archive --dir "$T/a" --max-size 128k --commit-every 100 --stats "$T/in"
	cmp "$T/in" "$T/out"
	local gone kept bytes
	gone=$(grep -o '"expired_size":[0-9]*' <<< "$stderr" | cut -d: -f2)
	bytes=$(grep -o '"bytes":[0-9]*' <<< "$stderr" | cut -d: -f2)
	[ "$gone" -gt 2000 ] || fail "only $gone records expired"
	[ "$bytes" -le 131072 ] || fail "$bytes bytes in use, over 128k"
	assert_equal "$(grep -o '"stored":[0-9]*' <<< "$stderr")" '"stored":3000'
	# what is left is exactly the newest 3000 - gone
	run_out es-archive --dir "$T/a" --from 0
	kept=$(wc -l < "$T/out")
	[ "$kept" -eq $((3000 - gone)) ]
	tail -n "$kept" "$T/in" | cmp - "$T/out"
	# an archive already over a smaller limit is cut at the start
	run_out es-archive --dir "$T/a" --max-size 64k --stats < /dev/null
	gone=$(grep -o '"expired_size":[0-9]*' <<< "$stderr" | cut -d: -f2)
	[ "$gone" -gt 0 ]
	run_out es-archive --dir "$T/a" --from 0
	[ "$(wc -l < "$T/out")" -eq $((kept - gone)) ]
}

@test "es-archive: a full file system pauses the archive's writes, counted; the stream goes on" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs needs root"
	MNT="$T/mnt"
	mkdir "$MNT"
	mount -t tmpfs -o size=256k tmpfs "$MNT" || { MNT=""; skip "cannot mount a tmpfs here"; }
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "{\"ts\":17672256%05d,\"n\":%d,\"v\":\"%060d\"}\n", i, i, i }' > "$T/in"
	run_out es-archive --dir "$MNT/a" --commit-every 100 --stats "$T/in"
	[ "$status" -eq 0 ]
	cmp "$T/in" "$T/out"
	assert_equal "$(head -1 <<< "$stderr")" "es-archive: cannot store into $MNT/a (commit: database or disk is full): archive writes pause for 1s at a time while the records pass on (counted as \"unstored\" in --stats)"
	local stored unstored
	stored=$(grep -o '"stored":[0-9]*' <<< "$stderr" | cut -d: -f2)
	unstored=$(grep -o '"unstored":[0-9]*' <<< "$stderr" | cut -d: -f2)
	[ "$stored" -gt 0 ] && [ "$unstored" -gt 0 ]
	[ $((stored + unstored)) -eq 5000 ]
	# what was committed before the disk filled is there, whole
	run_out es-archive --dir "$MNT/a" --from 0
	[ "$(wc -l < "$T/out")" -eq "$stored" ]
	head -n "$stored" "$T/in" | cmp - "$T/out"
}

@test "es-archive --config: SIGHUP applies new limits from the next commit; a new --dir is refused" {
	skip_if_slow
	printf 'dir = %s\nmax-age = 1h\n' "$T/a" > "$T/c.conf"
	start_live es-archive --config "$T/c.conf" --stats
	printf '{"ts":1767225600,"n":1}\n{"ts":1767225610,"n":2}\n{"ts":1767225620,"n":3}\n' >&"$W"
	await_out 3
	printf 'dir = %s\nmax-age = 15s\ncommit-every = 5\ncommit-interval = 1s\n' "$T/a" | rewrite_later "$T/c.conf"
	kill -HUP "$PID"
	await_err "es-archive: --config $T/c.conf reloaded: max-size none, max-age 15s, commit-every 5, commit-interval 1s"
	# the next commit deletes what is more than 15 s older than the newest
	echo '{"ts":1767225630,"n":4}' >&"$W"
	await_out 4
	printf 'dir = %s/other\nmax-age = 15s\n' "$T" | rewrite_later "$T/c.conf"
	kill -HUP "$PID"
	await_err "es-archive: cannot reload --config $T/c.conf: --dir cannot change while storing (restart es-archive); keeping the running configuration"
	finish_live
	[ "$status" -eq 0 ]
	assert_equal "$(grep -o '"expired_age":[0-9]*' "$T/err")" '"expired_age":2'
	[ ! -e "$T/other" ] || fail "the refused --dir was made"
	run es-archive --dir "$T/a" --from 0
	assert_output "$(printf '%s\n' '{"ts":1767225620,"n":3}' '{"ts":1767225630,"n":4}')"
}

# feed N FROM: N records numbered from FROM, to the live program and to $T/in.
feed() {
	awk -v n="$1" -v s="$2" 'BEGIN { for (j = s; j < s + n; j++) printf "{\"ts\":%d,\"n\":%d,\"v\":\"%040d\"}\n", 1767225600 + j, j, j }' |
		tee -a "$T/in" >&"$W"
}

@test "es-archive: when the file system has room again, the archive's writes resume, said once" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs needs root"
	skip_if_slow
	MNT="$T/mnt"
	mkdir "$MNT"
	mount -t tmpfs -o size=256k tmpfs "$MNT" || { MNT=""; skip "cannot mount a tmpfs here"; }
	head -c 131072 /dev/zero > "$MNT/ballast"
	start_live es-archive --dir "$MNT/a" --commit-every 50 --stats
	local i=0
	until grep -q 'cannot store' "$T/err"; do
		feed 100 $((i * 100))
		i=$((i + 1))
		[ "$i" -lt 1000 ] || fail "the file system did not fill: $(cat "$T/err")"
	done
	rm "$MNT/ballast"
	# records go on; after the pause the archive takes them again
	until grep -q 'resumed' "$T/err"; do
		feed 10 $((i * 100))
		i=$((i + 1))
		[ "$i" -lt 2000 ] || fail "the archive's writes did not resume: $(cat "$T/err")"
		sleep 0.05
	done
	finish_live
	[ "$status" -eq 0 ]
	cmp "$T/in" "$T/out"
	[ "$(grep -c 'cannot store' "$T/err")" -eq 1 ]
	[ "$(grep -c 'resumed' "$T/err")" -eq 1 ]
	local in stored unstored
	in=$(wc -l < "$T/in")
	stored=$(grep -o '"stored":[0-9]*' "$T/err" | cut -d: -f2)
	unstored=$(grep -o '"unstored":[0-9]*' "$T/err" | cut -d: -f2)
	[ "$unstored" -gt 0 ]
	[ $((stored + unstored)) -eq "$in" ]
	run_out es-archive --dir "$MNT/a" --from 0
	[ "$(wc -l < "$T/out")" -eq "$stored" ]
	# the last records went in after the resumption
	assert_equal "$(tail -1 "$T/out")" "$(tail -1 "$T/in")"
}

# ---- bad input ----

@test "es-archive: bad JSON, no time, a bad time are bad input: said, dead-lettered, not stored" {
	run_out es-archive --dir "$T/a" --dead-letter "$T/dead" --stats "$D/bad.ndjson"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600,"device":"gw-1","value":1}
	{"ts":1767225601,"device":"gw-1","value":4}
	EOF
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-archive: $D/bad.ndjson:2: not a JSON object" \
		"es-archive: $D/bad.ndjson:3: missing time field (--time-field ts)" \
		"es-archive: $D/bad.ndjson:4: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)" \
		'{"program":"es-archive","in":5,"out":2,"bad":3,'"$STATS0"',"stored":2,"unstored":0,"commits":1,"expired_age":0,"expired_size":0,"bytes":16384,"oldest":"2026-01-01T00:00:00Z","newest":"2026-01-01T00:00:01Z"}')"
	assert_file_is "$T/dead" <<-'EOF'
	not json
	{"device":"gw-1","value":2}
	{"ts":"yesterday","device":"gw-1","value":3}
	EOF
	run_out es-archive --dir "$T/a" --from 0
	cmp "$T/out" <(grep '"ts":1' "$D/bad.ndjson")
	run_out es-archive --dir "$T/b" --strict "$D/bad.ndjson"
	[ "$status" -eq 3 ]
}

@test "es-archive --time-field, --time-unit: the time read from another field, in the unit given" {
	printf '{"at":1767225600500,"n":1}\n{"at":1767225600000,"n":2}\n' > "$T/in"
	es-archive --dir "$T/a" --time-field at --time-unit ms "$T/in" > /dev/null
	run_out es-archive --dir "$T/a" --from 2026-01-01T00:00:00.5Z
	assert_file_is "$T/out" <<< '{"at":1767225600500,"n":1}'
}

@test "es-archive --time processing: records without a time are stored at their arrival" {
	local before after
	before=$(date +%s)
	printf '{"n":1}\n{"n":2,"ts":"not a time"}\n' > "$T/in"
	run_out es-archive --dir "$T/a" --time processing --stats "$T/in"
	after=$(date +%s)
	cmp "$T/in" "$T/out"
	run_out es-archive --dir "$T/a" --from "$before" --to $((after + 1))
	cmp "$T/in" "$T/out"
	run_out es-archive --dir "$T/a" --to "$before"
	assert_file_is "$T/out" < /dev/null
}

# ---- options ----

@test "es-archive --check: good options exit 0 and touch nothing; bad ones exit 2" {
	run --separate-stderr es-archive --dir "$T/new" -k device --max-size 1M --max-age 7d --check < /dev/null
	assert_success
	assert_stderr ''
	[ ! -e "$T/new" ] || fail "--check made the archive"
	printf 'dir = %s\nmax-age = 0\n' "$T/new" > "$T/c.conf"
	run --separate-stderr es-archive --config "$T/c.conf" --check < /dev/null
	assert_failure 2
	assert_stderr "es-archive: invalid duration '0' for --max-age: must be above 0
Try 'es-archive --help' for more information."
	run --separate-stderr es-archive --dir "$T/new" --from 0
	assert_failure 1
	assert_stderr "es-archive: $T/new: no archive (No such file or directory)"
}

@test "es-archive: usage errors name the option and why, exit 2" {
	local -a cases=(
		'|--dir is required'
		'--dir d --from x|invalid time '"'x'"' for --from: invalid RFC 3339 time: expected a date YYYY-MM-DD'
		'--dir d --to 2026-13-01T00:00:00Z|invalid time '"'2026-13-01T00:00:00Z'"' for --to: invalid RFC 3339 time: month out of range'
		'--dir d --from 10 --to 5|--from must be before --to'
		'--dir d --max-size 0|invalid argument '"'0'"' for --max-size: expected a size > 0 (bytes, or with K, M or G)'
		'--dir d --max-age 0|invalid duration '"'0'"' for --max-age: must be above 0'
		'--dir d --commit-every 0|invalid argument '"'0'"' for --commit-every: expected a count > 0'
		'--dir d --commit-interval 0|invalid duration '"'0'"' for --commit-interval: must be above 0'
		'--dir d --sync fast|invalid argument '"'fast'"' for --sync: expected normal or full'
		'--dir d --key-is device|invalid argument '"'device'"' for --key-is: expected FIELD=VALUE'
		'--dir d --from 0 --max-size 1M|--max-size goes with storing, not with a query (--from, --to, --where, --key-is)'
		'--dir d --where true --time-field x|--time-field goes with storing, not with a query (--from, --to, --where, --key-is)'
		'--dir d --from 0 somefile|a query (--from, --to, --where, --key-is) reads the archive, not '"'somefile'"
		'--dir d -k a,,b|invalid --key '"'a,,b'"' at column 3: expected a field name or a quoted key'
		'--dir d --where a==|invalid --where at column 4: unexpected end of expression'
		'--dir d --time-unit h|invalid argument '"'h'"' for --time-unit: expected s, ms, us, ns or auto'
		'--dir d --time now|invalid argument '"'now'"' for --time: expected event or processing'
	)
	assert_usage_errors es-archive "${cases[@]}"
	[ ! -e d ] || fail "a usage error made the archive"
}

@test "es-archive --help: usage, every option, examples; --version" {
	run --separate-stderr es-archive --help
	assert_success
	assert_line --index 0 'Usage: es-archive --dir DIR [OPTION]... [FILE]...'
	assert_line --regexp '^  es-archive --dir /var/lib/es/raw --from .+'
	run --separate-stderr es-archive --version
	assert_output 'es-archive (edgestream) 0.1.0'
}

# The common options are tested once for all programs (read-options.bats,
# stats-file.bats, config.bats); named here: --input-format -i,
# --output-format -o, --delimiter, --null-values, --timezone, --dead-letter,
# --strict, --stats, --stats-file, --stats-every, --config, --watch-config,
# --check, --help, --version.
@test "es-archive: every long option is in --help, in man/es-archive.1 and in this file" {
	assert_long_options_documented es-archive \
		dir key time time-field time-unit max-size max-age commit-every commit-interval sync \
		from to where key-is
}
