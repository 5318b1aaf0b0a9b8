#!/usr/bin/env bats
# The fuzz targets of tests/fuzz/ as regression tests. Each is built with
# tests/fuzz/driver.c instead of libFuzzer (make units: $UNIT/fuzz-TARGET)
# and run over the inputs kept in tests/fuzz/regress/TARGET/ (every crash
# make fuzz once found) and over a handful of seeds. A broken invariant
# aborts and a sanitizer error (make check-sanitize) exits non-zero.
bats_require_minimum_version 1.5.0
load test_helper

FUZZ="$BATS_TEST_DIRNAME/fuzz"

# Each line of FILE (tests/fuzz/seeds/) as one input file in $T/seeds.
seeds_from_lines() {
	mkdir -p "$T/seeds"
	awk -v d="$T/seeds" '{ f = d "/" NR; printf "%s", $0 > f; close(f) }' "$1"
}

# Runs target $1 over the files named after it: success, no output, and
# (but for the reader, which reports bad lines as the programs do) nothing
# on stderr.
fuzz_run() {
	local t=$1
	shift
	run --separate-stderr "$UNIT/fuzz-$t" "$@"
	assert_success
	assert_output ""
	[ "$t" = reader ] || assert_stderr ""
}

regress() {
	find "$FUZZ/regress/$1" -type f 2>/dev/null | sort
}

# Whether target $1 is left out of this build: tflite needs Arm NN (the
# Makefile's TFLITE), which only a cross build may go without.
left_out() {
	[ "$1" = tflite ] && [ ! -x "$UNIT/fuzz-tflite" ] && [ -n "${ES_CROSS:-}" ]
}

@test "fuzz: every target in tests/fuzz/ is built as a unit driver" {
	local f t
	for f in "$FUZZ"/*.c; do
		t=$(basename "$f" .c)
		[ "$t" = driver ] && continue
		left_out "$t" && continue
		[ -x "$UNIT/fuzz-$t" ] || fail "no unit driver $UNIT/fuzz-$t"
	done
}

@test "fuzz: the driver names a file it cannot read and exits 1" {
	run --separate-stderr "$UNIT/fuzz-path" "$T/no-such-file"
	assert_failure 1
	assert_stderr "$T/no-such-file: No such file or directory"
}

@test "fuzz: an empty input is taken by every target" {
	local f t
	: > "$T/empty"
	for f in "$FUZZ"/*.c; do
		t=$(basename "$f" .c)
		[ "$t" = driver ] && continue
		left_out "$t" && continue
		fuzz_run "$t" "$T/empty"
	done
}

@test "fuzz json: regression inputs, fixture lines and JSONTestSuite against jansson" {
	[ -d "$CONFORMANCE" ] || skip "no $CONFORMANCE"
	mkdir -p "$T/seeds"
	cat "$FIXTURES"/*.ndjson "$FIXTURES"/*/*.ndjson > "$T/lines"
	seeds_from_lines "$T/lines"
	fuzz_run json $(regress json) "$T"/seeds/* "$CONFORMANCE"/*.json
}

@test "fuzz scan: the SIMD scanner's paths against the scalar one on the fixture lines, JSONTestSuite and the regression inputs" {
	[ -d "$CONFORMANCE" ] || skip "no $CONFORMANCE"
	mkdir -p "$T/seeds"
	cat "$FIXTURES"/*.ndjson "$FIXTURES"/*/*.ndjson > "$T/lines"
	seeds_from_lines "$T/lines"
	fuzz_run scan $(regress scan) $(regress json) "$T"/seeds/* "$CONFORMANCE"/*.json
}

@test "fuzz csv: regression inputs and the CSV and NDJSON fixtures" {
	fuzz_run csv $(regress csv) "$FIXTURES"/*/*.csv "$FIXTURES"/*/*.ndjson
}

@test "fuzz expr: regression inputs and every seed expression over an NDJSON and a CSV record" {
	local i=0 e
	while IFS= read -r e; do
		i=$((i + 1))
		{ printf '%s\n' "$e"; head -1 "$FIXTURES/expr.ndjson"; } > "$T/e$i"
		{ printf '%s\n' "$e"; sed -n 3p "$FIXTURES/window/rfc3339.csv"; } > "$T/c$i"
	done < "$FUZZ/seeds/expr.txt"
	fuzz_run expr $(regress expr) "$T"/e* "$T"/c*
}

@test "fuzz time: regression inputs and the seed times and durations" {
	seeds_from_lines "$FUZZ/seeds/time.txt"
	fuzz_run time $(regress time) "$T"/seeds/*
}

@test "fuzz number: the seed numbers read as strtod reads them, and they and their first 8 bytes as a double written as printf's loop writes them" {
	seeds_from_lines "$FUZZ/seeds/number.txt"
	fuzz_run number "$T"/seeds/*
}

@test "fuzz path: regression inputs and the seed paths" {
	seeds_from_lines "$FUZZ/seeds/path.txt"
	fuzz_run path $(regress path) "$T"/seeds/*
}

@test "fuzz keys: regression inputs, the seed values and the NDJSON fixtures" {
	fuzz_run keys $(regress keys) "$FUZZ/seeds/keys.txt" "$FIXTURES"/*/*.ndjson
}

@test "fuzz edit: the seed records gain fields without the tree as with it (tests/fuzz/edit.c)" {
	seeds_from_lines "$FUZZ/seeds/edit.txt"
	fuzz_run edit $(regress edit) "$T"/seeds/*
}

@test "fuzz reader: regression inputs and every fixture file" {
	fuzz_run reader $(regress reader) "$FIXTURES"/*/*.csv "$FIXTURES"/*/*.ndjson \
		"$FIXTURES"/expr.ndjson
}

@test "fuzz window: regression inputs and the seed event sequences, each kind of window (tests/fuzz/window.c)" {
	seeds_from_lines "$FUZZ/seeds/window.txt"
	fuzz_run window $(regress window) "$T"/seeds/*
}

@test "fuzz join: regression inputs and the seed inputs, the interval join driven by fuzzed event sequences (tests/fuzz/join.c)" {
	seeds_from_lines "$FUZZ/seeds/join.txt"
	fuzz_run join $(regress join) "$T"/seeds/*
}

@test "fuzz xgb: regression inputs and the seed models (XGBoost JSON)" {
	seeds_from_lines "$FUZZ/seeds/xgb.txt"
	fuzz_run xgb $(regress xgb) "$T"/seeds/*
}

@test "fuzz tflite: regression inputs, the generated TFLite models, prefixes and changed bytes of one (Arm NN loads each in a child)" {
	left_out tflite && skip "built without Arm NN"
	skip_tflite_under_qemu
	mkdir -p "$T/m"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/infer-tflite.py" "$T/m"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/infer-tflite.py" --sequence "$T/m"
	/usr/bin/python3 - "$T/m/window.tflite" "$T/m" <<-'EOF'
	import sys
	b = open(sys.argv[1], "rb").read()
	for i in range(0, len(b), 97):
	    open("%s/pre-%d" % (sys.argv[2], i), "wb").write(b[:i])
	    open("%s/mut-%d" % (sys.argv[2], i), "wb").write(b[:i] + bytes([b[i] ^ 0x41]) + b[i + 1:])
	EOF
	fuzz_run tflite $(regress tflite) "$T"/m/*.tflite "$T"/m/pre-* "$T"/m/mut-*
}
