#!/usr/bin/env bats
# lib/value.c through its unit driver tests/unit/value-test.c: writing
# doubles as the shortest text that reads back.

load test_helper

@test "number_format: shortest round trip, %g's notation; -0, tiny, huge and 15-digit values" {
	run "$UNIT/value-test" fmt 36.557 -0 0 -0.5 0.0001 0.00012345 1e15 \
		123456789012345 1e-5 0.30000000000000004 98.6 -40 1e300 97.862 \
		2.5e-4 99999.99999 0.1 1234567.125
	assert_success
	assert_output "$(printf '%s\n' 36.557 -0 0 -0.5 0.0001 0.00012345 1e+15 \
		123456789012345 1e-05 0.30000000000000004 98.6 -40 1e+300 97.862 \
		0.00025 99999.99999 0.1 1234567.125)"
}

@test "number_format: the fast path writes what printf and strtod would, on 200,000 doubles of every kind" {
	run "$UNIT/value-test" compare 200000
	assert_success
	assert_output "200000 checked, 0 differ"
}
