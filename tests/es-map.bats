#!/usr/bin/env bats
# es-map: assignments (in order, nested paths), --rename, --keep, --drop,
# --time-format, CSV in and out, untouched text kept byte for byte, bad input.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

M="$BATS_TEST_DIRNAME/fixtures/map"

# ---- assignments ----

@test "es-map: new fields are spliced in; the input text is kept byte for byte" {
	run_out es-map 'temp_f = value * 9 / 5 + 32' 'alert = temp_f > 99.5' "$M/readings.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600,"device":"gw-1","value":36.5570,"meta":{ "sensor" : "t1" },"temp_f":97.80260000000001,"alert":false}
	{"ts":1767225601,"device":"gw-2","value":38.0,"seq":7,"temp_f":100.4,"alert":true}
	{ "ts" : 1767225602 , "device" : "gw-1" , "value" : 1e1,"temp_f":50,"alert":false}
	EOF
}

@test "es-map: a later assignment sees the earlier results; a field can be overwritten" {
	run_out es-map 'value = value * 2' 'double = value' 'label = device + "/" + str(value)' <<< '{"device":"gw-1","value":1.25,"n":36.50e0}'
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< '{"device":"gw-1","value":2.5,"n":36.50e0,"double":2.5,"label":"gw-1/2.5"}'
}

@test "es-map: a record that only gains fields is its text with them before its brace; one that has one of them is edited as a tree; all accounted" {
	# 'f = v * 2' 'g = f + 1' only add fields: records without f or g take
	# the quick way (edit_add), the one with g already the tree; the
	# output is the same as the tree's either way.
	run_out es-map --stats 'f = v * 2' 'g = f + 1' <<-'EOF'
	{"v":1}
	  { "v" : 2 , "w":"x" }  
	{}
	{ }
	{"v":3,"g":"old","h":1}
	{"v":"a"}
	{"v":4,}
	{"v":5,"f":{"x":1}}
	{"v":1.5e0,"s":"\u00e9"}
	EOF
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"v":1,"f":2,"g":3}
	  { "v" : 2 , "w":"x","f":4,"g":5}  
	{"f":null,"g":null}
	{"f":null,"g":null}
	{"v":3,"g":7,"h":1,"f":6}
	{"v":5,"f":10,"g":11}
	{"v":1.5e0,"s":"\u00e9","f":3,"g":4}
	EOF
	assert_equal "$stderr" "es-map: stdin:6: field 'v' is a string, a number is needed
es-map: stdin:7: invalid JSON at column 8: expected a string key
{\"program\":\"es-map\",\"in\":9,\"out\":7,\"bad\":2,\"late\":0,\"dropped\":0}"
	# and written as CSV (the tree's way for every record)
	run_out es-map -o csv 'f = v * 2' <<< '{"v":1}'
	assert_file_is "$T/out" <<-'EOF'
	v,f
	1,2
	EOF
}

@test "es-map: a copied field keeps its digits" {
	run_out es-map 'v = value' 'w = value' <<< '{"value":36.5570}'
	assert_file_is "$T/out" <<< '{"value":36.5570,"v":36.5570,"w":36.5570}'
}

@test "es-map: nested paths create objects and splice into existing ones" {
	run_out es-map 'meta.unit = "C"' 'a.b.c = 1' 'm = meta' 'u = meta.unit' "$M/readings.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600,"device":"gw-1","value":36.5570,"meta":{ "sensor" : "t1","unit":"C"},"a":{"b":{"c":1}},"m":{ "sensor" : "t1","unit":"C"},"u":"C"}
	{"ts":1767225601,"device":"gw-2","value":38.0,"seq":7,"meta":{"unit":"C"},"a":{"b":{"c":1}},"m":{"unit":"C"},"u":"C"}
	{ "ts" : 1767225602 , "device" : "gw-1" , "value" : 1e1,"meta":{"unit":"C"},"a":{"b":{"c":1}},"m":{"unit":"C"},"u":"C"}
	EOF
}

@test "es-map: reading inside an assigned object, and into arrays" {
	run_out es-map 'o = r' 'x = o[1]' 'y = o[1].z * 10' 'x.k = y' <<< '{"r":[1,{"z":2}]}'
	assert_file_is "$T/out" <<< '{"r":[1,{"z":2}],"o":[1,{"z":2}],"x":{"z":2,"k":20},"y":20}'
	run_out es-map 'o = r' 'o.k = 2' <<< '{"r":[1]}'
	assert_equal "$stderr" "es-map: stdin:1: cannot set 'o.k': 'o' is not an object"
	run_out es-map 'p = q' 'z = p.a.b' 'p.a.c = z + 1' <<< '{"q":{"a":{"b":41}}}'
	assert_file_is "$T/out" <<< '{"q":{"a":{"b":41}},"p":{"a":{"b":41,"c":42}},"z":41}'
}

@test "es-map: changing an existing member rewrites its object, other members keep their text" {
	run_out es-map 'meta.sensor = "t9"' <<< '{"a": 1.50, "meta":{ "sensor" : "t1", "x" : 2.0 }}'
	assert_file_is "$T/out" <<< '{"a":1.50,"meta":{"sensor":"t9","x":2.0}}'
}

@test "es-map: a missing field yields null; strings are escaped" {
	run_out es-map 'x = nosuch' 's = "a\"b\u00e9"' 't = s' <<< '{}'
	assert_file_is "$T/out" <<< '{"x":null,"s":"a\"bé","t":"a\"bé"}'
}

@test "es-map: quoted keys as targets" {
	run_out es-map '"gw id" = 1' '"a.b" = 2' <<< '{"k":0}'
	assert_file_is "$T/out" <<< '{"k":0,"gw id":1,"a.b":2}'
}

@test "es-map: arguments after the first non-assignment are files" {
	printf '{"v":1}\n' > "$T/a"
	run_out es-map 'w = v + 1' "$T/a" - <<< '{"v":5}'
	assert_file_is "$T/out" <<< "$(printf '{"v":1,"w":2}\n{"v":5,"w":6}')"
}

# ---- CSV ----

@test "es-map: CSV in, CSV out: header from the resulting fields, cells kept" {
	run_out es-map 'temp_f = value * 9 / 5 + 32' 'meta.unit = "C"' "$M/readings.csv"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	ts,device,value,temp_f,meta.unit
	1767225600,gw-1,36.5570,97.80260000000001,C
	1767225601,gw-2,38.0,100.4,C
	1767225602,"gw 3, east",1e1,50,C
	EOF
}

@test "es-map: CSV in, NDJSON out: numbers keep their digits" {
	run_out es-map -o ndjson 'ok = value > 37' --drop ts "$M/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","value":36.5570,"ok":false}
	{"device":"gw-2","value":38.0,"ok":true}
	{"device":"gw 3, east","value":1e1,"ok":false}
	EOF
}

@test "es-map: NDJSON in, CSV out: objects as JSON text" {
	run_out es-map -o csv 'meta.unit = "C"' --drop ts,seq "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	device,value,meta
	gw-1,36.5570,"{ ""sensor"" : ""t1"",""unit"":""C""}"
	gw-2,38.0,"{""unit"":""C""}"
	gw-1,1e1,"{""unit"":""C""}"
	EOF
}

@test "es-map: CSV output: a record with a field the header lacks is bad" {
	run_out es-map -o csv 'x = 1' <<< "$(printf '{"a":1}\n{"b":2}\n{"a":3}')"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< "$(printf 'a,x\n1,1\n3,1')"
	assert_equal "$stderr" "es-map: stdin:2: field 'b' is not in the CSV header"
}

@test "es-map: CSV in, NDJSON out: a cell that is not UTF-8 is bad input" {
	printf 'a,b\n\377,1\n2,3\n' > "$T/in.csv"
	run_out es-map -o ndjson 'c = b' "$T/in.csv"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< '{"a":2,"b":3,"c":3}'
	assert_equal "$stderr" "es-map: $T/in.csv:2: invalid UTF-8 in a CSV field"
}

@test "es-map: a CSV record nothing changed is written byte for byte" {
	run_out es-map --drop nosuch "$M/readings.csv"
	cmp "$T/out" "$M/readings.csv"
}

# ---- --rename, --keep, --drop ----

@test "es-map --rename: in place, replacing a field of the new name; nested and across objects" {
	run_out es-map --rename value:v --rename seq:device --rename meta.sensor:meta.s --rename ts:meta.t "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","v":36.5570,"meta":{"s":"t1","t":1767225600}}
	{"v":38.0,"device":7,"meta":{"t":1767225601}}
	{"device":"gw-1","v":1e1,"meta":{"t":1767225602}}
	EOF
}

@test "es-map --rename on CSV renames the column" {
	run_out es-map --rename value:celsius "$M/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	ts,device,celsius
	1767225600,gw-1,36.5570
	1767225601,gw-2,38.0
	1767225602,"gw 3, east",1e1
	EOF
}

@test "es-map --keep: the record's order, nested paths keep their parents" {
	run_out es-map --keep value,meta.sensor,nosuch,device "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","value":36.5570,"meta":{ "sensor" : "t1" }}
	{"device":"gw-2","value":38.0}
	{"device":"gw-1","value":1e1}
	EOF
	run_out es-map --keep a.x <<< '{"a":{"x":1,"y":2},"b":3}'
	assert_file_is "$T/out" <<< '{"a":{"x":1}}'
}

@test "es-map --drop: top-level and nested; --keep then --drop" {
	run_out es-map --drop ts,meta.sensor --drop seq "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","value":36.5570,"meta":{}}
	{"device":"gw-2","value":38.0}
	{"device":"gw-1","value":1e1}
	EOF
	run_out es-map --keep ts,device --drop ts "$M/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	device
	gw-1
	gw-2
	"gw 3, east"
	EOF
}

@test "es-map: order is assignments, --time-format, --rename, --keep, --drop" {
	run_out es-map 'f = value + 1' --rename f:g --keep g,value,ts --drop value --time-format ms "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"ts":1767225600000,"g":37.557}
	{"ts":1767225601000,"g":39}
	{"ts":1767225602000,"g":11}
	EOF
}

@test "es-map: a record nothing changed is written byte for byte" {
	run_out es-map --drop nosuch --keep ts,device,value,meta,seq "$M/readings.ndjson"
	cmp "$T/out" "$M/readings.ndjson"
}

# ---- --time-format, --time-field, --time-unit ----

@test "es-map --time-format rfc3339, s, ms, us, ns" {
	local f
	run_out es-map --time-format rfc3339 --keep ts "$M/readings.ndjson"
	assert_file_is "$T/out" <<-'EOF'
	{"ts":"2026-01-01T00:00:00Z"}
	{"ts":"2026-01-01T00:00:01Z"}
	{"ts":"2026-01-01T00:00:02Z"}
	EOF
	for f in s ms us ns; do
		run --separate-stderr es-map --time-format "$f" <<< '{"ts":"2026-01-01T00:00:01.5Z"}'
		assert_success
		case $f in
		s) assert_output '{"ts":1767225601}' ;;
		ms) assert_output '{"ts":1767225601500}' ;;
		us) assert_output '{"ts":1767225601500000}' ;;
		ns) assert_output '{"ts":1767225601500000000}' ;;
		esac
	done
}

@test "es-map --time-field and --time-unit; a nested time field" {
	run_out es-map --time-field at --time-unit ms --time-format rfc3339 <<< '{"at":1500,"ts":1}'
	assert_file_is "$T/out" <<< '{"at":"1970-01-01T00:00:01.500Z","ts":1}'
	run_out es-map --time-field m.t --time-format s <<< '{"m":{"t":"2026-01-01T00:00:00+01:00"}}'
	assert_file_is "$T/out" <<< '{"m":{"t":1767222000}}'
}

@test "es-map --time-format on CSV" {
	run_out es-map --time-format rfc3339 "$M/readings.csv"
	assert_file_is "$T/out" <<-'EOF'
	ts,device,value
	2026-01-01T00:00:00Z,gw-1,36.5570
	2026-01-01T00:00:01Z,gw-2,38.0
	2026-01-01T00:00:02Z,"gw 3, east",1e1
	EOF
}

@test "es-map --time-format: a missing or bad time is bad input" {
	run_out es-map --time-format ms <<< "$(printf '{"v":1}\n{"ts":"soon"}\n{"ts":true}\n{"ts":2}')"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< '{"ts":2000}'
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-map: stdin:1: missing time field (--time-field ts)' \
		"es-map: stdin:2: invalid RFC 3339 time: expected a date YYYY-MM-DD (--time-field ts)" \
		'es-map: stdin:3: time field is not a number or an RFC 3339 string (--time-field ts)')"
}

# ---- bad input, --dead-letter, --strict, --stats ----

@test "es-map: bad lines and data errors are reported and skipped" {
	run_out es-map --dead-letter "$T/dead" 'x = value + 1' 'meta.unit = "C"' "$M/bad.ndjson"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF'
	{"device":"gw-1","value":36.5570,"x":37.557,"meta":{"unit":"C"}}
	{"device":"gw-4","value":40,"x":41,"meta":{"unit":"C"}}
	EOF
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-map: $M/bad.ndjson:2: field 'value' is a string, a number is needed" \
		"es-map: $M/bad.ndjson:3: invalid JSON at column 26: unexpected end of line" \
		"es-map: $M/bad.ndjson:5: not a JSON object" \
		"es-map: $M/bad.ndjson:6: cannot set 'meta.unit': 'meta' is not an object")"
	assert_file_is "$T/dead" <<-'EOF'
	{"device":"gw-2","value":"n/a"}
	{"device":"gw-3","value":
	[1,2]
	{"device":"gw-5","value":37,"meta":5}
	EOF
}

@test "es-map: a ragged CSV row is bad input, under its header in the dead letter" {
	run_out es-map --dead-letter "$T/dead" 'y = a' <<< "$(printf 'a,b\n1,2\n3\n4,5')"
	assert_file_is "$T/out" <<< "$(printf 'a,b,y\n1,2,1\n4,5,4')"
	assert_equal "$stderr" "es-map: stdin:3: CSV row has 1 field, header has 2"
	assert_file_is "$T/dead" <<< "$(printf 'a,b\n3')"
}

@test "es-map --strict: the first bad line is fatal, exit 3, records before it written" {
	run_out es-map --strict 'x = value + 1' "$M/bad.ndjson"
	[ "$status" -eq 3 ]
	assert_file_is "$T/out" <<< '{"device":"gw-1","value":36.5570,"x":37.557}'
	assert_equal "$stderr" "es-map: $M/bad.ndjson:2: field 'value' is a string, a number is needed"
}

@test "es-map --stats: in, out, bad" {
	run --separate-stderr es-map --stats 'x = value + 1' "$M/bad.ndjson"
	assert_success
	assert_equal "$(tail -1 <<< "$stderr")" '{"program":"es-map","in":6,"out":3,"bad":3,"late":0,"dropped":0}'
}

@test "es-map: empty input: no output, exit 0" {
	run --separate-stderr es-map 'x = 1' < /dev/null
	assert_success
	assert_output ''
	assert_stderr ''
	run --separate-stderr es-map -o csv 'x = 1' <<< ''
	assert_success
	assert_output ''
}

@test "es-map: a file that cannot be opened: exit 1, the others read" {
	run --separate-stderr es-map 'x = 1' "$T/nope" - <<< '{}'
	[ "$status" -eq 1 ]
	assert_output '{"x":1}'
	assert_stderr "es-map: cannot open $T/nope: No such file or directory"
}

# ---- usage ----

@test "es-map: usage errors exit 2 with a message" {
	run --separate-stderr es-map < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: nothing to do: give an assignment, --rename, --keep, --drop or --time-format\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map 'x = value +' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: syntax error at column 12: unexpected end of expression\n  x = value +\n             ^")"
	run --separate-stderr es-map 'r[0] = 1' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: cannot assign to 'r[0]': array elements cannot be changed\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map --rename a < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: invalid --rename 'a': expected OLD:NEW\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map --keep 'a,,b' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: invalid --keep 'a,,b' at column 3: expected a field name or a quoted key\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map --drop 'a[1]' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: --drop 'a[1]': array elements cannot be changed\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map --time-format iso < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: invalid argument 'iso' for --time-format: expected rfc3339, s, ms, us or ns\nTry 'es-map --help' for more information.")"
	run --separate-stderr es-map --time-unit m --drop a < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-map: invalid argument 'm' for --time-unit: expected s, ms, us, ns or auto\nTry 'es-map --help' for more information.")"
}

@test "es-map --help and --version" {
	run --separate-stderr es-map --help
	assert_success
	assert_line --index 0 'Usage: es-map [OPTION]... [ASSIGNMENT]... [FILE]...'
	local name
	for name in $(long_options_of es-map); do
		assert_output --partial -- "--$name"
	done
	run --separate-stderr es-map --version
	assert_success
	assert_output 'es-map (edgestream) 0.1.0'
}

# ---- pipes and properties ----

@test "es-map big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d}\n", i }' > "$T/big"
	run bash -c 'es-map "x = seq * 2" "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"seq":1,"x":2}'
}

@test "es-map: untouched fields match the input on generated data (jq check)" {
	awk 'BEGIN { srand(7); for (i = 1; i <= 2000; i++)
		printf "{\"seq\":%d,\"value\":%.4f,\"e\":%de-%d,\"s\":\"d%d\"}\n", i, rand() * 100, i, i % 5, i % 13 }' > "$T/gen"
	run_out es-map 'f = value * 9 / 5 + 32' --rename s:dev "$T/gen"
	[ "$status" -eq 0 ]
	# every original number, as text, is still there
	cut -d, -f1-3 "$T/gen" > "$T/want"
	cut -d, -f1-3 "$T/out" > "$T/got"
	cmp "$T/want" "$T/got"
	# f as jq computes it (both print the shortest round-trip double)
	jq -c '(.value * 9 / 5 + 32) as $f | [.seq, $f]' "$T/gen" > "$T/jq"
	jq -c '[.seq, .f]' "$T/out" > "$T/es"
	cmp "$T/jq" "$T/es"
}

@test "es-map: a live pipe gets each record at once; SIGTERM exits 0" {
	skip_if_slow
	mkfifo "$T/fifo"
	setsid es-map 'x = a * 2' < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	local pid=$! i w st
	exec {w}> "$T/fifo"
	printf '{"a":1}\n' >&"$w"
	for i in $(seq 1 100); do [ -s "$T/out" ] && break; sleep 0.02; done
	assert_file_is "$T/out" <<< '{"a":1,"x":2}'
	kill -TERM "$pid"
	wait "$pid" && st=0 || st=$?
	exec {w}>&-
	[ "$st" -eq 0 ]
	assert_file_is "$T/err" < /dev/null
}

@test "es-map --set: assignments as options, run first and in order; a --set that is not one is a usage error" {
	printf '{"value":2}\n' > "$T/in"
	run --separate-stderr es-map --set 'a = value + 1' 'c = b * 10' --set 'b = a * 2' "$T/in"
	assert_success
	assert_output '{"value":2,"a":3,"b":6,"c":60}'
	run --separate-stderr es-map --set 'value > 1' < /dev/null
	assert_failure 2
	assert_stderr "es-map: invalid --set 'value > 1': expected PATH = EXPR
Try 'es-map --help' for more information."
}

# ---- --config reloads ----
# start_live, finish_live, await_out, await_err, rewrite_later and
# live_teardown: test_helper.bash.

teardown() {
	live_teardown
}

@test "es-map --check: good options exit 0 reading nothing; a bad assignment exits 2 with the message" {
	mkfifo "$T/in"
	printf 'set = f = value * 2\ndrop = value\n' > "$T/m.conf"
	# stdin a FIFO nobody writes: a read would block until the timeout
	run --separate-stderr timeout 30 es-map --config "$T/m.conf" --check - "$T/no-such-input" <> "$T/in"
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'set = f = value *\n' > "$T/m.conf"
	run --separate-stderr timeout 30 es-map --config "$T/m.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-map: syntax error at column 12: unexpected end of expression
  f = value *
             ^"
}

@test "es-map --config: SIGHUP replaces the edit from the next record, the guessed time unit kept; a bad file keeps the running edit" {
	skip_if_slow
	printf 'set = f = value * 2\ntime-format = rfc3339\n' > "$T/m.conf"
	start_live es-map --config "$T/m.conf"
	# ms, guessed from the first time value
	printf '{"ts":1700000000000,"value":1}\n' >&"$W"
	await_out 1
	printf 'set = g = value + 1\ndrop = value\ntime-format = rfc3339\n' > "$T/m.conf"
	kill -HUP "$PID"
	await_err "reloaded"
	# the guess is still ms: 5000 (a fresh guess would take seconds)
	# contradicts it, and is bad input, not 1970-01-01T00:00:05Z
	printf '{"ts":5000,"value":1}\n{"ts":1700000005000,"value":1}\n' >&"$W"
	await_out 2
	printf 'set = g = value +\n' > "$T/m.conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	printf '{"ts":1700000006000,"value":2}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"ts":"2023-11-14T22:13:20Z","value":1,"f":2}
	{"ts":"2023-11-14T22:13:25Z","g":2}
	{"ts":"2023-11-14T22:13:26Z","g":3}
	EOF2
	assert_file_is "$T/err" <<-EOF2
	es-map: --config $T/m.conf reloaded: 1 assignments, 0 renames, 0 keep, 1 drop, --time-format
	es-map: stdin:2: time 5000 is seconds by its size, but this input's times are milliseconds (guessed from its first time; say which with --time-unit) (--time-field ts)
	es-map: cannot reload --config $T/m.conf: syntax error at column 12: unexpected end of expression; keeping the running configuration
	EOF2
}

@test "es-map --config: a reload that changes --time-unit or --time-field drops the guessed unit" {
	skip_if_slow
	printf 'time-format = rfc3339\n' > "$T/m.conf"
	start_live es-map --config "$T/m.conf"
	printf '{"ts":1700000000000}\n' >&"$W"
	await_out 1
	printf 'time-format = rfc3339\ntime-field = t\n' > "$T/m.conf"
	kill -HUP "$PID"
	await_err "reloaded"
	# guessed again: seconds
	printf '{"ts":5000,"t":5000}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"ts":"2023-11-14T22:13:20Z"}
	{"ts":5000,"t":"1970-01-01T01:23:20Z"}
	EOF2
	assert_file_is "$T/err" <<< "es-map: --config $T/m.conf reloaded: 0 assignments, 0 renames, 0 keep, 0 drop, --time-format; time unit reset"
}

@test "es-map --watch-config: a changed file is reloaded on a quiet input; the command line's assignments stay" {
	skip_if_slow
	printf 'set = f = 1\n' > "$T/m.conf"
	start_live es-map --config "$T/m.conf" --watch-config 'x = 0'
	printf '{"n":1}\n' >&"$W"
	await_out 1
	printf 'set = f = 2\nrename = n:m\n' | rewrite_later "$T/m.conf"
	await_err "reloaded"
	printf '{"n":2}\n' >&"$W"
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<-'EOF2'
	{"n":1,"f":1,"x":0}
	{"m":2,"f":2,"x":0}
	EOF2
	assert_file_is "$T/err" <<< "es-map: --config $T/m.conf reloaded: 2 assignments, 1 renames, 0 keep, 0 drop, no --time-format"
}

@test "es-map --time-format: times as exports write them: --timezone for times without an offset (DST gap and overlap), +hhmm, the leap second, epochs in strings" {
	printf 'ts,v\n2004-03-10 18:00:00,1\n2027-10-31 02:30:00,2\n2027-03-28 02:30:00,3\n2016-12-31T23:59:60Z,4\n2027-01-01T01:00:00+0100,5\n1798761600000,6\n' > "$T/in.csv"
	run --separate-stderr es-map --timezone Europe/Rome --time-format rfc3339 'x = v' "$T/in.csv"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' 'ts,v,x' '2004-03-10T17:00:00Z,1,1' '2027-10-31T00:30:00Z,2,2' \
		'2027-03-28T01:30:00Z,3,3' '2016-12-31T23:59:59.999999Z,4,4' '2027-01-01T00:00:00Z,5,5' \
		'2027-01-01T00:00:00Z,6,6')"
	# without --timezone: UTC
	run --separate-stderr es-map --time-format ms 'x = 1' <<< "$(printf '{"ts":"2027-01-01 00:00:00"}\n{"ts":"1798761600000"}')"
	assert_success
	assert_stderr ''
	assert_output "$(printf '%s\n' '{"ts":1798761600000,"x":1}' '{"ts":1798761600000,"x":1}')"
	run --separate-stderr es-map --timezone Mars/Base 'x = 1' < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n' "es-map: invalid argument 'Mars/Base' for --timezone: no such zone in /usr/share/zoneinfo (an IANA name such as Europe/Rome, or UTC)" "Try 'es-map --help' for more information.")"
}
