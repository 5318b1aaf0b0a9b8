#!/usr/bin/env bats
# lib/keys.c's table through its unit driver tests/unit/keys-test.c, at
# sizes the fuzz target (tests/fuzz/keys.c, 256 keys) does not reach: many
# chunks of entries, the ids' widths as they grow past 2^16 and 2^20 (the
# slots' hash tags made anew each time), keys kept in their entries and not.

load test_helper

@test "keytab: 1,200,000 keys added, a third removed and added again: every id, key, count and byte total as the model has them" {
	run "$UNIT/keys-test" table 1200000
	assert_success
	assert_output "1200000 keys: 4000006 checks, 0 failed"
}

@test "keytab: an empty table and a table of one key" {
	run "$UNIT/keys-test" table 0
	assert_success
	assert_output "0 keys: 5 checks, 0 failed"
	run "$UNIT/keys-test" table 1
	assert_success
	assert_output "1 key: 9 checks, 0 failed"
}
