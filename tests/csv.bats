#!/usr/bin/env bats
# CSV: RFC 4180 reading, byte-for-byte pass-through, conversion to and from
# NDJSON, number exactness, ragged and malformed rows, line-ending rules.
bats_require_minimum_version 1.5.0
load test_helper

teardown() {
	live_teardown
}

# ---- pass-through ----

@test "csv: header and rows pass byte for byte" {
	printf 'ts,device,value\n1798761600000,gw-001,36.557\n1798761600100,gw-002,-0\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < "$T/in"
}

@test "csv: RFC 4180 quoting (commas, doubled quotes, newlines, empty quoted) passes byte for byte" {
	printf 'name,note,n\n"Smith, J","said ""hi""",1\n"multi\nline",x,2\nplain,"",3\n"a","b","c"\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < "$T/in"
}

@test "csv: RFC 4180 quoting converts to NDJSON exactly" {
	printf 'name,note,n\n"Smith, J","said ""hi""",1\n"multi\nline",x,2\nplain,"",3\n"a","b","c"\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<'EOF'
{"name":"Smith, J","note":"said \"hi\"","n":1}
{"name":"multi\nline","note":"x","n":2}
{"name":"plain","note":null,"n":3}
{"name":"a","note":"b","n":"c"}
EOF
}

@test "csv: quoted header names are decoded into the JSON keys" {
	printf '"a,b","c""d"," e",f\n1,2,3,4\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" <<'EOF'
{"a,b":1,"c\"d":2," e":3,"f":4}
EOF
}

@test "csv: fields are not trimmed" {
	printf 'a, b ,c\n 1,x , "q" \n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	# ' "q" ' is a quote inside an unquoted field: bad under RFC 4180
	assert_equal "$stderr" "es-cat: stdin:2: invalid CSV: quote inside unquoted field"
	printf 'a, b ,c\n 1,x ,y \n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<'EOF'
{"a":" 1"," b ":"x ","c":"y "}
EOF
}

@test "csv: cells that look like JSON numbers are numbers with the same digits, others strings" {
	{
		printf 'v\n'
		printf '%s\n' 0 -0 36.557 0.1 1.50 1e999 1E+2 -2.5e-3 \
			9223372036854775807 -9223372036854775808 18446744073709551616 \
			007 +1 .5 1. - 0x10 NaN Infinity true null ' 1' '1 '
	} > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<'EOF'
{"v":0}
{"v":-0}
{"v":36.557}
{"v":0.1}
{"v":1.50}
{"v":1e999}
{"v":1E+2}
{"v":-2.5e-3}
{"v":9223372036854775807}
{"v":-9223372036854775808}
{"v":18446744073709551616}
{"v":"007"}
{"v":"+1"}
{"v":".5"}
{"v":"1."}
{"v":"-"}
{"v":"0x10"}
{"v":"NaN"}
{"v":"Infinity"}
{"v":"true"}
{"v":"null"}
{"v":" 1"}
{"v":"1 "}
EOF
}

@test "csv: a ragged '1,000' row under a one-column header is bad" {
	printf 'v\n1\n1,000\n2\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:3: CSV row has 2 fields, header has 1"
	printf '{"v":1}\n{"v":2}\n' | assert_file_is "$T/out"
}

@test "csv: control characters, backslashes, quotes and UTF-8 are escaped right in JSON" {
	printf 's\n"a\tb"\nback\\slash\n"q""q"\n\001x\ncaf\303\251\n"cr\rin"\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" <<'EOF'
{"s":"a\tb"}
{"s":"back\\slash"}
{"s":"q\"q"}
{"s":"\u0001x"}
{"s":"café"}
{"s":"cr\rin"}
EOF
}

@test "csv: a quoted empty cell in a one-column file is a row (null), an empty line is not" {
	printf 'a\n""\n\n1\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":null}\n{"a":1}\n' | assert_file_is "$T/out"
}

# ---- line endings, BOM, last line, empty lines ----

@test "csv: CRLF line endings are normalized, also inside a quoted field" {
	printf 'a,b\r\n1,2\r\n"x\r\ny",3\r\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,2\n"x\ny",3\n' | assert_file_is "$T/out"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"a":1,"b":2}\n{"a":"x\\ny","b":3}\n' | assert_file_is "$T/out"
}

@test "csv: a UTF-8 BOM before the header is dropped" {
	printf '\xef\xbb\xbfa,b\n1,2\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,2\n' | assert_file_is "$T/out"
	run_out es-cat -o ndjson < "$T/in"
	printf '{"a":1,"b":2}\n' | assert_file_is "$T/out"
}

@test "csv: the last line without a newline is read" {
	printf 'a,b\n1,2' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,2\n' | assert_file_is "$T/out"
	printf 'a\n"x\ny"' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":"x\\ny"}\n' | assert_file_is "$T/out"
}

@test "csv: empty lines are skipped, before the header too, and counted in line numbers" {
	printf '\na,b\n\n1,2\n\n\n3\n4,5\n\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:7: CSV row has 1 field, header has 2"
	printf 'a,b\n1,2\n4,5\n' | assert_file_is "$T/out"
}

@test "csv: an empty line inside a quoted field is data" {
	printf 'a,b\n"x\n\ny",1\n' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" < "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	printf '{"a":"x\\n\\ny","b":1}\n' | assert_file_is "$T/out"
}

# ---- ragged and malformed rows ----

@test "csv: ragged rows are bad input, the header goes once before them in the dead letter" {
	printf 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n"p\nq",1\n10,11,12\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:3: CSV row has 2 fields, header has 3' \
		'es-cat: stdin:4: CSV row has 4 fields, header has 3' \
		'es-cat: stdin:5: CSV row has 2 fields, header has 3')"
	printf 'a,b,c\n1,2,3\n10,11,12\n' | assert_file_is "$T/out"
	printf 'a,b,c\n4,5\n6,7,8,9\n"p\nq",1\n' | assert_file_is "$T/dead"
}

@test "csv: the dead letter gets the header of each input before its first bad row" {
	printf 'a,b\n1\n2\n' > "$T/one"
	printf 'c,d\n1,2,3\n' > "$T/two"
	printf 'long,header\n9\n' > "$T/three"
	run_out es-cat --dead-letter "$T/dead" "$T/one" "$T/two" "$T/three"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		"es-cat: $T/one:2: CSV row has 1 field, header has 2" \
		"es-cat: $T/one:3: CSV row has 1 field, header has 2" \
		"es-cat: $T/two:2: CSV row has 3 fields, header has 2" \
		"es-cat: $T/three:2: CSV row has 1 field, header has 2")"
	assert_file_is "$T/out" < /dev/null
	printf 'a,b\n1\n2\nc,d\n1,2,3\nlong,header\n9\n' | assert_file_is "$T/dead"
}

@test "csv: malformed quoting is bad input; rows before and after are written" {
	printf 'a,b\n1,2\n"x"y,3\n4,5\nq"r,6\n7,8\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:3: invalid CSV: malformed quoted field' \
		'es-cat: stdin:5: invalid CSV: quote inside unquoted field')"
	printf 'a,b\n1,2\n4,5\n7,8\n' | assert_file_is "$T/out"
	printf 'a,b\n"x"y,3\nq"r,6\n' | assert_file_is "$T/dead"
}

@test "csv: rows of every length from 5 to 99 bytes, a delimiter or a stray quote at every place, 16 bytes at a time or 8 (ES_SIMD=scalar): the same cells" {
	# a row without quotes is split 16 bytes a step (the last 16 read
	# whole) or 8: a cell ending at every offset of both, and stray
	# quotes at as many, which hand the row to libcsv (malformed here)
	awk 'BEGIN { print "a,b,c"
		for (n = 5; n <= 99; n++) for (k = 1; k <= n - 4; k += 3) {
			s = ""; for (j = 0; j < n; j++) s = s "x"
			s = substr(s, 1, k) "," substr(s, k + 2, n - k - 3) ",x"
			print s
			if (k % 2 && n - k - 3 >= 2)
				print substr(s, 1, n - 3) "\"" substr(s, n - 1)
		} }' > "$T/in"
	awk -F, 'NR > 1 && !/"/ { printf "{\"a\":\"%s\",\"b\":\"%s\",\"c\":\"%s\"}\n", $1, $2, $3 }' "$T/in" > "$T/want"
	[ "$(wc -l < "$T/in")" -eq 2337 ]
	[ "$(wc -l < "$T/want")" -eq 1552 ]
	for simd in "" scalar; do
		ES_SIMD=$simd run --separate-stderr es-cat -o ndjson --dead-letter "$T/dead$simd" "$T/in"
		assert_success
		[ "$output" = "$(cat "$T/want")" ] || fail "ES_SIMD=$simd: $(diff <(echo "$output") "$T/want" | head -5)"
		[ "$(grep -c '"' "$T/dead$simd")" -eq 784 ]
		[ "$(wc -l < "$T/dead$simd")" -eq 785 ]	# and the header
		[ "$(echo "$stderr" | grep -c 'invalid CSV: quote inside unquoted field$')" -eq 784 ]
	done
}

@test "csv: a quoted field left open at the end of input costs its first line; the lines after it are read again" {
	printf 'a,b\n1,2\n3,"x\n4,5\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" --stats < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' 'es-cat: stdin:3: invalid CSV: unterminated quote opened on line 3' \
		'{"program":"es-cat","in":3,"out":2,"bad":1,"late":0,"dropped":0}')"
	printf 'a,b\n1,2\n4,5\n' | assert_file_is "$T/out"
	printf 'a,b\n3,"x\n' | assert_file_is "$T/dead"
}

# ---- a stray quote (CSV_ROW_MAX_LINES 100, CSV_ROW_MAX_BYTES 1 MiB, 1 s) ----

@test "csv: one stray quote costs one line: the row is cut off after 100 lines and the lines after its first read again" {
	{ printf 'ts,v\n1,1\n2,"oops\n'; seq 3 300 | sed 's/.*/&,&/'; } > "$T/in"
	run_out es-cat --dead-letter "$T/dead" --stats < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' 'es-cat: stdin:3: invalid CSV: unterminated quote opened on line 3' \
		'{"program":"es-cat","in":300,"out":299,"bad":1,"late":0,"dropped":0}')"
	{ printf 'ts,v\n1,1\n'; seq 3 300 | sed 's/.*/&,&/'; } | assert_file_is "$T/out"
	printf 'ts,v\n2,"oops\n' | assert_file_is "$T/dead"
}

@test "csv: a quoted field of 100 lines is one cell; one still open at its 100th line is cut off" {
	python3 -c '
import sys
w = sys.stdout.write
w("a,b\n1,\"" + "x\n" * 99 + "y\"\n")	# lines 2-101: 100 lines
w("2,\"" + "x\n" * 100 + "y\"\n3,3\n")	# lines 102-202, then 203' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	exp=$(python3 -c 'import json; print(json.dumps({"a":1,"b":"x\n"*99+"y"}, separators=(",",":")))')
	# the cut row's first line is bad; its other lines read again: 99
	# rows "x" of one field, then 'y"' (a quote inside an unquoted field)
	{ echo "es-cat: stdin:102: invalid CSV: unterminated quote opened on line 102"
	  for i in $(seq 103 201); do echo "es-cat: stdin:$i: CSV row has 1 field, header has 2"; done
	  echo "es-cat: stdin:202: invalid CSV: quote inside unquoted field"; } > "$T/exp_err"
	assert_equal "$stderr" "$(cat "$T/exp_err")"
	printf '%s\n{"a":3,"b":3}\n' "$exp" | assert_file_is "$T/out"
}

@test "csv: a quoted field past 1 MiB is cut off at the line that takes it past" {
	python3 -c '
import sys
w = sys.stdout.write
w("a,b\n1,\"" + "x" * 600000 + "\n" + "y" * 600000 + "\n2,2\n")' > "$T/in"
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' 'es-cat: stdin:2: invalid CSV: unterminated quote opened on line 2' \
		'es-cat: stdin:3: CSV row has 1 field, header has 2')"
	printf 'a,b\n2,2\n' | assert_file_is "$T/out"
}

@test "csv: a quote that closes in a malformed way further down: the line it opened on is bad, the others read again" {
	printf 'ts,v\n1,1\n2,"oops\n3,3\n4,"four"x\n5,5\n' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf '%s\n' \
		'es-cat: stdin:3: invalid CSV: malformed quoted field on line 5 (the quote opened on line 3)' \
		'es-cat: stdin:5: invalid CSV: malformed quoted field')"
	printf 'ts,v\n1,1\n3,3\n5,5\n' | assert_file_is "$T/out"
	printf 'ts,v\n2,"oops\n4,"four"x\n' | assert_file_is "$T/dead"
}

@test "csv: 1.5 million rows after a stray quote: all read but the one line (counts)" {
	{ printf 'ts,v\n0,"oops\n'; seq 1 1500000 | awk '{print $1 "," $1}'; } > "$T/in"
	run_out es-cat --dead-letter "$T/dead" --stats "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "$(printf 'es-cat: %s:2: invalid CSV: unterminated quote opened on line 2\n%s' "$T/in" \
		'{"program":"es-cat","in":1500001,"out":1500000,"bad":1,"late":0,"dropped":0}')"
	[ "$(wc -l < "$T/out")" -eq 1500001 ]
	[ "$(sed -n '2p;$p' "$T/out" | tr '\n' ' ')" = "1,1 1500000,1500000 " ]
	printf 'ts,v\n0,"oops\n' | assert_file_is "$T/dead"
}

@test "csv: on a live pipe an open quote holds nothing back past 1 s of waiting" {
	skip_if_slow
	start_live es-cat
	printf 'ts,v\n1,1\n2,"oops\n' >&"$W"
	await_out 2
	await_err 'es-cat: stdin:3: invalid CSV: unterminated quote opened on line 3' 3
	printf '3,3\n' >&"$W"
	await_out 3
	finish_live
	[ "$status" -eq 0 ]
	printf 'ts,v\n1,1\n3,3\n' | assert_file_is "$T/out"
	assert_equal "$(cat "$T/err")" 'es-cat: stdin:3: invalid CSV: unterminated quote opened on line 3'
}

@test "csv: on a live pipe a multi-line cell that arrives at once is one cell" {
	skip_if_slow
	start_live es-cat -o ndjson
	printf 'ts,v\n1,"a\nb"\n' >&"$W"
	await_out 1
	finish_live
	[ "$status" -eq 0 ]
	printf '{"ts":1,"v":"a\\nb"}\n' | assert_file_is "$T/out"
	assert_equal "$(cat "$T/err")" ''
}

@test "csv: --strict stops at a ragged row with exit 3 after the good rows" {
	printf 'a,b\n1,2\n3\n4,5\n' > "$T/in"
	run_out es-cat --strict < "$T/in"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "es-cat: stdin:3: CSV row has 1 field, header has 2"
	printf 'a,b\n1,2\n' | assert_file_is "$T/out"
}

@test "csv: a cell with invalid UTF-8 cannot become JSON: bad input, the stream goes on" {
	printf 'name,v\nok,1\n\377\376,2\nok2,3\n' > "$T/in"
	run_out es-cat -o ndjson --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:3: invalid UTF-8 in CSV field 'name'"
	printf '{"name":"ok","v":1}\n{"name":"ok2","v":3}\n' | assert_file_is "$T/out"
	printf 'name,v\n\377\376,2\n' | assert_file_is "$T/dead"
	# CSV to CSV passes the bytes as they are.
	run_out es-cat < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_file_is "$T/out" < "$T/in"
}

# ---- several CSV inputs ----

@test "csv: inputs with the same header: the header is written once" {
	printf 'a,b\n1,2\n' > "$T/one"
	printf 'a,b\n3,4\n' > "$T/two"
	run_out es-cat "$T/one" "$T/two"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,2\n3,4\n' | assert_file_is "$T/out"
}

@test "csv: a later input with its columns in another order is converted to the first header" {
	printf 'a,b\n1,2\n' > "$T/one"
	printf 'b,a\n3,"x,y"\n' > "$T/two"
	printf 'a,z\n5,6\n' > "$T/three"
	run_out es-cat "$T/one" "$T/two" "$T/three"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: $T/three:2: field 'z' is not in the CSV header"
	printf 'a,b\n1,2\n"x,y",3\n' | assert_file_is "$T/out"
}

# ---- NDJSON to CSV ----

@test "ndjson->csv: header from the first record; missing fields empty; other order; extra field is bad" {
	cat > "$T/in" <<'EOF'
{"a":1,"b":"x","c":true}
{"a":2}
{"c":false,"a":3,"b":"y"}
{"a":4,"x":1}
{"a":5,"b":"z","c":null}
EOF
	run_out es-cat -o csv --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:4: field 'x' is not in the CSV header"
	printf 'a,b,c\n1,x,true\n2,,\n3,y,false\n5,z,\n' | assert_file_is "$T/out"
	printf '{"a":4,"x":1}\n' | assert_file_is "$T/dead"
}

@test "ndjson->csv: values: strings unescaped and quoted when needed, containers as JSON text" {
	cat > "$T/in" <<'EOF'
{"s":"x,y","q":"say \"hi\"","nl":"a\nb","t":true,"f":false,"n":null,"o":{"k":[1,2]},"a":[1],"sp":" lead","tab":"trail\t","u":"\u00e9\ud83d\ude00","plain":"abc","bs":"a\\b","cr":"a\rb"}
EOF
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 's,q,nl,t,f,n,o,a,sp,tab,u,plain,bs,cr\n"x,y","say ""hi""","a\nb",true,false,,"{""k"":[1,2]}",[1]," lead","trail\t",\303\251\360\237\230\200,abc,a\\b,"a\rb"\n' |
		assert_file_is "$T/out"
}

@test "ndjson->csv: keys that need quoting or have escapes" {
	printf '{"a,b":1,"c\\"d":2," e":3,"f\\u0067":4}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '"a,b","c""d"," e",fg\n1,2,3,4\n' | assert_file_is "$T/out"
}

@test "ndjson->csv: a duplicated key is one column and the last value wins" {
	printf '{"a":1,"a":2,"b":3}\n{"b":4,"a":5,"a":6}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n2,3\n6,4\n' | assert_file_is "$T/out"
}

@test "ndjson->csv: fields in another order, missing or unknown find their columns (the header's order is tried first)" {
	printf '{"a":1,"b":2,"c":3}\n{"c":4,"b":5,"a":6}\n{"a":7,"c":8}\n{"b":9}\n{"a":1,"d":2}\n{"ab":1}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:5: field 'd' is not in the CSV header
es-cat: stdin:6: field 'ab' is not in the CSV header"
	printf 'a,b,c\n1,2,3\n6,5,4\n7,,8\n,9,\n' | assert_file_is "$T/out"
}

@test "ndjson->csv: the first record bad: the header comes from the first good one" {
	printf '{"a":\n{"b":1}\n{"b":2}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:1: invalid JSON at column 6: unexpected end of line"
	printf 'b\n1\n2\n' | assert_file_is "$T/out"
}

@test "ndjson->csv: a record with no fields cannot start CSV output; after a header it is a row of empty cells" {
	printf '{}\n{"a":1,"b":2}\n{}\n' > "$T/in"
	run_out es-cat -o csv --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "es-cat: stdin:1: a record with no fields cannot start CSV output (there is no header to write)"
	printf 'a,b\n1,2\n,\n' | assert_file_is "$T/out"
	printf '{}\n' | assert_file_is "$T/dead"
}

@test "ndjson->csv: one column with an empty name: the header is \"\" (not an empty line) and reads back" {
	printf '{"":0}\n{"":1}\n' | es-cat -o csv > "$T/out"
	printf '""\n0\n1\n' | assert_file_is "$T/out"
	run es-cat -o ndjson "$T/out"
	assert_output '{"":0}
{"":1}'
}

# ---- number exactness both ways ----

@test "numbers keep their digits: NDJSON -> CSV" {
	printf '{"max":9223372036854775807,"min":-9223372036854775808,"t":36.557,"big":1e999,"nz":-0,"d":0.1,"e":1E+2,"f":1.50}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'max,min,t,big,nz,d,e,f\n9223372036854775807,-9223372036854775808,36.557,1e999,-0,0.1,1E+2,1.50\n' |
		assert_file_is "$T/out"
}

@test "numbers keep their digits: CSV -> NDJSON" {
	printf 'max,min,t,big,nz,d,e,f\n9223372036854775807,-9223372036854775808,36.557,1e999,-0,0.1,1E+2,1.50\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"max":9223372036854775807,"min":-9223372036854775808,"t":36.557,"big":1e999,"nz":-0,"d":0.1,"e":1E+2,"f":1.50}\n' |
		assert_file_is "$T/out"
}

@test "NDJSON -> CSV -> NDJSON gives back the same bytes" {
	cat > "$T/in" <<'EOF'
{"s":"x,\"y\"\nz","n":-0.5e-3,"i":-9223372036854775808,"j":9223372036854775807,"u":"é\t\\"}
{"s":"plain","n":36.557,"i":0,"j":1e999,"u":"x"}
EOF
	run bash -c 'es-cat -o csv "$1" | es-cat -o ndjson > "$2/out"' _ "$T/in" "$T"
	assert_success
	assert_output ''
	assert_file_is "$T/out" < "$T/in"
}

# ---- more edges ----

@test "csv: a header with a quoted field over two lines" {
	printf '"a\nb",c\n1,2\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a\\nb":1,"c":2}\n' | assert_file_is "$T/out"
	run_out es-cat < "$T/in"
	assert_file_is "$T/out" < "$T/in"
}

@test "ndjson->csv: a key written with escapes and plainly is one column" {
	printf '{"a\\u0062":1}\n{"ab":2}\n' > "$T/in"
	run_out es-cat -o csv < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'ab\n1\n2\n' | assert_file_is "$T/out"
}

@test "ndjson->csv->ndjson: a one-column record with null survives (its row is not an empty line)" {
	printf '{"a":1}\n{"a":null}\n{"a":"x"}\n' > "$T/in"
	run bash -c 'es-cat -o csv "$1" | es-cat -o ndjson' _ "$T/in"
	assert_success
	assert_output "$(cat "$T/in")"
}

@test "csv: a quoted row over 16 MiB: cut off at 1 MiB, every line accounted for; the next row is read" {
	python3 -c '
import sys
w = sys.stdout.write
w("a,b\n1,2\n\"")
for i in range(17):
    w("x" * (1 << 20) + "\n")
w("\",3\n4,5\n")' > "$T/in"
	run_out es-cat --dead-letter "$T/dead" < "$T/in"
	[ "$status" -eq 0 ]
	{ echo "es-cat: stdin:3: invalid CSV: unterminated quote opened on line 3"
	  for i in $(seq 4 19); do echo "es-cat: stdin:$i: CSV row has 1 field, header has 2"; done
	  echo "es-cat: stdin:20: invalid CSV: unterminated quote opened on line 20"; } > "$T/exp_err"
	assert_equal "$stderr" "$(cat "$T/exp_err")"
	printf 'a,b\n1,2\n4,5\n' | assert_file_is "$T/out"
	{ printf 'a,b\n'; sed -n '3,20p' "$T/in"; } | assert_file_is "$T/dead"
}

@test "csv: a quoted cell that is a JSON number is a number" {
	printf 'a,b,c\n"42","x","-0.5"\n' > "$T/in"
	run_out es-cat -o ndjson < "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"a":42,"b":"x","c":-0.5}\n' | assert_file_is "$T/out"
}

@test "csv: a later input lacking a column of the first header gets an empty cell" {
	printf 'a,b\n1,2\n' > "$T/one"
	printf 'a\n5\n' > "$T/two"
	printf 'b\n"x,y"\n' > "$T/three"
	run_out es-cat "$T/one" "$T/two" "$T/three"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'a,b\n1,2\n5,\n,"x,y"\n' | assert_file_is "$T/out"
}

# ---- repeated names: the last one is read, everywhere ----

@test "csv: a header with a name twice: one warning, the last column is read, conversion writes the last" {
	printf 'ts,v,v\n1,2,3\n' > "$T/in"
	run --separate-stderr es-filter 'v == 3' "$T/in"
	assert_success
	assert_output "$(printf 'ts,v,v\n1,2,3')"
	assert_stderr "es-filter: $T/in: the CSV header has 'v' twice (columns 2 and 3): the last one is read"
	run --separate-stderr es-cat -o ndjson "$T/in"
	assert_success
	assert_output '{"ts":1,"v":3}'
	run --separate-stderr es-filter 'v == 3' <(es-cat -o ndjson "$T/in" 2> /dev/null)
	assert_success
	assert_output '{"ts":1,"v":3}'
}

@test "es-map --rename/--drop/--keep on a repeated JSON key: the last one is the field, none of the others is left behind" {
	printf '{"a":1,"a":2,"b":0}\n' > "$T/in"
	run --separate-stderr es-map --rename a:c "$T/in"
	assert_success
	assert_output '{"c":2,"b":0}'
	run --separate-stderr es-map --drop a "$T/in"
	assert_success
	assert_output '{"b":0}'
	run --separate-stderr es-map --keep a "$T/in"
	assert_success
	assert_output '{"a":2}'
	run --separate-stderr es-map 'a = a + 1' "$T/in"
	assert_success
	assert_output '{"a":3,"b":0}'
}

# ---- line ends ----

@test "csv: lines that end in CR alone (classic Mac OS) are lines, not one header" {
	printf 'ts,v\r1,1\r2,"a\rb"\r' > "$T/in"
	run_out es-cat -o ndjson "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"ts":1,"v":1}\n{"ts":2,"v":"a\\nb"}\n' | assert_file_is "$T/out"
}
