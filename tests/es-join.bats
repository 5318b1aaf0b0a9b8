#!/usr/bin/env bats
# es-join: stream-table enrichment (CSV and NDJSON tables, keys, collisions,
# duplicate keys, reload by SIGHUP and by modification time, failed
# reloads) and stream-stream interval joins (every join type on fixtures
# with known results, many-to-many, asymmetric intervals, lateness, late
# events, eviction, bounded state, --idle, live FIFOs), bad input, usage,
# and a differential run against a brute-force join in Python.
#
# The interval-join fixtures use millisecond times (--time-unit ms).
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper
load live_helper

JF="$BATS_TEST_DIRNAME/fixtures/join"
GEN="$BATS_TEST_DIRNAME/../../shared/bench/gen-sensors"

setup() {
	T="$BATS_TEST_TMPDIR"
	BG=""		# process group leaders started by this test
	W="" WL="" WR=""	# FIFO write ends held by this shell
}

teardown() {
	bg_teardown
}

# ---- live input helpers ----
# bg_teardown, start_bg, open_writer, close_writer, await_exp, await_exit
# and since: live_helper.bash; await_err: test_helper.bash.
AWAIT_EXIT_SECONDS=3

# start_join OPTION...: es-join --left $T/lf --right $T/rf OPTION... in the
# background (stdout $T/out, stderr $T/err); then open_writers opens both
# FIFOs (left first, as es-join does). Sets PID.
start_join() {
	mkfifo "$T/lf" "$T/rf"
	setsid es-join --left "$T/lf" --right "$T/rf" "$@" < /dev/null \
		> "$T/out" 2> "$T/err" 3>&- &
	PID=$!
	BG="$BG $PID"
}

open_writers() {
	exec {WL}> "$T/lf"
	exec {WR}> "$T/rf"
}

close_writers() {
	exec {WL}>&- {WR}>&-
	WL="" WR=""
}

# ==== stream-table join ====

@test "es-join --table: CSV table with quoted fields (comma, quotes, line break); inner leaves out the unmatched (filtered)" {
	run --separate-stderr es-join --table "$JF/visitors.csv" --on badge --stats "$JF/readings.ndjson"
	assert_success
	# B8: the record's own "zone" wins over the table's. 17, "17": one key.
	assert_output "$(cat <<'EOF'
{"ts":1000,"badge":"B7","temp":36.6,"name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}
{"ts":3000,"badge":"B8","temp":38.2,"zone":"lab","name":"Grace \"Amazing\" Hopper","company":"Navy"}
{"ts":4000,"badge":"B9","temp":36.9,"name":"Line\nBreak","company":"Acme","zone":"east"}
{"ts":5000,"badge":17,"temp":37.0,"name":"Numeric Badge","company":"Acme","zone":"west"}
{"ts":7000,"badge":"17","temp":36.7,"name":"Numeric Badge","company":"Acme","zone":"west"}
EOF
)"
	assert_stderr '{"program":"es-join","in":8,"out":5,"bad":0,"late":0,"dropped":0,"filtered":3,"matched":5,"unmatched":3,"table_rows":4,"reloads":0}'
}

@test "es-join --type left: unmatched records (no row, no key, null key) pass byte for byte" {
	run_out es-join -t "$JF/visitors.csv" -k badge --type left --stats "$JF/readings.ndjson"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<'EOF'
{"ts":1000,"badge":"B7","temp":36.6,"name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}
{"ts":2000, "badge" : "B0", "temp":37.1}
{"ts":3000,"badge":"B8","temp":38.2,"zone":"lab","name":"Grace \"Amazing\" Hopper","company":"Navy"}
{"ts":4000,"badge":"B9","temp":36.9,"name":"Line\nBreak","company":"Acme","zone":"east"}
{"ts":5000,"badge":17,"temp":37.0,"name":"Numeric Badge","company":"Acme","zone":"west"}
{"ts":6000,"temp":36.8}
{"ts":7000,"badge":"17","temp":36.7,"name":"Numeric Badge","company":"Acme","zone":"west"}
{"ts":8000,"badge":null,"temp":36.5}
EOF
	assert_stderr '{"program":"es-join","in":8,"out":8,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":5,"unmatched":3,"table_rows":4,"reloads":0}'
}

@test "es-join --table-prefix: every table field as P+name, the record's fields untouched" {
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --table-prefix v_ <<< '{"badge":"B8","zone":"lab","v_zone":"mine"}'
	assert_success
	assert_stderr ""
	# v_zone is the record's: it wins even over the prefixed name
	assert_output '{"badge":"B8","zone":"lab","v_zone":"mine","v_name":"Grace \"Amazing\" Hopper","v_company":"Navy"}'
}

@test "es-join: NDJSON table (detected): values as the table wrote them; objects, arrays, escapes kept" {
	printf '{"device":"gw-1","v":1}\n{"device":"gw-2","v":2}\n{"device":"gw-3"}\n' > "$T/in"
	run --separate-stderr es-join --table "$JF/machines.ndjson" --on device "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"device":"gw-1","v":1,"line":"A","meta":{"site":"plant-1","floor":2},"limits":[10,20],"rated":1.50,"note":"caf\u00e9"}
{"device":"gw-2","v":2,"line":"B","meta":{"site":"plant-2"},"rated":3,"on":true,"spare":null}
EOF
)"
}

@test "es-join: an NDJSON table's rows may have different fields; -o csv has the columns of all" {
	printf '{"device":"gw-1","v":1}\n{"device":"gw-2","v":2}\n' > "$T/in"
	run --separate-stderr es-join -t "$JF/machines.ndjson" -k device -o csv "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
device,v,line,meta,limits,rated,note,on,spare
gw-1,1,A,"{""site"":""plant-1"",""floor"":2}","[10,20]",1.50,café,,
gw-2,2,B,"{""site"":""plant-2""}",,3,,true,
EOF
)"
}

@test "es-join: CSV in, CSV out: the record's columns then the table's; unmatched rows (left) have them empty" {
	printf 'ts,badge,temp\n1000,B7,36.6\n2000,B0,37.1\n3000,B9,36.9\n' > "$T/in.csv"
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --type left "$T/in.csv"
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
ts,badge,temp,name,company,zone
1000,B7,36.6,Ada Lovelace,"Analytical Engines, Ltd",north
2000,B0,37.1,,,
3000,B9,36.9,"Line
Break",Acme,east
EOF
)"
	# the same to NDJSON: the unmatched row converted as es-cat would
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --type left -o ndjson "$T/in.csv"
	assert_success
	assert_output "$(cat <<'EOF'
{"ts":1000,"badge":"B7","temp":36.6,"name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}
{"ts":2000,"badge":"B0","temp":37.1}
{"ts":3000,"badge":"B9","temp":36.9,"name":"Line\nBreak","company":"Acme","zone":"east"}
EOF
)"
}

@test "es-join -o csv on NDJSON input: the record's fields then the table's columns" {
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --type left -o csv \
		<<< "$(printf '{"badge":"B7","t":1}\n{"badge":"nobody","t":2}')"
	assert_success
	assert_stderr ""
	assert_output "$(printf '%s\n' 'badge,t,name,company,zone' 'B7,1,Ada Lovelace,"Analytical Engines, Ltd",north' 'nobody,2,,,')"
}

@test "es-join --on KEY=TABLEKEY: the table's key column is not copied; nested key paths" {
	run --separate-stderr es-join -t "$JF/visitors.csv" --on visitor=badge <<< '{"visitor":"B7","badge":"old"}'
	assert_success
	assert_output '{"visitor":"B7","badge":"old","name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}'
	run --separate-stderr es-join -t "$JF/visitors.csv" --on meta.badge=badge <<< '{"meta":{"badge":"B9"}}'
	assert_success
	assert_output '{"meta":{"badge":"B9"},"name":"Line\nBreak","company":"Acme","zone":"east"}'
}

@test "es-join --on a,b: composite keys; numbers by value, a numeric string as its number" {
	printf 'site,gate,label\n1,A,one-A\n1,B,one-B\n2,A,two-A\n' > "$T/gates.csv"
	printf '%s\n' '{"site":1,"gate":"B"}' '{"site":"2","gate":"A"}' '{"site":1.0,"gate":"A"}' \
		'{"site":2,"gate":"B"}' '{"site":1,"gate":null}' '{"gate":"A"}' '{"site":"01","gate":"A"}' > "$T/in"
	run --separate-stderr es-join -t "$T/gates.csv" -k site,gate --stats "$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"site":1,"gate":"B","label":"one-B"}' \
		'{"site":"2","gate":"A","label":"two-A"}' '{"site":1.0,"gate":"A","label":"one-A"}')"
	assert_stderr '{"program":"es-join","in":7,"out":3,"bad":0,"late":0,"dropped":0,"filtered":4,"matched":3,"unmatched":4,"table_rows":3,"reloads":0}'
}

@test "es-join: duplicate table keys: the last row wins, each reported; beyond five, a count" {
	cd "$T"
	printf 'id,v\na,1\nb,2\na,3\nc,4\nb,5\n' > dup.csv
	run --separate-stderr es-join -t dup.csv -k id --stats <<< "$(printf '{"id":"a"}\n{"id":"b"}\n{"id":"c"}')"
	assert_success
	assert_output "$(printf '%s\n' '{"id":"a","v":3}' '{"id":"b","v":5}' '{"id":"c","v":4}')"
	assert_stderr "$(cat <<'EOF'
es-join: table dup.csv:4: duplicate key 'a' (also at line 2): the last row wins
es-join: table dup.csv:6: duplicate key 'b' (also at line 3): the last row wins
{"program":"es-join","in":3,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":3,"unmatched":0,"table_rows":3,"reloads":0}
EOF
)"
	printf 'id,v\n' > many.csv
	for i in 1 2 3 4 5 6 7 8; do printf 'k,%d\n' "$i" >> many.csv; done
	printf ',9\n' >> many.csv
	run --separate-stderr es-join -t many.csv -k id <<< '{"id":"k"}'
	assert_success
	assert_output '{"id":"k","v":8}'
	assert_equal "${#stderr_lines[@]}" 6
	assert_equal "${stderr_lines[0]}" "es-join: table many.csv:3: duplicate key 'k' (also at line 2): the last row wins"
	assert_equal "${stderr_lines[4]}" "es-join: table many.csv:7: duplicate key 'k' (also at line 6): the last row wins"
	assert_equal "${stderr_lines[5]}" "es-join: table many.csv: 3 more rows with a duplicate key or none"
}

@test "es-join: a table row without a key value is skipped and reported" {
	cd "$T"
	printf '{"id":"a","v":1}\n{"v":2}\n{"id":null,"v":3}\n' > t.ndjson
	run --separate-stderr es-join -t t.ndjson -k id <<< '{"id":"a"}'
	assert_success
	assert_output '{"id":"a","v":1}'
	assert_stderr "$(printf '%s\n' \
		'es-join: table t.ndjson:2: no value for the key (--on): row skipped' \
		'es-join: table t.ndjson:3: no value for the key (--on): row skipped')"
}

@test "es-join: a table that cannot be loaded at start: why, exit 1" {
	cd "$T"
	printf 'a,b\n1,2\n3\n' > ragged.csv
	printf '{"a":1}\n{"a":x}\n' > bad.ndjson
	printf 'a,b\n1,"open\n' > open.csv
	printf 'a,b\n1,\377\n' > utf8.csv
	local -a cases=(
		'nope.csv|a|nope.csv: No such file or directory'
		'ragged.csv|a|ragged.csv:3: CSV row has 1 field, header has 2'
		'bad.ndjson|a|bad.ndjson:2: invalid JSON at column 6: unexpected character'
		'open.csv|a|open.csv:2: invalid CSV: unterminated quote'
		'utf8.csv|a|utf8.csv:2: invalid UTF-8 in CSV field '"'b'"''
		'ragged.csv|zz|ragged.csv:1: no column '"'zz'"' (--on) in the CSV header'
	)
	local c file key msg
	for c in "${cases[@]}"; do
		IFS='|' read -r file key msg <<< "$c"
		run --separate-stderr es-join -t "$file" -k "$key" <<< '{"a":1}'
		[ "$status" -eq 1 ] || fail "$file: status $status, not 1"
		assert_output ''
		assert_stderr "es-join: cannot load table: $msg"
	done
}

@test "es-join: an empty table (a header only): inner writes nothing, left passes everything" {
	printf 'badge,name\n' > "$T/empty.csv"
	run --separate-stderr es-join -t "$T/empty.csv" -k badge <<< '{"badge":"B7"}'
	assert_success
	assert_output ''
	run --separate-stderr es-join -t "$T/empty.csv" -k badge --type left <<< '{"badge":"B7"}'
	assert_success
	assert_output '{"badge":"B7"}'
	: > "$T/zero"
	run --separate-stderr es-join -t "$T/zero" -k badge --type left --stats <<< '{"badge":"B7"}'
	assert_success
	assert_output '{"badge":"B7"}'
	assert_stderr '{"program":"es-join","in":1,"out":1,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":0,"unmatched":1,"table_rows":0,"reloads":0}'
}

@test "es-join --table: bad input lines are reported, dead-lettered, counted; the stream goes on; --strict exits 3" {
	cd "$T"
	printf '{"badge":"B7"}\n{"badge":\n{"badge":"B9"}\n' > in.ndjson
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --dead-letter dead --stats in.ndjson
	assert_success
	assert_output "$(printf '%s\n' '{"badge":"B7","name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}' \
		'{"badge":"B9","name":"Line\nBreak","company":"Acme","zone":"east"}')"
	assert_stderr "$(printf '%s\n' 'es-join: in.ndjson:2: invalid JSON at column 10: unexpected end of line' \
		'{"program":"es-join","in":3,"out":2,"bad":1,"late":0,"dropped":0,"filtered":0,"matched":2,"unmatched":0,"table_rows":4,"reloads":0}')"
	assert_file_is dead <<< '{"badge":'
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --strict in.ndjson
	[ "$status" -eq 3 ]
	assert_output '{"badge":"B7","name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}'
}

@test "es-join: CSV input with invalid UTF-8, written as NDJSON, is bad input" {
	printf 'badge,x\nB7,ok\nB7,\377\n' > "$T/in.csv"
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge -o ndjson "$T/in.csv"
	assert_success
	assert_output '{"badge":"B7","x":"ok","name":"Ada Lovelace","company":"Analytical Engines, Ltd","zone":"north"}'
	assert_stderr "es-join: $T/in.csv:3: invalid UTF-8 in CSV field 'x'"
}

@test "es-join --table: several input files in turn; an input that cannot be opened: exit 1, the others read" {
	printf '{"badge":"B7"}\n' > "$T/a"
	printf '{"badge":"B8"}\n' > "$T/b"
	run --separate-stderr es-join -t "$JF/visitors.csv" -k badge --table-prefix t_ "$T/a" "$T/nope" "$T/b"
	[ "$status" -eq 1 ]
	assert_output "$(printf '%s\n' '{"badge":"B7","t_name":"Ada Lovelace","t_company":"Analytical Engines, Ltd","t_zone":"north"}' \
		'{"badge":"B8","t_name":"Grace \"Amazing\" Hopper","t_company":"Navy","t_zone":"south"}')"
	assert_stderr "es-join: cannot open $T/nope: No such file or directory"
}

@test "es-join --table big | head -1: exit 0, nothing on stderr" {
	printf 'device,n\ngw-000,1\n' > "$T/t.csv"
	"$GEN" 50000 > "$T/in"
	run bash -c 'es-join -t "$1" -k device --type left "$2" | head -1; echo "${PIPESTATUS[0]}" >&2' _ "$T/t.csv" "$T/in"
	assert_success
	assert_line --index 0 --regexp '^\{"ts":1798761600000,"device":"gw-000",.*"n":1\}$'
	assert_line --index 1 '0'
}

# ---- reloading the table ----

@test "es-join: SIGHUP reloads the table even when its size and modification time did not change" {
	skip_if_slow
	printf 'badge,name\nB7,AAA\n' > "$T/t.csv"
	touch -d '2020-01-01 00:00:00' "$T/t.csv"
	start_bg es-join -t "$T/t.csv" -k badge --stats
	open_writer
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' > "$T/exp"
	await_exp
	# rewritten in place (same inode and size), the old time put back
	printf 'badge,name\nB7,BBB\n' > "$T/t.csv"
	touch -d '2020-01-01 00:00:00' "$T/t.csv"
	sleep 1.2
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' >> "$T/exp"
	await_exp
	kill -HUP "$PID"
	sleep 0.1
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"BBB"}\n' >> "$T/exp"
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" <<< '{"program":"es-join","in":3,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":3,"unmatched":0,"table_rows":1,"reloads":1}'
}

@test "es-join: a table replaced (mv) is reloaded within a second, also on a quiet input" {
	skip_if_slow
	printf 'badge,name\nB7,old\n' > "$T/t.csv"
	start_bg es-join -t "$T/t.csv" -k badge --stats
	open_writer
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"old"}\n' > "$T/exp"
	await_exp
	printf 'badge,name\nB7,new\nB8,added\n' > "$T/t.new"
	mv "$T/t.new" "$T/t.csv"
	# no record for 1.5 s: the check runs on the quiet input
	sleep 1.5
	printf '{"badge":"B7"}\n{"badge":"B8"}\n' >&"$W"
	printf '{"badge":"B7","name":"new"}\n{"badge":"B8","name":"added"}\n' >> "$T/exp"
	await_exp 0.5
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" <<< '{"program":"es-join","in":3,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":3,"unmatched":0,"table_rows":2,"reloads":1}'
}

@test "es-join: a reload that fails (bad line, missing file) keeps the old table and says why, once per version" {
	skip_if_slow
	cd "$T"
	printf 'badge,name\nB7,good\n' > t.csv
	start_bg es-join -t t.csv -k badge --stats
	open_writer
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"good"}\n' > exp
	await_exp
	# a broken table: reported within a second, on a quiet input
	printf 'badge,name\nB7,"unterminated\n' > t.new
	mv t.new t.csv
	await_err 'unterminated' 2
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"good"}\n' >> exp
	await_exp
	# gone: said once, however long it stays away
	rm t.csv
	await_err 'No such file' 2
	sleep 1.2
	kill -HUP "$PID"
	sleep 0.2
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"good"}\n' >> exp
	await_exp
	# back, good: loaded
	printf 'badge,name\nB7,fixed\n' > t.csv
	sleep 1.3
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"fixed"}\n' >> exp
	await_exp
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is err <<'EOF'
es-join: cannot reload table: t.csv:2: invalid CSV: unterminated quote; keeping the previous table (1 row)
es-join: cannot reload table: t.csv: No such file or directory; keeping the previous table (1 row)
es-join: cannot reload table: t.csv: No such file or directory; keeping the previous table (1 row)
{"program":"es-join","in":4,"out":4,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":4,"unmatched":0,"table_rows":1,"reloads":1}
EOF
}

@test "es-join: SIGHUP also reopens the dead-letter file (log rotation)" {
	skip_if_slow
	start_bg es-join --input-format ndjson -t "$JF/visitors.csv" -k badge --dead-letter "$T/dead"
	open_writer
	printf 'bad1\n' >&"$W"
	local i
	for ((i = 0; i < 40; i++)); do
		[ -s "$T/dead" ] && break
		sleep 0.05
	done
	assert_file_is "$T/dead" <<< 'bad1'
	mv "$T/dead" "$T/dead.1"
	kill -HUP "$PID"
	sleep 0.2
	printf 'bad2\n{"badge":"B8"}\n' >&"$W"
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/dead.1" <<< 'bad1'
	assert_file_is "$T/dead" <<< 'bad2'
	assert_file_is "$T/out" <<< '{"badge":"B8","name":"Grace \"Amazing\" Hopper","company":"Navy","zone":"south"}'
}

@test "es-join --table: enrichment of a live input is written at once; SIGTERM ends it, exit 0" {
	skip_if_slow
	start_bg es-join -t "$JF/visitors.csv" -k badge --stats
	open_writer
	printf '{"badge":"B9"}\n' >&"$W"
	printf '{"badge":"B9","name":"Line\\nBreak","company":"Acme","zone":"east"}\n' > "$T/exp"
	await_exp 0.5
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" <<< '{"program":"es-join","in":1,"out":1,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":1,"unmatched":0,"table_rows":4,"reloads":0}'
}

# ==== stream-stream interval join ====

# Fixtures: thermal (left) d1 at 1000 and 3000, d2 at 2000, d3 at 9000;
# badges (right) d1 at 1500 and 2500, d2 at 8000. Within 2 s: the four
# d1 pairs (many to many); d2 is 6 s apart; d3 has no badge.
PAIRS='{"ts":1500,"left_ts":1000,"door":"d1","temp":37.9,"right_ts":1500,"badge":"B7"}
{"ts":2500,"left_ts":1000,"door":"d1","temp":37.9,"right_ts":2500,"badge":"B8"}
{"ts":3000,"left_ts":3000,"door":"d1","temp":38.4,"right_ts":1500,"badge":"B7"}
{"ts":3000,"left_ts":3000,"door":"d1","temp":38.4,"right_ts":2500,"badge":"B8"}'

@test "es-join --within --type inner: every pair, many to many, each once" {
	run --separate-stderr es-join --left "$JF/thermal.ndjson" --right "$JF/badges.ndjson" \
		--on door --within 2s --time-unit ms --stats
	assert_success
	assert_output "$PAIRS"
	assert_stderr '{"program":"es-join","in":7,"out":4,"bad":0,"late":0,"dropped":0,"filtered":3,"matched":4,"unmatched":3,"evicted":0,"buffered":5,"state_bytes":859}'
}

@test "es-join --type left|right|full: unmatched events alone, when they can no longer match" {
	local j
	for j in left right full; do
		run --separate-stderr es-join --left "$JF/thermal.ndjson" --right "$JF/badges.ndjson" \
			--on door --within 2s --time-unit ms --type "$j"
		assert_success
		assert_stderr ""
		case $j in
		left) assert_output "$PAIRS
{\"ts\":2000,\"left_ts\":2000,\"door\":\"d2\",\"temp\":36.5}
{\"ts\":9000,\"left_ts\":9000,\"door\":\"d3\",\"temp\":36.1}" ;;
		right) assert_output "$PAIRS
{\"ts\":8000,\"right_ts\":8000,\"door\":\"d2\",\"badge\":\"B9\"}" ;;
		full) assert_output "$PAIRS
{\"ts\":2000,\"left_ts\":2000,\"door\":\"d2\",\"temp\":36.5}
{\"ts\":9000,\"left_ts\":9000,\"door\":\"d3\",\"temp\":36.1}
{\"ts\":8000,\"right_ts\":8000,\"door\":\"d2\",\"badge\":\"B9\"}" ;;
		esac
	done
}

@test "es-join: the inputs' order does not change the set of records; left and right swap roles" {
	run_out es-join --left "$JF/badges.ndjson" --right "$JF/thermal.ndjson" --on door --within 2s --time-unit ms --type full
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<'EOF'
{"ts":1500,"left_ts":1500,"door":"d1","badge":"B7","right_ts":1000,"temp":37.9}
{"ts":2500,"left_ts":2500,"door":"d1","badge":"B8","right_ts":1000,"temp":37.9}
{"ts":3000,"left_ts":1500,"door":"d1","badge":"B7","right_ts":3000,"temp":38.4}
{"ts":3000,"left_ts":2500,"door":"d1","badge":"B8","right_ts":3000,"temp":38.4}
{"ts":2000,"right_ts":2000,"door":"d2","temp":36.5}
{"ts":9000,"right_ts":9000,"door":"d3","temp":36.1}
{"ts":8000,"left_ts":8000,"door":"d2","badge":"B9"}
EOF
}

@test "es-join --within LOW,HIGH: an asymmetric interval, both bounds included" {
	printf '{"ts":10000,"k":"a"}\n' > "$T/l"
	printf '{"ts":%d,"k":"a"}\n' 8999 9000 13000 13001 > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within=-1s,3s --time-unit ms --type right
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
{"ts":8999,"right_ts":8999,"k":"a"}
{"ts":10000,"left_ts":10000,"k":"a","right_ts":9000}
{"ts":13000,"left_ts":10000,"k":"a","right_ts":13000}
{"ts":13001,"right_ts":13001,"k":"a"}
EOF
)"
	# --within 0: the same time only
	printf '{"ts":10000,"k":"a"}\n{"ts":10001,"k":"a"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 0 --time-unit ms
	assert_success
	assert_output '{"ts":10000,"left_ts":10000,"k":"a","right_ts":10000}'
}

@test "es-join --lateness: out-of-order events within the lateness join; later ones are late (--late FILE)" {
	printf '{"ts":%d,"k":"a"}\n' 5000 3000 1000 > "$T/l"
	printf '{"ts":3500,"k":"a"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --lateness 2s \
		--time-unit ms --late "$T/late" --stats
	assert_success
	assert_output '{"ts":3500,"left_ts":3000,"k":"a","right_ts":3500}'
	assert_stderr "$(printf '%s\n' \
		"es-join: $T/l:3: event time 1970-01-01T00:00:01Z is behind the watermark 1970-01-01T00:00:03Z: written to the --late file (further late events are counted; --lateness to wait longer)" \
		"es-join: 1 late event written to $T/late (behind the watermark by up to 2s; --lateness)" \
		'{"program":"es-join","in":4,"out":1,"bad":0,"late":1,"dropped":0,"filtered":1,"matched":1,"unmatched":1,"evicted":0,"buffered":2,"state_bytes":228}')"
	assert_file_is "$T/late" <<< '{"ts":1000,"k":"a"}'
	# without lateness 3000 is late too: each side's own watermark
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms --stats
	assert_success
	assert_output ''
	assert_stderr "$(printf '%s\n' \
		"es-join: $T/l:2: event time 1970-01-01T00:00:03Z is behind the watermark 1970-01-01T00:00:05Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-join: 2 late events dropped (behind the watermark by up to 4s; --lateness, --late FILE)' \
		'{"program":"es-join","in":4,"out":0,"bad":0,"late":2,"dropped":0,"filtered":2,"matched":0,"unmatched":2,"evicted":0,"buffered":1,"state_bytes":114}')"
}

@test "es-join: a late CSV event goes to --late under its header" {
	printf 'ts,k\n5000,a\n1000,a\n' > "$T/l.csv"
	printf 'ts,k\n5000,a\n' > "$T/r.csv"
	run --separate-stderr es-join --left "$T/l.csv" --right "$T/r.csv" --on k --within 1s --time-unit ms --late "$T/late"
	assert_success
	assert_output "$(printf '%s\n' 'ts,left_ts,k,right_ts' '5000,5000,a,5000')"
	assert_file_is "$T/late" <<< "$(printf 'ts,k\n1000,a')"
}

@test "es-join: names: time fields and shared names take the prefixes; --time-field F=RF; --left-prefix, --right-prefix" {
	printf '{"ts":1000,"k":"a","id":"cam-1","v":1}\n' > "$T/l"
	printf '{"time":"1970-01-01T00:00:01.5Z","k":"a","id":"rdr-4","ts":"x"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms \
		--time-field ts=time --left-prefix L. --right-prefix R.
	assert_success
	assert_stderr ""
	assert_output '{"ts":"1970-01-01T00:00:01.5Z","L.ts":1000,"k":"a","L.id":"cam-1","v":1,"R.time":"1970-01-01T00:00:01.5Z","R.id":"rdr-4","R.ts":"x"}'
}

@test "es-join --on KEY=RKEY: keys of different names are both kept; composite keys" {
	printf '{"ts":1000,"door":"d1","site":1,"temp":37}\n' > "$T/l"
	printf '{"ts":1200,"gate":"d1","site":"1","badge":"B7"}\n{"ts":1300,"gate":"d1","site":2,"badge":"B8"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on door=gate,site --within 1s --time-unit ms
	assert_success
	assert_output '{"ts":1200,"left_ts":1000,"door":"d1","site":1,"temp":37,"right_ts":1200,"gate":"d1","badge":"B7"}'
}

@test "es-join: an event without a key matches nothing: alone at once on an outer side" {
	printf '{"ts":1000,"temp":37}\n{"ts":1000,"door":null}\n' > "$T/l"
	printf '{"ts":1000,"door":null}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on door --within 1h --time-unit ms --type full --stats
	assert_success
	assert_output "$(printf '%s\n' '{"ts":1000,"left_ts":1000,"temp":37}' '{"ts":1000,"right_ts":1000,"door":null}' \
		'{"ts":1000,"left_ts":1000,"door":null}')"
	assert_stderr '{"program":"es-join","in":3,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":0,"unmatched":3,"evicted":0,"buffered":0,"state_bytes":0}'
}

@test "es-join: CSV on both sides, RFC 3339 times, CSV out: lone events have the other side's columns empty" {
	printf 'ts,door,temp\n2027-01-01T00:00:01Z,d1,37.9\n2027-01-01T00:00:09Z,d2,36.0\n' > "$T/l.csv"
	printf 'ts,door,badge\n2027-01-01T00:00:02Z,d1,B7\n2027-01-01T00:00:30Z,d3,B9\n' > "$T/r.csv"
	run --separate-stderr es-join --left "$T/l.csv" --right "$T/r.csv" --on door --within 2s --type full
	assert_success
	assert_stderr ""
	assert_output "$(cat <<'EOF'
ts,left_ts,door,temp,right_ts,badge
2027-01-01T00:00:02Z,2027-01-01T00:00:01Z,d1,37.9,2027-01-01T00:00:02Z,B7
2027-01-01T00:00:09Z,2027-01-01T00:00:09Z,d2,36.0,,
2027-01-01T00:00:30Z,,d3,,2027-01-01T00:00:30Z,B9
EOF
)"
	# -o ndjson: lone events carry only their own fields
	run --separate-stderr es-join --left "$T/l.csv" --right "$T/r.csv" --on door --within 2s --type full -o ndjson
	assert_success
	assert_output "$(cat <<'EOF'
{"ts":"2027-01-01T00:00:02Z","left_ts":"2027-01-01T00:00:01Z","door":"d1","temp":37.9,"right_ts":"2027-01-01T00:00:02Z","badge":"B7"}
{"ts":"2027-01-01T00:00:09Z","left_ts":"2027-01-01T00:00:09Z","door":"d2","temp":36.0}
{"ts":"2027-01-01T00:00:30Z","right_ts":"2027-01-01T00:00:30Z","door":"d3","badge":"B9"}
EOF
)"
}

@test "es-join: --left - reads standard input" {
	run --separate-stderr es-join --left - --right "$JF/badges.ndjson" --on door --within 2s --time-unit ms < "$JF/thermal.ndjson"
	assert_success
	assert_output "$PAIRS"
}

@test "es-join: bad input on either side is reported, dead-lettered and counted; the join goes on" {
	cd "$T"
	printf '%s\n' '{"ts":1000,"k":"a"}' '{"ts":oops}' '{"k":"a"}' '{"ts":2000,"k":"a"}' > left.ndjson
	printf '%s\n' 'ts,k' '1500,a' '1600' 'abc,a' > right.csv
	run --separate-stderr es-join --left left.ndjson --right right.csv --on k --within 1s --time-unit ms \
		--dead-letter dead --stats -o ndjson
	assert_success
	assert_output "$(printf '%s\n' '{"ts":1500,"left_ts":1000,"k":"a","right_ts":1500}' \
		'{"ts":2000,"left_ts":2000,"k":"a","right_ts":1500}')"
	assert_stderr "$(cat <<'EOF'
es-join: left.ndjson:2: invalid JSON at column 7: unexpected character
es-join: left.ndjson:3: missing time field (--time-field ts)
es-join: right.csv:3: CSV row has 1 field, header has 2
es-join: right.csv:4: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)
{"program":"es-join","in":7,"out":2,"bad":4,"late":0,"dropped":0,"filtered":0,"matched":2,"unmatched":0,"evicted":0,"buffered":3,"state_bytes":336}
EOF
)"
	assert_file_is dead <<'EOF'
{"ts":oops}
{"k":"a"}
ts,k
1600
abc,a
EOF
	run --separate-stderr es-join --left left.ndjson --right right.csv --on k --within 1s --time-unit ms --strict
	[ "$status" -eq 3 ]
	assert_output '{"ts":1500,"left_ts":1000,"k":"a","right_ts":1500}'
	assert_stderr 'es-join: left.ndjson:2: invalid JSON at column 7: unexpected character'
}

@test "es-join: an input that cannot be opened: exit 1; the other side's events go as unmatched" {
	run --separate-stderr es-join --left "$T/nope" --right "$JF/badges.ndjson" --on door --within 2s \
		--time-unit ms --type right
	[ "$status" -eq 1 ]
	assert_equal "${stderr_lines[0]}" "es-join: cannot open $T/nope: No such file or directory"
	assert_equal "${#lines[@]}" 3
}

# evicts_oldest OPT N BYTES: five left events of key a, two right ones of
# z, a left join within 1h: at the limit OPT N the oldest buffered events
# are evicted (each alone, the left side outer), one warning, counted;
# BYTES the peak state --stats reports.
evicts_oldest() {
	local out
	printf '{"ts":%d,"k":"a"}\n' 1000 2000 3000 4000 5000 > "$T/l"
	printf '{"ts":%d,"k":"z"}\n' 10000 20000 > "$T/r"
	out=$(printf '{"ts":%d,"left_ts":%d,"k":"a"}\n' 1000 1000 2000 2000 3000 3000 4000 4000 5000 5000)
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1h --time-unit ms \
		--type left "$1" "$2" --stats
	assert_success
	assert_output "$out"
	assert_stderr "$(printf '%s\n' \
		"es-join: $1 $2 reached: evicting the oldest buffered events (counted as \"evicted\" in --stats)" \
		'{"program":"es-join","in":7,"out":5,"bad":0,"late":0,"dropped":0,"filtered":2,"matched":0,"unmatched":7,"evicted":4,"buffered":2,"state_bytes":'"$3}")"
}

@test "es-join --max-buffered: at the limit the oldest event is evicted (alone on an outer side), one warning, counted" {
	evicts_oldest --max-buffered 2 338
}

@test "es-join --max-state: at the limit the oldest events are evicted as at --max-buffered; one warning, counted; the peak bytes in --stats" {
	# a left event holds 108 bytes (2 fields of 48, their names and text,
	# its time), its key 6; the right one 110 and 6: 300 holds one of each
	evicts_oldest --max-state 300 230
	# without a limit: 5 left events and a right one, 662 bytes
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1h --time-unit ms \
		--type left --stats
	assert_stderr '{"program":"es-join","in":7,"out":5,"bad":0,"late":0,"dropped":0,"filtered":2,"matched":0,"unmatched":7,"evicted":0,"buffered":6,"state_bytes":662}'
}

@test "es-join --max-state: an event larger than SIZE alone is still buffered and joins; it goes when the next event needs room" {
	local x
	x=$(printf 'x%.0s' $(seq 2000))
	printf '{"ts":1000,"k":"a","blob":"%s"}\n' "$x" > "$T/l"
	printf '{"ts":1500,"k":"a","v":1}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms \
		--max-state 1k --stats
	assert_success
	assert_output "{\"ts\":1500,\"left_ts\":1000,\"k\":\"a\",\"blob\":\"$x\",\"right_ts\":1500,\"v\":1}"
	# 2160 bytes and its key's 6 held alone; the right event, once paired,
	# is buffered in its place
	assert_stderr "$(printf '%s\n' \
		'es-join: --max-state 1k reached: evicting the oldest buffered events (counted as "evicted" in --stats)' \
		'{"program":"es-join","in":2,"out":1,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":1,"unmatched":0,"evicted":1,"buffered":1,"state_bytes":2166}')"
	# every event larger than SIZE: each one in hand evicts the one before
	printf '{"ts":%d,"k":"a"}\n' 1000 2000 3000 > "$T/l"
	printf '{"ts":%d,"k":"z"}\n' 10000 > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1h --time-unit ms \
		--type left --max-state 50 --stats
	assert_success
	assert_output "$(printf '{"ts":%d,"left_ts":%d,"k":"a"}\n' 1000 1000 2000 2000 3000 3000)"
	assert_stderr "$(printf '%s\n' \
		'es-join: --max-state 50 reached: evicting the oldest buffered events (counted as "evicted" in --stats)' \
		'{"program":"es-join","in":4,"out":3,"bad":0,"late":0,"dropped":1,"filtered":0,"matched":0,"unmatched":4,"evicted":3,"buffered":1,"state_bytes":116}')"
}

@test "es-join --stats: an inner side's event without a match is filtered when it expires, dropped when a limit evicts it" {
	# a (left) is evicted when z comes, z when b comes (--max-buffered 1);
	# b expires at the end of the right input: in = filtered + dropped
	printf '%s\n' '{"ts":1000,"k":"a"}' '{"ts":1200,"k":"b"}' > "$T/l"
	printf '{"ts":1100,"k":"z"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms \
		--max-buffered 1 --stats
	assert_success
	assert_output ''
	assert_stderr "$(printf '%s\n' \
		'es-join: --max-buffered 1 reached: evicting the oldest buffered events (counted as "evicted" in --stats)' \
		'{"program":"es-join","in":3,"out":0,"bad":0,"late":0,"dropped":2,"filtered":1,"matched":0,"unmatched":3,"evicted":2,"buffered":1,"state_bytes":228}')"
}

@test "es-join: the state is bounded by the interval, not the stream (two files read side by side in time)" {
	"$GEN" 8000 --devices 20 --seed 1 --disorder 100 > "$T/l8"
	"$GEN" 8000 --devices 20 --seed 2 --disorder 100 > "$T/r8"
	"$GEN" 32000 --devices 20 --seed 1 --disorder 100 > "$T/l32"
	"$GEN" 32000 --devices 20 --seed 2 --disorder 100 > "$T/r32"
	local n b8 b32
	for n in 8 32; do
		es-join --left "$T/l$n" --right "$T/r$n" --on device --within 200ms --lateness 300ms \
			--stats > /dev/null 2> "$T/stats$n"
	done
	b8=$(jq .buffered "$T/stats8")
	b32=$(jq .buffered "$T/stats32")
	# 200 events/s per side; an interval of 400 ms plus 300 ms of lateness
	[ "$b8" -gt 50 ] && [ "$b8" -lt 600 ] || fail "peak buffered $b8"
	[ "$b32" -le $((b8 + b8 / 5)) ] || fail "peak buffered grew with the stream: $b8 -> $b32"
	[ "$(jq .evicted "$T/stats32")" -eq 0 ]
	[ "$(jq .late "$T/stats32")" -eq 0 ]
}

@test "es-join: the interval join of a left file entirely before the right one buffers nothing" {
	printf '{"ts":%d,"k":"a"}\n' $(seq 1000 1000 50000) > "$T/l"
	printf '{"ts":%d,"k":"a"}\n' $(seq 100000 1000 150000) > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms --type full --stats
	assert_success
	assert_equal "${#lines[@]}" 101
	assert_stderr '{"program":"es-join","in":101,"out":101,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":0,"unmatched":101,"evicted":0,"buffered":1,"state_bytes":118}'
}

# ---- live inputs ----

@test "es-join: two live FIFOs written in turn with pauses: each pair comes out when its second half arrives" {
	skip_if_slow
	start_join --on door --within 5s --time-unit ms --type left --stats
	open_writers
	printf '{"ts":1000,"door":"d1","temp":37.9}\n' >&"$WL"
	sleep 0.3
	assert_file_is "$T/out" < /dev/null
	printf '{"ts":1500,"door":"d1","badge":"B7"}\n' >&"$WR"
	printf '{"ts":1500,"left_ts":1000,"door":"d1","temp":37.9,"right_ts":1500,"badge":"B7"}\n' > "$T/exp"
	await_exp 0.5
	sleep 0.2
	printf '{"ts":2000,"door":"d1","badge":"B8"}\n' >&"$WR"
	printf '{"ts":2000,"left_ts":1000,"door":"d1","temp":37.9,"right_ts":2000,"badge":"B8"}\n' >> "$T/exp"
	await_exp 0.5
	sleep 0.2
	printf '{"ts":2500,"door":"d1","temp":38.1}\n' >&"$WL"
	printf '%s\n' '{"ts":2500,"left_ts":2500,"door":"d1","temp":38.1,"right_ts":1500,"badge":"B7"}' \
		'{"ts":2500,"left_ts":2500,"door":"d1","temp":38.1,"right_ts":2000,"badge":"B8"}' >> "$T/exp"
	await_exp 0.5
	sleep 0.2
	printf '{"ts":3000,"door":"d9","temp":36.0}\n' >&"$WL"
	sleep 0.2
	assert_file_is "$T/out" < "$T/exp"
	kill -0 "$PID" || fail "es-join ended before its inputs did"
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	# the left event of d9 can no longer match: alone at the end
	printf '{"ts":3000,"left_ts":3000,"door":"d9","temp":36.0}\n' >> "$T/exp"
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<< '{"program":"es-join","in":5,"out":5,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":4,"unmatched":1,"evicted":0,"buffered":5,"state_bytes":859}'
}

@test "es-join: a live left FIFO and a right file; one side ending releases the other's events" {
	skip_if_slow
	mkfifo "$T/lf"
	printf '{"ts":1000,"door":"d1","badge":"B7"}\n' > "$T/r"
	setsid es-join --left "$T/lf" --right "$T/r" --on door --within 1s --time-unit ms --type full \
		< /dev/null > "$T/out" 2> "$T/err" 3>&- &
	PID=$!
	BG="$BG $PID"
	exec {WL}> "$T/lf"
	# the right file ended: a left event that does not match is alone at once
	printf '{"ts":1500,"door":"d1","temp":1}\n{"ts":5000,"door":"d1","temp":2}\n' >&"$WL"
	printf '%s\n' '{"ts":1500,"left_ts":1500,"door":"d1","temp":1,"right_ts":1000,"badge":"B7"}' \
		'{"ts":5000,"left_ts":5000,"door":"d1","temp":2}' > "$T/exp"
	await_exp 0.5
	exec {WL}>&-
	WL=""
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
}

@test "es-join --idle: a silent side's watermark follows the wall clock; the other side's events go alone" {
	skip_if_slow
	start_join --on door --within 1s --time-unit ms --type left --idle 300ms --late "$T/late" --stats
	open_writers
	local t0
	printf '{"ts":1000,"door":"d9","badge":"X"}\n' >&"$WR"
	sleep 0.1
	t0=$EPOCHREALTIME
	printf '{"ts":1000,"door":"d1","temp":37.0}\n' >&"$WL"
	# it can match right events up to 2000: once the right side has been
	# silent for a bit over 1 s (and at least --idle)
	sleep 0.7
	[ -s "$T/out" ] && fail "written after $(since "$t0") s, before the right watermark passed 2000"
	printf '{"ts":1000,"left_ts":1000,"door":"d1","temp":37.0}\n' > "$T/exp"
	await_exp 1
	# the right watermark moved on with the clock: an old right event is late
	printf '{"ts":1500,"door":"d1","badge":"B7"}\n' >&"$WR"
	kill -0 "$PID" || fail "es-join ended before its inputs did"
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/late" <<< '{"ts":1500,"door":"d1","badge":"B7"}'
	# the right watermark followed the wall clock: its value varies
	sed -E 's/watermark [^ ]+Z:/watermark W:/; s/up to [^;]+;/up to D;/' "$T/err" > "$T/err.masked"
	assert_file_is "$T/err.masked" <<EOF
es-join: $T/rf:2: event time 1970-01-01T00:00:01.500Z is behind the watermark W: written to the --late file (further late events are counted; --lateness to wait longer)
es-join: 1 late event written to $T/late (behind the watermark by up to D; --lateness)
{"program":"es-join","in":3,"out":1,"bad":0,"late":1,"dropped":0,"filtered":1,"matched":0,"unmatched":2,"evicted":0,"buffered":2,"state_bytes":348}
EOF
}

@test "es-join without --idle: a quiet side holds the other side's events until the end" {
	skip_if_slow
	start_join --on door --within 100ms --time-unit ms --type left
	open_writers
	printf '{"ts":1000,"door":"d9"}\n' >&"$WR"
	printf '{"ts":1000,"door":"d1"}\n' >&"$WL"
	sleep 1
	assert_file_is "$T/out" < /dev/null
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" <<< '{"ts":1000,"left_ts":1000,"door":"d1"}'
}

# sigterm_drops TYPE LEFT...: on live inputs, the LEFT events (d1 at 1000
# first) and a right one (d1 at 1200) joined by TYPE within 1s, then
# SIGTERM: exit 0, the one pair written, and on stderr what stdin says (the
# buffered events dropped, --stats).
sigterm_drops() {
	local type=$1 err
	shift
	err=$(cat)
	skip_if_slow
	start_join --on door --within 1s --time-unit ms --type "$type" --stats
	open_writers
	printf '%s\n' "$@" >&"$WL"
	printf '{"ts":1200,"door":"d1"}\n' >&"$WR"
	printf '{"ts":1200,"left_ts":1000,"door":"d1","right_ts":1200}\n' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<< "$err"
}

@test "es-join: SIGTERM on live inputs: exit 0, buffered events dropped, stats printed" {
	# the buffered events are said: they matched, none would go alone
	sigterm_drops full '{"ts":1000,"door":"d1"}' <<'EOF'
es-join: stopped by a signal: 2 buffered events dropped (0 never matched: counted as dropped)
{"program":"es-join","in":2,"out":1,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":1,"unmatched":0,"evicted":0,"buffered":2,"state_bytes":238}
EOF
}

@test "es-join: SIGTERM counts an inner side's unmatched buffered events as dropped too" {
	# d2 might have matched later: not filtered (the join's answer), dropped
	sigterm_drops inner '{"ts":1000,"door":"d1"}' '{"ts":1100,"door":"d2"}' <<'EOF'
es-join: stopped by a signal: 3 buffered events dropped (1 never matched: counted as dropped)
{"program":"es-join","in":3,"out":1,"bad":0,"late":0,"dropped":1,"filtered":0,"matched":1,"unmatched":0,"evicted":0,"buffered":3,"state_bytes":357}
EOF
}

@test "es-join: the same records from live FIFOs with pauses as from the files" {
	skip_if_slow
	"$GEN" 60 --devices 3 --rate 4 --disorder 200 --seed 5 > "$T/l"
	"$GEN" 60 --devices 3 --rate 4 --disorder 200 --seed 6 > "$T/r"
	es-join --left "$T/l" --right "$T/r" --on device --within 300ms --lateness 500ms --type full \
		> "$T/files" 2> /dev/null
	[ -s "$T/files" ]
	start_join --on device --within 300ms --lateness 500ms --type full
	open_writers
	local i
	exec {a}< "$T/l" {b}< "$T/r"
	for ((i = 0; i < 60; i++)); do
		IFS= read -r line <&"$a"; printf '%s\n' "$line" >&"$WL"
		IFS= read -r line <&"$b"; printf '%s\n' "$line" >&"$WR"
		((i % 10)) || sleep 0.05
	done
	exec {a}<&- {b}<&-
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_equal "$(sort "$T/out")" "$(sort "$T/files")"
}

# ---- differential ----

@test "differential: es-join --type full vs a brute-force interval join in Python (3000 events a side)" {
	"$GEN" 3000 --devices 5 --rate 10 --disorder 150 --seed 11 > "$T/l"
	"$GEN" 3000 --devices 5 --rate 10 --disorder 150 --seed 12 > "$T/r"
	es-join --left "$T/l" --right "$T/r" --on device --within=-300ms,200ms --lateness 1s \
		--time-unit ms --type full --stats > "$T/out" 2> "$T/stats"
	[ "$(jq .late "$T/stats")" -eq 0 ]
	run python3 - "$T/l" "$T/r" "$T/out" <<'PY'
import json, sys
from collections import Counter
L = [json.loads(x) for x in open(sys.argv[1])]
R = [json.loads(x) for x in open(sys.argv[2])]
def name(side, k, other):
    p = "left_" if side == 0 else "right_"
    if k == "ts" or (k != "device" and k in other):
        return p + k
    return k
def rec(l, r):
    o = {"ts": max(l["ts"], r["ts"]) if l and r else (l or r)["ts"]}
    lk = set(L[0]); rk = set(R[0])
    if l:
        for k, v in l.items(): o[name(0, k, r or rk)] = v
    if r:
        for k, v in r.items():
            if l and k == "device": continue
            o[name(1, k, l or lk)] = v
    return json.dumps(o, sort_keys=True)
exp = Counter()
lm = [False] * len(L); rm = [False] * len(R)
for i, l in enumerate(L):
    for j, r in enumerate(R):
        if l["device"] == r["device"] and -300 <= r["ts"] - l["ts"] <= 200:
            exp[rec(l, r)] += 1; lm[i] = rm[j] = True
exp.update(rec(l, None) for i, l in enumerate(L) if not lm[i])
exp.update(rec(None, r) for j, r in enumerate(R) if not rm[j])
got = Counter(json.dumps(json.loads(x), sort_keys=True) for x in open(sys.argv[3]))
print(sum(exp.values()), sum(got.values()), exp == got)
PY
	assert_success
	assert_output --regexp '^[0-9]+ [0-9]+ True$'
	# many to many: more pairs than events
	[ "$(jq .matched "$T/stats")" -gt 3000 ]
}

# ==== usage ====

# ==== --config: --check and reloads ====

@test "es-join --check: a good configuration exits 0 and reads nothing (the table is loaded); a bad one or a table that cannot load exits 2" {
	cd "$T"
	mkfifo in lf rf
	printf 'badge,name\nB7,AAA\n' > t.csv
	printf 'table = t.csv\non = badge\ntype = left\n' > j.conf
	# stdin a FIFO nobody writes, opened read-write so that opening it
	# does not wait: a program that read it would hang
	run --separate-stderr timeout 30 es-join --config j.conf --check <> in
	assert_success
	assert_output ''
	assert_stderr ''
	run --separate-stderr timeout 30 es-join --config j.conf --check no-such-input <> in
	assert_success
	assert_stderr ''
	# the streams: the inputs are not opened, --late is not created
	printf 'left = lf\nright = rf\non = door\nwithin = 2s\nlate = late.ndjson\n' > s.conf
	run --separate-stderr timeout 30 es-join --config s.conf --check <> in
	assert_success
	assert_stderr ''
	[ ! -e late.ndjson ] || fail "--check created the --late file"
	# a table that does not load is a bad configuration
	printf 'table = none.csv\non = badge\n' > j.conf
	run --separate-stderr timeout 30 es-join --config j.conf --check <> in
	assert_failure 2
	assert_output ''
	assert_stderr 'es-join: cannot load table: none.csv: No such file or directory'
	printf 'badge,name\nB7,AAA,x\n' > t.csv
	printf 'table = t.csv\non = badge\n' > j.conf
	run --separate-stderr timeout 30 es-join --config j.conf --check <> in
	assert_failure 2
	assert_stderr 'es-join: cannot load table: t.csv:2: CSV row has 3 fields, header has 2'
	printf 'left = lf\nright = rf\non = door\n' > s.conf
	run --separate-stderr timeout 30 es-join --config s.conf --check <> in
	assert_failure 2
	assert_stderr "es-join: --within is needed with --left and --right
Try 'es-join --help' for more information."
	run --separate-stderr es-join --watch-config -t t.csv -k badge
	assert_failure 2
	assert_stderr "es-join: --watch-config goes with --config
Try 'es-join --help' for more information."
}

@test "es-join --config --table: SIGHUP applies a new table, key and type from the next record; none lost or doubled" {
	skip_if_slow
	cd "$T"
	printf 'badge,name\nB7,AAA\n' > t.csv
	printf 'badge,name\nB7,BBB\nB8,CCC\n' > t2.csv
	printf 'table = t.csv\non = badge\n' > j.conf
	start_bg es-join --config j.conf --stats
	open_writer
	printf '{"badge":"B7"}\n{"badge":"B8"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' > exp
	await_exp 3
	# another table, the input's key under another name, unmatched kept
	printf 'table = t2.csv\non = b=badge\ntype = left\n' > j.conf
	kill -HUP "$PID"
	await_err 'reloaded:' 5
	printf '{"b":"B8"}\n{"b":"B9"}\n{"badge":"B7"}\n' >&"$W"
	printf '{"b":"B8","name":"CCC"}\n{"b":"B9"}\n{"badge":"B7"}\n' >> exp
	await_exp 3
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is out < exp
	assert_file_is err <<'EOF'
es-join: --config j.conf reloaded: --table t2.csv (loaded, 2 rows) --on b=badge --type left
{"program":"es-join","in":5,"out":4,"bad":0,"late":0,"dropped":0,"filtered":1,"matched":2,"unmatched":3,"table_rows":2,"reloads":1}
EOF
}

@test "es-join --config --table: a table that cannot load, or a change of mode, refuses the whole reload; the running one stays" {
	skip_if_slow
	cd "$T"
	printf 'badge,name\nB7,AAA\n' > t.csv
	printf 'table = t.csv\non = badge\n' > j.conf
	start_bg es-join --config j.conf --stats
	open_writer
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' > exp
	await_exp 3
	# the new type would pass B9: refused with the table, B9 still filtered
	printf 'table = none.csv\non = badge\ntype = left\n' > j.conf
	kill -HUP "$PID"
	await_err 'keeping the running configuration' 5
	printf '{"badge":"B9"}\n{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' >> exp
	await_exp 3
	printf 'left = a\nright = b\non = badge\nwithin = 1s\n' > j.conf
	kill -HUP "$PID"
	await_err 'between --table' 5
	printf '{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' >> exp
	await_exp 3
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is out < exp
	# each SIGHUP reloaded the running table too
	assert_file_is err <<'EOF'
es-join: cannot reload --config j.conf: cannot load table: none.csv: No such file or directory; keeping the running configuration
es-join: cannot reload --config j.conf: a reload cannot change between --table and --left/--right; keeping the running configuration
{"program":"es-join","in":4,"out":3,"bad":0,"late":0,"dropped":0,"filtered":1,"matched":3,"unmatched":1,"table_rows":1,"reloads":2}
EOF
}

@test "es-join --config --watch-config: a changed file is reloaded on a quiet input, without SIGHUP; the table is not reloaded for it" {
	skip_if_slow
	cd "$T"
	printf 'badge,name\nB7,AAA\n' > t.csv
	printf 'table = t.csv\non = badge\n' > j.conf
	start_bg es-join --config j.conf --watch-config --stats
	open_writer
	printf '{"badge":"B7"}\n{"badge":"B9"}\n' >&"$W"
	printf '{"badge":"B7","name":"AAA"}\n' > exp
	await_exp 3
	printf 'table = t.csv\non = badge\ntype = left\ntable-prefix = t_\n' > j.conf
	touch -d '+1 minute' j.conf
	await_err 'reloaded:' 5
	printf '{"badge":"B7"}\n{"badge":"B9"}\n' >&"$W"
	printf '{"badge":"B7","t_name":"AAA"}\n{"badge":"B9"}\n' >> exp
	await_exp 3
	# the type alone: the table stays as loaded
	printf 'table = t.csv\non = badge\ntable-prefix = t_\n' > j.conf
	touch -d '+2 minutes' j.conf
	await_err 'unchanged' 5
	printf '{"badge":"B9"}\n{"badge":"B7"}\n' >&"$W"
	printf '{"badge":"B7","t_name":"AAA"}\n' >> exp
	await_exp 3
	close_writer
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is out < exp
	assert_file_is err <<'EOF'
es-join: --config j.conf reloaded: --table t.csv (loaded, 1 row) --on badge --type left --table-prefix t_
es-join: --config j.conf reloaded: --table t.csv (unchanged, 1 row) --on badge --type inner --table-prefix t_
{"program":"es-join","in":6,"out":4,"bad":0,"late":0,"dropped":0,"filtered":2,"matched":3,"unmatched":3,"table_rows":1,"reloads":1}
EOF
}

@test "es-join --config --left/--right: the same join definition keeps the buffered events; a new one ends them as at the end of input" {
	skip_if_slow
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = full\n' > "$T/s.conf"
	start_join --config "$T/s.conf" --stats
	open_writers
	# the pair shows that all three were read (a2 came before a1)
	printf '{"ts":1000,"door":"d2","a":2}\n{"ts":1000,"door":"d1","a":1}\n' >&"$WL"
	printf '{"ts":1200,"door":"d1","b":1}\n' >&"$WR"
	printf '{"ts":1200,"left_ts":1000,"door":"d1","a":1,"right_ts":1200,"b":1}\n' > "$T/exp"
	await_exp 3
	# a lateness is no new definition: a1 is still there for b2
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = full\nlateness = 500ms\n' > "$T/s.conf"
	kill -HUP "$PID"
	await_err 'reloaded:' 5
	printf '{"ts":1400,"door":"d1","b":2}\n' >&"$WR"
	printf '{"ts":1400,"left_ts":1000,"door":"d1","a":1,"right_ts":1400,"b":2}\n' >> "$T/exp"
	await_exp 3
	# a new interval: the four events go as at the end (a2 alone), then
	# a3 and b3 pair only with each other
	printf 'on = door\nwithin = 100ms\ntime-unit = ms\ntype = full\n' > "$T/s.conf"
	kill -HUP "$PID"
	printf '{"ts":1000,"left_ts":1000,"door":"d2","a":2}\n' >> "$T/exp"
	await_exp 5
	printf '{"ts":1500,"door":"d1","a":3}\n' >&"$WL"
	printf '{"ts":1550,"door":"d1","b":3}\n' >&"$WR"
	printf '{"ts":1550,"left_ts":1500,"door":"d1","a":3,"right_ts":1550,"b":3}\n' >> "$T/exp"
	await_exp 3
	# other inputs: refused
	printf 'on = door\nwithin = 100ms\nleft = %s\n' "$T/other" > "$T/s.conf"
	kill -HUP "$PID"
	await_err 'keeping the running configuration' 5
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOF
es-join: --config $T/s.conf reloaded: the join definition is unchanged: 3 buffered events kept
es-join: --config $T/s.conf reloaded: a new join definition: 4 buffered events ended as at the end of input (1 written alone)
es-join: cannot reload --config $T/s.conf: a reload cannot change the inputs --left and --right (it may swap them); keeping the running configuration
{"program":"es-join","in":6,"out":4,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":3,"unmatched":1,"evicted":0,"buffered":4,"state_bytes":669}
EOF
}

@test "es-join --config --left/--right: a lower --max-state evicts the oldest buffered events at once; a bad SIZE is refused" {
	skip_if_slow
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = full\n' > "$T/s.conf"
	start_join --config "$T/s.conf" --stats
	open_writers
	# 162 bytes an event (3 fields), 7 a key: 507 held after b1
	printf '{"ts":1000,"door":"d2","a":2}\n{"ts":1000,"door":"d1","a":1}\n' >&"$WL"
	printf '{"ts":1200,"door":"d1","b":1}\n' >&"$WR"
	printf '{"ts":1200,"left_ts":1000,"door":"d1","a":1,"right_ts":1200,"b":1}\n' > "$T/exp"
	await_exp 3
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = full\nmax-state = 2x\n' > "$T/s.conf"
	kill -HUP "$PID"
	await_err 'keeping the running configuration' 5
	# 200: a2 (alone: it never matched) and a1 go, b1 stays
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = full\nmax-state = 200\n' > "$T/s.conf"
	kill -HUP "$PID"
	printf '{"ts":1000,"left_ts":1000,"door":"d2","a":2}\n' >> "$T/exp"
	await_exp 5
	await_err 'reloaded:' 5
	# a3 pairs with b1, then b1 goes to make room for a3
	printf '{"ts":1300,"door":"d1","a":3}\n' >&"$WL"
	printf '{"ts":1300,"left_ts":1300,"door":"d1","a":3,"right_ts":1200,"b":1}\n' >> "$T/exp"
	await_exp 3
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOF
es-join: cannot reload --config $T/s.conf: invalid argument '2x' for --max-state: expected a size > 0 (bytes, or with K, M or G); keeping the running configuration
es-join: --max-state 200 reached: evicting the oldest buffered events (counted as "evicted" in --stats)
es-join: --config $T/s.conf reloaded: the join definition is unchanged: 3 buffered events kept; --max-state 200: the 2 oldest evicted
{"program":"es-join","in":4,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":2,"unmatched":1,"evicted":3,"buffered":3,"state_bytes":507}
EOF
}

@test "es-join --config --left/--right: swapping the sides is a new definition; the inputs change roles from the next event" {
	skip_if_slow
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = left\n' > "$T/s.conf"
	start_join --config "$T/s.conf" --stats
	open_writers
	# the pair shows that the three were read (a0 came before a1)
	printf '{"ts":1000,"door":"d9","a":0}\n{"ts":1000,"door":"d1","a":1}\n' >&"$WL"
	printf '{"ts":1100,"door":"d1","b":1}\n' >&"$WR"
	printf '{"ts":1100,"left_ts":1000,"door":"d1","a":1,"right_ts":1100,"b":1}\n' > "$T/exp"
	await_exp 3
	printf 'on = door\nwithin = 1s\ntime-unit = ms\ntype = left\nleft = %s\nright = %s\n' \
		"$T/rf" "$T/lf" > "$T/s.conf"
	kill -HUP "$PID"
	# a0 was left and never matched: alone, with the left prefix
	printf '{"ts":1000,"left_ts":1000,"door":"d9","a":0}\n' >> "$T/exp"
	await_exp 5
	# now b2 (of $T/rf) is the left event, a2 the right one
	printf '{"ts":2000,"door":"d1","b":2}\n' >&"$WR"
	printf '{"ts":2100,"door":"d1","a":2}\n' >&"$WL"
	printf '{"ts":2100,"left_ts":2000,"door":"d1","b":2,"right_ts":2100,"a":2}\n' >> "$T/exp"
	await_exp 3
	close_writers
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<EOF
es-join: --config $T/s.conf reloaded: a new join definition: 3 buffered events ended as at the end of input (1 written alone)
{"program":"es-join","in":5,"out":3,"bad":0,"late":0,"dropped":0,"filtered":0,"matched":2,"unmatched":1,"evicted":0,"buffered":3,"state_bytes":507}
EOF
}

@test "es-join: usage errors name the option and why, exit 2" {
	local -a cases=(
		'|either --table, or --left and --right, is needed'
		'-t t.csv|--on is needed: the key field(s) to join on'
		'-t t.csv --left a -k x|--table and --left/--right do not go together'
		'-t t.csv -k x --within 1s|--within goes with --left and --right'
		'-t t.csv -k x --lateness 1s|--lateness goes with --left and --right'
		'-t t.csv -k x --idle 1s|--idle goes with --left and --right'
		'-t t.csv -k x --late f|--late goes with --left and --right'
		'-t t.csv -k x --max-buffered 5|--max-buffered goes with --left and --right'
		'-t t.csv -k x --max-state 1M|--max-state goes with --left and --right'
		'-t t.csv -k x --left-prefix a_|--left-prefix goes with --left and --right'
		'-t t.csv -k x --right-prefix b_|--right-prefix goes with --left and --right'
		'-t t.csv -k x --time-field t|--time-field goes with --left and --right'
		'-t t.csv -k x --time-unit ms|--time-unit goes with --left and --right'
		'-t t.csv -k x --type full|--type full goes with --left and --right'
		'-t t.csv -k x --type right|--type right goes with --left and --right'
		'-t t.csv -k x --type outer|invalid argument '"'outer'"' for --type: expected inner, left, right or full'
		'-t - -k x|--table must name a file, not standard input'
		'-t t.csv -k a,,b|invalid --on '"'a,,b'"' at column 3: expected a field name or a quoted key'
		'-t t.csv -k a=|invalid --on '"'a='"' at column 3: expected a field name or a quoted key'
		'-t t.csv -k a;b|invalid --on '"'a;b'"' at column 2: expected '"','"' or '"'='"''
		'--left a --right b -k x --within 1s --table-prefix p|--table-prefix goes with --table'
		'--left a -k x --within 1s|--right is needed too'
		'--right b -k x --within 1s|--left is needed too'
		'--left a --right b -k x --within 1s f|with --left and --right, no FILE arguments'
		'--left - --right - -k x --within 1s|--left and --right cannot both be standard input'
		'--left a --right b -k x|--within is needed with --left and --right'
		'--left a --right b -k x --within 5x|invalid duration '"'5x'"' for --within: unknown unit in duration (use ms, s, m, h, d)'
		'--left a --right b -k x --within -1s|invalid duration '"'-1s'"' for --within: negative duration'
		'--left a --right b -k x --within 5s,-2s|invalid --within '"'5s,-2s'"': LOW must not exceed HIGH'
		'--left a --right b -k x --within 1s,x|invalid duration '"'x'"' for --within: expected a number in duration'
		'--left a --right b -k x --within 1s --lateness -1s|invalid duration '"'-1s'"' for --lateness: negative duration'
		'--left a --right b -k x --within 1s --idle 0|invalid duration '"'0'"' for --idle: must be above 0'
		'--left a --right b -k x --within 1s --max-buffered 0|invalid argument '"'0'"' for --max-buffered: expected a count > 0'
		'--left a --right b -k x --within 1s --max-state 0|invalid argument '"'0'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--left a --right b -k x --within 1s --max-state 12q|invalid argument '"'12q'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--left a --right b -k x --within 1s --max-state M|invalid argument '"'M'"' for --max-state: expected a size > 0 (bytes, or with K, M or G)'
		'--left a --right b -k x --within 1s --time-unit h|invalid argument '"'h'"' for --time-unit: expected s, ms, us, ns or auto'
		'--left a --right b -k x --within 1s --time-field a,b|invalid --time-field '"'a,b'"': one field, or F=RF'
		'--left a --right b -k x --within 1s --left-prefix p --right-prefix p|--left-prefix and --right-prefix must differ'
		'--left a --right b -k x --within 1s --left-prefix=|--left-prefix and --right-prefix must not be empty'
		'--left a --right b -k x --within 1s -o xml|invalid argument '"'xml'"' for -o/--output-format: expected ndjson, csv or influx'
	)
	assert_usage_errors es-join "${cases[@]}"
}

@test "es-join: an unknown option or a missing argument: getopt's message and the hint, exit 2" {
	assert_unknown_option es-join --table t.csv
	run --separate-stderr es-join --within
	[ "$status" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "es-join: option '--within' requires an argument"
}

@test "es-join --help: usage, every option, examples; exit 0" {
	run --separate-stderr es-join --help
	assert_success
	assert_stderr ""
	assert_line --index 0 'Usage: es-join --table FILE --on KEYS [OPTION]... [FILE]...'
	assert_line --index 1 '  or:  es-join --left A --right B --on KEYS --within D [OPTION]...'
	assert_line --regexp '^ +-k, --on '
	assert_line --regexp '^ +-t, --table '
	assert_line --regexp '^ +es-join --left .+ --within '
	assert_output --partial 'below 1e11 s, 1e14 ms,'
}

@test "es-join: every long option is in --help, in man/es-join.1 and in this file" {
	assert_long_options_documented es-join \
		table on type table-prefix left right within time-field time-unit lateness late \
		idle max-buffered max-state left-prefix right-prefix input-format output-format dead-letter \
		strict stats help version config check watch-config
}

@test "es-join --version" {
	assert_version es-join
}

@test "man/es-join.1 is clean for groff -man -ww" {
	assert_man_clean es-join
}

@test "es-join --config: sides swapped before the right input is first read: each input is read once, in its new role" {
	skip_if_slow
	# The left input starts with 4000 lines without a time: bad lines keep
	# es-join on that side (it has no event yet), and go to a dead-letter
	# FIFO that nobody reads yet, where es-join waits, the right input not
	# yet opened. The reload that swaps the sides comes then. (The readers
	# open their file at the first read, by the name's address given at
	# start: the side's own field, swapped, named the other input, so the
	# new left side opened the old left input again.)
	awk 'BEGIN { for (i = 0; i < 4000; i++)
		printf "{\"door\":\"d0\",\"pad\":\"%090d\"}\n", i }' > "$T/a"
	printf '{"ts":1000,"door":"d1","a":1}\n' >> "$T/a"
	printf '{"ts":1500,"door":"d1","b":1}\n' > "$T/b"
	printf 'on = door\nwithin = 0,1s\ntime-unit = ms\ntype = full\n' > "$T/s.conf"
	mkfifo "$T/dl"
	exec {W}<> "$T/dl"	# the dead letters' reader, reading nothing yet
	setsid es-join --left "$T/a" --right "$T/b" --config "$T/s.conf" \
		--dead-letter "$T/dl" --stats < /dev/null > "$T/out" 2> "$T/err" 3>&- &
	PID=$!
	BG="$BG $PID"
	await_err 'missing time field' 5
	printf 'on = door\nwithin = 0,1s\ntime-unit = ms\ntype = full\nleft = %s\nright = %s\n' \
		"$T/b" "$T/a" > "$T/s.conf"
	kill -HUP "$PID"
	# the reader must not inherit the test's own end of the FIFO, or it
	# never sees the end of it and outlives the test
	cat "$T/dl" > /dev/null 3>&- {W}<&- &
	exec {W}<&-
	W=""
	await_exit "$PID"
	[ "$st" -eq 0 ]
	# b1 is now the left event and a1 the right one, 500 ms before it:
	# outside 0,1s, so both alone, with their new prefixes
	assert_file_is "$T/out" <<EOF2
{"ts":1000,"right_ts":1000,"door":"d1","a":1}
{"ts":1500,"left_ts":1500,"door":"d1","b":1}
EOF2
	run grep -c 'missing time field' "$T/err"
	assert_output 4000
	run grep -v 'missing time field' "$T/err"
	assert_output "es-join: --config $T/s.conf reloaded: a new join definition: 0 buffered events ended as at the end of input (0 written alone)
{\"program\":\"es-join\",\"in\":4002,\"out\":2,\"bad\":4000,\"late\":0,\"dropped\":0,\"filtered\":0,\"matched\":0,\"unmatched\":2,\"evicted\":0,\"buffered\":1,\"state_bytes\":169}"
}

# ---- one bad clock (--max-ahead) ----

@test "es-join --left/--right: readings dated 9999 and 2100 on either side are dead-lettered; the pairs as without them" {
	printf '%s\n' '{"ts":"2027-01-01T00:00:01Z","k":"a","x":1}' '{"ts":"2027-01-01T00:00:05Z","k":"b","x":2}' \
		'{"ts":"2027-01-01T00:00:09Z","k":"a","x":3}' > "$T/l"
	printf '%s\n' '{"ts":"2027-01-01T00:00:02Z","k":"a","y":1}' '{"ts":"2027-01-01T00:00:06Z","k":"b","y":2}' \
		'{"ts":"2027-01-01T00:00:10Z","k":"a","y":3}' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 2s --type full
	assert_success
	assert_stderr ''
	printf '%s\n' "$output" > "$T/exp"
	{ echo '{"ts":"9999-12-31T23:59:59Z","k":"a","x":9}'; sed -n 1,2p "$T/l"
	  echo '{"ts":"2100-01-01T00:00:00Z","k":"b","x":8}'; sed -n 3p "$T/l"; } > "$T/l2"
	{ sed -n 1,2p "$T/r"; echo '{"ts":"9999-12-31T23:59:59Z","k":"b","y":9}'; sed -n 3p "$T/r"; } > "$T/r2"
	run --separate-stderr es-join --left "$T/l2" --right "$T/r2" --on k --within 2s --type full --dead-letter "$T/dl"
	assert_success
	assert_output "$(cat "$T/exp")"
	assert_stderr "$(printf '%s\n' \
		"es-join: $T/l2:1: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:01Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-join: $T/l2:4: time 2100-01-01T00:00:00Z is more than 1d ahead of the stream's time 2027-01-01T00:00:05Z, and the events after it did not confirm the jump (--max-ahead)" \
		"es-join: $T/r2:3: time 9999-12-31T23:59:59Z is more than 1d ahead of the stream's time 2027-01-01T00:00:06Z, and the events after it did not confirm the jump (--max-ahead)")"
	printf '%s\n' '{"ts":"9999-12-31T23:59:59Z","k":"a","x":9}' '{"ts":"2100-01-01T00:00:00Z","k":"b","x":8}' \
		'{"ts":"9999-12-31T23:59:59Z","k":"b","y":9}' | assert_file_is "$T/dl"
}

@test "es-join --max-ahead 0: the rule is off; a far-future event moves its side's watermark" {
	printf '%s\n' '{"ts":1000,"k":"a"}' '{"ts":253402300799000,"k":"b"}' '{"ts":2000,"k":"a"}' > "$T/l"
	printf '{"ts":1500,"k":"a"}\n' > "$T/r"
	run --separate-stderr es-join --left "$T/l" --right "$T/r" --on k --within 1s --time-unit ms --max-ahead 0
	assert_success
	assert_output '{"ts":1500,"left_ts":1000,"k":"a","right_ts":1500}'
	assert_stderr "$(printf '%s\n' \
		"es-join: $T/l:3: event time 1970-01-01T00:00:02Z is behind the watermark 9999-12-31T23:59:59Z: dropped as late (further late events are counted; --lateness to wait longer, --late FILE to keep them)" \
		'es-join: 1 late event dropped (behind the watermark by up to 2932896d23h59m57s; --lateness, --late FILE)')"
}

@test "es-join: SIGTERM says how many buffered events are dropped, and how many an outer side never wrote alone" {
	skip_if_slow
	start_join --on door --within 1s --time-unit ms --type left --stats
	open_writers
	printf '%s\n' '{"ts":1000,"door":"d1"}' '{"ts":1100,"door":"d2"}' >&"$WL"
	printf '{"ts":1200,"door":"d1"}\n' >&"$WR"
	printf '{"ts":1200,"left_ts":1000,"door":"d1","right_ts":1200}\n' > "$T/exp"
	await_exp
	kill -TERM "$PID"
	await_exit "$PID"
	[ "$st" -eq 0 ]
	assert_file_is "$T/out" < "$T/exp"
	assert_file_is "$T/err" <<'EOF'
es-join: stopped by a signal: 3 buffered events dropped (1 never matched: counted as dropped)
{"program":"es-join","in":3,"out":1,"bad":0,"late":0,"dropped":1,"filtered":0,"matched":1,"unmatched":0,"evicted":0,"buffered":3,"state_bytes":357}
EOF
}
