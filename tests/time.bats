#!/usr/bin/env bats
# lib/time.c through its unit driver tests/unit/time-test.c: durations,
# RFC 3339, event time from values, time output.

load test_helper

# Reads lines "COMMAND => EXPECTED" (blank lines skipped), runs every
# COMMAND through time-test (one argument each, so trailing spaces count)
# and compares its output, line for line, with the EXPECTED column.
check() {
	local line cmds=() exp=""
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		cmds+=("${line%% => *}")
		exp+="${line#* => }"$'\n'
	done
	"$UNIT/time-test" "${cmds[@]}" > "$T/out" 2> "$T/err" && status=0 || status=$?
	printf '%s' "$exp" > "$T/exp"
	if ! cmp -s "$T/exp" "$T/out"; then
		diff -u --label expected --label actual "$T/exp" "$T/out" | fail
	fi
	[ "$status" -eq 0 ] || fail "time-test exited $status"
	[ ! -s "$T/err" ] || fail "stderr: $(cat "$T/err")"
}

# ---- duration_parse ----

@test "duration: every unit" {
	check <<'EOF'
dur 500ns => error: duration below 1us
dur 1000ns => 1
dur 1500ns => 1
dur 100us => 100
dur 250ms => 250000
dur 10s => 10000000
dur 5m => 300000000
dur 1h => 3600000000
dur 2d => 172800000000
EOF
}

@test "duration: fractions and compound forms" {
	check <<'EOF'
dur 1.5s => 1500000
dur 0.25s => 250000
dur 1.5m => 90000000
dur 0.5h => 1800000000
dur 1.5d => 129600000000
dur 2.5ms => 2500
dur 1.9us => 1
dur 1.999999999999s => 1999999
dur 0.0000001d => 8640
dur 1h30m => 5400000000
dur 1m30s => 90000000
dur 1s500ms => 1500000
dur 1d1h1m1s1ms1us => 90061001001
dur 1h1h => 7200000000
dur 007s => 7000000
EOF
}

@test "duration: zero" {
	check <<'EOF'
dur 0 => 0
dur 0s => 0
dur 0ms => 0
dur 0ns => 0
dur 0.000us => 0
durneg -0 => 0
EOF
}

@test "duration: error messages" {
	check <<'EOF'
dur  => error: empty duration
dur => error: empty duration
dur 10 => error: missing unit in duration
dur 1.5 => error: missing unit in duration
dur 00 => error: missing unit in duration
dur 1h30 => error: missing unit in duration
dur 10x => error: unknown unit in duration (use ms, s, m, h, d)
dur 10S => error: unknown unit in duration (use ms, s, m, h, d)
dur 10 s => error: unknown unit in duration (use ms, s, m, h, d)
dur s => error: expected a number in duration
dur .5s => error: expected a number in duration
dur 1.s => error: expected a number in duration
dur 1s  => error: expected a number in duration
dur  1s => error: expected a number in duration
dur +1s => error: expected a number in duration
dur 1mss => error: expected a number in duration
durneg - => error: expected a number in duration
durneg -- => error: expected a number in duration
EOF
}

@test "duration: negative only where allowed" {
	check <<'EOF'
dur -1s => error: negative duration
dur -0 => error: negative duration
durneg -1s => -1000000
durneg -1h30m => -5400000000
durneg -1.5ms => -1500
durneg 5s => 5000000
EOF
}

@test "duration: below 1us and beyond 10000 years" {
	check <<'EOF'
dur 999ns => error: duration below 1us
dur 0.1ns => error: duration below 1us
dur 0.5us => error: duration below 1us
durneg -1ns => error: duration below 1us
dur 315569520000000000us => 315569520000000000
dur 315569520000000001us => error: duration too large (10000 years at most)
dur 315569520000000000999ns => 315569520000000000
dur 315569520000000001000ns => error: duration too large (10000 years at most)
dur 3652425d => 315569520000000000
dur 3652426d => error: duration too large (10000 years at most)
dur 3652424d23h59m59s999ms999us => 315569519999999999
dur 3652425d1us => error: duration too large (10000 years at most)
dur 9223372036854775808us => error: duration too large (10000 years at most)
dur 99999999999999999999999999999999999999999d => error: duration too large (10000 years at most)
durneg -315569520000000000us => -315569520000000000
durneg -3652426d => error: duration too large (10000 years at most)
EOF
}

@test "duration: a syntax error wins over overflow" {
	check <<'EOF'
dur 99999999999999999999999999d5x => error: unknown unit in duration (use ms, s, m, h, d)
EOF
}

# ---- duration_format ----

@test "duration_format: shortest exact form" {
	check <<'EOF'
dfmt 10000000 => 10s
dfmt 5400000000 => 1h30m
dfmt 250000 => 250ms
dfmt 1500000 => 1s500ms
dfmt 0 => 0s
dfmt 1 => 1us
dfmt 1000 => 1ms
dfmt 60000000 => 1m
dfmt 86400000000 => 1d
dfmt 129600000000 => 1d12h
dfmt 90061001001 => 1d1h1m1s1ms1us
dfmt -1500000 => -1s500ms
dfmt -1 => -1us
dfmt 9223372036854775807 => 106751991d4h54s775ms807us
dfmt -9223372036854775808 => -106751991d4h54s775ms808us
EOF
}

@test "duration_format: what it writes parses back" {
	check <<'EOF'
durneg 3652425d => 315569520000000000
durneg -3652424d23h59m59s999ms999us => -315569519999999999
durneg -1s500ms => -1500000
durneg 1d1h1m1s1ms1us => 90061001001
dur 0s => 0
EOF
}

# ---- rfc3339_parse ----

@test "rfc3339: basic forms and offsets" {
	check <<'EOF'
rfc 1970-01-01T00:00:00Z => 0
rfc 2027-01-01T00:00:00Z => 1798761600000000
rfc 2027-01-01T00:00:00.5+01:00 => 1798758000500000
rfc 2027-01-01T01:00:00+01:00 => 1798761600000000
rfc 2026-12-31T23:00:00-01:00 => 1798761600000000
rfc 2027-01-01T00:00:00+00:00 => 1798761600000000
rfc 2027-01-01T00:00:00-00:00 => 1798761600000000
rfc 1970-01-01T00:00:00-00:30 => 1800000000
rfc 1970-01-01T00:00:00+00:30 => -1800000000
rfc 1970-01-01T00:00:00+14:00 => -50400000000
rfc 1970-01-01T00:00:00-12:00 => 43200000000
rfc 1970-01-01T00:00:00+23:59 => -86340000000
rfc 1969-07-20T20:17:40Z => -14182940000000
rfc 2038-01-19T03:14:08Z => 2147483648000000
EOF
}

@test "rfc3339: lowercase t and z, space for T" {
	check <<'EOF'
rfc 2027-01-01t00:00:00z => 1798761600000000
rfc 2027-01-01 00:00:00Z => 1798761600000000
rfc 2027-01-01 00:00:00.25z => 1798761600250000
EOF
}

@test "rfc3339: fractions of 1 to 9 digits, truncated to us" {
	check <<'EOF'
rfc 1970-01-01T00:00:00.1Z => 100000
rfc 1970-01-01T00:00:00.12Z => 120000
rfc 1970-01-01T00:00:00.123Z => 123000
rfc 1970-01-01T00:00:00.123456Z => 123456
rfc 1970-01-01T00:00:00.1234567Z => 123456
rfc 1970-01-01T00:00:00.123456789Z => 123456
rfc 1970-01-01T00:00:00.999999999Z => 999999
rfc 1970-01-01T00:00:00.000000999Z => 0
rfc 1969-12-31T23:59:59.999999999Z => -1
rfc 1970-01-01T00:00:00.1234567890Z => error: expected 1 to 9 fraction digits
rfc 1970-01-01T00:00:00.Z => error: expected 1 to 9 fraction digits
rfc 1970-01-01T00:00:00. => error: expected 1 to 9 fraction digits
EOF
}

@test "rfc3339: leap years" {
	check <<'EOF'
rfc 2024-02-29T00:00:00Z => 1709164800000000
rfc 2023-02-29T00:00:00Z => error: day out of range
rfc 2000-02-29T12:00:00Z => 951825600000000
rfc 1900-02-29T00:00:00Z => error: day out of range
rfc 1900-02-28T00:00:00Z => -2203977600000000
rfc 2400-02-29T00:00:00Z => 13574563200000000
rfc 2100-02-29T00:00:00Z => error: day out of range
rfc 0000-02-29T00:00:00Z => -62162121600000000
rfc 0000-03-01T00:00:00Z => -62162035200000000
rfc 1600-03-01T00:00:00Z => -11670912000000000
EOF
}

@test "rfc3339: day and month ranges" {
	check <<'EOF'
rfc 2023-01-31T00:00:00Z => 1675123200000000
rfc 2023-01-32T00:00:00Z => error: day out of range
rfc 2023-04-30T00:00:00Z => 1682812800000000
rfc 2023-04-31T00:00:00Z => error: day out of range
rfc 2023-06-31T00:00:00Z => error: day out of range
rfc 2023-09-31T00:00:00Z => error: day out of range
rfc 2023-11-31T00:00:00Z => error: day out of range
rfc 2023-12-31T00:00:00Z => 1703980800000000
rfc 2023-01-00T00:00:00Z => error: day out of range
rfc 2023-00-01T00:00:00Z => error: month out of range
rfc 2023-13-01T00:00:00Z => error: month out of range
EOF
}

@test "rfc3339: time of day ranges; the leap second is the last microsecond of its minute" {
	check <<'EOF'
rfc 2023-01-01T23:59:59Z => 1672617599000000
rfc 2023-01-01T24:00:00Z => error: hour out of range
rfc 2023-01-01T23:60:00Z => error: minute out of range
rfc 2016-12-31T23:59:60Z => 1483228799999999
rfc 2016-12-31T23:59:60.5Z => 1483228799999999
rfc 2017-01-01T00:59:60+01:00 => 1483228799999999
rfc 2016-12-31T23:58:60Z => error: second out of range
rfc 2016-12-31T23:59:61Z => error: second out of range
rfc 2023-01-01T00:00:00+24:00 => error: offset out of range
rfc 2023-01-01T00:00:00+01:60 => error: offset out of range
rfc 2023-01-01T00:00:00-99:00 => error: offset out of range
EOF
}

@test "rfc3339: syntax errors" {
	check <<'EOF'
rfc  => error: expected a date YYYY-MM-DD
rfc 1970-1-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc 70-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc 19700101T000000Z => error: expected a date YYYY-MM-DD
rfc +1970-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc 1970-01-01X00:00:00Z => error: expected 'T' after the date
rfc 1970-01-01T => error: expected a time hh:mm:ss
rfc 1970-01-01  => error: expected a time hh:mm:ss
rfc 1970-01-01T00:00Z => error: expected a time hh:mm:ss
rfc 1970-01-01T0:00:00Z => error: expected a time hh:mm:ss
rfc 1970-01-01T00:00:00 Z => error: expected Z or an offset +hh:mm after the time
rfc 1970-01-01T00:00:00+1 => error: expected an offset +hh:mm
rfc 1970-01-01T00:00:00+01:0 => error: expected an offset +hh:mm
rfc 1970-01-01T00:00:00+010 => error: expected an offset +hh:mm
rfc 1970-01-01T00:00:00+01: => error: expected an offset +hh:mm
rfc 1970-01-01T00:00:00Zx => error: trailing characters
rfc 1970-01-01T00:00:00Z  => error: trailing characters
rfc 1970-01-01T00:00:00+01:00:00 => error: trailing characters
EOF
}

@test "rfc3339: years 0000 and 9999, and offsets past them" {
	check <<'EOF'
rfc 0000-01-01T00:00:00Z => -62167219200000000
rfc 9999-12-31T23:59:59.999999999Z => 253402300799999999
rfc 0000-01-01T00:30:00+00:30 => -62167219200000000
rfc 0000-01-01T00:00:00+00:01 => -62167219260000000
rfc 9999-12-31T23:59:59-00:01 => 253402300859000000
EOF
}

@test "rfc3339: years beyond 0000-9999 in ISO 8601's expanded form, to -99999 and 99999" {
	check <<'EOF'
rfc -0001-12-31T00:00:00Z => -62167305600000000
rfc +10000-01-01T00:00:00Z => 253402300800000000
rfc -10000-02-29T00:00:00Z => -377731641600000000
rfc -99999-01-01T00:00:00Z => -3217830796800000000
rfc +99999-12-31T23:59:59.999999Z => 3093527980799999999
rfc -99999-01-01T00:00:00+00:01 => error: time out of range (years -99999 to 99999)
rfc +99999-12-31T23:59:59-00:01 => error: time out of range (years -99999 to 99999)
rfc +100000-01-01T00:00:00Z => error: time out of range (years -99999 to 99999)
rfc -290308-12-21T19:59:05.224193Z => error: time out of range (years -99999 to 99999)
rfc 10000-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc -0000-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc -001-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc +9999-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
rfc +1000000-01-01T00:00:00Z => error: expected a date YYYY-MM-DD
EOF
}

# ---- rfc3339_format ----

@test "rfc3339_format: 0, 3 or 6 fraction digits" {
	check <<'EOF'
rfcfmt 0 => 1970-01-01T00:00:00Z
rfcfmt 1798761600000000 => 2027-01-01T00:00:00Z
rfcfmt 1798761600123000 => 2027-01-01T00:00:00.123Z
rfcfmt 1798761600100000 => 2027-01-01T00:00:00.100Z
rfcfmt 1798761600123456 => 2027-01-01T00:00:00.123456Z
rfcfmt 1798761600000001 => 2027-01-01T00:00:00.000001Z
rfcfmt 1798761600001000 => 2027-01-01T00:00:00.001Z
rfcfmt 951782400000000 => 2000-02-29T00:00:00Z
EOF
}

@test "rfc3339_format: before 1970 and the extremes" {
	check <<'EOF'
rfcfmt -1 => 1969-12-31T23:59:59.999999Z
rfcfmt -1000 => 1969-12-31T23:59:59.999Z
rfcfmt -1000000 => 1969-12-31T23:59:59Z
rfcfmt -86400000000 => 1969-12-31T00:00:00Z
rfcfmt -86400000001 => 1969-12-30T23:59:59.999999Z
rfcfmt -14182940000000 => 1969-07-20T20:17:40Z
rfcfmt -2203977600000000 => 1900-02-28T00:00:00Z
rfcfmt -62167219200000000 => 0000-01-01T00:00:00Z
rfcfmt -62162121600000000 => 0000-02-29T00:00:00Z
rfcfmt 253402300799999999 => 9999-12-31T23:59:59.999999Z
rfcfmt -62167219200000001 => -0001-12-31T23:59:59.999999Z
rfcfmt 253402300800000000 => +10000-01-01T00:00:00Z
rfcfmt -3217830796800000000 => -99999-01-01T00:00:00Z
rfcfmt 3093527980799999999 => +99999-12-31T23:59:59.999999Z
EOF
}

@test "rfc3339_format: whatever int64 us, a terminated string that fits" {
	check <<'EOF'
rfcfmt 9223372036854775807 => +294247-01-10T04:00:54.775807Z
rfcfmt -9223372036854775808 => -290308-12-21T19:59:05.224192Z
EOF
}

# ---- time_from_value ----

@test "time_from_value: each epoch unit, exact integers" {
	check <<'EOF'
val s 1798761600 => 1798761600000000 s
val ms 1798761600123 => 1798761600123000 ms
val us 1798761600123456 => 1798761600123456 us
val ns 1798761600123456789 => 1798761600123456 ns
val s 0 => 0 s
val s -1 => -1000000 s
val ms -1 => -1000 ms
val us -1 => -1 us
EOF
}

@test "time_from_value: nanoseconds floor to the microsecond" {
	check <<'EOF'
val ns 999 => 0 ns
val ns 1999 => 1 ns
val ns -1 => -1 ns
val ns -1000 => -1 ns
val ns -1001 => -2 ns
val ns 1500.4 => 1 ns
val ns 1500.0 => 1 ns
val ns -1.5 => -1 ns
EOF
}

@test "time_from_value: the unit guessed from magnitude, both sides of each threshold" {
	check <<'EOF'
val auto 1798761600 => 1798761600000000 s
val auto 99999999999 => 99999999999000000 s
val auto 100000000000 => 100000000000000 ms
val auto 1798761600123 => 1798761600123000 ms
val auto 99999999999999 => 99999999999999000 ms
val auto 100000000000000 => 100000000000000 us
val auto 99999999999999999 => 99999999999999999 us
val auto 100000000000000000 => 100000000000000 ns
val auto 1798761600123456789 => 1798761600123456 ns
val auto 0 => 0 s
val auto -1 => -1000000 s
val auto -100000000000 => -100000000000000 ms
val auto 1e11 => 100000000000000 ms
val auto 99999999999.5 => 99999999999500000 s
EOF
}

@test "time_from_digits: the same digits again give the same time, under whichever unit is in force" {
	# the last digits read are kept (lib/time.c): the unit is part of
	# what is kept, only digits that were taken, and only 8 to 16 of them
	check <<'EOF'
digits auto 1798761600000 => 1798761600000000 ms 1798761600000
digits = 1798761600000 => 1798761600000000 ms 1798761600000
digits s 1798761600000 => 1798761600000000000 s 1798761600000
digits us 1798761600000 => 1798761600000 us 1798761600000
digits = 1798761600000 => 1798761600000 us 1798761600000
digits = 1798761600001 => 1798761600001 us 1798761600001
digits ms 0179876160000 => refused
digits ms 0179876160000 => refused
digits ms 17987616000x0 => refused
digits ms 1798761600000 => 1798761600000000 ms 1798761600000
digits ms 179876160000 => 179876160000000 ms 179876160000
digits ns 1798761600000 => 1798761600 ns 1798761600000
digits auto 1798761600 => 1798761600000000 s 1798761600
digits = 1798761600000 => refused
digits = 1798761600 => 1798761600000000 s 1798761600
digits us 12345678901234567 => 12345678901234567 us 12345678901234567
digits = 12345678001234567 => 12345678001234567 us 12345678001234567
digits = 1234567 => 1234567 us 1234567
digits = 1234568 => 1234568 us 1234568
EOF
}

@test "time_guess_unit: thresholds" {
	check <<'EOF'
guess 0 => s
guess 99999999999 => s
guess 1e11 => ms
guess -1e11 => ms
guess 99999999999999 => ms
guess 1e14 => us
guess 9.9e16 => us
guess 1e17 => ns
guess -1e17 => ns
EOF
}

@test "time_from_value: the guess sticks; a later value whose size says another unit is an error" {
	check <<'EOF'
val auto 1798761600 => 1798761600000000 s
val = 1798761600123000 => error: time 1798761600123000 is microseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit)
val = 5 => 5000000 s
val = 99999999999 => 99999999999000000 s
val = 100000000000 => error: time 100000000000 is milliseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit)
val = 1.5e11 => error: time 1.5e11 is milliseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit)
val = "1798761600127" => error: time 1798761600127 is milliseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit)
val auto 12 => 12000000 s
val = 1798761600127 => error: time 1798761600127 is milliseconds by its size, but this input's times are seconds (guessed from its first time; say which with --time-unit)
val auto 1798761600123 => 1798761600123000 ms
val = 5 => error: time 5 is seconds by its size, but this input's times are milliseconds (guessed from its first time; say which with --time-unit)
val = 99999999999999 => 99999999999999000 ms
val ms 5 => 5000 ms
val ms 1798761600123000 => 1798761600123000000 ms
EOF
}

@test "time_from_value: a unit given (--time-unit) is never checked against the size" {
	check <<'EOF'
val us 5 => 5 us
val = 1798761600123000 => 1798761600123000 us
val = 12 => 12 us
val s 1798761600 => 1798761600000000 s
val = 12 => 12000000 s
EOF
}

@test "time_from_value: epoch numbers held in strings, in the unit of the input" {
	check <<'EOF'
val auto "1798761600000" => 1798761600000000 ms
val = "1798761600001" => 1798761600001000 ms
val = 1798761600002 => 1798761600002000 ms
val s "1798761600" => 1798761600000000 s
val s "1798761600.5" => 1798761600500000 s
val s "-1" => -1000000 s
val s "1798761600x" => error: invalid RFC 3339 time: expected a date YYYY-MM-DD
val s "01798761600" => error: invalid RFC 3339 time: expected a date YYYY-MM-DD
EOF
}

@test "time_from_value: an out-of-range or bad first value guesses nothing" {
	check <<'EOF'
val auto -1e30 => error: event time out of range (years -99999 to 99999)
val = 5 => 5000000 s
val auto null => error: time field is null
val = 1798761600123 => 1798761600123000 ms
val auto "nope" => error: invalid RFC 3339 time: expected a date YYYY-MM-DD
val = 5 => 5000000 s
EOF
}

@test "time_from_value: RFC 3339 strings, and mixed inputs" {
	check <<'EOF'
val auto "2027-01-01T00:00:00Z" => 1798761600000000 rfc3339
val = "2027-01-01T00:00:00.123+01:00" => 1798758000123000 rfc3339
val = 1798761600 => 1798761600000000 rfc3339
val = 1798761600123 => 1798761600123000 rfc3339
val ms "2027-01-01T00:00:00Z" => 1798761600000000 ms
val = 1798761600123 => 1798761600123000 ms
val s "1969-12-31T23:59:59.999999Z" => -1 s
EOF
}

@test "time_from_value: fractional epochs round to the nearest microsecond" {
	check <<'EOF'
val s 1798761600.123 => 1798761600123000 s
val auto 1798761600.123 => 1798761600123000 s
val s 1798761600.123456 => 1798761600123456 s
val s 1798761600.999999 => 1798761600999999 s
val s 1.7987616001e9 => 1798761600100000 s
val ms 1798761600123.456 => 1798761600123456 ms
val ms 1.5 => 1500 ms
val us 1.4 => 1 us
val s -0.5 => -500000 s
val s -1798761600.123 => -1798761600123000 s
EOF
}

@test "time_from_value: error messages" {
	check <<'EOF'
val auto missing => error: missing time field
val s missing => error: missing time field
val auto null => error: time field is null
val auto true => error: time field is not a number or an RFC 3339 string
val ms false => error: time field is not a number or an RFC 3339 string
val auto {"ts":1} => error: time field is not a number or an RFC 3339 string
val auto [1798761600] => error: time field is not a number or an RFC 3339 string
val auto "" => error: invalid RFC 3339 time: expected a date YYYY-MM-DD
val auto "2027-13-01T00:00:00Z" => error: invalid RFC 3339 time: month out of range
val auto "2027-01-01T00:00:00" => 1798761600000000 rfc3339
val auto "2027-01-01T00:00:00 UTC" => error: invalid RFC 3339 time: expected Z or an offset +hh:mm after the time
val auto "+99999-12-31T23:59:59-01:00" => error: event time out of range (years -99999 to 99999)
EOF
}

@test "time_from_value: years -99999 to 99999 in every unit" {
	check <<'EOF'
val s -3217830796800 => -3217830796800000000 s
val s -3217830796801 => error: event time out of range (years -99999 to 99999)
val s 3093527980799 => 3093527980799000000 s
val s 3093527980800 => error: event time out of range (years -99999 to 99999)
val ms 3093527980799999 => 3093527980799999000 ms
val ms 3093527980800000 => error: event time out of range (years -99999 to 99999)
val ms -3217830796800000 => -3217830796800000000 ms
val ms -3217830796800001 => error: event time out of range (years -99999 to 99999)
val us 3093527980799999999 => 3093527980799999999 us
val us 3093527980800000000 => error: event time out of range (years -99999 to 99999)
val us -3217830796800000000 => -3217830796800000000 us
val us -3217830796800000001 => error: event time out of range (years -99999 to 99999)
val s 9223372036854775807 => error: event time out of range (years -99999 to 99999)
val s -9223372036854775808 => error: event time out of range (years -99999 to 99999)
val ms 9223372036854775807 => error: event time out of range (years -99999 to 99999)
val ns 9223372036854775807 => 9223372036854775 ns
val ns -9223372036854775808 => -9223372036854776 ns
val s 3e12 => 3000000000000000000 s
val s 3.1e12 => error: event time out of range (years -99999 to 99999)
val s 1e300 => error: event time out of range (years -99999 to 99999)
val s -1e300 => error: event time out of range (years -99999 to 99999)
val ns 1e19 => 10000000000000000 ns
val ns 3.1e21 => error: event time out of range (years -99999 to 99999)
val auto 1e30 => error: event time out of range (years -99999 to 99999)
val s -62167219201 => -62167219201000000 s
val ms 253402300800000 => 253402300800000000 ms
EOF
}

# ---- time_format ----

@test "time_format: epoch units, floor for s and ms" {
	check <<'EOF'
fmt s 1798761600123456 => 1798761600
fmt ms 1798761600123456 => 1798761600123
fmt us 1798761600123456 => 1798761600123456
fmt ns 1798761600123456 => 1798761600123456000
fmt s -1 => -1
fmt ms -1 => -1
fmt us -1 => -1
fmt ns -1 => -1000
fmt s -1000000 => -1
fmt s -1000001 => -2
fmt ns 0 => 0
fmt auto 1798761600123456 => 1798761600123
fmtj s 5000000 => 5
fmtj ms 5000 => 5
EOF
}

@test "time_format: nanoseconds beyond int64 stay exact" {
	check <<'EOF'
fmt ns 253402300799999999 => 253402300799999999000
fmt ns -62167219200000000 => -62167219200000000000
fmt ns 9223372036854775807 => 9223372036854775807000
EOF
}

@test "time_format: RFC 3339, quoted for JSON" {
	check <<'EOF'
fmt rfc3339 0 => 1970-01-01T00:00:00Z
fmtj rfc3339 0 => "1970-01-01T00:00:00Z"
fmtj rfc3339 -1 => "1969-12-31T23:59:59.999999Z"
fmtj rfc3339 1798761600123000 => "2027-01-01T00:00:00.123Z"
fmtj rfc3339 253402300799999999 => "9999-12-31T23:59:59.999999Z"
EOF
}

# ---- time_unit_parse, time_now_us ----

@test "time_unit_parse: s ms us ns auto, nothing else" {
	check <<'EOF'
unit s => s
unit ms => ms
unit us => us
unit ns => ns
unit auto => auto
unit rfc3339 => error: no such unit
unit S => error: no such unit
unit sec => error: no such unit
unit  => error: no such unit
EOF
}

@test "time_now_us: the wall clock" {
	check <<'EOF'
now => ok
EOF
}

@test "time-test reads commands from stdin too" {
	run "$UNIT/time-test" <<'EOF'
dur 1h30m
dfmt 5400000000
rfc 2027-01-01T00:00:00.5+01:00
rfcfmt -1
val ms 1798761600123
val auto 1798761600
val auto "2027-01-01T00:00:00Z"
fmt rfc3339 0
EOF
	assert_success
	assert_output "$(cat <<'EOF'
5400000000
1h30m
1798758000500000
1969-12-31T23:59:59.999999Z
1798761600123000 ms
1798761600000000 s
1798761600000000 rfc3339
1970-01-01T00:00:00Z
EOF
)"
}

# ---- times as exports write them: no offset (--timezone), +hhmm ----

@test "rfc3339: without an offset a time is UTC by default; a space for T, any fraction" {
	check <<'EOF'
rfc 2004-03-10 18:00:00 => 1078941600000000
rfc 2015-02-04 17:51:00.02785 => 1423072260027850
rfc 2027-01-01T00:00:00 => 1798761600000000
rfc 2027-01-01T01:00:00+0100 => 1798761600000000
rfc 2027-01-01T01:00:00+01 => 1798761600000000
rfc 2026-12-31T19:30:00-0430 => 1798761600000000
EOF
}

@test "rfc3339: a date alone (daily exports) is its midnight, local as a time without an offset" {
	check <<'EOF'
rfc 1970-01-01 => 0
rfc 2027-01-01 => 1798761600000000
rfc 2012-02-29 => 1330473600000000
rfc 2013-02-29 => error: day out of range
zone Europe/Rome => ok
rfc 2027-01-01 => 1798758000000000
rfc 2027-07-01 => 1814392800000000
zone UTC => ok
EOF
}

@test "--timezone Europe/Rome: winter +01:00, summer +02:00; an offset written wins" {
	check <<'EOF'
zone Europe/Rome => ok
rfc 2004-03-10 18:00:00 => 1078938000000000
rfc 2027-07-01 12:00:00 => 1814436000000000
rfc 2027-07-01 12:00:00Z => 1814443200000000
rfc 2027-07-01 12:00:00+0100 => 1814439600000000
zone UTC => ok
rfc 2004-03-10 18:00:00 => 1078941600000000
EOF
}

@test "--timezone Europe/Rome at the DST changes: a missing time moves later by the gap, a repeated one is the earlier" {
	# 2027-03-28: 02:00 CET becomes 03:00 CEST (01:00Z); 2027-10-31:
	# 03:00 CEST becomes 02:00 CET (01:00Z), so 02:00-02:59 happens twice.
	check <<'EOF'
zone Europe/Rome => ok
rfc 2027-03-28 01:59:59 => 1806195599000000
rfc 2027-03-28 02:00:00 => 1806195600000000
rfc 2027-03-28 02:30:00 => 1806197400000000
rfc 2027-03-28 03:00:00 => 1806195600000000
rfc 2027-03-28 03:30:00 => 1806197400000000
rfc 2027-10-31 01:59:59 => 1824940799000000
rfc 2027-10-31 02:00:00 => 1824940800000000
rfc 2027-10-31 02:30:00 => 1824942600000000
rfc 2027-10-31 02:59:59 => 1824944399000000
rfc 2027-10-31 03:00:00 => 1824948000000000
rfcfmt 1806197400000000 => 2027-03-28T01:30:00Z
rfcfmt 1824942600000000 => 2027-10-31T00:30:00Z
rfcfmt 1824948000000000 => 2027-10-31T02:00:00Z
EOF
}

@test "--timezone: an unknown name says what a zone is" {
	check <<'EOF'
zone Europe/Rom => error: no such zone in /usr/share/zoneinfo (an IANA name such as Europe/Rome, or UTC)
zone ../etc/passwd => error: no such zone in /usr/share/zoneinfo (an IANA name such as Europe/Rome, or UTC)
zone UTC => ok
EOF
}
