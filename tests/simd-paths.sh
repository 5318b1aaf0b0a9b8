#!/bin/sh
# tests/simd-paths.sh - what tests/run needs to run the JSON tests once more
# on each other path of the NDJSON scanner (make check sets ES_SIMD_PATHS):
# the main run takes the best path this machine has (lib/scan.c); every
# other one (the scalar scanner, SSE2 where AVX2 is the best) is forced
# with ES_SIMD and must give the same answers.
#   simd-paths.sh paths   the other paths, one a line
#   simd-paths.sh files   the bats files to run on each
# ES_BIN as for tests/run.
cd "$(dirname "$0")" || exit 1
: "${ES_BIN:?ES_BIN must name the directory of the es-* programs}"
case $1 in
files)
	echo conformance.bats badinput.bats hostile.bats es-filter.bats \
		es-cat.bats differential.bats read-options.bats value.bats fuzz.bats
	;;
paths)
	unit=${ES_UNIT:-$ES_BIN/unit}
	paths=$(env -u ES_SIMD "$unit/scan-test" paths) || exit 1
	best=$(echo "$paths" | sed -n 's/^run: //p')
	echo "$paths" | grep -v '^run: ' | grep -vx "$best"
	;;
*)
	echo "usage: simd-paths.sh paths|files" >&2
	exit 2
	;;
esac
