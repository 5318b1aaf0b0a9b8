#!/usr/bin/env bats
# lib/'s layers (lib/README, tests/layers.sh): no file includes a header of
# a layer above its own, every file is in the table, no include cycle. And
# its names (lib/README, "Names"; tests/names.sh): what a file exports
# starts with the file's name or one of its short forms.
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

# The objects of the build under test: make check's, check-sanitize's,
# check-valgrind's (its programs are wrappers; ES_UNIT is the build's), or
# the cross-build behind check-cross's qemu wrappers.
objdir() {
	local d
	for d in "$ES_BIN/obj" "${ES_BIN%-qemu}/obj" "${UNIT%/unit}/obj"; do
		[ -f "$d/lib/keyed.o" ] && { echo "$d"; return; }
	done
}

@test "lib/: every exported name starts with its file's name or a short form lib/README lists" {
	local d
	d=$(objdir)
	[ -n "$d" ] || skip "no objects of this build (tests/names.sh reads them)"
	run --separate-stderr sh "$ROOT/tests/names.sh" "$d"
	assert_success
	assert_output "names: every exported symbol names its file"
}

@test "lib/: a name that is not its file's is named" {
	mkdir -p "$T/obj/lib"
	printf 'int keyed_ok(void) { return 1; }\nint stray_name(void) { return 2; }\nstatic int own(void) { return 3; }\nint keyed_own(void) { return own(); }\n' > "$T/keyed.c"
	printf 'int reader_x(void) { return 1; }\nint writer_y(void) { return 2; }\nint record_z(void) { return 3; }\nint key_w(void) { return 4; }\n' > "$T/record.c"
	cc -c -o "$T/obj/lib/keyed.o" "$T/keyed.c"
	cc -c -o "$T/obj/lib/record.o" "$T/record.c"
	run --separate-stderr sh "$ROOT/tests/names.sh" "$T/obj"
	assert_failure 1
	assert_output "$(printf '%s\n' \
		'lib/keyed: exports stray_name, whose prefix is not the file'"'"'s' \
		'lib/record: exports key_w, whose prefix is not the file'"'"'s')"
}
