#!/usr/bin/env bats
# lib/number.c's hard cases through its unit driver tests/unit/number-test.c:
# doubles written as printf's first of %.15g/%.16g/%.17g that reads back
# would write them (ties, powers of two, 16- and 17-digit decimals, random
# bit patterns, integers, short decimals, subnormals, the extremes) by both
# of number_print's paths, each the shortest text that reads back where
# printf's rule gives the shortest; and texts read as strtod reads them, by
# number_parse and by Eisel-Lemire alone; number_parse's fast front against
# the whole grammar. The counts of the fast paths'
# refusals and of printf's longer texts are part of the expected output.
# `make check-numbers` runs the same checks on millions.

load test_helper

@test "number_format: every kind of double as printf's loop writes it, read back, shortest where that rule is; the fast and exact paths agree; ints as %lld" {
	run "$UNIT/number-test" format 300000
	assert_success
	assert_output "300000 checked, 0 differ, 600 to the exact path; longer than the shortest, as printf's rule: 21662 subnormals, 273 powers of two"
}

@test "number_parse: long mantissas, halfway values, 19-20 digits, subnormals, DBL_MAX, extreme exponents read bit for bit as strtod reads them; Eisel-Lemire alone too" {
	run "$UNIT/number-test" parse 300000
	assert_success
	assert_output "300000 checked, 0 differ, 0 left to strtod"
}

@test "number_parse's fast front (sensor readings) and the whole grammar give the same verdict, type and bits on random near-numbers; number_parse_uint takes their plain integers" {
	run "$UNIT/number-test" grammar 1000000
	assert_success
	assert_output "1000000 checked, 433833 numbers, 206971 plain integers, 0 differ"
}

@test "number-test: a wrong mode is refused with its usage" {
	run "$UNIT/number-test" nonsense 1
	assert_failure 2
	assert_output --partial "usage: number-test format N"
}
