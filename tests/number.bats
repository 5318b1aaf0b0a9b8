#!/usr/bin/env bats
# lib/number.c's hard cases through its unit driver tests/unit/number-test.c:
# doubles written as printf's shortest of %.15g/%.16g/%.17g would write them
# (ties, powers of two, 16- and 17-digit decimals), and texts read as strtod
# reads them. `make check-numbers` runs the same checks on millions.

load test_helper

@test "number_format: exact ties, powers of two and 16/17-digit decimals as printf writes them, and each reads back; ints as %lld" {
	run "$UNIT/number-test" format 300000
	assert_success
	assert_output "300000 checked, 0 differ"
}

@test "number_parse: long mantissas, halfway values, extreme exponents read bit for bit as strtod reads them" {
	run "$UNIT/number-test" parse 300000
	assert_success
	assert_output "300000 checked, 0 differ"
}

@test "number-test: a wrong mode is refused with its usage" {
	run "$UNIT/number-test" nonsense 1
	assert_failure 2
	assert_output --partial "usage: number-test format N"
}
