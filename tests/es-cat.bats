#!/usr/bin/env bats
# es-cat: every option, reading rules (blank lines, CRLF, BOM, last line),
# several inputs, and a reader that closes the pipe early.
# The common --stats-file and --stats-every: tests/stats-file.bats; --config: tests/config.bats.
# The common -d/--delimiter, --null-values and --timezone: tests/read-options.bats.
# The common --measurement, --tags, --timestamp-field and --precision (-o influx): tests/influx.bats.
bats_require_minimum_version 1.5.0
load test_helper

# ---- plain reading and writing ----

@test "es-cat: NDJSON passes byte for byte, spacing inside a record kept" {
	printf '{"a":1}\n{ "b" : [1, 2.50, {"c":null}] ,"d":"\\u00e9\\n"}\n  {"e":true}\t\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < "$T/in"
}

@test "es-cat: FILE arguments are read in order, '-' is standard input" {
	printf '{"f":1}\n' > "$T/one"
	printf '{"f":2}\n' > "$T/two"
	run --separate-stderr es-cat "$T/one" - "$T/two" <<< '{"f":"stdin"}'
	assert_success
	assert_output "$(printf '{"f":1}\n{"f":"stdin"}\n{"f":2}')"
	assert_stderr ""
}

@test "es-cat: a file that cannot be opened: exit 1, the records before it still written" {
	printf '{"f":1}\n{"f":2}\n' > "$T/one"
	run --separate-stderr es-cat "$T/one" "$T/nope.ndjson"
	[ "$status" -eq 1 ]
	assert_stderr "es-cat: cannot open $T/nope.ndjson: No such file or directory"
	assert_output "$(printf '{"f":1}\n{"f":2}')"
}

@test "es-cat: empty input: no output, no diagnostic, exit 0" {
	run_out es-cat < /dev/null
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < /dev/null
}

@test "es-cat: empty and blank lines are skipped but counted in line numbers" {
	printf '\n{"a":1}\n\n \t \n{"a":2}\n\n{bad}\n   \n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:7: invalid JSON at column 2: expected a string key"
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "es-cat: CRLF line endings: the CR is dropped" {
	printf '{"a":1}\r\n{"a":"x"}\r\n{"a":3}\r\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1}\n{"a":"x"}\n{"a":3}\n' | assert_file_is "$T/out"
}

@test "es-cat: CRLF: a bad line is reported with its number and dead-lettered without the CR" {
	printf '{"a":1}\r\n{"a":}\r\n{"a":3}\r\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:2: invalid JSON at column 6: unexpected character"
	printf '{"a":1}\n{"a":3}\n' | assert_file_is "$T/out"
	printf '{"a":}\n' | assert_file_is "$T/dead"
}

@test "es-cat: a UTF-8 BOM on the first line is dropped (and detection sees the '{')" {
	printf '\xef\xbb\xbf{"a":1}\n{"a":2}\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "es-cat: a BOM with CRLF, and a BOM at the start of each input file" {
	printf '\xef\xbb\xbf{"a":1}\r\n' > "$T/one"
	printf '\xef\xbb\xbf{"a":2}\r\n' > "$T/two"
	run_out es-cat "$T/one" "$T/two"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "es-cat: a BOM that is not at the start of the input is not dropped" {
	printf '{"a":1}\n\xef\xbb\xbf{"a":2}\n{"a":3}\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:2: not a JSON object"
	printf '{"a":1}\n{"a":3}\n' | assert_file_is "$T/out"
}

@test "es-cat: lines of every length from 9 to 160 bytes, short and long in turn, LF or CR alone: each read whole" {
	# the end of a line is looked for 16 bytes at a time (8 with
	# ES_SIMD=scalar) after a short line and with memchr after a long
	# one: lengths around 8, 16 and 64 bytes, each path right after the
	# other
	awk 'BEGIN { for (i = 0; i <= 151; i++) { n = (i * 37) % 152; s = ""
		for (j = 0; j < n; j++) s = s "x"
		printf "{\"p\":\"%s\"}\n", s } }' > "$T/in"
	run --separate-stderr es-cat "$T/in"
	assert_success
	assert_stderr ''
	[ "$output" = "$(cat "$T/in")" ] || fail "LF: $(diff <(echo "$output") "$T/in" | head -5)"
	tr '\n' '\r' < "$T/in" > "$T/cr"
	run --separate-stderr es-cat "$T/cr"
	assert_success
	assert_stderr ''
	[ "$output" = "$(cat "$T/in")" ] || fail "CR: $(diff <(echo "$output") "$T/in" | head -5)"
}

@test "es-cat: the last line without a newline is read and written with one" {
	printf '{"a":1}\n{"a":2}' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "es-cat: a last line without newline that is bad is reported and dead-lettered" {
	printf '{"a":1}\n{"a":2' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:2: invalid JSON at column 7: unexpected end of line"
	printf '{"a":1}\n' | assert_file_is "$T/out"
	printf '{"a":2\n' | assert_file_is "$T/dead"
}

@test "es-cat: diagnostics name the file as given" {
	printf '{"a":1}\n[1]\n' > "$T/in.ndjson"
	cd "$T"
	run --separate-stderr es-cat in.ndjson
	assert_success
	assert_output '{"a":1}'
	assert_stderr "es-cat: in.ndjson:2: not a JSON object"
}

@test "es-cat: line numbers start again at 1 in each file" {
	printf '{"a":1}\n[1]\n' > "$T/one"
	printf '2\n{"a":2}\n' > "$T/two"
	run --separate-stderr es-cat -i ndjson "$T/one" "$T/two"
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	assert_stderr "$(printf 'es-cat: %s:2: not a JSON object\nes-cat: %s:1: not a JSON object' "$T/one" "$T/two")"
}

# ---- -i / --input-format ----

@test "es-cat -i ndjson: a first line that is not '{' is bad NDJSON instead of a CSV header" {
	printf '42\n{"a":1}\n' > "$T/in"
	run --separate-stderr es-cat -i ndjson "$T/in"
	assert_success
	assert_output '{"a":1}'
	assert_stderr "es-cat: $T/in:1: not a JSON object"
}

# ---- -i json: JSON values in any layout ----

@test "es-cat --input-format=json: pretty-printed objects, several on a line, split across lines: one NDJSON record each, whitespace outside strings dropped" {
	printf '{\n  "a": 1,\n  "b": [1, 2],\n  "s": "x  y"\n}\n{"c":1} {"d":\n2}\n\t{ "e" : { "f" : null } }\n' > "$T/in"
	run_out es-cat --input-format=json --stats "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" '{"program":"es-cat","in":4,"out":4,"bad":0,"late":0,"dropped":0}'
	printf '{"a":1,"b":[1,2],"s":"x  y"}\n{"c":1}\n{"d":2}\n{"e":{"f":null}}\n' | assert_file_is "$T/out"
}

@test "es-cat -i json: a top-level array of objects; a non-object element is bad input at the line where it starts" {
	printf '[\n  {"a": 1},\n  42,\n  {"a":\n    2}, [3],\n  "s"\n]\n' > "$T/in"
	run_out es-cat -i json --dead-letter "$T/dead" "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: %s:3: not a JSON object\nes-cat: %s:5: not a JSON object\nes-cat: %s:6: not a JSON object' "$T/in" "$T/in" "$T/in")"
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	printf '42\n[3]\n"s"\n' | assert_file_is "$T/dead"
}

@test "es-cat: a first '[' is detected as JSON (an array of records), '{' stays NDJSON" {
	printf '[{"a":1},\n{"a":2}]\n' > "$T/in"
	run_out es-cat -o csv "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a\n1\n2\n' | assert_file_is "$T/out"
}

@test "es-cat -i json: a missing closing brace costs its own value, not the next ones" {
	printf '{"a": 1,\n "b": 2\n{"a": 3}\n{"a": "x\n}\n{"a": 4}\n' > "$T/in"
	run_out es-cat -i json --dead-letter "$T/dead" "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: %s:1: a comma or closing bracket is missing\nes-cat: %s:4: a string runs past the end of its line' "$T/in" "$T/in")"
	printf '{"a":3}\n{"a":4}\n' | assert_file_is "$T/out"
	printf '{"a":1,"b":2\n{"a":"x}\n' | assert_file_is "$T/dead"
}

@test "es-cat -i json: invalid JSON inside a value is said with the line it starts on; a value cut by the end of input is bad" {
	printf '{"a": 1}\n{\n "a": 01\n}\n{"b": [1,\n' > "$T/in"
	run_out es-cat -i json "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: %s:2: invalid JSON: expected '"'"','"'"' or '"'"'}'"'"'\nes-cat: %s:5: the input ends inside a value' "$T/in" "$T/in")"
	printf '{"a":1}\n' | assert_file_is "$T/out"
}

@test "es-cat -i json: a value over 16 MiB (on short lines) is bad input, to the dead letter whole; the next is read" {
	python3 -c '
import sys
sys.stdout.write("{\"a\": [\n" + "1234567,\n" * 2200000 + "1]}\n{\"b\": 1}\n")' > "$T/in"
	run_out es-cat -i json --dead-letter "$T/dead" "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: $T/in:1: JSON value longer than 16 MiB"
	printf '{"b":1}\n' | assert_file_is "$T/out"
	[ "$(wc -c < "$T/dead")" -eq 17600010 ]
	[ "$(head -c 16 "$T/dead")" = '{"a":[1234567,12' ]
}

@test "es-cat -i json: on a live pipe a record goes out when the line with its closing brace arrives" {
	skip_if_slow
	start_live es-cat -i json
	printf '[\n {"a": 1,\n' >&"$W"
	sleep 0.2
	[ "$(wc -c < "$T/out")" -eq 0 ]
	printf '  "b": 2},\n' >&"$W"
	await_out 1
	printf ' {"a": 3}\n]\n' >&"$W"
	await_out 2
	finish_live
	[ "$status" -eq 0 ]
	printf '{"a":1,"b":2}\n{"a":3}\n' | assert_file_is "$T/out"
}

@test "es-cat: a pretty-printed file read as NDJSON gets one hint, not one error a line; every line is counted bad" {
	printf '{\n  "a": 1\n}\n{\n  "a": 2\n}\n' > "$T/in"
	run_out es-cat --stats --dead-letter "$T/dead" "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: %s:1: invalid JSON at column 2: unexpected end of line; this looks like pretty-printed JSON or a JSON array: read it with -i json (the bad lines after it are not said one by one)\n%s' "$T/in" '{"program":"es-cat","in":6,"out":0,"bad":6,"late":0,"dropped":0}')"
	assert_file_is "$T/dead" < "$T/in"
}

@test "es-cat -i ndjson: an array gets the same hint" {
	printf '[{"a":1},{"a":2}]\n' > "$T/in"
	run_out es-cat -i ndjson "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: $T/in:1: not a JSON object; this looks like pretty-printed JSON or a JSON array: read it with -i json (the bad lines after it are not said one by one)"
}

@test "es-cat -i csv: a first line starting with '{' is read as a CSV header" {
	printf '{x,y}\n1,2\n' > "$T/in"
	run --separate-stderr es-cat -i csv -o ndjson "$T/in"
	assert_success
	assert_output '{"{x":1,"y}":2}'
	assert_stderr ""
	# Without -i the same input is NDJSON, and its first line is bad.
	run --separate-stderr es-cat "$T/in"
	assert_success
	assert_output ''
	assert_stderr "$(printf 'es-cat: %s:1: invalid JSON at column 2: expected a string key\nes-cat: %s:2: not a JSON object' "$T/in" "$T/in")"
}

@test "es-cat --input-format csv (separate argument)" {
	printf 'a\n{x:1}\n' > "$T/in"
	run --separate-stderr es-cat --input-format csv -o ndjson "$T/in"
	assert_success
	assert_output '{"a":"{x:1}"}'
	assert_stderr ""
}

@test "es-cat: the format is detected per input; the output follows the first" {
	printf '{"a":1}\n' > "$T/one.ndjson"
	printf 'x,y\n1,q\n' > "$T/two.csv"
	run --separate-stderr es-cat "$T/one.ndjson" "$T/two.csv"
	assert_success
	assert_output "$(printf '{"a":1}\n{"x":1,"y":"q"}')"
	assert_stderr ""
	run --separate-stderr es-cat "$T/two.csv" "$T/one.ndjson"
	assert_success
	# The NDJSON record has no field of the CSV header: bad input.
	assert_output "$(printf 'x,y\n1,q')"
	assert_stderr "es-cat: $T/one.ndjson:1: field 'a' is not in the CSV header"
}

@test "es-cat -i xml: usage error naming the option, exit 2" {
	run --separate-stderr es-cat -i xml < /dev/null
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "$(printf "es-cat: invalid argument 'xml' for -i/--input-format: expected ndjson, json or csv\nTry 'es-cat --help' for more information.")"
}

# ---- -o / --output-format ----

@test "es-cat -o csv: NDJSON to CSV" {
	printf '{"a":1,"b":"x y"}\n{"a":2,"b":"p,q"}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,x y\n2,"p,q"\n' | assert_file_is "$T/out"
}

@test "es-cat --output-format=ndjson: CSV to NDJSON" {
	printf 'a,b\n1,x\n' > "$T/in"
	run_out es-cat --output-format=ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1,"b":"x"}\n' | assert_file_is "$T/out"
}

@test "es-cat -o ndjson on NDJSON and -o csv on CSV pass byte for byte" {
	printf '{ "a" :1 }\n' > "$T/in.ndjson"
	run_out es-cat -o ndjson "$T/in.ndjson"
	assert_file_is "$T/out" < "$T/in.ndjson"
	printf 'a,"b"\n"1",x\n' > "$T/in.csv"
	run_out es-cat -o csv "$T/in.csv"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" < "$T/in.csv"
}

@test "es-cat -o yaml: usage error, exit 2" {
	run --separate-stderr es-cat --output-format yaml < /dev/null
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "$(printf "es-cat: invalid argument 'yaml' for -o/--output-format: expected ndjson, csv or influx\nTry 'es-cat --help' for more information.")"
}

# ---- -n / --head ----

@test "es-cat -n 2: the first two records" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n' > "$T/in"
	run --separate-stderr es-cat -n 2 "$T/in"
	assert_success
	assert_output "$(printf '{"n":1}\n{"n":2}')"
	assert_stderr ""
}

@test "es-cat --head=3 counts records written, not bad lines" {
	printf '{"n":1}\nbad\n{"n":2}\n{"n":3}\n{"n":4}\n' > "$T/in"
	run --separate-stderr es-cat --head=3 -i ndjson "$T/in"
	assert_success
	assert_output "$(printf '{"n":1}\n{"n":2}\n{"n":3}')"
	assert_stderr "es-cat: $T/in:2: not a JSON object"
}

@test "es-cat --head 0: nothing, exit 0" {
	printf '{"n":1}\n' > "$T/in"
	run --separate-stderr es-cat --head 0 "$T/in"
	assert_success
	assert_output ''
	assert_stderr ""
}

@test "es-cat -n larger than the input: everything" {
	printf '{"n":1}\n{"n":2}\n' > "$T/in"
	run --separate-stderr es-cat -n 100 "$T/in"
	assert_success
	assert_output "$(printf '{"n":1}\n{"n":2}')"
}

@test "es-cat -n spans files" {
	printf '{"n":1}\n' > "$T/one"
	printf '{"n":2}\n{"n":3}\n' > "$T/two"
	run --separate-stderr es-cat -n 2 "$T/one" "$T/two"
	assert_success
	assert_output "$(printf '{"n":1}\n{"n":2}')"
}

@test "es-cat -n with CSV output: the header plus N rows" {
	printf 'a\n1\n2\n3\n' > "$T/in"
	run --separate-stderr es-cat -n 2 "$T/in"
	assert_success
	assert_output "$(printf 'a\n1\n2')"
}

@test "es-cat -n with a bad count: usage error, exit 2" {
	local arg
	for arg in x -1 1.5 '' 2x; do
		run --separate-stderr es-cat -n "$arg" < /dev/null
		[ "$status" -eq 2 ]
		assert_output ''
		assert_stderr "$(printf "es-cat: invalid argument '%s' for -n/--head: expected a count >= 0\nTry 'es-cat --help' for more information." "$arg")"
	done
}

@test "es-cat -n without its argument: getopt's message, exit 2" {
	run --separate-stderr es-cat -n
	[ "$status" -eq 2 ]
	assert_output ''
	[ "${#stderr_lines[@]}" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "es-cat: option requires an argument -- 'n'"
	assert_equal "${stderr_lines[1]}" "Try 'es-cat --help' for more information."
}

# ---- --dead-letter ----

@test "es-cat --dead-letter: bad lines raw, one a line; good ones written" {
	printf '{"a":1}\n{"a":tru}\n[1,2]\n{"a":2}\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: stdin:2: invalid JSON at column 6: invalid literal\nes-cat: stdin:3: not a JSON object')"
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	printf '{"a":tru}\n[1,2]\n' | assert_file_is "$T/dead"
}

@test "es-cat --dead-letter appends to an existing file" {
	printf 'old line\n' > "$T/dead"
	printf '{"a":1}\n{x}\n' | es-cat --dead-letter "$T/dead" > /dev/null 2>&1
	printf '{y}\n' | es-cat --dead-letter="$T/dead" > /dev/null 2>&1
	printf 'old line\n{x}\n{y}\n' | assert_file_is "$T/dead"
}

@test "es-cat --dead-letter is created at start even when nothing is bad" {
	run --separate-stderr es-cat --dead-letter "$T/dead" <<< '{"a":1}'
	assert_success
	assert_output '{"a":1}'
	assert_file_is "$T/dead" < /dev/null
}

@test "es-cat --dead-letter in a missing directory: exit 1 at start" {
	run --separate-stderr es-cat --dead-letter "$T/no/dead" <<< '{"a":1}'
	[ "$status" -eq 1 ]
	assert_output ''
	assert_stderr "es-cat: cannot open dead-letter file $T/no/dead: No such file or directory"
}

# ---- --strict ----

@test "es-cat --strict: the good records before the bad line, exit 3" {
	printf '{"a":1}\n{"a":2}\n{"a":x}\n{"a":3}\n' > "$T/in"
	run_out es-cat --strict --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-cat: stdin:3: invalid JSON at column 6: unexpected character"
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	printf '{"a":x}\n' | assert_file_is "$T/dead"
}

@test "es-cat --strict with good input: exit 0" {
	printf '{"a":1}\n\n{"a":2}\n' > "$T/in"
	run_out es-cat --strict < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "es-cat --strict: a record that cannot be converted is fatal too" {
	printf '{"a":1}\n{"b":2}\n{"a":3}\n' > "$T/in"
	run_out es-cat --strict -o csv < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-cat: stdin:2: field 'b' is not in the CSV header"
	printf 'a\n1\n' | assert_file_is "$T/out"
}

# ---- --stats ----

@test "es-cat --stats: one JSON line on stderr at exit" {
	printf '{"a":1}\n{"a":2}\nnope\n{"a":3}\n' > "$T/in"
	run --separate-stderr es-cat --stats -i ndjson "$T/in"
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}\n{"a":3}')"
	assert_stderr "$(printf 'es-cat: %s:3: not a JSON object\n{"program":"es-cat","in":4,"out":3,"bad":1,"late":0,"dropped":0}' "$T/in")"
}

@test "es-cat --stats on empty input: all zero" {
	run --separate-stderr es-cat --stats < /dev/null
	assert_success
	assert_output ''
	assert_stderr '{"program":"es-cat","in":0,"out":0,"bad":0,"late":0,"dropped":0}'
}

@test "es-cat --stats: a record that cannot be written is in but bad, not out" {
	printf '{"a":1}\n{"b":1}\n{"a":2}\n' > "$T/in"
	run --separate-stderr es-cat --stats -o csv "$T/in"
	assert_success
	assert_output "$(printf 'a\n1\n2')"
	assert_stderr "$(printf "es-cat: %s:2: field 'b' is not in the CSV header\n"'{"program":"es-cat","in":3,"out":2,"bad":1,"late":0,"dropped":0}' "$T/in")"
}

@test "es-cat --stats with -n: counts what was read" {
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' > "$T/in"
	run --separate-stderr es-cat --stats -n 2 "$T/in"
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	assert_stderr '{"program":"es-cat","in":2,"out":2,"bad":0,"late":0,"dropped":0}'
}

@test "es-cat --stats --strict: the counters are printed before exit 3" {
	printf '{"a":1}\n{bad\n' > "$T/in"
	run --separate-stderr es-cat --stats --strict "$T/in"
	[ "$status" -eq 3 ]
	assert_output '{"a":1}'
	assert_stderr "$(printf 'es-cat: %s:2: invalid JSON at column 2: expected a string key\n{"program":"es-cat","in":2,"out":1,"bad":1,"late":0,"dropped":0}' "$T/in")"
}

# ---- --help, --version, bad options ----

@test "es-cat --help: usage on stdout, exit 0" {
	run --separate-stderr es-cat --help
	assert_success
	assert_stderr ""
	assert_line --index 0 'Usage: es-cat [OPTION]... [FILE]...'
	# and at least one example
	assert_line --regexp '^ +es-cat .+'
}

@test "es-cat --help mentions every long option the program declares" {
	run --separate-stderr es-cat --help
	assert_success
	local opts name missing=""
	opts=$(long_options_of es-cat)
	# The source must declare at least the options of the spec.
	for name in input-format output-format dead-letter strict stats help version head; do
		grep -qx -- "$name" <<< "$opts" || fail "option --$name not found in the source"
	done
	for name in $opts; do
		grep -qE -- "--$name([^a-z-]|\$)" <<< "$output" || missing="$missing --$name"
	done
	[ -z "$missing" ] || fail "--help does not mention:$missing"
	# The short forms too.
	assert_line --regexp '^ +-i, --input-format '
	assert_line --regexp '^ +-o, --output-format '
	assert_line --regexp '^ +-n, --head '
}

@test "es-cat --help wins over other options and reads nothing" {
	run --separate-stderr es-cat --strict --help /nonexistent
	assert_success
	assert_line --index 0 'Usage: es-cat [OPTION]... [FILE]...'
	assert_stderr ""
}

@test "es-cat --version" {
	assert_version es-cat
}

@test "es-cat: an unknown option: getopt's message and the hint, exit 2" {
	assert_unknown_option es-cat
	run --separate-stderr es-cat -x < /dev/null
	[ "$status" -eq 2 ]
	assert_equal "$(strip_dir "${stderr_lines[0]}")" "es-cat: invalid option -- 'x'"
	assert_equal "${stderr_lines[1]}" "Try 'es-cat --help' for more information."
}

# ---- a reader that closes the pipe ----

@test "es-cat big | head -1: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' > "$T/big"
	run bash -c 'es-cat "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	assert_file_is "$T/out" <<< '{"seq":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
}

@test "es-cat -o csv big | head -2: exit 0, nothing on stderr" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", i }' > "$T/big"
	run bash -c 'es-cat -o csv "$1" 2> "$2/err" | head -2 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/err" < /dev/null
	printf 'seq,pad\n1,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n' | assert_file_is "$T/out"
}

@test "es-cat --stats big | head -1: the counters still come out, exit 0" {
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"seq\":%d}\n", i }' > "$T/big"
	run bash -c 'es-cat --stats "$1" 2> "$2/err" | head -1 > "$2/out"; echo "${PIPESTATUS[0]}"' _ "$T/big" "$T"
	assert_success
	assert_output 0
	assert_file_is "$T/out" <<< '{"seq":1}'
	# How far it got depends on the pipe; the line's shape does not.
	run cat "$T/err"
	assert_output --regexp '^\{"program":"es-cat","in":[0-9]+,"out":[0-9]+,"bad":0,"late":0,"dropped":0\}$'
}

# ---- I/O edges ----

@test "es-cat: a write error (disk full) is one diagnostic and exit 1" {
	run --separate-stderr bash -c 'es-cat > /dev/full' <<< '{"a":1}'
	[ "$status" -eq 1 ]
	assert_stderr 'es-cat: write error on stdout: No space left on device'
}

@test "es-cat: a read error (a directory named) is one diagnostic and exit 1; the records before it are written" {
	printf '{"a":1}\n' > "$T/in"
	run --separate-stderr es-cat --stats "$T/in" "$T" "$T/in"
	[ "$status" -eq 1 ]
	assert_output '{"a":1}'
	assert_stderr "es-cat: read error on $T: Is a directory
{\"program\":\"es-cat\",\"in\":1,\"out\":1,\"bad\":0,\"late\":0,\"dropped\":0}"
}

@test "es-cat: a dead-letter file that cannot be reopened on SIGHUP ends the run (exit 1); the records before go out" {
	mkdir "$T/dl"
	mkfifo "$T/fifo"
	es-cat --dead-letter "$T/dl/bad" < "$T/fifo" > "$T/out" 2> "$T/err" &
	local pid=$!
	exec {w}> "$T/fifo"
	printf '{"a":1}\nnot json\n' >&"$w"
	await_out 1
	await_err 'stdin:2: not a JSON object'
	rm -r "$T/dl"
	kill -HUP "$pid"
	printf '{"a":2}\n' >&"$w"
	local st=0
	wait "$pid" || st=$?
	exec {w}>&-
	[ "$st" -eq 1 ]
	assert_file_is "$T/out" <<< '{"a":1}'
	assert_file_is "$T/err" <<EOF
es-cat: stdin:2: not a JSON object
es-cat: cannot open dead-letter file $T/dl/bad: No such file or directory
EOF
}

@test "es-cat: a last line without newline does not run into the next file" {
	printf '{"a":1}' > "$T/one"
	printf '{"a":2}\n' > "$T/two"
	printf 'x,y\n1,2' > "$T/three.csv"
	printf 'x,y\n3,4\n' > "$T/four.csv"
	run_out es-cat "$T/one" "$T/two"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ''
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	run_out es-cat "$T/three.csv" "$T/four.csv"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ''
	printf 'x,y\n1,2\n3,4\n' | assert_file_is "$T/out"
}

@test "es-cat: records of every size, written to a pipe in random pieces, come out whole" {
	# ~6 MB: records from 10 bytes to 600 KB, some with CRLF, split at
	# random places (so across read blocks, between CR and LF, inside a BOM)
	python3 - "$T" <<'PY'
import os, random, sys, time
t = sys.argv[1]
rng = random.Random(3)
recs, exp = [b"\xef\xbb\xbf"], []
for i in range(400):
    size = rng.choice([10, 100, 1000, 70000, 262143, 262144, 262145, 600000]) if i % 20 == 0 else rng.randint(10, 3000)
    r = b'{"i":%d,"p":"' % i
    r += b"x" * max(0, size - len(r) - 2) + b'"}'
    end = b"\r\n" if i % 3 == 0 else b"\n"
    recs.append(r + end)
    exp.append(r + b"\n")
open(t + "/in", "wb").write(b"".join(recs))
open(t + "/exp", "wb").write(b"".join(exp))
PY
	run bash -c 'python3 -c "
import os, random, sys
data = open(sys.argv[1], \"rb\").read()
rng = random.Random(5)
i = 0
while i < len(data):
    n = rng.choice([1, 2, 3, 100, 4096, 65536, 300000])
    os.write(1, data[i:i + n])
    i += n
" "$1/in" | es-cat > "$1/out"' _ "$T"
	assert_success
	assert_output ''
	assert_file_is "$T/out" < "$T/exp"
}

@test "es-cat: an input that cannot be opened is skipped; the others are read; exit 1 at the end" {
	printf '{"f":1}\n' > "$T/one"
	printf '{"f":2}\n' > "$T/two"
	run --separate-stderr es-cat "$T/one" "$T/nope" "$T/two"
	[ "$status" -eq 1 ]
	assert_output "$(printf '{"f":1}\n{"f":2}')"
	assert_stderr "es-cat: cannot open $T/nope: No such file or directory"
}

# ---- --config reloads ----
# start_live, finish_live, await_out, await_err, rewrite_later and
# live_teardown: test_helper.bash.

teardown() {
	live_teardown
}

@test "es-cat --check: good options exit 0 reading nothing; a bad --head exits 2 with the message" {
	mkfifo "$T/in"
	printf 'head = 2\n' > "$T/c.conf"
	# stdin a FIFO nobody writes: a read would block until the timeout
	run --separate-stderr timeout 30 es-cat --config "$T/c.conf" --check - "$T/no-such-input" <> "$T/in"
	assert_success
	assert_output ''
	assert_stderr ''
	printf 'head = -1\n' > "$T/c.conf"
	run --separate-stderr timeout 30 es-cat --config "$T/c.conf" --check <> "$T/in"
	assert_failure 2
	assert_output ''
	assert_stderr "es-cat: invalid argument '-1' for -n/--head: expected a count >= 0
Try 'es-cat --help' for more information."
}

@test "es-cat --config: SIGHUP applies --head from the next record, counted from the start; a bad file keeps the running one; formats stay" {
	skip_if_slow
	printf 'head = 3\n' > "$T/c.conf"
	start_live es-cat --config "$T/c.conf"
	printf '{"n":1}\n{"n":2}\n' >&"$W"
	await_out 2
	# the common options keep their start-up values: output stays NDJSON
	printf 'head = 4\noutput-format = csv\n' > "$T/c.conf"
	kill -HUP "$PID"
	await_err "es-cat: --config $T/c.conf reloaded: --head 4 (2 written)"
	printf 'head = -1\n' > "$T/c.conf"
	kill -HUP "$PID"
	await_err "keeping the running configuration"
	# es-cat may end before the last line is written: no SIGPIPE here
	(trap '' PIPE; printf '{"n":3}\n{"n":4}\n{"n":5}\n' >&"$W") 2> /dev/null || true
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}'
	assert_file_is "$T/err" <<EOF2
es-cat: --config $T/c.conf reloaded: --head 4 (2 written)
es-cat: cannot reload --config $T/c.conf: invalid argument '-1' for -n/--head: expected a count >= 0; keeping the running configuration
EOF2
}

@test "es-cat --config: a reload to a head already reached ends the stream at once; none lost" {
	skip_if_slow
	printf '# no head\n' > "$T/c.conf"
	start_live es-cat --config "$T/c.conf"
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' >&"$W"
	await_out 3
	printf 'head = 2\n' > "$T/c.conf"
	kill -HUP "$PID"
	# ends with its input still open
	wait "$PID" && status=0 || status=$?
	PID=""
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"n":1}\n{"n":2}\n{"n":3}'
	assert_file_is "$T/err" <<< "es-cat: --config $T/c.conf reloaded: --head 2 (3 written)"
}

@test "es-cat --watch-config: a changed file is reloaded on a quiet input" {
	skip_if_slow
	printf '# no head\n' > "$T/c.conf"
	start_live es-cat --config "$T/c.conf" --watch-config
	printf '{"n":1}\n' >&"$W"
	await_out 1
	printf 'head = 2\n' | rewrite_later "$T/c.conf"
	await_err "es-cat: --config $T/c.conf reloaded: --head 2 (1 written)"
	(trap '' PIPE; printf '{"n":2}\n{"n":3}\n' >&"$W") 2> /dev/null || true
	finish_live
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<< $'{"n":1}\n{"n":2}'
	assert_file_is "$T/err" <<< "es-cat: --config $T/c.conf reloaded: --head 2 (1 written)"
}
