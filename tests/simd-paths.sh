#!/bin/sh
# tests/simd-paths.sh - the JSON tests once more on each other path of the
# NDJSON scanner (make check): the main run takes the best path this
# machine has (lib/scan.c); every other one (the scalar scanner, SSE2 where
# AVX2 is the best) is forced with ES_SIMD and must give the same answers.
# ES_BIN as for tests/run. Exits non-zero if any run failed.
cd "$(dirname "$0")" || exit 1
: "${ES_BIN:?ES_BIN must name the directory of the es-* programs}"
unit=${ES_UNIT:-$ES_BIN/unit}
files="conformance.bats badinput.bats hostile.bats es-filter.bats es-cat.bats
differential.bats read-options.bats value.bats fuzz.bats"
paths=$(env -u ES_SIMD "$unit/scan-test" paths) || exit 1
best=$(echo "$paths" | sed -n 's/^run: //p')
status=0
for p in $(echo "$paths" | grep -v '^run: '); do
	[ "$p" = "$best" ] && continue
	echo "# the JSON tests with ES_SIMD=$p"
	ES_SIMD=$p TESTS=$(echo $files) sh ./run || status=1
done
exit $status
