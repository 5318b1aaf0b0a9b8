/* scan-test.c - unit driver for lib/scan.c (tests/simd-paths.sh)
 *
 *   scan-test paths   the scanner's paths this machine has, one a line,
 *                     then "run: PATH", the one a program takes (the best,
 *                     or ES_SIMD's)
 */
#include <stdio.h>
#include <string.h>

#include "scan.h"

int main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "paths")) {
		fprintf(stderr, "usage: scan-test paths\n");
		return 2;
	}
	for (int p = 0; p < SCAN_NPATHS; p++)
		if (scan_path_available((enum scan_path)p))
			printf("%s\n", scan_path_name((enum scan_path)p));
	printf("run: %s\n", scan_path_name(scan_path()));
	return 0;
}
