#!/usr/bin/env bats
# -o influx: InfluxDB line protocol from the common writer, every escaping
# rule case by case, types, the timestamp's precision, what cannot be
# written (bad input, accounted), built records (es-window), the options'
# usage errors, and a real InfluxDB 1.x reading the lines back.
# es-http-pub sending them: tests/es-http-pub.bats.
bats_require_minimum_version 1.5.0
load http_helper

# lp ARGS...: es-cat -o influx --measurement m ARGS on standard input.
lp() {
	run --separate-stderr es-cat -o influx --measurement m "$@"
}

# ---- types and the parts of a line ----

@test "influx: integers with i, floats, booleans, strings; the tags sorted; ts in ns" {
	lp --tags site,dev <<< '{"ts":1700000000,"site":"s1","dev":"d7","n":3,"t":21.5,"big":1e21,"small":1.5e-7,"neg":-0.25,"ok":true,"no":false,"s":"hi"}'
	assert_success
	assert_output 'm,dev=d7,site=s1 n=3i,t=21.5,big=1e+21,small=1.5e-07,neg=-0.25,ok=true,no=false,s="hi" 1700000000000000000'
	assert_stderr ""
}

@test "influx: a number written 21.0 stays a float (no i); a huge integer is a float" {
	lp <<< '{"ts":1,"a":21.0,"b":12345678901234567890}'
	assert_success
	assert_output 'm a=21,b=1.2345678901234567e+19 1000000000'
}

@test "influx: nulls are left out, an empty tag is left out, objects and arrays are strings of JSON" {
	lp --tags dev,site <<< '{"ts":1,"dev":"","site":null,"z":null,"o":{"a":[1,"x"]},"arr":[1,2]}'
	assert_success
	assert_output 'm o="{\"a\":[1,\"x\"]}",arr="[1,2]" 1000000000'
}

@test "influx: a tag from a number or a boolean is its text" {
	lp --tags line,on <<< '{"ts":1,"line":7,"on":true,"v":1}'
	assert_success
	assert_output 'm,line=7,on=true v=1i 1000000000'
}

# ---- escaping, per InfluxDB's line protocol reference ----

@test "influx: measurement: commas and spaces escaped, equals signs and quotes not" {
	run --separate-stderr es-cat -o influx --measurement 'a,b c=d"e' <<< '{"ts":1,"v":1}'
	assert_success
	assert_output 'a\,b\ c=d"e v=1i 1000000000'
}

@test "influx: tag keys and values: commas, equals signs and spaces escaped" {
	lp --tags 'e y=x,k' <<< '{"ts":1,"e y=x":"a,b c=d","k":"q\"t","v":1}'
	assert_success
	assert_output 'm,e\ y\=x=a\,b\ c\=d,k=q"t v=1i 1000000000'
}

@test "influx: field keys: commas, equals signs and spaces escaped" {
	lp <<< '{"ts":1,"a,b":1,"c=d":2,"e f":3,"g\"h":4}'
	assert_success
	assert_output 'm a\,b=1i,c\=d=2i,e\ f=3i,g"h=4i 1000000000'
}

@test "influx: string values: quotes and backslashes escaped, commas, spaces and newlines as they are" {
	lp <<< '{"ts":1,"s":"a \"q\" b\\c,d=e\nf"}'
	assert_success
	assert_output "$(printf 'm s="a \\"q\\" b\\\\c,d=e\nf" 1000000000')"
}

@test "influx: a backslash inside a name passes as it is" {
	lp --tags dev <<< '{"ts":1,"dev":"a\\b","x\\y":1}'
	assert_success
	assert_output 'm,dev=a\b x\y=1i 1000000000'
}

@test "influx: what line protocol cannot carry is bad input, said, counted, dead-lettered" {
	printf '%s\n' '{"ts":1,"dev":"a\nb","v":1}' '{"ts":2,"dev":"x\\","v":1}' \
		'{"ts":3,"a\\":1}' '{"ts":4,"k\nl":1}' '{"ts":5,"dev":"ok"}' \
		'{"ts":6,"dev":"ok","v":2}' > "$T/in"
	run --separate-stderr es-cat -o influx --measurement m --tags dev \
		--dead-letter "$T/dead" --stats "$T/in"
	assert_success
	assert_output 'm,dev=ok v=2i 6000000000'
	assert_stderr "$(printf '%s\n' \
		"es-cat: $T/in:1: the value of tag 'dev' holds a newline, which line protocol cannot write" \
		"es-cat: $T/in:2: the value of tag 'dev' ends with a backslash, which line protocol cannot write" \
		"es-cat: $T/in:3: field key 'a\\' ends with a backslash, which line protocol cannot write" \
		"es-cat: $T/in:4: field key 'k...' holds a newline, which line protocol cannot write" \
		"es-cat: $T/in:5: no field to write (line protocol needs one besides the tags and the time)" \
		'{"program":"es-cat","in":6,"out":1,"bad":5,"late":0,"dropped":0}')"
	assert_file_is "$T/dead" < <(head -5 "$T/in")
}

# ---- the measurement from a field ----

@test "influx: --measurement '{F}' takes field F's value, which is then no field" {
	printf '%s\n' '{"ts":1,"kind":"temp c","v":1}' '{"ts":2,"kind":7,"v":2}' \
		'{"ts":3,"v":3}' '{"ts":4,"kind":"#x","v":4}' > "$T/in"
	run --separate-stderr es-cat -o influx --measurement '{kind}' "$T/in"
	assert_success
	assert_output "$(printf '%s\n' 'temp\ c v=1i 1000000000' '7 v=2i 2000000000')"
	assert_stderr "$(printf '%s\n' \
		"es-cat: $T/in:3: no measurement: field 'kind' is missing (--measurement)" \
		"es-cat: $T/in:4: the measurement starts with '#' (a comment line)")"
}

# ---- the timestamp ----

@test "influx: --precision s, ms, us, ns from epoch seconds" {
	local p
	for p in s ms us ns; do
		lp --precision "$p" <<< '{"ts":1700000000,"v":1}'
		assert_success
		echo "$output" >> "$T/got"
	done
	assert_file_is "$T/got" <<- 'EOF'
	m v=1i 1700000000
	m v=1i 1700000000000
	m v=1i 1700000000000000
	m v=1i 1700000000000000000
	EOF
}

@test "influx: a coarser precision rounds down, before 1970 too; nanoseconds given in ns are kept" {
	lp --precision s <<< '{"ts":1700000000999,"v":1}'
	assert_success
	assert_output 'm v=1i 1700000000'
	lp --precision s <<< '{"ts":"1969-12-31T23:59:58.5Z","v":2}'
	assert_output 'm v=2i -2'
	lp --precision ns <<< '{"ts":1700000000123456789,"v":1}'
	assert_output 'm v=1i 1700000000123456789'
}

@test "influx: RFC 3339 times; --timestamp-field another field (not written as a field) or none" {
	lp --precision ms <<< '{"ts":"2023-11-14T22:13:20.5Z","v":1}'
	assert_output 'm v=1i 1700000000500'
	lp --timestamp-field at --precision s <<< '{"at":1700000000,"ts":5,"v":1}'
	assert_output 'm ts=5i,v=1i 1700000000'
	lp --timestamp-field none <<< '{"ts":5,"v":1}'
	assert_output 'm ts=5i,v=1i'
}

@test "influx: a missing or unreadable time is bad input" {
	printf '%s\n' '{"v":1}' '{"ts":"soon","v":2}' '{"ts":3,"v":3}' > "$T/in"
	lp --precision s "$T/in"
	assert_success
	assert_output 'm v=3i 3'
	assert_stderr "$(printf '%s\n' \
		"es-cat: $T/in:1: missing time field 'ts' (--timestamp-field; none: the server's clock)" \
		"es-cat: $T/in:2: invalid RFC 3339 time: expected a date YYYY-MM-DD (--timestamp-field ts)")"
}

# ---- CSV input and built records ----

@test "influx: CSV cells that look like numbers are numbers, empty ones left out" {
	printf 'ts,dev,v,s,e\n1700000000,a 1,1.5,x y,\n1700000001,b,2,007x,3\n' > "$T/in.csv"
	lp --tags dev --precision s "$T/in.csv"
	assert_success
	assert_output "$(printf '%s\n' 'm,dev=a\ 1 v=1.5,s="x y" 1700000000' \
		'm,dev=b v=2i,s="007x",e=3i 1700000001')"
}

@test "influx: a CSV cell or column name that is not UTF-8 is bad input, as with -o ndjson; the other rows go" {
	printf 'ts,dev,v\n1700000000,\xb1x,1\n1700000001,b,\xff\n1700000002,c,3\n' > "$T/in.csv"
	printf 'ts,d\xe9v\n1700000000,a\n' > "$T/name.csv"
	run --separate-stderr es-cat -o influx --measurement m --tags dev --precision s \
		--dead-letter "$T/dead.csv" --stats "$T/in.csv" "$T/name.csv"
	assert_success
	assert_output 'm,dev=c v=3i 1700000002'
	assert_stderr "$(printf '%s\n' \
		"es-cat: $T/in.csv:2: invalid UTF-8 in CSV field 'dev'" \
		"es-cat: $T/in.csv:3: invalid UTF-8 in CSV field 'v'" \
		"es-cat: $T/name.csv:2: invalid UTF-8 in CSV field 'd$(printf '\xe9')v'" \
		'{"program":"es-cat","in":4,"out":1,"bad":3,"late":0,"dropped":0}')"
}

@test "influx: es-window's results (built records) as lines, the window start as the time" {
	printf '%s\n' '{"ts":1700000000,"g":"a","v":1}' '{"ts":1700000005,"g":"a","v":3}' \
		'{"ts":1700000012,"g":"b","v":2.5}' > "$T/in"
	run --separate-stderr es-window --tumbling 10s -k g --agg 'count,max(v)' \
		--flush-on-exit -o influx --measurement w --tags g \
		--timestamp-field window_start --precision s "$T/in"
	assert_success
	assert_output "$(printf '%s\n' \
		'w,g=a window_end=1700000010i,count=2i,max_v=3i 1700000000' \
		'w,g=b window_end=1700000020i,count=1i,max_v=2.5 1700000010')"
}

@test "influx: es-filter passes records through as lines" {
	printf '%s\n' '{"ts":1,"v":1}' '{"ts":2,"v":5}' | {
		run --separate-stderr es-filter 'v > 2' -o influx --measurement m --precision s
		assert_success
		assert_output 'm v=5i 2'
	}
}

# ---- options ----

@test "influx: usage errors: no measurement, the options without -o influx, bad values" {
	local try="Try 'es-cat --help' for more information."
	run --separate-stderr es-cat -o influx < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: -o influx needs --measurement NAME (or '{FIELD}')" "$try")"
	run --separate-stderr es-cat --tags a < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: --tags goes with -o influx" "$try")"
	run --separate-stderr es-cat --precision s --measurement m < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: --measurement goes with -o influx" "$try")"
	run --separate-stderr es-cat --timestamp-field x < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: --timestamp-field goes with -o influx" "$try")"
	run --separate-stderr es-cat -o influx --measurement m --precision auto < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: invalid argument 'auto' for --precision: expected s, ms, us or ns" "$try")"
	run --separate-stderr es-cat -o influx --measurement m --tags a,b,a < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: invalid argument for --tags: a field named twice" "$try")"
	run --separate-stderr es-cat -o influx --measurement '' < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: invalid argument for --measurement: empty" "$try")"
	run --separate-stderr es-cat -i influx < /dev/null
	assert_failure 2
	assert_stderr "$(printf '%s\n%s' "es-cat: invalid argument 'influx' for -i/--input-format: expected ndjson, json or csv" "$try")"
}

# ---- a real InfluxDB reads the lines back ----

@test "influx: InfluxDB 1.x reads every escaped name and value back exactly" {
	influx_start
	printf '%s\n' \
		'{"ts":1700000000123456789,"dev":"d 1,x=y","site":"s\\1","v":21.5,"n":-3,"ok":true,"s":"a \"q\" b\\c\nd","e f,g=h":1}' \
		'{"ts":1700000001000000000,"dev":"d2","v":1e-7,"n":9007199254740993,"ok":false,"s":""}' > "$T/in"
	es-cat -o influx --measurement 'cpu load,x' --tags dev,site "$T/in" > "$T/lp"
	run curl -sS -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$PORT/write?db=edge" --data-binary "@$T/lp"
	assert_output 204
	run influx_query 'SELECT * FROM "cpu load,x"'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"cpu load,x","columns":["time","dev","e f,g=h","n","ok","s","site","v"],"values":[[1700000000123456789,"d 1,x=y",1,-3,true,"a \"q\" b\\c\nd","s\\1",21.5],[1700000001000000000,"d2",null,9007199254740993,false,"",null,1e-7]]}]}]}'
	run influx_query 'SHOW TAG KEYS FROM "cpu load,x"'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"cpu load,x","columns":["tagKey"],"values":[["dev"],["site"]]}]}]}'
	run influx_query 'SHOW FIELD KEYS FROM "cpu load,x"'
	assert_output '{"results":[{"statement_id":0,"series":[{"name":"cpu load,x","columns":["fieldKey","fieldType"],"values":[["e f,g=h","integer"],["n","integer"],["ok","boolean"],["s","string"],["v","float"]]}]}]}'
}
