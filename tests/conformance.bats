#!/usr/bin/env bats
# RFC 8259 conformance over JSONTestSuite's test_parsing, read in place from
# ../shared/conformance ($CONFORMANCE). NDJSON is one JSON object per line,
# so:
#   y_  every document that is a JSON object (jq -e 'type=="object"') must be
#       read as a record and written byte for byte. NDJSON has no room for a
#       newline inside a record, so a document's lines are first joined with
#       spaces (a newline outside strings is whitespace, so the joined line is
#       the same JSON value; inside strings a raw newline is invalid anyway).
#   n_  every document must be rejected: no stdout, exit 0, one diagnostic
#       "es-cat: stdin:N: ..." per non-blank line, the non-blank lines in the
#       dead-letter file, exit 3 under --strict. Three n_ documents have no
#       non-blank line at all (empty, one space, a lone BOM): in NDJSON they
#       are an empty stream, so no record and no diagnostic either.
#   i_  implementation-defined: nothing may crash (exit 0, only well-formed
#       diagnostics on stderr).
bats_require_minimum_version 1.5.0
load test_helper

MESSAGES='unterminated string|invalid \\u escape|invalid escape|control character in string|invalid UTF-8|invalid number|invalid literal|unexpected character|unexpected end of line|expected a string key|expected '"':'"' after a key|expected '"','"' or '"'}'"'|expected '"','"' or '"']'"'|nesting deeper than 2048 levels|trailing characters after the object'

setup_file() {
	[ -d "$CONFORMANCE" ] || return 0
	# The expected dead letter and diagnostics of each n_ document: its
	# non-blank lines (BOM at the start dropped, CR before LF dropped).
	python3 - "$CONFORMANCE" "$BATS_FILE_TMPDIR" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    if not f.startswith(("n_", "i_")):
        continue
    b = open(os.path.join(src, f), "rb").read()
    if b.startswith(b"\xef\xbb\xbf"):
        b = b[3:]
    lines = b.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    dead, nos = b"", []
    for no, l in enumerate(lines, 1):
        if l.endswith(b"\r"):
            l = l[:-1]
        if l.strip(b" \t") == b"":
            continue
        dead += l + b"\n"
        nos.append(str(no))
    open(os.path.join(out, f + ".dead"), "wb").write(dead)
    open(os.path.join(out, f + ".lines"), "w").write(" ".join(nos))
PY
}

setup() {
	T="$BATS_TEST_TMPDIR"
	[ -d "$CONFORMANCE" ] || skip "no JSONTestSuite at $CONFORMANCE"
}

@test "conformance: the suite is there, with its three kinds of documents" {
	[ "$(ls "$CONFORMANCE" | grep -c '^y_')" -ge 90 ]
	[ "$(ls "$CONFORMANCE" | grep -c '^n_')" -ge 180 ]
	[ "$(ls "$CONFORMANCE" | grep -c '^i_')" -ge 30 ]
}

@test "conformance y_: every JSON object is read and written byte for byte" {
	local f name st n=0 failed=""
	for f in "$CONFORMANCE"/y_*; do
		jq -e 'type == "object"' "$f" > /dev/null 2>&1 || continue
		name=${f##*/}
		n=$((n + 1))
		tr '\n' ' ' < "$f" > "$T/in"
		printf '\n' >> "$T/in"
		es-cat -i ndjson < "$T/in" > "$T/out" 2> "$T/err" && st=0 || st=$?
		if [ "$st" -ne 0 ]; then
			failed+="$name: exit $st"$'\n'
		elif [ -s "$T/err" ]; then
			failed+="$name: stderr $(head -c 200 "$T/err")"$'\n'
		elif ! cmp -s "$T/in" "$T/out"; then
			failed+="$name: output differs"$'\n'
		fi
		# and the same without -i: detected as NDJSON from its '{'
		if ! es-cat < "$T/in" 2> /dev/null | cmp -s "$T/in" -; then
			failed+="$name: output differs without -i"$'\n'
		fi
	done
	# The suite has 12 such documents; all of them must have been tried.
	[ "$n" -ge 12 ] || fail "only $n y_ objects found"
	[ -z "$failed" ] || fail "$failed"
}

@test "conformance y_: the documents that are not objects are 'not a JSON object'" {
	local f name st failed=""
	for f in "$CONFORMANCE"/y_*; do
		jq -e 'type == "object"' "$f" > /dev/null 2>&1 && continue
		name=${f##*/}
		{ tr '\n' ' ' < "$f"; printf '\n'; } > "$T/in"
		es-cat -i ndjson < "$T/in" > "$T/out" 2> "$T/err" && st=0 || st=$?
		[ "$st" -eq 0 ] || failed+="$name: exit $st"$'\n'
		[ ! -s "$T/out" ] || failed+="$name: wrote a record"$'\n'
		[ "$(cat "$T/err")" = "es-cat: stdin:1: not a JSON object" ] ||
			failed+="$name: $(head -c 200 "$T/err")"$'\n'
	done
	[ -z "$failed" ] || fail "$failed"
}

# Checks one n_ document; appends what is wrong to $failed.
check_n() {
	local f=$1 name=${1##*/} exp="$BATS_FILE_TMPDIR/${1##*/}"
	local nos no line re i=0 st
	rm -f "$T/dead"
	es-cat -i ndjson --dead-letter "$T/dead" < "$f" > "$T/out" 2> "$T/err" && st=0 || st=$?
	[ "$st" -eq 0 ] || failed+="$name: exit $st"$'\n'
	[ ! -s "$T/out" ] || failed+="$name: wrote $(head -c 100 "$T/out")"$'\n'
	cmp -s "$T/dead" "$exp.dead" || failed+="$name: dead letter differs"$'\n'
	read -r -a nos < "$exp.lines" || true
	if [ "$(wc -l < "$T/err")" -ne "${#nos[@]}" ]; then
		failed+="$name: $(wc -l < "$T/err") diagnostics for ${#nos[@]} non-blank lines: $(head -c 300 "$T/err")"$'\n'
		return
	fi
	while IFS= read -r line; do
		no=${nos[i++]}
		re="^es-cat: stdin:$no: (not a JSON object|invalid JSON at column [1-9][0-9]*: ($MESSAGES))\$"
		[[ $line =~ $re ]] || failed+="$name: bad diagnostic: $line"$'\n'
	done < "$T/err"
	# --strict: the first bad line is fatal
	if [ "${#nos[@]}" -gt 0 ]; then
		es-cat -i ndjson --strict < "$f" > "$T/out" 2> "$T/err" && st=0 || st=$?
		[ "$st" -eq 3 ] || failed+="$name: --strict exit $st"$'\n'
		[ ! -s "$T/out" ] || failed+="$name: --strict wrote a record"$'\n'
		[ "$(wc -l < "$T/err")" -eq 1 ] || failed+="$name: --strict: $(wc -l < "$T/err") diagnostics"$'\n'
	fi
}

@test "conformance n_: every document is rejected, reported, dead-lettered; --strict exits 3" {
	local f failed="" n=0
	for f in "$CONFORMANCE"/n_*; do
		check_n "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 180 ] || fail "only $n n_ documents"
	[ -z "$failed" ] || fail "$failed"
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
	assert_stderr "$(printf '%s\n' \
		"es-cat: $CONFORMANCE/n_array_newlines_unclosed.json:1: not a JSON object" \
		"es-cat: $CONFORMANCE/n_array_newlines_unclosed.json:2: not a JSON object" \
		"es-cat: $CONFORMANCE/n_array_newlines_unclosed.json:3: not a JSON object")"
}

@test "conformance n_: all documents at once, one after another on stdin" {
	# The reader must recover after each: a good record between them all
	# comes out every time.
	local f n=0
	: > "$T/in"
	for f in "$CONFORMANCE"/n_*; do
		cat "$f" >> "$T/in"
		printf '\n{"after":%d}\n' "$n" >> "$T/in"
		n=$((n + 1))
	done
	run_out es-cat -i ndjson < "$T/in"
	[ "$status" -eq 0 ]
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"after\":%d}\n", i }' |
		assert_file_is "$T/out"
}

@test "conformance i_: no document crashes the reader" {
	local f name st line failed=""
	local re="^es-cat: stdin:[0-9]+: (not a JSON object|invalid JSON at column [1-9][0-9]*: ($MESSAGES))\$"
	for f in "$CONFORMANCE"/i_*; do
		name=${f##*/}
		es-cat -i ndjson < "$f" > "$T/out" 2> "$T/err" && st=0 || st=$?
		if [ "$st" -ne 0 ]; then
			failed+="$name: exit $st: $(head -c 300 "$T/err")"$'\n'
			continue
		fi
		while IFS= read -r line; do
			[[ $line =~ $re ]] || failed+="$name: $line"$'\n'
		done < "$T/err"
		# an accepted document is written as it came (less a leading BOM)
		if [ -s "$T/out" ] && ! { tr -d '\n' < "$f" | sed '1s/^\xef\xbb\xbf//'; printf '\n'; } | cmp -s - "$T/out"; then
			failed+="$name: accepted but changed"$'\n'
		fi
	done
	[ -z "$failed" ] || fail "$failed"
}

# Most documents are arrays or scalars, which NDJSON rejects before looking
# inside. Wrapped as a member value, {"v":DOC}, each is read by the value
# grammar itself.

@test "conformance y_: every document wrapped as {\"v\":DOC} is read and written byte for byte" {
	local f name st n=0 failed=""
	for f in "$CONFORMANCE"/y_*; do
		name=${f##*/}
		{ printf '{"v":'; tr '\n' ' ' < "$f"; printf '}\n'; } > "$T/in"
		es-cat -i ndjson < "$T/in" > "$T/out" 2> "$T/err" && st=0 || st=$?
		if [ "$st" -ne 0 ] || [ -s "$T/err" ] || ! cmp -s "$T/in" "$T/out"; then
			failed+="$name: exit $st $(head -c 200 "$T/err")"$'\n'
		fi
		n=$((n + 1))
	done
	[ "$n" -ge 90 ] || fail "only $n y_ documents"
	[ -z "$failed" ] || fail "$failed"
}

@test "conformance n_: every one-line document wrapped as {\"v\":DOC} is still rejected" {
	# (a document with a newline inside would change meaning when joined)
	local f name st n=0 failed=""
	local re="^es-cat: stdin:1: invalid JSON at column [1-9][0-9]*: ($MESSAGES)\$"
	for f in "$CONFORMANCE"/n_*; do
		name=${f##*/}
		[ "$(head -c -1 "$f" | tr -cd '\n' | wc -c)" -eq 0 ] || continue
		{ printf '{"v":'; tr -d '\n' < "$f"; printf '}\n'; } > "$T/in"
		es-cat -i ndjson < "$T/in" > "$T/out" 2> "$T/err" && st=0 || st=$?
		[ "$st" -eq 0 ] || failed+="$name: exit $st"$'\n'
		[ ! -s "$T/out" ] || failed+="$name: accepted"$'\n'
		[[ "$(cat "$T/err")" =~ $re ]] || failed+="$name: $(head -c 200 "$T/err")"$'\n'
		n=$((n + 1))
	done
	[ "$n" -ge 180 ] || fail "only $n n_ documents"
	[ -z "$failed" ] || fail "$failed"
}

@test "conformance i_: wrapped as {\"v\":DOC}, no document crashes the reader" {
	local f name st line failed=""
	local re="^es-cat: stdin:1: invalid JSON at column [1-9][0-9]*: ($MESSAGES)\$"
	for f in "$CONFORMANCE"/i_*; do
		name=${f##*/}
		{ printf '{"v":'; tr -d '\n' < "$f" | sed '1s/^\xef\xbb\xbf//'; printf '}\n'; } > "$T/in"
		es-cat -i ndjson < "$T/in" > "$T/out" 2> "$T/err" && st=0 || st=$?
		[ "$st" -eq 0 ] || failed+="$name: exit $st: $(head -c 300 "$T/err")"$'\n'
		if [ -s "$T/out" ]; then
			cmp -s "$T/in" "$T/out" || failed+="$name: accepted but changed"$'\n'
			[ ! -s "$T/err" ] || failed+="$name: accepted with a diagnostic"$'\n'
		else
			[[ "$(cat "$T/err")" =~ $re ]] || failed+="$name: $(head -c 200 "$T/err")"$'\n'
		fi
	done
	[ -z "$failed" ] || fail "$failed"
}
