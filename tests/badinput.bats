#!/usr/bin/env bats
# Bad input never stops the stream: each bad line gets one exact diagnostic,
# goes to the dead-letter file, and the good records before AND after it are
# written; --strict makes the first one fatal (exit 3).
bats_require_minimum_version 1.5.0
load test_helper

# The messages of invalid JSON that the spec lists.
JSON_MESSAGES='unterminated string|invalid \\u escape|invalid escape|control character in string|invalid UTF-8|invalid number|invalid literal|unexpected character|unexpected end of line|expected a string key|expected '"':'"' after a key|expected '"','"' or '"'}'"'|expected '"','"' or '"']'"'|nesting deeper than 2048 levels|trailing characters after the object'

# ---- invalid JSON: every message, with its column ----

@test "invalid JSON: each kind of error, exact message and column, good lines around kept" {
	# Each entry: a bad line (printf format) and the diagnostic it must get.
	local -a bad=(
		'{"a":"x'		'invalid JSON at column 8: unterminated string'
		'{"a":"\\u12G4"}'	'invalid JSON at column 7: invalid \u escape'
		'{"a":"\\x"}'		'invalid JSON at column 7: invalid escape'
		'{"a":"\t"}'		'invalid JSON at column 7: control character in string'
		'{"a":"ok\377"}'	'invalid JSON at column 9: invalid UTF-8'
		'{"a":"\300\257"}'	'invalid JSON at column 7: invalid UTF-8'
		'{"a":"\355\240\200"}'	'invalid JSON at column 7: invalid UTF-8'
		'{"a":"\364\220\200\200"}' 'invalid JSON at column 7: invalid UTF-8'
		'{"a":-}'		'invalid JSON at column 7: invalid number'
		'{"a":1.}'		'invalid JSON at column 8: invalid number'
		'{"a":1e+}'		'invalid JSON at column 9: invalid number'
		'{"a":tru}'		'invalid JSON at column 6: invalid literal'
		'{"a":nul}'		'invalid JSON at column 6: invalid literal'
		'{"a":x}'		'invalid JSON at column 6: unexpected character'
		'{"a":'			'invalid JSON at column 6: unexpected end of line'
		'{"a":[1,'		'invalid JSON at column 9: unexpected end of line'
		'{a:1}'			'invalid JSON at column 2: expected a string key'
		'{"a":1,}'		'invalid JSON at column 8: expected a string key'
		'{"a",1}'		"invalid JSON at column 5: expected ':' after a key"
		'{"a":1 "b":2}'		"invalid JSON at column 8: expected ',' or '}'"
		'{"a":[1 2]}'		"invalid JSON at column 9: expected ',' or ']'"
		'{"a":1} x'		'invalid JSON at column 9: trailing characters after the object'
		'{"a":1}{"b":2}'	'invalid JSON at column 8: trailing characters after the object'
		'[1,2]'			'not a JSON object'
		'42'			'not a JSON object'
		'"s"'			'not a JSON object'
		'null'			'not a JSON object'
		'  [ {"a":1} ]'		'not a JSON object'
	)
	local i n=1 exp_err="" ; : > "$T/in"; : > "$T/expdead"; : > "$T/expout"
	printf '{"ok":0}\n' >> "$T/in"; printf '{"ok":0}\n' >> "$T/expout"
	for ((i = 0; i < ${#bad[@]}; i += 2)); do
		printf "${bad[i]}\n" >> "$T/in"
		printf "${bad[i]}\n" >> "$T/expdead"
		exp_err+="es-filter: stdin:$((n + 1)): ${bad[i + 1]}"$'\n'
		printf '{"ok":%d}\n' "$n" >> "$T/in"
		printf '{"ok":%d}\n' "$n" >> "$T/expout"
		n=$((n + 2))
	done
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(sed 's/^es-filter:/es-cat:/' <<< "${exp_err%$'\n'}")"
	assert_file_is "$T/out" < "$T/expout"
	assert_file_is "$T/dead" < "$T/expdead"
	# es-filter reads the same way.
	rm "$T/dead"
	run_out es-filter --dead-letter "$T/dead" true < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "${exp_err%$'\n'}"
	assert_file_is "$T/out" < "$T/expout"
	assert_file_is "$T/dead" < "$T/expdead"
}

@test "invalid JSON: a leading zero is rejected" {
	printf '{"a":1}\n{"a":01}\n{"a":-01}\n{"a":2}\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	# the message may call it a bad number or a missing ',': either way it
	# points at the digit after the zero
	[ "$(wc -l < "$T/err")" -eq 2 ]
	assert_regex "$(sed -n 1p "$T/err")" "^es-cat: stdin:2: invalid JSON at column 7: ($JSON_MESSAGES)\$"
	assert_regex "$(sed -n 2p "$T/err")" "^es-cat: stdin:3: invalid JSON at column 8: ($JSON_MESSAGES)\$"
}

@test "nesting: 2048 levels are read, 2049 are bad input (as jansson)" {
	python3 -c '
import sys
for k in (2047, 2048, 1):
    sys.stdout.write("{\"a\":" + "[" * k + "]" * k + "}\n")
' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	# the 2049th level is the 2048th '[' after {"a": (5 bytes): column 2053
	assert_equal "$stderr" "es-cat: stdin:2: invalid JSON at column 2053: nesting deeper than 2048 levels"
	sed -n '1p;3p' "$T/in" | assert_file_is "$T/out"
	sed -n '2p' "$T/in" | assert_file_is "$T/dead"
}

@test "nesting: 100000 levels do not crash (bad input, next line read)" {
	python3 -c '
import sys
sys.stdout.write("{\"a\":1}\n{\"a\":" + "[" * 100000 + "\n{\"a\":" + "{\"b\":" * 100000 + "\n{\"a\":2}\n")
' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:2: invalid JSON at column 2053: nesting deeper than 2048 levels' \
		'es-cat: stdin:3: invalid JSON at column 10241: nesting deeper than 2048 levels')"
}

# ---- NUL bytes ----

@test "NUL bytes in an NDJSON line: bad input, the raw bytes in the dead letter" {
	printf '{"a":1}\n{"a":"x\0y"}\n{"a":2}\n{"a":3}\0\n\0{"a":4}\n{"a":\0 5}\n{"a":6}\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:2: invalid JSON at column 8: control character in string' \
		'es-cat: stdin:4: invalid JSON at column 8: trailing characters after the object' \
		'es-cat: stdin:5: not a JSON object' \
		'es-cat: stdin:6: invalid JSON at column 6: unexpected character')"
	printf '{"a":1}\n{"a":2}\n{"a":6}\n' | assert_file_is "$T/out"
	printf '{"a":"x\0y"}\n{"a":3}\0\n\0{"a":4}\n{"a":\0 5}\n' | assert_file_is "$T/dead"
}

@test "NUL bytes in a CSV cell are data: passed through, escaped as \\u0000 in JSON" {
	printf 'a,b\n1,x\0y\n2,z\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"a":1,"b":"x\\u0000y"}\n{"a":2,"b":"z"}\n' | assert_file_is "$T/out"
}

# ---- ragged CSV ----

@test "ragged CSV: exact diagnostics, header + rows in the dead letter, good rows around kept" {
	printf 'a,b\n1,2\n3\n4,5\n6,7,8\n9,10\n' > "$T/in"
	run_out es-filter --dead-letter "$T/dead" true < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-filter: stdin:3: CSV row has 1 field, header has 2' \
		'es-filter: stdin:5: CSV row has 3 fields, header has 2')"
	printf 'a,b\n1,2\n4,5\n9,10\n' | assert_file_is "$T/out"
	printf 'a,b\n3\n6,7,8\n' | assert_file_is "$T/dead"
	run_out es-cat --strict < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" 'es-cat: stdin:3: CSV row has 1 field, header has 2'
	printf 'a,b\n1,2\n' | assert_file_is "$T/out"
}

# ---- lines over 16 MiB ----

# $T/long: one JSON line of $1 bytes (without its newline), newline-terminated.
make_long_line() {
	python3 -c '
import sys
n = int(sys.argv[1])
sys.stdout.write("{\"a\":\"" + "x" * (n - 8) + "\"}\n")
' "$1" > "$T/long"
}

@test "a 20 MiB line: 'line longer than 16 MiB', whole in the dead letter, the next line read" {
	make_long_line $((20 << 20))
	[ "$(wc -c < "$T/long")" -eq $(((20 << 20) + 1)) ]
	{ printf '{"n":1}\n'; cat "$T/long"; printf '{"n":2}\n{"n":}\n{"n":3}\n'; } > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:2: line longer than 16 MiB' \
		'es-cat: stdin:4: invalid JSON at column 6: unexpected character')"
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' | assert_file_is "$T/out"
	[ "$(stat -c %s "$T/dead")" -eq $(((20 << 20) + 1 + 7)) ]
	{ cat "$T/long"; printf '{"n":}\n'; } | assert_file_is "$T/dead"
}

@test "a 20 MiB line through a pipe, and as the last line without newline" {
	make_long_line $((20 << 20))
	head -c -1 "$T/long" > "$T/long.nonl"
	run bash -c '{ printf "{\"n\":1}\n"; cat "$1/long"; printf "{\"n\":2}\n"; cat "$1/long.nonl"; } |
		es-filter --dead-letter "$1/dead" "n > 0" > "$1/out"' _ "$T"
	assert_success
	assert_output "$(printf '%s\n' \
		'es-filter: stdin:2: line longer than 16 MiB' \
		'es-filter: stdin:4: line longer than 16 MiB')"
	printf '{"n":1}\n{"n":2}\n' | assert_file_is "$T/out"
	[ "$(stat -c %s "$T/dead")" -eq $((2 * ((20 << 20) + 1))) ]
	cat "$T/long" "$T/long" | assert_file_is "$T/dead"
}

@test "a line of exactly 16 MiB of valid JSON is accepted, one byte more is not" {
	make_long_line $((16 << 20))
	cp "$T/long" "$T/exact"
	make_long_line $(((16 << 20) + 1))
	{ printf '{"n":1}\n'; cat "$T/exact"; printf '{"n":2}\n'; cat "$T/long"; printf '{"n":3}\n'; } > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:4: line longer than 16 MiB"
	{ printf '{"n":1}\n'; cat "$T/exact"; printf '{"n":2}\n{"n":3}\n'; } | assert_file_is "$T/out"
	# the same through a pipe, read in pieces
	run bash -c 'cat "$1/in" | es-cat > "$1/out"' _ "$T"
	assert_success
	assert_output "es-cat: stdin:4: line longer than 16 MiB"
	{ printf '{"n":1}\n'; cat "$T/exact"; printf '{"n":2}\n{"n":3}\n'; } | assert_file_is "$T/out"
}

@test "a 20 MiB line in CSV: the dead letter holds the header, then the whole line" {
	python3 -c 'import sys; sys.stdout.write("x," + "y" * (20 << 20) + "\n")' > "$T/long"
	{ printf 'a,b\n1,2\n'; cat "$T/long"; printf '3,4\n'; } > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:3: line longer than 16 MiB"
	printf 'a,b\n1,2\n3,4\n' | assert_file_is "$T/out"
	{ printf 'a,b\n'; cat "$T/long"; } | assert_file_is "$T/dead"
}

@test "--strict: a line over 16 MiB is fatal, exit 3 after the good records" {
	make_long_line $((17 << 20))
	{ printf '{"n":1}\n'; cat "$T/long"; printf '{"n":2}\n'; } > "$T/in"
	run_out es-cat --strict < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-cat: stdin:2: line longer than 16 MiB"
	printf '{"n":1}\n' | assert_file_is "$T/out"
}

# ---- binary garbage ----

# Writes $T/in: a good record, 4096 deterministic random bytes, a newline and
# a good record; and $T/expdead (the garbage's non-blank lines, as the reader
# must dead-letter them: the CR before a newline dropped) and $T/check.py,
# which checks the diagnostics in a file against the garbage.
make_garbage() {
	python3 - "$1" "$T" <<'PY'
import random, sys, json
seed, t = int(sys.argv[1]), sys.argv[2]
g = random.Random(seed).randbytes(4096)
data = b'{"n":1}\n' + g + b'\n{"n":2}\n'
open(t + "/in", "wb").write(data)
dead, exp = b"", []
for no, line in enumerate(data.split(b"\n")[:-1], 1):
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.strip(b" \t") == b"":
        assert b"\r" not in line	# no line that only CR-handling decides
        continue
    if no in (1, data.count(b"\n")):
        continue			# the good records
    dead += line + b"\n"
    first = line.lstrip(b" \t\r")[:1]
    exp.append((no, "{" if first == b"{" else "not a JSON object"))
open(t + "/expdead", "wb").write(dead)
json.dump(exp, open(t + "/exp.json", "w"))
PY
	cat > "$T/check.py" <<'PY'
import json, re, sys
prog, errfile, t = sys.argv[1:4]
msgs = sys.argv[4]
exp = json.load(open(t + "/exp.json"))
got = open(errfile, "rb").read().decode("utf-8").split("\n")
assert got[-1] == "", "stderr does not end with a newline"
got = got[:-1]
if len(got) != len(exp):
    sys.exit("%d diagnostics, expected %d:\n%s" % (len(got), len(exp), "\n".join(got)))
for line, (no, kind) in zip(got, exp):
    head = "%s: stdin:%d: " % (prog, no)
    if kind == "{":
        ok = re.fullmatch(re.escape(head) + "invalid JSON at column [1-9][0-9]*: (" + msgs + ")", line)
    else:
        ok = line == head + kind
    if not ok:
        sys.exit("unexpected diagnostic %r for line %d (%s)" % (line, no, kind))
PY
}

@test "binary garbage: every non-blank line reported and dead-lettered, records around kept" {
	local seed
	for seed in 19 13; do
		make_garbage "$seed"
		rm -f "$T/dead"
		run_out es-cat --dead-letter "$T/dead" < "$T/in"
		[ "$status" -eq 0 ]
		printf '{"n":1}\n{"n":2}\n' | assert_file_is "$T/out"
		assert_file_is "$T/dead" < "$T/expdead"
		run python3 "$T/check.py" es-cat "$T/err" "$T" "$JSON_MESSAGES"
		assert_success
		assert_output ''
	done
}

@test "binary garbage through es-filter -i ndjson --stats" {
	make_garbage 19
	local nbad
	nbad=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/exp.json")
	[ "$nbad" -gt 10 ]
	run_out es-filter -i ndjson --stats 'n > 1' < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"n":2}\n' | assert_file_is "$T/out"
	assert_equal "$(tail -n 1 "$T/err")" '{"program":"es-filter","in":'"$((nbad + 2))"',"out":1,"bad":'"$nbad"',"late":0,"dropped":0,"filtered":1}'
	head -n -1 "$T/err" > "$T/err2"
	run python3 "$T/check.py" es-filter "$T/err2" "$T" "$JSON_MESSAGES"
	assert_success
}

@test "binary garbage as CSV does not crash" {
	python3 -c 'import random,sys; sys.stdout.buffer.write(b"a,b\n" + random.Random(7).randbytes(4096) + b"\n1,2\n")' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	# No oracle for what random bytes parse to; but every diagnostic must be
	# one of the CSV ones, and the dead letter starts with the header.
	[ "$(wc -l < "$T/err")" -ge 1 ]
	[ "$(head -n 1 "$T/dead")" = "a,b" ]
	run grep -cvE '^es-cat: stdin:[0-9]+: (CSV row has [0-9]+ fields?, header has 2|invalid CSV: (malformed quoted field|quote inside unquoted field|unterminated quoted field)|invalid UTF-8 in CSV field .*)$' "$T/err"
	assert_output 0
}

# ---- empty input ----

@test "empty input: no output, exit 0, for every program and format" {
	local cmd
	for cmd in "es-cat" "es-cat -o csv" "es-cat -i csv" "es-cat -o ndjson" \
		"es-filter true" "es-filter -i csv -o ndjson true" "es-filter -v true"; do
		run --separate-stderr $cmd < /dev/null
		assert_success
		assert_output ''
		assert_stderr ''
	done
	run --separate-stderr es-filter -c true < /dev/null
	assert_success
	assert_output '0'
	assert_stderr ''
}

@test "input of blank lines, or only a BOM: no output, exit 0" {
	printf '\n \n\t\n\r\n\n' > "$T/blank"
	printf '\n\r\n\n' > "$T/empty"
	printf '\xef\xbb\xbf' > "$T/bom"
	printf '\xef\xbb\xbf\n\r\n' > "$T/bomnl"
	local f
	for f in blank empty bom bomnl; do
		run --separate-stderr es-cat "$T/$f"
		assert_success
		assert_output ''
		assert_stderr ''
		run --separate-stderr es-cat -i ndjson "$T/$f"
		assert_success
		assert_output ''
		assert_stderr ''
	done
	# CSV skips empty lines only: spaces are data there
	for f in empty bom bomnl; do
		run --separate-stderr es-cat -i csv "$T/$f"
		assert_success
		assert_output ''
		assert_stderr ''
	done
}

# ---- wrong-type fields for es-filter ----

@test "es-filter: a string where a number is needed is bad input with the evaluator's message" {
	printf '{"value":5}\n{"value":"abc"}\n{"value":4}\n{"value":2}\n' > "$T/in"
	run_out es-filter --dead-letter "$T/dead" 'value > 3' < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-filter: stdin:2: field 'value' is a string, a number is needed"
	printf '{"value":5}\n{"value":4}\n' | assert_file_is "$T/out"
	printf '{"value":"abc"}\n' | assert_file_is "$T/dead"
}

@test "es-filter: a wrong-type CSV cell: bad input, header + row in the dead letter" {
	printf 'id,value\n1,5\n2,abc\n3,4\n' > "$T/in"
	run_out es-filter --dead-letter "$T/dead" 'value > 3' < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-filter: stdin:3: field 'value' is a string, a number is needed"
	printf 'id,value\n1,5\n3,4\n' | assert_file_is "$T/out"
	printf 'id,value\n2,abc\n' | assert_file_is "$T/dead"
}

@test "es-filter --strict: a wrong-type field is fatal, exit 3 after the good records" {
	printf '{"value":5}\n{"value":6}\n{"value":"abc"}\n{"value":7}\n' > "$T/in"
	run_out es-filter --strict 'value > 3' < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-filter: stdin:3: field 'value' is a string, a number is needed"
	printf '{"value":5}\n{"value":6}\n' | assert_file_is "$T/out"
}

@test "--strict: invalid JSON is fatal, exit 3, good records before it on stdout" {
	printf '{"a":1}\n{"a":2}\n{"a":\n{"a":3}\n' > "$T/in"
	run_out es-filter --strict 'a > 0' < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-filter: stdin:3: invalid JSON at column 6: unexpected end of line"
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
}

@test "a 16 MiB line as the last line without newline is accepted; one byte more is not" {
	make_long_line $((16 << 20))
	{ printf '{"n":1}\n'; head -c -1 "$T/long"; } > "$T/in"
	run bash -c 'cat "$1/in" | es-cat > "$1/out"' _ "$T"
	assert_success
	assert_output ''
	{ printf '{"n":1}\n'; cat "$T/long"; } | assert_file_is "$T/out"
	make_long_line $(((16 << 20) + 1))
	{ printf '{"n":1}\n'; head -c -1 "$T/long"; } > "$T/in"
	run bash -c 'cat "$1/in" | es-cat --dead-letter "$1/dead" > "$1/out"' _ "$T"
	assert_success
	assert_output 'es-cat: stdin:2: line longer than 16 MiB'
	printf '{"n":1}\n' | assert_file_is "$T/out"
	assert_file_is "$T/dead" < "$T/long"
}

@test "a line of exactly 16 MiB ended by CRLF is accepted (the CR belongs to the terminator)" {
	make_long_line $((16 << 20))
	{ printf '{"n":1}\r\n'; head -c -1 "$T/long"; printf '\r\n{"n":2}\r\n'; } > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	{ printf '{"n":1}\n'; cat "$T/long"; printf '{"n":2}\n'; } | assert_file_is "$T/out"
}

# ---- side files that cannot be written ----

@test "--dead-letter /dev/full: the stream goes on, the failure is said once and counted, exit 1" {
	{ echo 'ts,v'; for i in $(seq 1 10000); do echo "$i,$i"; echo "$i,x,y"; done; } > "$T/in"
	run_out es-cat --dead-letter /dev/full --stats "$T/in"
	[ "$status" -eq 1 ]
	[ "$(wc -l < "$T/out")" -eq 10001 ]
	assert_equal "$(grep -v 'CSV row has' "$T/err")" "$(printf '%s\n' \
		'es-cat: cannot write the dead-letter file /dev/full: No space left on device (the stream goes on; what cannot be written there is counted)' \
		'es-cat: 10000 records could not be written to the dead-letter file /dev/full' \
		'{"program":"es-cat","in":20000,"out":10000,"bad":10000,"late":0,"dropped":0}')"
}

@test "--stats-file /dev/full: said once, the stream goes on, exit 1" {
	printf '{"a":1}\n{"a":2}\n' > "$T/in"
	run_out es-cat --stats-file /dev/full/x "$T/in"
	[ "$status" -eq 1 ]
	printf '{"a":1}\n{"a":2}\n' | assert_file_is "$T/out"
	assert_equal "$stderr" "es-cat: cannot write the stats file /dev/full/x: Not a directory (further failures are not said)"
}
