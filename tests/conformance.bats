#!/usr/bin/env bats
# RFC 8259 conformance over JSONTestSuite's test_parsing, read in place from
# ../shared/conformance ($CONFORMANCE). NDJSON is one JSON object per line,
# so:
#   y_  every document that is a JSON object (jq -e 'type=="object"') must be
#       read as a record by es-cat -i ndjson and written byte for byte. NDJSON
#       has no room for a newline inside a record, so a document's lines are
#       first joined with spaces (outside strings a newline is whitespace, so
#       the joined line is the same JSON value; inside a string a raw newline
#       is invalid anyway).
#   n_  every document must be rejected: no stdout, exit 0, one diagnostic
#       "es-cat: stdin:N: ..." per non-blank line (N its line number, the
#       message one of the spec's), the non-blank lines in the dead-letter
#       file, exit 3 under --strict. Three n_ documents have no non-blank
#       line at all (empty, one space, a lone BOM): in NDJSON they are an
#       empty stream, so no record and no diagnostic either.
#   i_  implementation-defined: nothing may crash (exit 0, only well-formed
#       diagnostics on stderr; a document accepted is written unchanged).
# Most documents are arrays or scalars, which NDJSON rejects before reading
# them, so each is also tried as a member value, {"v":DOC}: every y_ one must
# then be accepted, every one-line n_ one still rejected.
# The per-document loop is tests/fixtures/conformance.py (one process, not
# a shell loop, to keep the suite fast); it prints one line per failure.
bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	[ -d "$CONFORMANCE" ] || return 0
	local f
	for f in "$CONFORMANCE"/y_*; do
		if jq -e 'type == "object"' "$f" > /dev/null 2>&1; then
			printf '%s\n' "${f##*/}"
		fi
	done > "$BATS_FILE_TMPDIR/y_objects"
}

setup() {
	T="$BATS_TEST_TMPDIR"
	[ -d "$CONFORMANCE" ] || skip "no JSONTestSuite at $CONFORMANCE"
}

# conformance MODE: runs the driver; it must report nothing.
conformance() {
	run python3 "$FIXTURES/conformance.py" "$1" "$CONFORMANCE" "$T" "$BATS_FILE_TMPDIR/y_objects"
	assert_output ''
	assert_success
}

@test "conformance: the suite is there, with its three kinds of documents" {
	[ "$(ls "$CONFORMANCE" | grep -c '^y_')" -ge 90 ]
	[ "$(ls "$CONFORMANCE" | grep -c '^n_')" -ge 180 ]
	[ "$(ls "$CONFORMANCE" | grep -c '^i_')" -ge 30 ]
	# 12 y_ documents are objects (jq says so)
	[ "$(wc -l < "$BATS_FILE_TMPDIR/y_objects")" -ge 12 ]
}

@test "conformance y_: every JSON object is read and written byte for byte" {
	conformance y
}

@test "conformance y_: the documents that are not objects are 'not a JSON object'" {
	conformance y-other
}

@test "conformance y_: every document wrapped as {\"v\":DOC} is read and written byte for byte" {
	conformance y-wrapped
}

@test "conformance n_: every document is rejected, reported, dead-lettered; --strict exits 3" {
	conformance n
}

@test "conformance n_: every one-line document wrapped as {\"v\":DOC} is still rejected" {
	conformance n-wrapped
}

@test "conformance n_: the documents with no non-blank line give an empty stream" {
	local name
	for name in n_single_space.json n_structure_no_data.json n_structure_UTF8_BOM_no_data.json; do
		[ -e "$CONFORMANCE/$name" ] || continue
		run --separate-stderr es-cat -i ndjson --strict "$CONFORMANCE/$name"
		assert_success
		assert_output ''
		assert_stderr ''
	done
}

@test "conformance n_: a few documents with their exact diagnostics" {
	run --separate-stderr es-cat -i ndjson "$CONFORMANCE/n_object_trailing_comma.json"
	assert_success
	assert_output ''
	assert_stderr "es-cat: $CONFORMANCE/n_object_trailing_comma.json:1: invalid JSON at column 9: expected a string key"
	run --separate-stderr es-cat -i ndjson "$CONFORMANCE/n_object_missing_value.json"
	assert_stderr "es-cat: $CONFORMANCE/n_object_missing_value.json:1: invalid JSON at column 6: unexpected end of line"
	run --separate-stderr es-cat -i ndjson "$CONFORMANCE/n_structure_object_with_trailing_garbage.json"
	assert_stderr "es-cat: $CONFORMANCE/n_structure_object_with_trailing_garbage.json:1: invalid JSON at column 13: trailing characters after the object"
	run --separate-stderr es-cat -i ndjson "$CONFORMANCE/n_object_unquoted_key.json"
	assert_stderr "es-cat: $CONFORMANCE/n_object_unquoted_key.json:1: invalid JSON at column 2: expected a string key"
	run --separate-stderr es-cat -i ndjson "$CONFORMANCE/n_array_newlines_unclosed.json"
	assert_output ''
	# an array over lines read as NDJSON: one hint, not one error a line
	assert_stderr "es-cat: $CONFORMANCE/n_array_newlines_unclosed.json:1: not a JSON object; this looks like pretty-printed JSON or a JSON array: read it with -i json (the bad lines after it are not said one by one)"
}

@test "conformance n_: all documents at once, one after another on stdin" {
	# The reader must recover after each: a good record after every one of
	# them comes out every time.
	local f n=0
	for f in "$CONFORMANCE"/n_*; do
		cat "$f"
		printf '\n{"after":%d}\n' "$n"
		n=$((n + 1))
	done > "$T/in"
	run_out es-cat -i ndjson < "$T/in"
	[ "$status" -eq 0 ]
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"after\":%d}\n", i }' |
		assert_file_is "$T/out"
}

@test "conformance i_: no document crashes the reader" {
	conformance i
}

@test "conformance i_: wrapped as {\"v\":DOC}, no document crashes the reader" {
	conformance i-wrapped
}

@test "conformance: every path of the scanner reads the whole suite the same (ES_SIMD forces one)" {
	# Every document, joined to one line, then alone at an offset moving
	# it through a 64-byte block: the records and the diagnostics of each
	# path are those of the scalar scanner.
	local f i=0
	for f in "$CONFORMANCE"/[yni]_*; do
		tr '\n' ' ' < "$f"
		printf '\n%*s{"v":' $((i % 64)) ''
		tr '\n' ' ' < "$f"
		printf '}\n'
		i=$((i + 1))
	done > "$T/in"
	ES_SIMD=scalar es-cat -i ndjson "$T/in" > "$T/scalar.out" 2> "$T/scalar.err"
	[ -s "$T/scalar.out" ] && [ -s "$T/scalar.err" ]
	local p
	for p in $("$UNIT/scan-test" paths | grep -v '^run: '); do
		ES_SIMD=$p es-cat -i ndjson "$T/in" > "$T/$p.out" 2> "$T/$p.err"
		cmp "$T/scalar.out" "$T/$p.out"
		cmp "$T/scalar.err" "$T/$p.err"
	done
}

@test "conformance: numbers of every form, read from one word or byte by byte, each followed by what may or may not follow: every path as the scalar scanner" {
	# a number with 8 bytes of the line from its start is read from one
	# word's masks when it is short; every other case byte by byte
	local sign int frac exp after n=0
	for sign in "" "-"; do
	for int in 0 1 12 123456 1234567 12345678 01 00 ""; do
	for frac in "" . .5 .55 .5555 .555555 .5.5 ..5; do
	for exp in "" e5 E+5 e-5 e; do
	for after in "," "}" " ," "x," ".," "]" "-," "0,"; do
		printf '{"a":%s%s%s%s%s"b":"xxxxxxxx"}\n' "$sign" "$int" "$frac" "$exp" "$after"
		printf '{"b":"x","a":%s%s%s%s%s\n' "$sign" "$int" "$frac" "$exp" "${after%,}}"
		n=$((n + 2))
	done; done; done; done; done > "$T/in"
	[ "$n" -eq 11520 ]
	ES_SIMD=scalar es-cat -i ndjson "$T/in" > "$T/scalar.out" 2> "$T/scalar.err"
	[ "$(wc -l < "$T/scalar.out")" -eq 1584 ]
	[ "$(wc -l < "$T/scalar.err")" -eq 9936 ]
	local p
	for p in $("$UNIT/scan-test" paths | grep -v '^run: '); do
		ES_SIMD=$p es-cat -i ndjson "$T/in" > "$T/$p.out" 2> "$T/$p.err"
		cmp "$T/scalar.out" "$T/$p.out"
		cmp "$T/scalar.err" "$T/$p.err"
	done
}

@test "conformance: ES_SIMD names the scanner's path; one this machine lacks, or no path, is said once" {
	local p
	for p in $("$UNIT/scan-test" paths | grep -v '^run: '); do
		ES_SIMD=$p run "$UNIT/scan-test" paths
		assert_line "run: $p"
	done
	best=$(env -u ES_SIMD "$UNIT/scan-test" paths | sed -n 's/^run: //p')
	printf '{"a":1}\n{"a":2}\n' > "$T/in"
	ES_SIMD=avx3 run --separate-stderr es-cat "$T/in"
	assert_success
	assert_output $'{"a":1}\n{"a":2}'
	assert_stderr "es-cat: ES_SIMD=avx3: not one of scalar, sse2, avx2, neon; scanning with $best"
	# a path the binary's machine lacks (under check-cross, the emulated one)
	local other=neon
	[ "$(uname -m)" = aarch64 ] || [ "${ES_CROSS:-}" = arm64 ] && other=avx2
	ES_SIMD=$other run --separate-stderr es-cat "$T/in"
	assert_success
	assert_output $'{"a":1}\n{"a":2}'
	assert_stderr "es-cat: ES_SIMD=$other: not on this machine, scanning with $best"
}
