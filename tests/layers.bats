#!/usr/bin/env bats
# lib/'s layers (lib/README, tests/layers.sh): no file includes a header of
# a layer above its own, every file is in the table, no include cycle.
bats_require_minimum_version 1.5.0
load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

@test "lib/: each file includes headers of its own layer or below" {
	run --separate-stderr sh "$ROOT/tests/layers.sh"
	assert_success
	assert_output "layers: every lib file has its layer; none includes a header above it; no include cycle"
	assert_stderr ""
}

@test "lib/: an include upwards, a file not in the table and a cycle are named" {
	mkdir "$T/lib"
	cp "$ROOT"/lib/*.c "$ROOT"/lib/*.h "$T/lib"
	printf '#include "prog.h"\n' >> "$T/lib/json.c"
	printf '#include "json.h"\n' >> "$T/lib/path.h"
	printf '#include "diag.h"\n' > "$T/lib/zz_new.c"
	run --separate-stderr sh "$ROOT/tests/layers.sh" "$T/lib"
	assert_failure 1
	assert_output "$(printf '%s\n' \
		'lib/json.c: includes "prog.h" of layer 5 runtime from layer 2 text' \
		'lib/zz_new.c: not in the table of layers (tests/layers.sh, lib/README)' \
		'lib/json.h: an include cycle: json.h -> fieldset.h -> path.h -> json.h')"
	assert_stderr ""
}
