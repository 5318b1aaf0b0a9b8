#!/usr/bin/env bats
# Aggregates and sketches (lib/agg.c) through the unit driver
# tests/unit/agg-test.c: it reads lines "T VALUE" (VALUE typed like JSON,
# "-" for a missing field), gives VALUE to every aggregate of the list and
# prints "name=result" lines; doubles in their shortest round-trip text
# with ".0" when integral, so ints and doubles differ; first/last as the
# input wrote them. Expected values below were worked out by hand (and
# checked with Python's fractions).
bats_require_minimum_version 1.5.0
load test_helper

ALL='count,sum(x),min(x),max(x),mean(x),stddev(x),var(x),first(x),last(x),delta(x),median(x),p95(x),distinct(x),rate'

# agg_is AGGS INPUT [OPTIONS...]: the output is exactly stdin; no stderr.
agg_is() {
	local aggs=$1 input=$2 expected
	shift 2
	expected=$(cat)
	run --separate-stderr "$UNIT/agg-test" "$aggs" "$@" <<< "$input"
	[ "$status" -eq 0 ] || fail "agg-test '$aggs': exit $status: $stderr"
	[ -z "$stderr" ] || fail "agg-test '$aggs': stderr: $stderr"
	[ "$output" = "$expected" ] ||
		fail "$(printf 'agg-test %s %s\n-- expected --\n%s\n-- actual --\n%s' "'$aggs'" "$*" "$expected" "$output")"
}

# parse_error AGGS MESSAGE: agg_parse fails with exactly MESSAGE.
parse_error() {
	run --separate-stderr "$UNIT/agg-test" --parse "$1"
	[ "$status" -eq 2 ] || fail "--agg '$1': exit $status, expected 2 (output: $output)"
	[ -z "$output" ] || fail "--agg '$1' printed: $output"
	[ "$stderr" = "agg-test: $2" ] ||
		fail "--agg '$1': stderr [$stderr], expected [agg-test: $2]"
}

# below FILE KEY BOUND: the line "KEY NUMBER" (or KEY=NUMBER) of FILE has NUMBER <= BOUND.
below() {
	local got
	got=$(awk -F'[ =]' -v k="$2" '$1 == k { print $2 }' "$1")
	[ -n "$got" ] || fail "no line '$2' in: $(cat "$1")"
	awk -v g="$got" -v b="$3" 'BEGIN { exit !(g <= b) }' ||
		fail "$2: $got above the bound $3 ($(tr '\n' ' ' < "$1"))"
}

# ---- parsing ----

@test "agg: default names are kind_field with every other byte as '_'" {
	run --separate-stderr "$UNIT/agg-test" --parse \
		'count,sum(value),mean(meta.temp),p95(value),p99.9(value),median(value),distinct(device),first(value),last(value),delta(value),stddev(value),var(value),min(value),max(value),rate'
	assert_success
	assert_output - <<-'EOF'
	name=count kind=count field=-
	name=sum_value kind=sum field=value
	name=mean_meta_temp kind=mean field=meta.temp
	name=p95_value kind=pct(95) field=value
	name=p99_9_value kind=pct(99.9) field=value
	name=median_value kind=median field=value
	name=distinct_device kind=distinct field=device
	name=first_value kind=first field=value
	name=last_value kind=last field=value
	name=delta_value kind=delta field=value
	name=stddev_value kind=stddev field=value
	name=var_value kind=var field=value
	name=min_value kind=min field=value
	name=max_value kind=max field=value
	name=rate kind=rate field=-
	EOF
}

@test "agg: 'as' renames; paths as written (quoted keys, indexes, commas in keys); spaces" {
	run --separate-stderr "$UNIT/agg-test" --parse \
		' mean( value ) as avg_temp , count as "n events",p99.9("gw-id"),median(.x[0]),sum( readings[2] ),distinct("a,b") as ab,p0.5(v),count()as c'
	assert_success
	assert_output - <<-'EOF'
	name=avg_temp kind=mean field=value
	name=n events kind=count field=-
	name=p99_9__gw_id_ kind=pct(99.9) field="gw-id"
	name=median_x_0_ kind=median field=.x[0]
	name=sum_readings_2_ kind=sum field=readings[2]
	name=ab kind=distinct field="a,b"
	name=p0_5_v kind=pct(0.5) field=v
	name=c kind=count field=-
	EOF
}

@test "agg: parse errors" {
	parse_error '' "empty aggregate list"
	parse_error '  ' "empty aggregate list"
	parse_error 'count,' "expected an aggregate after ','"
	parse_error 'count,,sum(x)' "expected an aggregate after ','"
	parse_error '(x)' "expected an aggregate"
	parse_error 'foo' "unknown aggregate 'foo'"
	parse_error 'count,avg(x)' "unknown aggregate 'avg'"
	parse_error 'COUNT' "unknown aggregate 'COUNT'"
	parse_error 'p' "unknown aggregate 'p'"
	parse_error 'mean' "aggregate 'mean' needs a field: mean(f)"
	parse_error 'mean()' "aggregate 'mean' needs a field: mean(f)"
	parse_error 'p95 as x' "aggregate 'p95' needs a field: p95(f)"
	parse_error 'count(x)' "aggregate 'count' takes no field"
	parse_error 'rate(x)' "aggregate 'rate' takes no field"
	parse_error 'p100(x)' "invalid percentile 'p100' (use p1 to p99.9...)"
	parse_error 'p0(x)' "invalid percentile 'p0' (use p1 to p99.9...)"
	parse_error 'p05(x)' "invalid percentile 'p05' (use p1 to p99.9...)"
	parse_error 'p99.(x)' "invalid percentile 'p99.' (use p1 to p99.9...)"
	parse_error 'p9x(x)' "invalid percentile 'p9x' (use p1 to p99.9...)"
	parse_error 'p99.9999999(x)' "invalid percentile 'p99.9999999' (use p1 to p99.9...)"
	parse_error 'mean(x' "expected ')'"
	parse_error 'mean(x y)' "expected ')'"
	parse_error 'mean(a-b)' "expected ')'"
	parse_error 'mean(x) y' "expected ',' or 'as'"
	parse_error 'mean(x) asy' "expected ',' or 'as'"
	parse_error 'mean(x) as' "expected a name after 'as'"
	parse_error 'mean(x) as 1a' "expected a name after 'as'"
	parse_error 'mean(x) as ""' "expected a name after 'as'"
	parse_error 'count as n x' "expected ','"
	parse_error 'mean(1x)' "expected a field name or a quoted key"
	parse_error 'mean("x)' "unterminated quoted key"
	parse_error 'mean(x[])' "expected an array index"
	parse_error 'sum(x),sum(x)' "duplicate aggregate name 'sum_x'"
	parse_error 'sum(x) as count,count' "duplicate aggregate name 'count'"
	parse_error 'median(v),p50(v) as median_v' "duplicate aggregate name 'median_v'"
}

# ---- small exact cases ----

@test "agg: every aggregate over ints: ints stay ints, mean/stddev/var doubles" {
	agg_is "$ALL" $'1 3\n2 1\n3 4\n4 1\n5 5' --length 10s --types <<-'EOF'
	count=5 (int)
	sum_x=14 (int)
	min_x=1 (int)
	max_x=5 (int)
	mean_x=2.8 (double)
	stddev_x=1.7888543819998317 (double)
	var_x=3.2 (double)
	first_x=3 (int)
	last_x=5 (int)
	delta_x=2 (int)
	median_x=3 (int)
	p95_x=5 (int)
	distinct_x=4 (int)
	rate=0.5 (double)
	EOF
}

@test "agg: missing and null are skipped (count still counts the event); types kept" {
	agg_is "$ALL" $'10 2.5\n20 -\n30 null\n40 0.5\n50 -1' --types <<-'EOF'
	count=5 (int)
	sum_x=2.0 (double)
	min_x=-1 (int)
	max_x=2.5 (double)
	mean_x=0.6666666666666666 (double)
	stddev_x=1.755942292142123 (double)
	var_x=3.083333333333333 (double)
	first_x=2.5 (double)
	last_x=-1 (int)
	delta_x=-3.5 (double)
	median_x=0.5 (double)
	p95_x=2.5 (double)
	distinct_x=3 (int)
	rate=5.0 (double)
	EOF
}

@test "agg: no values: count and rate count events, every other aggregate is null" {
	agg_is "$ALL" $'1 null\n2 -\n3' --length 10s <<-'EOF'
	count=3
	sum_x=null
	min_x=null
	max_x=null
	mean_x=null
	stddev_x=null
	var_x=null
	first_x=null
	last_x=null
	delta_x=null
	median_x=null
	p95_x=null
	distinct_x=null
	rate=0.3
	EOF
	agg_is 'count,rate,sum(x)' '' --length 10s <<-'EOF'
	count=0
	rate=0.0
	sum_x=null
	EOF
}

@test "agg: one value: stddev and var (sample, n - 1) need two" {
	agg_is 'mean(x),stddev(x),var(x),delta(x),median(x)' '7 7' <<-'EOF'
	mean_x=7.0
	stddev_x=null
	var_x=null
	delta_x=0
	median_x=7
	EOF
	agg_is 'stddev(x),var(x)' $'1 7\n2 7' <<-'EOF'
	stddev_x=0.0
	var_x=0.0
	EOF
}

@test "agg: first/last by event time; ties: first keeps the earliest arrival, last takes the latest" {
	agg_is 'first(s),last(s),count' $'5 "b"\n3 "a"\n3 "a2"\n9 "z"\n9 "z2"\n7 "m"' <<-'EOF'
	first_s="a"
	last_s="z2"
	count=6
	EOF
	agg_is 'first(x),last(x),delta(x)' $'5 4\n3 10\n3 11\n9 30\n9 31.5\n7 20' --types <<-'EOF'
	first_x=10 (int)
	last_x=31.5 (double)
	delta_x=21.5 (double)
	EOF
	agg_is 'delta(x)' $'1 1.5\n2 -\n3 4' <<-'EOF'
	delta_x=2.5
	EOF
}

@test "agg: first/last keep the value exactly as the input wrote it, any type" {
	local v
	for v in 38.200 1e2 -0.0 12345678901234567890 '{"a": [1, 2]}' '[ ]' true false '""'; do
		agg_is 'first(x),last(x)' "1 $v" <<-EOF
		first_x=$v
		last_x=$v
		EOF
	done
	agg_is 'first(x)' '1 "a\"b\u00e9\n"' <<-'EOF'
	first_x="a\"bé\u000a"
	EOF
	# longer than the inline copy (32 bytes), then shorter, then longer again;
	# the slots hold pointers: 32-bit armhf's are smaller
	local size=160
	[ "${ES_CROSS:-}" = armhf ] && size=144
	agg_is 'first(x),last(x)' $'1 "0123456789012345678901234567890123456789"\n2 "short"\n3 "01234567890123456789012345678901234567890123456789"' --mem <<-EOF
	first_x="0123456789012345678901234567890123456789"
	last_x="01234567890123456789012345678901234567890123456789"
	size=$size heap=128
	EOF
}

@test "agg: distinct: numbers by value, strings/bools/JSON by type and text" {
	# {1, 1.0, 1e0} {"1"} {true} {"true"} {{"a":1} twice} {[1]} {-0.0, 0}
	# {false} {0.5, 5e-1} {a long string twice} {another long string}
	agg_is 'distinct(x),count' $'1 1\n2 1.0\n3 1e0\n4 "1"\n5 true\n6 "true"\n7 {"a":1}\n8 [1]\n9 -0.0\n10 0\n11 false\n12 {"a":1}\n13 0.5\n14 5e-1\n15 "0123456789012345678901234567890123456789"\n16 "0123456789012345678901234567890123456789"\n17 "0123456789012345678901234567890123456788"\n18 null\n19 -' <<-'EOF'
	distinct_x=11
	count=19
	EOF
}

@test "agg: sum: ints summed exactly (an int when the total fits), doubles compensated" {
	agg_is 'sum(x)' $'1 9223372036854775807\n2 1\n3 -2' --types <<-'EOF'
	sum_x=9223372036854775806 (int)
	EOF
	agg_is 'sum(x)' $'1 9223372036854775807\n2 9223372036854775807\n3 9223372036854775807' --types <<-'EOF'
	sum_x=2.7670116110564327e+19 (double)
	EOF
	agg_is 'sum(x)' $'1 -9223372036854775808\n2 -1' --types <<-'EOF'
	sum_x=-9.223372036854776e+18 (double)
	EOF
	agg_is 'sum(x)' $'1 1\n2 2\n3 0.5\n4 3' --types <<-'EOF'
	sum_x=6.5 (double)
	EOF
	# 0.1 ten times: 0.9999999999999999 summed naively
	agg_is 'sum(x),mean(x)' "$(for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i 0.1"; done)" <<-'EOF'
	sum_x=1.0
	mean_x=0.1
	EOF
	# beyond the range of a double: null (JSON has no inf)
	agg_is 'sum(x),mean(x),min(x),max(x)' $'1 1e999\n2 5' <<-'EOF'
	sum_x=null
	mean_x=null
	min_x=5
	max_x=null
	EOF
}

@test "agg: mean and variance are numerically stable (Welford)" {
	agg_is 'mean(x),var(x),stddev(x)' $'1 1000000004\n2 1000000007\n3 1000000013\n4 1000000016' <<-'EOF'
	mean_x=1000000010.0
	var_x=30.0
	stddev_x=5.477225575051661
	EOF
	agg_is 'mean(x),var(x),stddev(x)' $'1 2\n2 4\n3 4\n4 4\n5 5\n6 5\n7 7\n8 9' <<-'EOF'
	mean_x=5.0
	var_x=4.571428571428571
	stddev_x=2.138089935299395
	EOF
}

@test "agg: a mean whose sum leaves the range of doubles is Welford's from the first huge value on, merged states too" {
	# 1 + 2 + 1.5e308 + 1.5e308 is past the largest double: the running
	# mean starts at the sum so far (1.5) when 1.5e308 comes; merged
	# (each split of the four, and odd/even lines) it is the same
	local in=$'1 1\n2 2\n3 1.5e308\n4 1.5e308'
	for merge in '' 1 2 3 alt; do
		agg_is 'mean(x)' "$in" ${merge:+--merge "$merge"} <<< 'mean_x=7.5e+307'
	done
	# huge values that cancel: the sum stays in range and decides
	agg_is 'mean(x)' $'1 1.5e308\n2 -1.5e308\n3 1.5e308\n4 -1.5e308' <<< 'mean_x=0.0'
	agg_is 'mean(x),var(x)' "$in" <<-'EOF'
	mean_x=7.5e+307
	var_x=null
	EOF
}

@test "agg: min/max compare ints and doubles exactly, and keep the winner's type" {
	agg_is 'max(x),min(x)' $'1 9007199254740993\n2 9007199254740992.0\n3 9007199254740992' --types <<-'EOF'
	max_x=9007199254740993 (int)
	min_x=9007199254740992.0 (double)
	EOF
	agg_is 'max(x),min(x)' $'1 -9223372036854775808\n2 9223372036854775807\n3 -9.3e18' --types <<-'EOF'
	max_x=9223372036854775807 (int)
	min_x=-9.3e+18 (double)
	EOF
}

@test "agg: percentiles are the nearest rank: the value at rank ceil(p/100 n)" {
	agg_is 'p0.1(x),p1(x),p7(x),p10(x),p25(x),median(x),p90(x),p95(x),p99(x),p99.9(x)' \
		"$(seq 1 100 | awk '{ print NR, 101 - $1 }')" <<-'EOF'
	p0_1_x=1
	p1_x=1
	p7_x=7
	p10_x=10
	p25_x=25
	median_x=50
	p90_x=90
	p95_x=95
	p99_x=99
	p99_9_x=100
	EOF
	# 28% of 25 is 7 exactly (7.000000000000001 in floating point)
	agg_is 'p28(x),p56(x),median(x)' "$(seq 1 25 | awk '{ print NR, $1 }')" <<-'EOF'
	p28_x=7
	p56_x=14
	median_x=13
	EOF
	agg_is 'median(x),p75(x)' $'1 4\n2 1\n3 3\n4 2' <<-'EOF'
	median_x=2
	p75_x=3
	EOF
	agg_is 'median(x)' $'1 4\n2 1.5\n3 3' --types <<-'EOF'
	median_x=3.0 (double)
	EOF
}

@test "agg: rate is events per second of the window length" {
	agg_is 'rate,count' $'1 1\n2 -\n3 null\n4 "x"\n5 5' --length 250ms <<-'EOF'
	rate=20.0
	count=5
	EOF
	agg_is 'rate' $'1 1\n2 -\n3 null\n4 "x"\n5 5' --length 1m <<-'EOF'
	rate=0.08333333333333333
	EOF
}

# ---- limits and memory ----

@test "agg: exact up to 10000 values per window, then the sketches (bounded memory)" {
	# the slots hold pointers: 32-bit armhf's are smaller
	local size=112
	[ "${ES_CROSS:-}" = armhf ] && size=80
	agg_is 'median(x),p99.9(x),distinct(x)' "$(seq 1 10000 | awk '{ print NR, $1 }')" --types --mem <<-EOF
	median_x=5000 (int)
	p99_9_x=9990 (int)
	distinct_x=10000 (int)
	size=$size heap=553216
	EOF
	# 10001: a t-digest (19632 bytes) and a HyperLogLog (16384 bytes)
	run_out "$UNIT/agg-test" 'median(x),p99.9(x),distinct(x)' --types --mem \
		< <(seq 1 10001 | awk '{ print NR, $1 }')
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	grep -qx "size=$size heap=55648" "$T/out" || fail "$(cat "$T/out")"
	# the sketch's answers: doubles, close to the nearest ranks 5001 and 9991
	awk -F'[= ]' '/^median_x=/ { ok = $3 == "(double)" && $2 > 4950 && $2 < 5050 }
		END { exit !ok }' "$T/out" || fail "$(cat "$T/out")"
	awk -F'[= ]' '/^p99_9_x=/ { ok = $3 == "(double)" && $2 > 9980 && $2 <= 10001 }
		END { exit !ok }' "$T/out" || fail "$(cat "$T/out")"
	awk -F'[= ]' '/^distinct_x=/ { ok = $3 == "(int)" && $2 > 9800 && $2 < 10200 }
		END { exit !ok }' "$T/out" || fail "$(cat "$T/out")"
}

@test "agg: exact values take room for 16, then 64, then twice as much" {
	# 3 values: 16 places (128 bytes); 17: 64 (one step, not 32 first);
	# 65: 128; the answers as ever
	local size=32
	[ "${ES_CROSS:-}" = armhf ] && size=24
	agg_is 'median(x)' $'1 5\n2 7\n3 6' --mem <<-EOF
	median_x=6
	size=$size heap=128
	EOF
	agg_is 'median(x)' "$(seq 1 17 | awk '{ print NR, $1 }')" --mem <<-EOF
	median_x=9
	size=$size heap=512
	EOF
	agg_is 'median(x)' "$(seq 1 65 | awk '{ print NR, $1 }')" --mem <<-EOF
	median_x=33
	size=$size heap=1024
	EOF
}

@test "agg: a sketch's memory stays the same however many values come" {
	run_out "$UNIT/agg-test" --quantile-error uniform 200000 1
	grep -qx 'heap=117792' "$T/out" || fail "6 t-digests: $(cat "$T/out")"
	run_out "$UNIT/agg-test" --distinct-error 200000 1
	grep -qx 'heap=16384' "$T/out" || fail "HyperLogLog: $(cat "$T/out")"
}

@test "agg: exact percentiles, near either end and in the middle, as a stable sort gives them" {
	# every count from 1 to 200, values with many ties (0 and -0 among
	# them), 16 percentiles: the one-pass path for ranks within 8 of an
	# end and the selection for the rest, against a stable sort
	for seed in 1 2; do
		run --separate-stderr "$UNIT/agg-test" --rank-check 200 "$seed"
		[ "$status" -eq 0 ] || fail "rank-check $seed: exit $status: $stderr"
		[ "$output" = "checked 3200, differ 0" ] ||
			fail "rank-check $seed: $output ($stderr)"
	done
}

# ---- merging (session windows) ----

@test "agg: two states merged give what one state gives" {
	local aggs='count,sum(x),min(x),max(x),mean(x),first(x),last(x),delta(x),median(x),p90(x),p99.9(x),distinct(x),rate,var(x),stddev(x)'
	# 3000 events, times all different but shuffled, some null, ints and
	# eighths (exact in binary)
	awk 'BEGIN { for (i = 1; i <= 3000; i++) { t = (i * 7919) % 3001;
		if (i % 17 == 0) print t, "null";
		else if (i % 5 == 0) print t, (i * 31) % 1000;
		else print t, ((i * 7919) % 1000) / 8 } }' > "$T/in"
	"$UNIT/agg-test" "$aggs" < "$T/in" > "$T/one"
	assert_file_is <(head -13 "$T/one") <<-'EOF'
	count=3000
	sum_x=421650.25
	min_x=0
	max_x=995
	mean_x=149.30957861189802
	first_x=87.125
	last_x=5.875
	delta_x=-81.25
	median_x=75.5
	p90_x=495.0
	p99_9_x=995.0
	distinct_x=1000
	rate=3000.0
	EOF
	local m
	for m in 1 1000 2999 alt 0; do
		"$UNIT/agg-test" "$aggs" --merge "$m" < "$T/in" > "$T/two"
		diff <(head -13 "$T/one") <(head -13 "$T/two") || fail "--merge $m differs"
		# var and stddev (Chan et al.'s formula) agree to rounding:
		# exactly 47888.846597466720... and 218.835204200482139...
		paste -d= "$T/one" "$T/two" | tail -2 | awk -F= '{
			d = $2 - $4; if (d < 0) d = -d; if (d > 1e-12 * $2) exit 1 }' ||
			fail "--merge $m: $(tail -2 "$T/two")"
	done
}

@test "agg: merging exact parts past 10000 values switches to the sketches" {
	run_out "$UNIT/agg-test" --distinct-error 9000 --parts 3 1
	grep -qx 'max=0.000000' "$T/out" || fail "exact: $(cat "$T/out")"
	run_out "$UNIT/agg-test" --distinct-error 30000 --parts 4 1 2
	below "$T/out" max 0.03
	grep -qx 'heap=16384' "$T/out" || fail "$(cat "$T/out")"
	run_out "$UNIT/agg-test" --quantile-error normal 9000 --parts 3 1
	local p
	for p in p0_1_x p1_x p50_x p95_x p99_x p99_9_x; do
		below "$T/out" $p 0
	done
	run_out "$UNIT/agg-test" --quantile-error normal 30000 --parts 5 1 2
	grep -qx 'heap=117792' "$T/out" || fail "$(cat "$T/out")"
	below "$T/out" p50_x 0.005
	below "$T/out" p99_x 0.001
}

@test "agg: merges of sketches with exact or empty states, either way round" {
	seq 1 12000 | awk '{ print NR, $1 }' > "$T/in"
	local m
	for m in '' 0 1 5000 6000 11999 12000 alt; do
		run_out "$UNIT/agg-test" 'count,median(x),p99(x),distinct(x),sum(x)' \
			${m:+--merge "$m"} < "$T/in"
		[ "$status" -eq 0 ] || fail "--merge $m: exit $status: $stderr"
		awk -F= '$1 == "count" { ok += $2 == 12000 }
			$1 == "median_x" { ok += $2 > 5940 && $2 < 6060 }
			$1 == "p99_x" { ok += $2 > 11856 && $2 < 11904 }
			$1 == "distinct_x" { ok += $2 > 11640 && $2 < 12360 }
			$1 == "sum_x" { ok += $2 == 72006000 }
			END { exit ok != 5 }' "$T/out" || fail "--merge $m: $(cat "$T/out")"
	done
}

# ---- the sketches' documented error bounds ----

# quantile_bounds DIST N [--parts K] SEED...: the rank error of the
# t-digest is within the man page's bounds: 0.5% of n for any percentile,
# 0.2% at p99 and above (and p1 and below), 0.1% at p99.9 and above (and
# p0.1 and below). Measured maxima (hundreds of runs, n from 10001 to 1e6,
# merged or not): 0.19%, 0.073%, 0.033%.
quantile_bounds() {
	run_out "$UNIT/agg-test" --quantile-error "$@"
	[ "$status" -eq 0 ] || fail "--quantile-error $*: exit $status: $stderr"
	below "$T/out" p0_1_x 0.001
	below "$T/out" p1_x 0.002
	below "$T/out" p50_x 0.005
	below "$T/out" p95_x 0.005
	below "$T/out" p99_x 0.002
	below "$T/out" p99_9_x 0.001
}

@test "agg: t-digest rank error within the bounds, 1e5 values, six distributions" {
	local d
	for d in uniform normal exponential lognormal ascending descending; do
		quantile_bounds $d 100000 1 2
	done
}

@test "agg: t-digest rank error within the bounds, 1e6 values, merged digests, just past 10000" {
	quantile_bounds lognormal 1000000 3
	quantile_bounds uniform 1000000 4
	quantile_bounds uniform 100000 --parts 4 5
	quantile_bounds exponential 100000 --parts 3 6
	quantile_bounds lognormal 15000 7 8 9
	quantile_bounds exponential 30000 --parts 8 10 11
}

@test "agg: HyperLogLog relative error under 3% (3.7 standard errors), 1e5 and 1e6 values" {
	run_out "$UNIT/agg-test" --distinct-error 100000 1 2 3 4
	below "$T/out" max 0.03
	run_out "$UNIT/agg-test" --distinct-error 1000000 7
	below "$T/out" max 0.03
	run_out "$UNIT/agg-test" --distinct-error 100000 --parts 4 9
	below "$T/out" max 0.03
	run_out "$UNIT/agg-test" --distinct-error 20000 --parts 2 12 13 14 15
	below "$T/out" max 0.03
}
