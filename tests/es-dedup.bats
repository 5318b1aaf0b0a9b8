#!/usr/bin/env bats
# es-dedup: --key, --within (event time, out of order, late), --last, the
# --max-keys and --max-state caps, byte-for-byte pass-through, bad input,
# and differential tests against small awk references on generated data.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

D="$BATS_TEST_DIRNAME/fixtures/dedup"

@test "es-dedup --key: the first record of each key, byte for byte" {
	run_out es-dedup --key device,seq "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	# 1.0 is not the same key as 1 (as for es-window's groups)
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":1767225600,"value":36.5570}
	{"device":"gw-2","seq":1,"ts":1767225601,"value":38.0}
	{ "device" : "gw-1" , "seq" : 1.0 , "ts" : 1767225603 }
	{"device":"gw-1","seq":2,"ts":1767225604,"value":1e1}
	{"device":"gw-3","seq":9,"ts":1767225590}
	EOF
}

@test "es-dedup -k: one key field; nested paths" {
	run_out es-dedup -k device "$D/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":1767225600,"value":36.5570}
	{"device":"gw-2","seq":1,"ts":1767225601,"value":38.0}
	{"device":"gw-3","seq":9,"ts":1767225590}
	EOF
	run_out es-dedup -k m.id <<< "$(printf '{"m":{"id":1},"x":1}\n{"m":{"id":"1"},"x":2}\n{"x":3,"m":{ "id" : 1 }}')"
	assert_file_is "$T/out" <<< "$(printf '{"m":{"id":1},"x":1}\n{"m":{"id":"1"},"x":2}')"
}

@test "es-dedup --within: duplicates within D either way in time; late records; --stats" {
	run_out es-dedup --key device,seq --within 10s --stats "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	# gw-1/1.0 at 1603 is not the key gw-1/1.
	# gw-1/1 at 1620 is 20 s after the passed copy: a new event.
	# gw-2/1 at 1595 and gw-3/9 at 1590 are before 1620 - 10 s: late,
	# dropped and counted.
	# gw-1/2 at 1611 is 7 s after its copy at 1604: a duplicate.
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":1767225600,"value":36.5570}
	{"device":"gw-2","seq":1,"ts":1767225601,"value":38.0}
	{ "device" : "gw-1" , "seq" : 1.0 , "ts" : 1767225603 }
	{"device":"gw-1","seq":2,"ts":1767225604,"value":1e1}
	{"device":"gw-1","seq":1,"ts":1767225620,"value":36.6}
	EOF
	# late records are said: the first one, and the count at exit
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-dedup: $D/readings.ndjson:7: event time 2025-12-31T23:59:55Z is behind the watermark 2026-01-01T00:00:20Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-dedup: 2 late events dropped (behind the watermark by up to 30s; --lateness, --late FILE)' \
		'{"program":"es-dedup","in":9,"out":5,"bad":0,"late":2,"dropped":0,"duplicates":2,"keys":4,"evicted":0,"state_bytes":60}')"
}

@test "es-dedup --within --late FILE: late records go there raw; --lateness" {
	run_out es-dedup -k device,seq --within 10s --lateness 2s --late "$T/late" --stats "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	# the watermark is 1620 - 2 s: gw-2/1 at 1595 is still late
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-dedup: $D/readings.ndjson:7: event time 2025-12-31T23:59:55Z is behind the watermark 2026-01-01T00:00:18Z: written to the --late file (further late events are counted; --lateness to wait longer)" \
		"es-dedup: 2 late events written to $T/late (behind the watermark by up to 28s; --lateness)" \
		'{"program":"es-dedup","in":9,"out":5,"bad":0,"late":2,"dropped":0,"duplicates":2,"keys":4,"evicted":0,"state_bytes":60}')"
	assert_file_is "$T/late" <<-'EOF'
	{"device":"gw-2","seq":1,"ts":1767225595,"value":38.0}
	{"device":"gw-3","seq":9,"ts":1767225590}
	EOF
	rm "$T/late"
	run_out es-dedup -k device,seq --within 10s --lateness 30s --late "$T/late" "$D/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":1767225600,"value":36.5570}
	{"device":"gw-2","seq":1,"ts":1767225601,"value":38.0}
	{ "device" : "gw-1" , "seq" : 1.0 , "ts" : 1767225603 }
	{"device":"gw-1","seq":2,"ts":1767225604,"value":1e1}
	{"device":"gw-1","seq":1,"ts":1767225620,"value":36.6}
	{"device":"gw-3","seq":9,"ts":1767225590}
	EOF
	assert_file_is "$T/late" < /dev/null
	rm "$T/late"
	run_out es-dedup -k device,seq --within 10s --late "$T/late" "$D/readings.ndjson"
	[ "$status" -eq 0 ]
	assert_file_is "$T/late" <<-'EOF'
	{"device":"gw-2","seq":1,"ts":1767225595,"value":38.0}
	{"device":"gw-3","seq":9,"ts":1767225590}
	EOF
}

@test "es-dedup --within: the boundary is inclusive; --time-field, --time-unit" {
	printf '{"k":1,"at":1000}\n{"k":1,"at":1500}\n{"k":1,"at":1501}\n{"k":1,"at":2001}\n{"k":1,"at":2002}\n' > "$T/in"
	run_out es-dedup -k k --within 500ms --time-field at --time-unit ms "$T/in"
	assert_file_is "$T/out" <<< "$(printf '{"k":1,"at":1000}\n{"k":1,"at":1501}\n{"k":1,"at":2002}')"
}

@test "es-dedup --within: RFC 3339 times in CSV, header once, rows byte for byte" {
	run_out es-dedup -k device,seq --within 2s "$D/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	device,seq,ts,value
	gw-1,1,2026-01-01T00:00:00Z,36.5570
	"gw 2, east",1,2026-01-01T00:00:01Z,38.0
	gw-1,1.0,2026-01-01T00:00:03Z,
	gw-1,2,2026-01-01T00:00:04Z,1e1
	EOF
}

@test "es-dedup: CSV in, NDJSON out and back" {
	run_out es-dedup -k device -o ndjson "$D/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":"2026-01-01T00:00:00Z","value":36.5570}
	{"device":"gw 2, east","seq":1,"ts":"2026-01-01T00:00:01Z","value":38.0}
	EOF
	run_out es-dedup -k device -o csv "$D/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	device,seq,ts,value
	gw-1,1,1767225600,36.5570
	gw-2,1,1767225601,38.0
	gw-3,9,1767225590,
	EOF
}

@test "es-dedup --last N: the last N distinct keys passed are remembered" {
	printf '{"k":1}\n{"k":2}\n{"k":1}\n{"k":3}\n{"k":1}\n{"k":2}\n{"k":3}\n' > "$T/in"
	run_out es-dedup -k k --last 2 --stats "$T/in"
	# passed 1, 2 (ring 1,2); 1 dup; 3 passes (ring 2,3); 1 passes (ring
	# 3,1); 2 passes (ring 1,2); 3 passes.
	assert_file_is "$T/out" <<< "$(printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":2}\n{"k":3}')"
	assert_equal "$stderr" '{"program":"es-dedup","in":7,"out":6,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":2,"evicted":0,"state_bytes":12}'
}

@test "es-dedup --max-keys: said once on stderr, the oldest forgotten, counted" {
	printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":3}\n{"k":4}\n' > "$T/in"
	run_out es-dedup -k k --max-keys 2 --stats "$T/in"
	assert_file_is "$T/out" <<< "$(printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":4}')"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-keys 2 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":6,"out":5,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":2,"evicted":3,"state_bytes":12}')"
}

@test "es-dedup --within --max-keys: the key with the oldest time goes first" {
	printf '{"k":1,"ts":5}\n{"k":2,"ts":3}\n{"k":3,"ts":4}\n{"k":1,"ts":5}\n{"k":2,"ts":3}\n' > "$T/in"
	run_out es-dedup -k k --within 1h --max-keys 2 "$T/in"
	# 3 evicts 2 (time 3): 2 passes again and evicts 3 (time 4)
	assert_file_is "$T/out" <<< "$(printf '{"k":1,"ts":5}\n{"k":2,"ts":3}\n{"k":3,"ts":4}\n{"k":2,"ts":3}')"
	assert_equal "$stderr" 'es-dedup: --max-keys 2 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)'
}

# A key takes 5 bytes a field plus its value's text: {"k":1} is 6 bytes,
# so --max-state 12 holds two of them, as --max-keys 2 does.

@test "es-dedup --max-state: at the limit the oldest keys go as at --max-keys, said once, counted; --stats state_bytes" {
	printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":3}\n{"k":4}\n' > "$T/in"
	run_out es-dedup -k k --max-state 12 --stats "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< "$(printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":4}')"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-state 12 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":6,"out":5,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":2,"evicted":3,"state_bytes":12}')"
	# the same records as at --max-keys 2
	es-dedup -k k --max-keys 2 "$T/in" 2> /dev/null | cmp - "$T/out"
	# the size is said back in units --max-state reads: 1024 is 1k
	awk 'BEGIN { for (i = 0; i < 200; i++) printf "{\"k\":%d}\n", i % 100 + 1000 }' > "$T/in"
	run_out es-dedup -k k --max-state 1024 --stats "$T/in"
	# 100 keys of 9 bytes fit in 1024: no eviction, every second round a duplicate
	assert_equal "$stderr" '{"program":"es-dedup","in":200,"out":100,"bad":0,"late":0,"dropped":0,"duplicates":100,"keys":100,"evicted":0,"state_bytes":900}'
	run_out es-dedup -k k --max-state 1k --max-keys 1000 --last 50 --stats "$T/in"
	assert_equal "$stderr" '{"program":"es-dedup","in":200,"out":200,"bad":0,"late":0,"dropped":0,"duplicates":0,"keys":50,"evicted":0,"state_bytes":450}'
	run_out es-dedup -k k --max-state 810 --stats "$T/in"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-state 810 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":200,"out":200,"bad":0,"late":0,"dropped":0,"duplicates":0,"keys":90,"evicted":110,"state_bytes":810}')"
}

@test "es-dedup --within --max-state: the key with the oldest time goes first, as at --max-keys" {
	printf '{"k":1,"ts":5}\n{"k":2,"ts":3}\n{"k":3,"ts":4}\n{"k":1,"ts":5}\n{"k":2,"ts":3}\n' > "$T/in"
	run_out es-dedup -k k --within 1h --max-state 12 --stats "$T/in"
	# 3 evicts 2 (time 3): 2 passes again and evicts 3 (time 4)
	assert_file_is "$T/out" <<< "$(printf '{"k":1,"ts":5}\n{"k":2,"ts":3}\n{"k":3,"ts":4}\n{"k":2,"ts":3}')"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-state 12 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":5,"out":4,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":2,"evicted":2,"state_bytes":12}')"
}

@test "es-dedup --last N --max-state: the bytes cap the ring too; only those evictions are counted" {
	printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}\n{"k":3}\n' > "$T/in"
	run_out es-dedup -k k --last 3 --stats "$T/in"
	assert_file_is "$T/out" <<< "$(printf '{"k":1}\n{"k":2}\n{"k":3}')"
	# under 12 bytes 3 evicts 1, which passes again and evicts 2
	run_out es-dedup -k k --last 3 --max-state 12 --stats "$T/in"
	assert_file_is "$T/out" <<< "$(printf '{"k":1}\n{"k":2}\n{"k":3}\n{"k":1}')"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-state 12 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":5,"out":4,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":2,"evicted":2,"state_bytes":12}')"
}

@test "es-dedup --max-state: a key bigger than the limit alone is still remembered, the others forgotten" {
	local big
	big=$(printf 'x%.0s' $(seq 1 100))
	printf '{"k":"%s","n":%d}\n' "$big" 1 "$big" 2 b 3 "$big" 4 "$big" 5 > "$T/in"
	run_out es-dedup -k k --max-state 10 --stats "$T/in"
	[ "$status" -eq 0 ]
	# the big key (105 bytes) is kept alone: its copy 2 is a duplicate; b
	# evicts it, so 4 passes (and evicts b), 5 is a duplicate of 4
	assert_file_is "$T/out" <<-EOF
	{"k":"$big","n":1}
	{"k":"b","n":3}
	{"k":"$big","n":4}
	EOF
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: --max-state 10 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":5,"out":3,"bad":0,"late":0,"dropped":0,"duplicates":2,"keys":1,"evicted":2,"state_bytes":105}')"
	run_out es-dedup -k k --within 1h --max-state 10 <<< "$(printf '{"k":"%s","ts":1}\n{"k":"%s","ts":2}' "$big" "$big")"
	assert_file_is "$T/out" <<< "{\"k\":\"$big\",\"ts\":1}"
}

@test "es-dedup --max-state: 40 keys of 1 MiB under 8M take 8 MiB, not 40 (peak RSS)" {
	python3 -c '
import sys
for i in range(40):
    sys.stdout.write("{\"ts\":%d,\"v\":\"%s\"}\n" % (i, ("%06d" % i) * ((1 << 20) // 6)))
' > "$T/in"
	/usr/bin/time -f %M -o "$T/rss" es-dedup -k v --max-state 8M --stats "$T/in" > "$T/out" 2> "$T/err"
	# 7 keys of 1 MiB + 5 bytes fit in 8M; the 33 others were forgotten
	assert_equal "$(cat "$T/err")" "$(printf '%s\n' \
		'es-dedup: --max-state 8M reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)' \
		'{"program":"es-dedup","in":40,"out":40,"bad":0,"late":0,"dropped":0,"duplicates":0,"keys":7,"evicted":33,"state_bytes":7340039}')"
	cmp "$T/in" "$T/out"
	# 12 MiB measured; 45 MiB without the limit
	# (the bound is the plain build's: ASan and valgrind add their own)
	[ -n "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || [ "$(cat "$T/rss")" -lt "$(rss_bound 24576)" ] || fail "peak RSS $(cat "$T/rss") KiB"
}

@test "es-dedup --within: a key passing again out of order keeps the heap within a few entries a key" {
	[ -z "${ES_VALGRIND:-}" ] || skip "a million records under valgrind"
	# one key at 0 s and 1.5 s by turns: 1.5 s apart, each passes again,
	# none late under --lateness 2s; its stale entries once piled up (16 MB)
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":1,\"ts\":%d}\n", i % 2 ? 1500 : 0 }' > "$T/in"
	/usr/bin/time -f %M -o "$T/rss" es-dedup -k k --within 1s --lateness 2s --time-unit ms --stats "$T/in" > "$T/out" 2> "$T/err"
	assert_equal "$(cat "$T/err")" '{"program":"es-dedup","in":1000000,"out":1000000,"bad":0,"late":0,"dropped":0,"duplicates":0,"keys":1,"evicted":0,"state_bytes":6}'
	# (the bound is the plain build's: ASan and valgrind add their own)
	[ -n "${ES_SANITIZE:-}${ES_VALGRIND:-}" ] || [ "$(cat "$T/rss")" -lt "$(rss_bound 8192)" ] || fail "peak RSS $(cat "$T/rss") KiB"
}

# ---- bad input ----

@test "es-dedup: missing key field, invalid JSON, bad time are bad input; null is a key" {
	run_out es-dedup -k device,seq --within 1m --dead-letter "$T/dead" --stats "$D/bad.ndjson"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","seq":1,"ts":1767225600}
	{"device":null,"seq":3,"ts":1767225602}
	EOF
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-dedup: $D/bad.ndjson:2: missing key field 'seq'" \
		"es-dedup: $D/bad.ndjson:3: invalid JSON at column 31: unexpected end of line" \
		"es-dedup: $D/bad.ndjson:4: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)" \
		'{"program":"es-dedup","in":7,"out":2,"bad":3,"late":0,"dropped":0,"duplicates":2,"keys":2,"evicted":0,"state_bytes":26}')"
	assert_file_is "$T/dead" <<-'EOF'
	{"device":"gw-1","ts":1767225600}
	{"device":"gw-1","seq":1,"ts":
	{"device":"gw-1","seq":2,"ts":"soon"}
	EOF
}

@test "es-dedup: a missing time field and a wrong type with --within" {
	run_out es-dedup -k k --within 1s <<< "$(printf '{"k":1}\n{"k":2,"ts":[1]}\n{"k":3,"ts":1}')"
	assert_file_is "$T/out" <<< '{"k":3,"ts":1}'
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-dedup: stdin:1: missing time field (--time-field ts)' \
		'es-dedup: stdin:2: time field is not a number or an RFC 3339 string (--time-field ts)')"
}

@test "es-dedup: a CSV column the key names is missing: bad input" {
	run_out es-dedup -k device,nosuch "$D/readings.csv"
	assert_file_is "$T/out" < /dev/null
	# the reader says once that the header has no such column
	assert_equal "$(head -2 <<< "$stderr")" "$(printf '%s\n' \
		"es-dedup: $D/readings.csv: no column 'nosuch' (the header has device, seq, ts, value)" \
		"es-dedup: $D/readings.csv:2: missing key field 'nosuch'")"
}

@test "es-dedup --strict: exit 3 at the first bad line, records before it written" {
	run_out es-dedup --strict -k device,seq "$D/bad.ndjson"
	[ "$status" -eq 3 ]
	assert_file_is "$T/out" <<< '{"device":"gw-1","seq":1,"ts":1767225600}'
	assert_equal "$stderr" "es-dedup: $D/bad.ndjson:2: missing key field 'seq'"
}

@test "es-dedup: empty input; a file that cannot be opened" {
	run --separate-stderr es-dedup -k k < /dev/null
	assert_success
	assert_output ''
	assert_stderr ''
	run --separate-stderr es-dedup -k k "$T/nope" - <<< '{"k":1}'
	[ "$status" -eq 1 ]
	assert_output '{"k":1}'
	assert_stderr "es-dedup: cannot open $T/nope: No such file or directory"
}

# ---- usage ----

@test "es-dedup: usage errors exit 2 with a message" {
	local hint="Try 'es-dedup --help' for more information."
	run --separate-stderr es-dedup < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-dedup: --key is required\n%s' "$hint")"
	run --separate-stderr es-dedup -k a --within 1s --last 3 < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-dedup: --within and --last cannot be used together\n%s' "$hint")"
	run --separate-stderr es-dedup -k a --within 0 < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid duration '0' for --within: must be above 0\n%s" "$hint")"
	run --separate-stderr es-dedup -k a --within 5x < /dev/null
	[ "$status" -eq 2 ]
	assert_equal "$(head -1 <<< "$stderr" | cut -d: -f1-2)" "es-dedup: invalid duration '5x' for --within"
	run --separate-stderr es-dedup -k a --last 0 < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid argument '0' for --last: expected a count from 1 to 1000000000\n%s" "$hint")"
	run --separate-stderr es-dedup -k a --max-keys x < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid argument 'x' for --max-keys: expected a count from 1 to 1000000000\n%s" "$hint")"
	local size
	for size in 0 x 5T 1.5M -1 ''; do
		run --separate-stderr es-dedup -k a --max-state "$size" < /dev/null
		[ "$status" -eq 2 ] || fail "--max-state '$size': status $status"
		assert_stderr "$(printf "es-dedup: invalid argument '%s' for --max-state: expected a size > 0 (bytes, or with K, M or G)\n%s" "$size" "$hint")"
	done
	run --separate-stderr es-dedup -k a --late "$T/l" < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-dedup: --late goes with --within\n%s' "$hint")"
	run --separate-stderr es-dedup -k a --lateness 1s < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf 'es-dedup: --lateness goes with --within\n%s' "$hint")"
	run --separate-stderr es-dedup -k a --within 1s --lateness -1s < /dev/null
	[ "$status" -eq 2 ]
	assert_equal "$(head -1 <<< "$stderr" | cut -d: -f1-2)" "es-dedup: invalid duration '-1s' for --lateness"
	run --separate-stderr es-dedup -k 'a,,b' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid --key 'a,,b' at column 3: expected a field name or a quoted key\n%s" "$hint")"
	# the key list as every program reads it (lib/optgroup.c): no trailing comma, not empty
	run --separate-stderr es-dedup -k 'a,' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid --key 'a,' at column 2: expected ','\n%s" "$hint")"
	run --separate-stderr es-dedup -k '' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: --key needs at least one field\n%s" "$hint")"
	run --separate-stderr es-dedup -k a --within 1s --time-unit m < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-dedup: invalid argument 'm' for --time-unit: expected s, ms, us, ns or auto\n%s" "$hint")"
	run --separate-stderr es-dedup -k a --within 1s --time-field 'a..b' < /dev/null
	[ "$status" -eq 2 ]
	assert_equal "$(head -1 <<< "$stderr" | cut -d: -f1-2)" "es-dedup: invalid --time-field 'a..b'"
}

@test "es-dedup --help and --version" {
	run --separate-stderr es-dedup --help
	assert_success
	assert_line --index 0 'Usage: es-dedup --key F1,F2 [OPTION]... [FILE]...'
	local name
	for name in $(long_options_of es-dedup); do
		assert_output --partial -- "--$name"
	done
	run --separate-stderr es-dedup --version
	assert_output 'es-dedup (edgestream) 0.1.0'
}

# ---- --config: --check and reloads ----

# start_live, finish_live, await_out, await_err: test_helper.bash.

teardown() {
	live_teardown
}

@test "es-dedup --check: a good configuration exits 0 and reads nothing; a bad one exits 2 with the message" {
	cd "$T"
	mkfifo in
	printf 'key = device,seq\nwithin = 5m\nlate = late.ndjson\n' > d.conf
	# stdin a FIFO nobody writes, opened read-write so that opening it
	# does not wait: a program that read it would hang
	run --separate-stderr timeout 30 es-dedup --config d.conf --check <> in
	assert_success
	assert_output ''
	assert_stderr ''
	[ ! -e late.ndjson ] || fail "--check created the --late file"
	run --separate-stderr timeout 30 es-dedup --config d.conf --check no-such-input <> in
	assert_success
	assert_stderr ''
	printf 'key = device\nlast = 10\nwithin = 5m\n' > d.conf
	run --separate-stderr timeout 30 es-dedup --config d.conf --check <> in
	assert_failure 2
	assert_output ''
	assert_stderr "es-dedup: --within and --last cannot be used together
Try 'es-dedup --help' for more information."
	run --separate-stderr es-dedup -k a --watch-config < /dev/null
	assert_failure 2
	assert_stderr "es-dedup: --watch-config goes with --config
Try 'es-dedup --help' for more information."
	printf 'key = device\nmax-state = 64x\n' > d.conf
	run --separate-stderr timeout 30 es-dedup --config d.conf --check <> in
	assert_failure 2
	assert_output ''
	assert_stderr "es-dedup: invalid argument '64x' for --max-state: expected a size > 0 (bytes, or with K, M or G)
Try 'es-dedup --help' for more information."
	printf 'key = device\nmax-state = 512k\n' > d.conf
	run --separate-stderr timeout 30 es-dedup --config d.conf --check <> in
	assert_success
	assert_stderr ''
}

@test "es-dedup: --key given twice, or on the command line and in --config: the last one counts" {
	printf '{"a":1,"b":1}\n{"a":1,"b":2}\n{"a":2,"b":2}\n' > "$T/in"
	run es-dedup -k a -k b "$T/in"
	assert_success
	assert_output '{"a":1,"b":1}
{"a":1,"b":2}'
	printf 'key = a\n' > "$T/d.conf"
	run es-dedup -k b --config "$T/d.conf" "$T/in"
	assert_output '{"a":1,"b":1}
{"a":2,"b":2}'
}

@test "es-dedup --config: SIGHUP applies from the next record; the same key keeps the keys remembered, a new key forgets them; a bad file keeps the running one" {
	skip_if_slow
	printf 'key = id\nwithin = 1s\ntime-unit = ms\n' > "$T/d.conf"
	start_live es-dedup --config "$T/d.conf" --stats
	# the second is a duplicate; the third (passed) shows it was read
	printf '%s\n' '{"id":1,"dev":"a","ts":1000}' '{"id":1,"dev":"a","ts":1500}' \
		'{"id":2,"dev":"a","ts":1600}' >&"$W"
	await_out 2
	printf 'key = id\nwithin = 5s\ntime-unit = ms\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err 'reloaded:'
	# 3 s from the id 1 kept: a duplicate within 5 s (it passed under 1s)
	printf '%s\n' '{"id":1,"dev":"a","ts":4000}' '{"id":3,"dev":"a","ts":4100}' >&"$W"
	await_out 3
	printf 'key = dev\nwithin = 5s\ntime-unit = ms\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err 'forgotten'
	# a new key: nothing remembered, dev a passes once more
	printf '%s\n' '{"id":1,"dev":"a","ts":4200}' '{"id":9,"dev":"a","ts":4300}' \
		'{"id":9,"dev":"b","ts":4400}' >&"$W"
	await_out 5
	printf 'key = dev\nwithin = 5s\nlast = 3\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err 'keeping the running configuration'
	printf '%s\n' '{"id":5,"dev":"a","ts":4500}' '{"id":5,"dev":"c","ts":4600}' >&"$W"
	finish_live
	[ "$status" -eq 0 ] || fail "es-dedup exited $status"
	assert_file_is "$T/out" <<'EOF'
{"id":1,"dev":"a","ts":1000}
{"id":2,"dev":"a","ts":1600}
{"id":3,"dev":"a","ts":4100}
{"id":1,"dev":"a","ts":4200}
{"id":9,"dev":"b","ts":4400}
{"id":5,"dev":"c","ts":4600}
EOF
	assert_file_is "$T/err" <<EOF
es-dedup: --config $T/d.conf reloaded: --key id --within 5s --max-state 64M; 2 remembered keys kept
es-dedup: --config $T/d.conf reloaded: --key dev --within 5s --max-state 64M; 3 remembered keys forgotten
es-dedup: cannot reload --config $T/d.conf: --within and --last cannot be used together; keeping the running configuration
{"program":"es-dedup","in":10,"out":6,"bad":0,"late":0,"dropped":0,"duplicates":4,"keys":3,"evicted":0,"state_bytes":18}
EOF
}

@test "es-dedup --watch-config: a changed file is reloaded on a quiet input; a smaller --last forgets the oldest; --within instead forgets all" {
	skip_if_slow
	printf 'key = id\nlast = 3\n' > "$T/d.conf"
	start_live es-dedup --config "$T/d.conf" --watch-config
	printf '{"id":1}\n{"id":2}\n{"id":3}\n' >&"$W"
	await_out 3
	printf 'key = id\nlast = 1\n' > "$T/d.conf"
	touch -d '+1 minute' "$T/d.conf"
	await_err 'reloaded:'
	# 3 is kept, 2 was forgotten; 2 then pushes 3 out
	printf '{"id":3}\n{"id":2}\n{"id":3}\n' >&"$W"
	await_out 5
	printf 'key = id\nwithin = 1m\ntime-unit = s\n' > "$T/d.conf"
	touch -d '+2 minutes' "$T/d.conf"
	await_err 'forgotten'
	printf '{"id":3,"ts":100}\n{"id":3,"ts":110}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ] || fail "es-dedup exited $status"
	assert_file_is "$T/out" <<'EOF'
{"id":1}
{"id":2}
{"id":3}
{"id":2}
{"id":3}
{"id":3,"ts":100}
EOF
	assert_file_is "$T/err" <<EOF
es-dedup: --config $T/d.conf reloaded: --key id --last 1 --max-state 64M; 1 remembered key kept
es-dedup: --config $T/d.conf reloaded: --key id --within 1m --max-state 64M; 1 remembered key forgotten
EOF
}

@test "es-dedup --watch-config: a lower --max-state forgets the oldest keys at once, said and counted; the new limit holds from the next record" {
	skip_if_slow
	printf 'key = id\n' > "$T/d.conf"
	start_live es-dedup --config "$T/d.conf" --watch-config --stats
	printf '{"id":1}\n{"id":2}\n{"id":3}\n' >&"$W"
	await_out 3
	# 6 bytes a key: 12 keeps 2 and 3
	printf 'key = id\nmax-state = 12\n' | rewrite_later "$T/d.conf"
	await_err 'reloaded:'
	# 3 is a duplicate; 1 was forgotten: it passes and evicts 2, which
	# then passes too
	printf '{"id":3}\n{"id":1}\n{"id":2}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ] || fail "es-dedup exited $status"
	assert_file_is "$T/out" <<'EOF'
{"id":1}
{"id":2}
{"id":3}
{"id":1}
{"id":2}
EOF
	assert_file_is "$T/err" <<EOF
es-dedup: --max-state 12 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)
es-dedup: --config $T/d.conf reloaded: --key id --max-keys 1000000 --max-state 12; 2 remembered keys kept
{"program":"es-dedup","in":6,"out":5,"bad":0,"late":0,"dropped":0,"duplicates":1,"keys":3,"evicted":3,"state_bytes":18}
EOF
}

@test "es-dedup --config: a lower --max-state under --within forgets the keys that passed earliest" {
	skip_if_slow
	printf 'key = id\nwithin = 1h\ntime-unit = s\n' > "$T/d.conf"
	start_live es-dedup --config "$T/d.conf"
	printf '{"id":1,"ts":30}\n{"id":2,"ts":10}\n{"id":3,"ts":20}\n' >&"$W"
	await_out 3
	printf 'key = id\nwithin = 1h\ntime-unit = s\nmax-state = 6\n' > "$T/d.conf"
	kill -HUP "$PID"
	await_err 'reloaded:'
	# 1 (time 30) is kept: a duplicate; 2 was forgotten and passes
	printf '{"id":1,"ts":31}\n{"id":2,"ts":11}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ] || fail "es-dedup exited $status"
	assert_file_is "$T/out" <<'EOF'
{"id":1,"ts":30}
{"id":2,"ts":10}
{"id":3,"ts":20}
{"id":2,"ts":11}
EOF
	assert_file_is "$T/err" <<EOF
es-dedup: --max-state 6 reached: forgetting the oldest keys early, so their duplicates may pass (counted as "evicted" in --stats)
es-dedup: --config $T/d.conf reloaded: --key id --within 1h --max-state 6; 1 remembered key kept
EOF
}

# ---- pipes and differential tests ----

@test "es-dedup big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d}\n", i }' > "$T/big"
	run bash -c 'es-dedup -k seq "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"seq":1}'
}

# device,seq,ts rows: few keys, times jittered out of order by up to 4 s.
gen_csv() {
	awk -v seed="$1" 'BEGIN { srand(seed); print "device,seq,ts"
		for (i = 0; i < 20000; i++)
			printf "d%d,%d,%d\n", int(rand() * 4), int(rand() * 40), 1000 + int(i / 10) + int(rand() * 9) - 4 }'
}

@test "es-dedup --last N agrees with an awk reference on generated data" {
	local seed n
	for seed in 1 2; do
		gen_csv "$seed" > "$T/in.csv"
		for n in 1 7 50 200; do
			awk -F, -v N="$n" 'NR == 1 { print; next }
				{ k = $1 "," $2 }
				k in seen { next }
				{ print; if (cnt == N) { delete seen[q[h + 0]]; h++; cnt-- }
				  q[h + cnt] = k; cnt++; seen[k] = 1 }' "$T/in.csv" > "$T/want"
			es-dedup -k device,seq --last "$n" "$T/in.csv" > "$T/got"
			cmp "$T/want" "$T/got" || fail "seed $seed, --last $n differs"
		done
	done
}

@test "es-dedup --within D agrees with an awk reference that never forgets" {
	local seed d
	for seed in 3 4; do
		gen_csv "$seed" > "$T/in.csv"
		for d in 1 3 10; do
			awk -F, -v D="$d" -v L="$((d < 5 ? 4 : 0))" 'NR == 1 { print; next }
				{ k = $1 "," $2; t = $3 }
				have && t < max - L - D { late++; next }
				{ if (!have || t > max) max = t; have = 1 }
				(k in t0) && (t - t0[k] <= D && t0[k] - t <= D) { next }
				{ t0[k] = t; print }
				END { print late + 0 > "/dev/stderr" }' "$T/in.csv" > "$T/want" 2> "$T/late"
			es-dedup -k device,seq --within "${d}s" --lateness "$((d < 5 ? 4 : 0))s" --time-unit s --stats "$T/in.csv" > "$T/got" 2> "$T/err"
			cmp "$T/want" "$T/got" || fail "seed $seed, --within ${d}s differs"
			grep -q "\"late\":$(cat "$T/late")," "$T/err" || fail "late count: $(cat "$T/err")"
		done
	done
}

@test "es-dedup --max-state agrees with an awk reference: the first passed forgotten first, by bytes (5 + the string's length a key)" {
	local seed cap last
	for seed in 5 6; do
		awk -v seed="$seed" 'BEGIN { srand(seed); split("1 2 5 20 60", w, " ")
			for (i = 0; i < 3000; i++) {
				k = sprintf("%*s%d", w[int(rand() * 5) + 1], "", int(rand() * 31))
				gsub(/ /, "x", k)
				printf "{\"k\":\"%s\",\"i\":%d}\n", k, i } }' > "$T/in"
		for cap in 6 100 300 1000; do
			for last in 0 7; do
				awk -v CAP="$cap" -v N="$((last ? last : 1000000))" -v LAST="$last" '
					{ k = $0; sub(/^\{"k":"/, "", k); sub(/".*/, "", k) }
					k in seen { next }
					{ print
					  if (n == N) { o = q[h++]; delete seen[o]; b -= 5 + length(o); n--; if (!LAST) ev++ }
					  while (n && b + 5 + length(k) > CAP) { o = q[h++]; delete seen[o]; b -= 5 + length(o); n--; ev++ }
					  q[h + n] = k; n++; seen[k] = 1; b += 5 + length(k) }
					END { print ev + 0 > "/dev/stderr" }' "$T/in" > "$T/want" 2> "$T/ev"
				if [ "$last" -eq 0 ]; then
					es-dedup -k k --max-state "$cap" --stats "$T/in" > "$T/got" 2> "$T/err"
				else
					es-dedup -k k --max-state "$cap" --last "$last" --stats "$T/in" > "$T/got" 2> "$T/err"
				fi
				cmp "$T/want" "$T/got" || fail "seed $seed, --max-state $cap --last $last differs"
				grep -q "\"evicted\":$(cat "$T/ev")," "$T/err" || fail "evicted: $(cat "$T/err") (want $(cat "$T/ev"))"
			done
		done
	done
}

@test "es-dedup: a live pipe gets each record at once; SIGINT exits 0" {
	skip_if_slow
	mkfifo "$T/fifo"
	setsid es-dedup -k a --within 1m < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	local pid=$! i w st
	exec {w}> "$T/fifo"
	printf '{"a":1,"ts":1}\n{"a":1,"ts":2}\n' >&"$w"
	for i in $(seq 1 100); do [ -s "$T/out" ] && break; sleep 0.02; done
	assert_file_is "$T/out" <<< '{"a":1,"ts":1}'
	kill -INT "$pid"
	wait "$pid" && st=0 || st=$?
	exec {w}>&-
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
}

# ---- one bad clock (--max-ahead) ----

@test "es-dedup --within: readings dated 9999 and 2100, first or in the middle, are dead-lettered; the output is as without them" {
	printf '%s\n' '{"k":"a","ts":"2027-01-01T00:00:01Z"}' '{"k":"a","ts":"2027-01-01T00:00:03Z"}' \
		'{"k":"b","ts":"2027-01-01T00:00:04Z"}' '{"k":"a","ts":"2027-01-01T00:00:20Z"}' \
		'{"k":"b","ts":"2027-01-01T00:00:21Z"}' '{"k":"a","ts":"2027-01-01T00:00:22Z"}' > "$T/good"
	{ echo '{"k":"z","ts":"9999-12-31T23:59:59Z"}'; sed -n 1,3p "$T/good"
	  echo '{"k":"y","ts":"2100-01-01T00:00:00Z"}'; sed -n 4,6p "$T/good"; } > "$T/bad"
	run --separate-stderr es-dedup -k k --within 5s "$T/good"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' '{"k":"a","ts":"2027-01-01T00:00:01Z"}' \
		'{"k":"b","ts":"2027-01-01T00:00:04Z"}' '{"k":"a","ts":"2027-01-01T00:00:20Z"}' \
		'{"k":"b","ts":"2027-01-01T00:00:21Z"}')"
	printf '%s\n' "$output" > "$T/exp"
	run --separate-stderr es-dedup -k k --within 5s --dead-letter "$T/dl" --stats "$T/bad"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-dedup: $T/bad:1: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:01Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-dedup: $T/bad:5: time 2100-01-01T00:00:00Z is more than 1d ahead of the stream's time 2027-01-01T00:00:04Z, and the events after it did not confirm the jump (--max-ahead)" \
		'{"program":"es-dedup","in":8,"out":4,"bad":2,"late":0,"dropped":0,"duplicates":2,"keys":2,"evicted":0,"state_bytes":12}')"
	printf '%s\n' '{"k":"z","ts":"9999-12-31T23:59:59Z"}' '{"k":"y","ts":"2100-01-01T00:00:00Z"}' | assert_file_is "$T/dl"
}

@test "es-dedup --within: a jump of a week confirmed by 3 records loses nothing; --max-ahead 0 turns the rule off; --max-ahead needs --within" {
	printf '%s\n' '{"k":"a","ts":1798761600}' '{"k":"a","ts":1799366400}' '{"k":"b","ts":1799366401}' \
		'{"k":"a","ts":1799366402}' '{"k":"c","ts":1799366403}' > "$T/in"
	run --separate-stderr es-dedup -k k --within 5s "$T/in"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' '{"k":"a","ts":1798761600}' '{"k":"a","ts":1799366400}' \
		'{"k":"b","ts":1799366401}' '{"k":"c","ts":1799366403}')"
	printf '%s\n' '{"k":"a","ts":1000}' '{"k":"b","ts":253402300799}' '{"k":"a","ts":1001}' > "$T/in"
	run --separate-stderr es-dedup -k k --within 5s --time-unit s --max-ahead 0 --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":"a","ts":1000}' '{"k":"b","ts":253402300799}')"
	assert_stderr "$(printf '%s\n' \
		"es-dedup: $T/in:3: event time 1970-01-01T00:16:41Z is behind the watermark 9999-12-31T23:59:59Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-dedup: 1 late event dropped (behind the watermark by up to 2932896d23h43m18s; --lateness, --late FILE)' \
		'{"program":"es-dedup","in":3,"out":2,"bad":0,"late":1,"dropped":0,"duplicates":0,"keys":1,"evicted":0,"state_bytes":6}')"
	run --separate-stderr es-dedup -k k --max-ahead 1h < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n' 'es-dedup: --max-ahead goes with --within' "Try 'es-dedup --help' for more information.")"
}
