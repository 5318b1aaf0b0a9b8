#!/usr/bin/env bats
# Differential test against jq: 20,000 synthetic readings from
# ../shared/bench/gen-sensors, several expressions, es-filter EXPR versus
# jq -c 'select(JQEXPR)'. jq 1.6 re-prints numbers (36.600 -> 36.6), so both
# sides go through jq -c . before they are compared; that es-filter wrote
# the records byte for byte is checked apart (each of its lines is a line of
# the input). The same data as CSV must give the same records.
bats_require_minimum_version 1.5.0
load test_helper

GEN="$BATS_TEST_DIRNAME/../../shared/bench/gen-sensors"

setup_file() {
	[ -f "$GEN" ] || return 0
	python3 "$GEN" 20000 --devices 100 --seed 7 > "$BATS_FILE_TMPDIR/data.ndjson"
	python3 "$GEN" 20000 --devices 100 --seed 7 --format csv > "$BATS_FILE_TMPDIR/data.csv"
}

setup() {
	T="$BATS_TEST_TMPDIR"
	[ -f "$GEN" ] || skip "no gen-sensors at $GEN"
	D="$BATS_FILE_TMPDIR"
}

# same_as_jq EXPR JQEXPR [MIN [CSVERR]]: es-filter EXPR and jq select(JQEXPR)
# pick the same records, in the same order; at least MIN (default 1) and
# not all. CSVERR: what es-filter says on the CSV input (its header is
# known: a field it does not have is said once), default nothing.
same_as_jq() {
	local expr=$1 jqexpr=$2 min=${3:-1} csverr=${4:-} n total
	total=$(wc -l < "$D/data.ndjson")
	jq -c "select($jqexpr)" "$D/data.ndjson" > "$T/jq"
	n=$(wc -l < "$T/jq")
	[ "$n" -ge "$min" ] && [ "$n" -lt "$total" ] ||
		fail "jq select($jqexpr) picks $n of $total records: a weak test"

	# NDJSON: the same records; each written byte for byte
	run_out es-filter "$expr" "$D/data.ndjson"
	[ "$status" -eq 0 ] || fail "es-filter '$expr': exit $status: $stderr"
	[ -z "$stderr" ] || fail "es-filter '$expr': $stderr"
	cp "$T/out" "$T/es"
	jq -c . "$T/es" | cmp -s - "$T/jq" ||
		fail "es-filter '$expr' picks $(wc -l < "$T/es") records, jq select($jqexpr) $n: $(jq -c . "$T/es" | diff - "$T/jq" | head -5)"
	[ -z "$(comm -23 <(sort "$T/es") <(sort "$D/data.ndjson") | head -3)" ] ||
		fail "es-filter '$expr' wrote lines that are not input lines"

	# -v: the complement
	jq -c "select(($jqexpr) | not)" "$D/data.ndjson" > "$T/jq.v"
	es-filter -v "$expr" "$D/data.ndjson" | jq -c . | cmp -s - "$T/jq.v" ||
		fail "es-filter -v '$expr' differs from jq"

	# -c: the count
	[ "$(es-filter -c "$expr" "$D/data.ndjson")" = "$n" ] ||
		fail "es-filter -c '$expr' is not $n"

	# CSV in, NDJSON out: the very same lines as from the NDJSON input
	run_out es-filter -o ndjson "$expr" "$D/data.csv"
	[ "$status" -eq 0 ] || fail "es-filter on CSV '$expr': exit $status: $stderr"
	[ "$stderr" = "${csverr:+es-filter: $D/data.csv: $csverr}" ] ||
		fail "es-filter on CSV '$expr': $stderr"
	cmp -s "$T/out" "$T/es" || fail "es-filter -o ndjson '$expr' on CSV differs from NDJSON"
}

@test "differential: the generated data is what the tests assume" {
	[ "$(wc -l < "$D/data.ndjson")" -eq 20000 ]
	[ "$(wc -l < "$D/data.csv")" -eq 20001 ]
	assert_equal "$(head -n 1 "$D/data.csv")" 'ts,device,sensor,value,seq,site'
	# every record is valid for both programs: es-cat passes it unchanged
	run_out es-cat "$D/data.ndjson"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ''
	assert_file_is "$T/out" < "$D/data.ndjson"
	# and CSV -> NDJSON gives the NDJSON generator output exactly
	run_out es-cat -o ndjson "$D/data.csv"
	[ "$status" -eq 0 ]
	assert_file_is "$T/out" < "$D/data.ndjson"
}

@test "differential: sensor == \"temp\" && value > 37.5" {
	same_as_jq 'sensor == "temp" && value > 37.5' '.sensor == "temp" and .value > 37.5'
}

@test "differential: value < 0.02 || sensor == \"hum\"" {
	same_as_jq 'value < 0.02 || sensor == "hum"' '.value < 0.02 or .sensor == "hum"'
}

@test "differential: device in [\"gw-001\",\"gw-002\"]" {
	same_as_jq 'device in ["gw-001","gw-002"]' '.device == "gw-001" or .device == "gw-002"' 400
}

@test "differential: !(seq % 10 == 0)" {
	same_as_jq '!(seq % 10 == 0)' '(.seq % 10 == 0) | not'
}

@test "differential: site =~ \"^plant-[12]$\"" {
	same_as_jq 'site =~ "^plant-[12]$"' '.site | test("^plant-[12]$")' 10000
}

@test "differential: arithmetic and functions" {
	same_as_jq 'abs(value - 36.6) > 0.5 && sensor == "temp"' '(.value - 36.6 | fabs) > 0.5 and .sensor == "temp"'
	same_as_jq 'round(value) == 45 || ts % 7 == 3' '(.value | round) == 45 or .ts % 7 == 3'
	same_as_jq 'len(device) == 6 && starts_with(site, "plant-4") && seq >= 150' \
		'(.device | length) == 6 and (.site | startswith("plant-4")) and .seq >= 150'
}

@test "differential: missing fields and nulls agree with jq" {
	# jq: a missing field is null, and null == null
	local said="no column 'nothing' (the header has ts, device, sensor, value, seq, site)"
	same_as_jq 'nothing == null && seq < 5' '.nothing == null and .seq < 5' 1 "$said"
	same_as_jq 'nothing != null || value >= 44' '.nothing != null or .value >= 44' 1 "$said"
}
