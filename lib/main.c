/* main.c - main() of a program declared as a struct prog
 *
 * A program in cmd/ declares `program` (lib/prog.h) and writes no main()
 * of its own: the linker takes this one from the library. A program with
 * a main() of its own (one with work before or after prog_main, the unit
 * and fuzz drivers) never pulls this file in.
 */
#include "prog.h"

int main(int argc, char **argv)
{
	return prog_main(&program, argc, argv);
}
