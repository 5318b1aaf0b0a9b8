#!/usr/bin/env bats
# The reading options every program that reads records shares:
# -d/--delimiter (CSV input only: output stays RFC 4180 commas) and
# --null-values (cells read as null). --timezone is parsed here for each
# program too; what it does to times is tested in tests/time.bats.
bats_require_minimum_version 1.5.0
load test_helper

# Each program that reads records, with arguments that make it read them
# and print --stats. (es-mqtt-pub and es-kafka-pub read through the same
# reader; they need a broker, see their own bats files.)
PROGS=(
	"es-cat"
	"es-filter true"
	"es-map w=1"
	"es-dedup --key ts"
	"es-window --tumbling 10s --agg count"
	"es-deadband --field v --abs 1"
	"es-detect --field v --above 100"
	"es-join --table TABLE --on ts"
)

# run_prog "PROG ARGS" OPTION...: PROG with ARGS, the options, --stats,
# reading $T/in; $status, $stderr (the stats line is the last).
run_prog() {
	local words
	read -ra words <<< "${1//TABLE/$T/table.csv}"
	shift
	"${words[@]}" "$@" --stats -o ndjson "$T/in" > "$T/out" 2> "$T/err" && status=0 || status=$?
	stderr=$(cat "$T/err")
}

@test "-d ';': every program that reads records reads a ';' file; without it the first bad row names the likely cause" {
	printf 'ts;v\n1;5\n2;6\n' > "$T/in"
	printf 'ts,x\n1,a\n2,b\n' > "$T/table.csv"
	local p name
	for p in "${PROGS[@]}"; do
		name=${p%% *}
		run_prog "$p" -d ';'
		[ "$status" -eq 0 ] || fail "$p -d ';': status $status: $stderr"
		grep -q '"in":2,' <<< "$stderr" || fail "$p -d ';': $stderr"
		grep -q '"bad":0,' <<< "$stderr" || fail "$p -d ';': $stderr"
		run_prog "$p" --delimiter semicolon
		grep -q '"in":2,' <<< "$stderr" || fail "$p --delimiter semicolon: $stderr"
		printf 'ts;v\n1;5,5\n2;6,5\n' > "$T/in"
		run_prog "$p"
		grep -qxF "$name: $T/in:2: CSV row has 2 fields, header has 1; the header has ';' in it: is the delimiter ';'? (-d ';')" "$T/err" ||
			fail "$p: $stderr"
		[ "$(grep -c 'CSV row has.*is the delimiter' "$T/err")" -eq 1 ] || fail "$p: the hint twice: $stderr"
		printf 'ts;v\n1;5\n2;6\n' > "$T/in"
	done
}

@test "-d tab reads a tab-separated file; CSV output stays comma-separated" {
	printf 'ts\tv\n1\t"a,b"\n2\t6\n' > "$T/in"
	run_out es-cat -d tab -o csv "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'ts\tv\n1\t"a,b"\n2\t6\n' | assert_file_is "$T/out"	# pass-through: byte for byte
	run_out es-cat -d tab -o ndjson "$T/in"
	printf '{"ts":1,"v":"a,b"}\n{"ts":2,"v":6}\n' | assert_file_is "$T/out"
	run_out es-map -d tab -o csv 'w = v' "$T/in"
	printf 'ts,v,w\n1,"a,b","a,b"\n2,6,6\n' | assert_file_is "$T/out"
}

@test "a tab file read with the default delimiter: the hint says -d tab" {
	printf 'ts\tv\n1\t5,5\n' > "$T/in"
	run_out es-cat "$T/in"
	assert_equal "$stderr" "es-cat: $T/in:2: CSV row has 2 fields, header has 1; the header has a tab in it: is the delimiter a tab? (-d tab)"
}

@test "decimal commas with -d ';': a string, never a misread number; the sed line of edgestream(7) makes them numbers" {
	printf 'ts;co\n1;2,6\n2;13\n' > "$T/in"
	run_out es-cat -d ';' -o ndjson "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"ts":1,"co":"2,6"}\n{"ts":2,"co":13}\n' | assert_file_is "$T/out"
	sed 's/\([0-9]\),\([0-9]\)/\1.\2/g' "$T/in" | es-cat -d ';' -o ndjson > "$T/out"
	printf '{"ts":1,"co":2.6}\n{"ts":2,"co":13}\n' | assert_file_is "$T/out"
}

@test "-d: a quote, a line break or two characters are usage errors" {
	assert_usage_errors es-cat \
		"-d \"|invalid argument '\"' for -d/--delimiter: expected one character other than a quote or a line break, or tab, semicolon, pipe, comma" \
		"-d ab|invalid argument 'ab' for -d/--delimiter: expected one character other than a quote or a line break, or tab, semicolon, pipe, comma"
}

@test "--null-values: every program that reads records takes it" {
	printf 'ts,v\n1,-200\n2,6\n' > "$T/in"
	printf 'ts,x\n1,a\n2,b\n' > "$T/table.csv"
	local p
	for p in "${PROGS[@]}"; do
		run_prog "$p" --null-values '-200,NA,'
		[ "$status" -eq 0 ] || fail "$p --null-values: status $status: $stderr"
		run_prog "$p" --null-values '-200' --timezone Europe/Rome
		[ "$status" -eq 0 ] || fail "$p --timezone: status $status: $stderr"
	done
}

@test "--null-values: CSV cells written so are null to expressions; pass-through stays byte for byte" {
	printf 'ts,v\n1,-200\n2,NA\n3,\n4,5\n5,-200.0\n' > "$T/in"
	run_out es-filter --null-values '-200,NA,' 'v == null' "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf 'ts,v\n1,-200\n2,NA\n3,\n' | assert_file_is "$T/out"
	# -200.0 is not written as the marker is: a number
	run_out es-filter --null-values '-200,NA,' 'v < 10' "$T/in"
	printf 'ts,v\n4,5\n5,-200.0\n' | assert_file_is "$T/out"
}

@test "--null-values: CSV to NDJSON writes null; NDJSON numbers and strings written exactly so are null, others not" {
	printf 'ts,v\n1,-200\n2,NA\n3,x\n' > "$T/in"
	run_out es-cat --null-values '-200,NA' -o ndjson "$T/in"
	[ "$status" -eq 0 ]
	printf '{"ts":1,"v":null}\n{"ts":2,"v":null}\n{"ts":3,"v":"x"}\n' | assert_file_is "$T/out"
	printf '{"v":-200}\n{"v":"NA"}\n{"v":-200.0}\n{"v":"\\u004eA"}\n{"v":"-200"}\n' > "$T/in"
	run_out es-filter --null-values '-200,NA' 'v == null' "$T/in"
	printf '{"v":-200}\n{"v":"NA"}\n{"v":"-200"}\n' | assert_file_is "$T/out"
	run_out es-cat --null-values '-200,NA' -o csv "$T/in"
	printf 'v\n""\n""\n-200.0\nNA\n""\n' | assert_file_is "$T/out"
}

@test "--null-values: es-window's mean skips the marker" {
	printf 'ts,v\n1,-200\n2,4\n3,6\n' > "$T/in"
	run_out es-window --tumbling 10s --agg 'count,mean(v)' --null-values -200 -o ndjson "$T/in"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	printf '{"window_start":0,"window_end":10,"count":3,"mean_v":5}\n' | assert_file_is "$T/out"
	run_out es-window --tumbling 10s --agg 'count,mean(v)' -o ndjson "$T/in"
	printf '{"window_start":0,"window_end":10,"count":3,"mean_v":-63.333333333333336}\n' | assert_file_is "$T/out"
}
