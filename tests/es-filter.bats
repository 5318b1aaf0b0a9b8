#!/usr/bin/env bats
# es-filter: every option, files and formats, and a reader that closes the
# pipe early. The expression language itself is in expr.bats.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

setup() {
	T="$BATS_TEST_TMPDIR"
	# value 5 and 1 and 7, a record without value, one with spacing kept
	printf '{"id":1,"value":5}\n{"id":2,"value":1}\n{ "id" : 3 , "value" : 7 }\n{"id":4}\n' > "$T/in"
}

@test "es-filter: the matching records, byte for byte as they came" {
	run_out es-filter 'value > 3' < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"id":1,"value":5}\n{ "id" : 3 , "value" : 7 }\n' | assert_file_is "$T/out"
}

@test "es-filter: keys that fall in one place of the scanner's key index are told apart" {
	# lib/fieldset.h: a key's place is (length * 7 + first byte) mod 64;
	# "a", "Zx" and "Zy" share one (40), "Zq" too; "Zx" and "a" are
	# wanted (several edges in one place), "Zy" and "Zq" are decoys of the
	# same length and place; b alone in its place, "c" of its length
	printf '%s\n' '{"Zy":9,"a":1,"Zx":2,"Zq":8,"b":3}' \
		'{"Zx":1,"a":1,"b":3}' '{"a":1,"Zy":2,"b":3}' \
		'{"c":3,"Zx":2,"a":1}' > "$T/keys"
	run_out es-filter 'a == 1 && Zx == 2 && b == 3' "$T/keys"
	assert_equal "$status" 0
	printf '%s\n' '{"Zy":9,"a":1,"Zx":2,"Zq":8,"b":3}' | assert_file_is "$T/out"
	# one wanted key alone in the shared place, the decoys around it
	run_out es-filter 'Zx == 2' "$T/keys"
	printf '%s\n' '{"Zy":9,"a":1,"Zx":2,"Zq":8,"b":3}' '{"c":3,"Zx":2,"a":1}' |
		assert_file_is "$T/out"
}

@test "es-filter: no match: no output, exit 0" {
	run --separate-stderr es-filter 'value > 100' "$T/in"
	assert_success
	assert_output ''
	assert_stderr ''
}

@test "es-filter: FILE arguments after EXPR, in order, '-' is stdin" {
	printf '{"id":5,"value":9}\n' > "$T/two"
	run --separate-stderr es-filter 'value > 3' "$T/two" - "$T/in" <<< '{"id":6,"value":4}'
	assert_success
	assert_output "$(printf '{"id":5,"value":9}\n{"id":6,"value":4}\n{"id":1,"value":5}\n{ "id" : 3 , "value" : 7 }')"
	assert_stderr ''
}

@test "es-filter: a file that cannot be opened: exit 1" {
	run --separate-stderr es-filter 'value > 3' "$T/nope"
	[ "$status" -eq 1 ]
	assert_output ''
	assert_stderr "es-filter: cannot open $T/nope: No such file or directory"
}

@test "es-filter: options may follow the expression; '--' ends them" {
	run --separate-stderr es-filter 'value > 3' -c "$T/in"
	assert_success
	assert_output '2'
	run --separate-stderr es-filter -- '-value < -3' "$T/in"
	assert_success
	assert_output "$(printf '{"id":1,"value":5}\n{ "id" : 3 , "value" : 7 }')"
	assert_stderr ''
}

@test "es-filter: missing expression: usage error, exit 2" {
	run --separate-stderr es-filter < /dev/null
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "$(printf "es-filter: missing expression\nTry 'es-filter --help' for more information.")"
	run --separate-stderr es-filter --strict -c < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-filter: missing expression\nTry 'es-filter --help' for more information.")"
}

@test "es-filter: a syntax error: three lines on stderr, exit 2, input not read" {
	run --separate-stderr es-filter 'value >> 3' "$T/nope"
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "$(printf "es-filter: syntax error at column 8: unexpected '>'\n  value >> 3\n         ^")"
}

# ---- -v / --invert ----

@test "es-filter -v: the records for which EXPR is false (missing fields included)" {
	run --separate-stderr es-filter -v 'value > 3' "$T/in"
	assert_success
	assert_output "$(printf '{"id":2,"value":1}\n{"id":4}')"
	assert_stderr ''
}

@test "es-filter --invert: the same" {
	run --separate-stderr es-filter --invert 'value > 3' "$T/in"
	assert_success
	assert_output "$(printf '{"id":2,"value":1}\n{"id":4}')"
}

@test "es-filter -v and EXPR together select every record exactly once" {
	awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "{\"i\":%d%s}\n", i, (i % 7 ? "" : ",\"x\":null") }' > "$T/many"
	es-filter 'i % 3 == 0 || exists(x) && i > 500' "$T/many" > "$T/yes"
	es-filter -v 'i % 3 == 0 || exists(x) && i > 500' "$T/many" > "$T/no"
	# 333 multiples of 3, and 47 multiples of 7 (not of 3) over 500
	[ "$(wc -l < "$T/yes")" -eq 380 ]
	[ "$(wc -l < "$T/no")" -eq 620 ]
	sort "$T/yes" "$T/no" | cmp -s - <(sort "$T/many")
}

# ---- -c / --count ----

@test "es-filter -c: only the number of matching records" {
	run --separate-stderr es-filter -c 'value > 3' "$T/in"
	assert_success
	assert_output '2'
	assert_stderr ''
}

@test "es-filter --count with -v, with no match, and with CSV input (no header)" {
	run --separate-stderr es-filter --count -v 'value > 3' "$T/in"
	assert_success
	assert_output '2'
	run --separate-stderr es-filter --count 'value > 100' "$T/in"
	assert_success
	assert_output '0'
	printf 'a,b\n1,2\n3,4\n5,6\n' > "$T/in.csv"
	run_out es-filter -c 'a > 1' "$T/in.csv"
	[ "$status" -eq 0 ]
	printf '2\n' | assert_file_is "$T/out"
}

@test "es-filter -c: bad records are not counted" {
	printf '{"v":5}\n{"v":"x"}\n{bad}\n{"v":6}\n' > "$T/bad"
	run --separate-stderr es-filter -c 'v > 3' "$T/bad"
	assert_success
	assert_output '2'
	assert_stderr "$(printf "es-filter: %s:2: field 'v' is a string, a number is needed\nes-filter: %s:3: invalid JSON at column 2: expected a string key" "$T/bad" "$T/bad")"
}

@test "es-filter -c over 200000 records" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d}\n", i }' > "$T/big"
	run --separate-stderr es-filter -c 'seq % 3 == 0' "$T/big"
	assert_success
	assert_output '66666'
	assert_stderr ''
}

# ---- -i / -o ----

@test "es-filter on CSV: the header and the matching rows, byte for byte" {
	printf 'id,value,note\n1,5,"a, b"\n2,1,x\n3,7,"say ""hi"""\n' > "$T/in.csv"
	run_out es-filter 'value > 3' < "$T/in.csv"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'id,value,note\n1,5,"a, b"\n3,7,"say ""hi"""\n' | assert_file_is "$T/out"
}

@test "es-filter -o ndjson: CSV in, NDJSON out" {
	printf 'id,value,note\n1,5,"a, b"\n2,1,x\n' > "$T/in.csv"
	run_out es-filter -o ndjson 'value > 3' < "$T/in.csv"
	[ "$status" -eq 0 ]
	printf '{"id":1,"value":5,"note":"a, b"}\n' | assert_file_is "$T/out"
}

@test "es-filter --output-format=csv: NDJSON in, CSV out" {
	run_out es-filter --output-format=csv 'value > 3' < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'id,value\n1,5\n3,7\n' | assert_file_is "$T/out"
}

@test "es-filter -i csv: forced CSV for an input starting with '{'" {
	printf '{x,value\na,5\nb,1\n' > "$T/in.csv"
	run --separate-stderr es-filter -i csv 'value > 3' "$T/in.csv"
	assert_success
	assert_output "$(printf '{x,value\na,5')"
	assert_stderr ''
}

@test "es-filter --input-format ndjson: a first line that is not '{' is bad NDJSON" {
	printf 'x\n{"value":5}\n' > "$T/in2"
	run --separate-stderr es-filter --input-format ndjson 'value > 3' "$T/in2"
	assert_success
	assert_output '{"value":5}'
	assert_stderr "es-filter: $T/in2:1: not a JSON object"
}

@test "es-filter -i/-o with a bad format name: exit 2" {
	run --separate-stderr es-filter -i tsv 'true' < /dev/null
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "$(printf "es-filter: invalid argument 'tsv' for -i/--input-format: expected ndjson, json or csv\nTry 'es-filter --help' for more information.")"
	run --separate-stderr es-filter -o NDJSON 'true' < /dev/null
	[ "$status" -eq 2 ]
	assert_stderr "$(printf "es-filter: invalid argument 'NDJSON' for -o/--output-format: expected ndjson, csv or influx\nTry 'es-filter --help' for more information.")"
}

# ---- --dead-letter, --strict, --stats ----

@test "es-filter --dead-letter: unreadable lines and data errors, raw" {
	printf '{"value":5}\n{"value":"5"}\n{"value":\n{"value":6}\n' > "$T/bad"
	run_out es-filter --dead-letter "$T/dead" 'value > 3' < "$T/bad"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-filter: stdin:2: field 'value' is a string, a number is needed" \
		'es-filter: stdin:3: invalid JSON at column 10: unexpected end of line')"
	printf '{"value":5}\n{"value":6}\n' | assert_file_is "$T/out"
	printf '{"value":"5"}\n{"value":\n' | assert_file_is "$T/dead"
}

@test "es-filter --strict: the first bad line is fatal, exit 3, good records before it written" {
	printf '{"value":5}\n{"value":1}\n{"value":"5"}\n{"value":6}\n' > "$T/bad"
	run_out es-filter --strict 'value > 3' < "$T/bad"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-filter: stdin:3: field 'value' is a string, a number is needed"
	printf '{"value":5}\n' | assert_file_is "$T/out"
}

@test "es-filter --strict: records filtered out are not bad" {
	run --separate-stderr es-filter --strict 'value > 3' "$T/in"
	assert_success
	assert_output "$(printf '{"id":1,"value":5}\n{ "id" : 3 , "value" : 7 }')"
	assert_stderr ''
}

@test "es-filter --stats: in, out, bad, filtered" {
	printf '{"v":5}\n{"v":1}\n{bad}\n{"v":"x"}\n{"v":7}\n' > "$T/bad"
	run --separate-stderr es-filter --stats 'v > 3' "$T/bad"
	assert_success
	assert_output "$(printf '{"v":5}\n{"v":7}')"
	assert_stderr "$(printf '%s\n' \
		"es-filter: $T/bad:3: invalid JSON at column 2: expected a string key" \
		"es-filter: $T/bad:4: field 'v' is a string, a number is needed" \
		'{"program":"es-filter","in":5,"out":2,"bad":2,"late":0,"dropped":0,"filtered":1}')"
}

@test "es-filter --stats with -c and -v" {
	run --separate-stderr es-filter --stats -c 'value > 3' "$T/in"
	assert_success
	assert_output '2'
	assert_stderr '{"program":"es-filter","in":4,"out":2,"bad":0,"late":0,"dropped":0,"filtered":2}'
	run --separate-stderr es-filter --stats -v 'value > 3' "$T/in"
	assert_success
	assert_stderr '{"program":"es-filter","in":4,"out":2,"bad":0,"late":0,"dropped":0,"filtered":2}'
}

@test "es-filter --stats: a record that cannot be converted is bad, not filtered" {
	printf '{"a":1}\n{"b":2}\n{"a":3}\n' > "$T/conv"
	run --separate-stderr es-filter --stats -o csv 'true' "$T/conv"
	assert_success
	assert_output "$(printf 'a\n1\n3')"
	assert_stderr "$(printf '%s\n' \
		"es-filter: $T/conv:2: field 'b' is not in the CSV header" \
		'{"program":"es-filter","in":3,"out":2,"bad":1,"late":0,"dropped":0,"filtered":0}')"
}

# ---- --help, --version, bad options ----

@test "es-filter --help: usage on stdout, exit 0" {
	run --separate-stderr es-filter --help
	assert_success
	assert_stderr ''
	assert_line --index 0 'Usage: es-filter [OPTION]... EXPR [FILE]...'
	assert_line --regexp '^ +es-filter .+'
}

@test "es-filter --help mentions every long option the program declares" {
	run --separate-stderr es-filter --help
	assert_success
	local opts name missing=""
	opts=$(long_options_of es-filter)
	for name in input-format output-format dead-letter strict stats help version invert count; do
		grep -qx -- "$name" <<< "$opts" || fail "option --$name not found in the source"
	done
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing --$name"
	done
	[ -z "$missing" ] || fail "--help does not mention:$missing"
	assert_line --regexp '^ +-v, --invert '
	assert_line --regexp '^ +-c, --count '
	assert_line --regexp '^ +-i, --input-format '
	assert_line --regexp '^ +-o, --output-format '
}

@test "es-filter --help needs no expression" {
	run --separate-stderr es-filter --help
	assert_success
	run --separate-stderr es-filter -c --help 'value >>'
	assert_success
	assert_line --index 0 'Usage: es-filter [OPTION]... EXPR [FILE]...'
	assert_stderr ''
}

@test "es-filter --version (needs no expression)" {
	run --separate-stderr es-filter --version
	assert_success
	assert_output 'es-filter (edgestream) 0.1.0'
	assert_stderr ''
	run --separate-stderr es-filter --version 'value > 1'
	assert_success
	assert_output 'es-filter (edgestream) 0.1.0'
	assert_stderr ''
}

@test "es-filter: an unknown option: getopt's message and the hint, exit 2" {
	assert_unknown_option es-filter 'true'
}

# ---- a reader that closes the pipe ----

@test "es-filter true big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' > "$T/big"
	run bash -c 'es-filter true "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"seq":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
}

@test "es-filter 'seq > 1000' big | head -1 from a pipe: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d}\n", i }' > "$T/big"
	run bash -c 'cat "$1" | es-filter "seq > 1000" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[1]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"seq":1001}'
}

@test "es-filter: CSV inputs with their columns in different orders are each read by name" {
	printf 'id,v\n1,5\n2,0\n' > "$T/one.csv"
	printf 'v,id\n7,3\n0,4\n' > "$T/two.csv"
	printf '{"id":5,"v":9}\n{"id":6,"v":0}\n' > "$T/three.ndjson"
	run_out es-filter 'v > 1' "$T/one.csv" "$T/two.csv" "$T/three.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'id,v\n1,5\n3,7\n5,9\n' | assert_file_is "$T/out"
}

@test "es-filter: an input that cannot be opened is skipped; the others are read; exit 1 at the end" {
	printf '{"value":9}\n' > "$T/two"
	run --separate-stderr es-filter 'value > 3' "$T/nope" "$T/two" "$T/in"
	[ "$status" -eq 1 ]
	assert_output "$(printf '{"value":9}\n{"id":1,"value":5}\n{ "id" : 3 , "value" : 7 }')"
	assert_stderr "es-filter: cannot open $T/nope: No such file or directory"
}

# ---- a path that names no column of a CSV header ----

@test "es-filter: a path that names no column is said once per input, with the nearest name and how a name with '-' is written" {
	printf 'ts,co2-ppm,Temp\n1,1200,20\n2,900,21\n' > "$T/in"
	run --separate-stderr es-filter 'co2-ppm > 1000 || temp > 30 || exists(other) || zzz' "$T/in" "$T/in"
	assert_success
	assert_output ''
	assert_stderr "$(printf '%s\n' \
		"es-filter: $T/in: no column 'co2' (the header has 'co2-ppm': a name with '-' is written .\"co2-ppm\")" \
		"es-filter: $T/in: no column 'ppm' (the header has 'co2-ppm': a name with '-' is written .\"co2-ppm\")" \
		"es-filter: $T/in: no column 'temp' (the header has 'Temp')" \
		"es-filter: $T/in: no column 'zzz' (the header has ts, co2-ppm, Temp)" \
		"es-filter: $T/in: no column 'co2' (the header has 'co2-ppm': a name with '-' is written .\"co2-ppm\")" \
		"es-filter: $T/in: no column 'ppm' (the header has 'co2-ppm': a name with '-' is written .\"co2-ppm\")" \
		"es-filter: $T/in: no column 'temp' (the header has 'Temp')" \
		"es-filter: $T/in: no column 'zzz' (the header has ts, co2-ppm, Temp)")"
	run --separate-stderr es-filter '."co2-ppm" > 1000' "$T/in"
	assert_success
	assert_output "$(printf 'ts,co2-ppm,Temp\n1,1200,20')"
	assert_stderr ''
}
