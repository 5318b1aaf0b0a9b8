/* config.h - --config FILE: the command line's options kept in a file
 *
 * A file of options, one a line, as "name = value" or "name" (a flag) with
 * the long option's name; '#' starts a comment line. Every program takes it
 * the same way: config_expand() runs before the program parses its options
 * and appends the file's options after the command line's, so a setting in
 * the file wins over the same setting on the command line (getopt takes
 * options after the operands too). A program that reloads its configuration
 * (SIGHUP) calls it again on the original argv.
 */
#ifndef ES_CONFIG_H
#define ES_CONFIG_H

#include <stddef.h>

/*
 * If argv has --config FILE (or --config=FILE), returns a new argv: argv,
 * then the file's options as "--name=value" and "--name" words; *argc is
 * updated. Without --config returns argv unchanged. On a bad file returns
 * NULL with "FILE:LINE: why" (or "FILE: why") in err. The words are
 * allocated; config_free() frees an argv this returned.
 */
char **config_expand(int *argc, char **argv, char *err, size_t errn);
void config_free(char **argv, char **orig);
/* The --config FILE of argv, or NULL. */
const char *config_path(int argc, char **argv);

#endif
