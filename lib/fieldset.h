/* fieldset.h - the paths a program wants from each record */
#ifndef ES_FIELDSET_H
#define ES_FIELDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "path.h"

/*
 * A fieldset is the set of paths a program wants from each record,
 * compiled to a trie so one pass over the line validates it and finds them.
 */
struct fieldset *fieldset_new(void);
/* Adds a path (copied) and returns its slot number; the same path twice
 * returns the same slot. */
int fieldset_add(struct fieldset *fs, const struct path *p);
/* The same for a path the program can do without (a field it tests for,
 * or writes): a CSV header without it is not warned about, as it is for
 * the paths fieldset_add gives (see reader_open). */
int fieldset_add_optional(struct fieldset *fs, const struct path *p);
bool fieldset_optional(const struct fieldset *fs, int slot);
/* The same for a path given as text (--field...), optional or not: -1
 * with *err (a static message) if it is not a path. */
int fieldset_add_text(struct fieldset *fs, const char *text, bool optional,
		      const char **err);
int fieldset_count(const struct fieldset *fs);
const struct path *fieldset_path(const struct fieldset *fs, int slot);
/* Ask for the list of top-level members too (for conversion to CSV). */
void fieldset_want_members(struct fieldset *fs, bool on);
bool fieldset_wants_members(const struct fieldset *fs);
void fieldset_free(struct fieldset *fs);

/* The trie, walked by the scanners (json.c, scan.c; no one else looks
 * inside). */
struct fs_edge {
	char *key;		/* NULL: array index */
	size_t keylen;
	long index;
	struct fs_node *child;
};

struct fs_node {
	int slot;		/* -1 when no wanted path ends here */
	/* by fs_keyhint() of a key: 0, no edge has a key of that hint; i + 1,
	 * edge i alone may be the key; FS_HINT_MANY, look through them all */
	uint8_t hint[64];
	int nedges;
	struct fs_edge *edges;
	int *sub;		/* the slots of every path through here */
	int nsub;
};

struct fieldset {
	struct fs_node root;
	struct path *paths;
	bool *optional;		/* per path: no warning when no column has it */
	int npaths;
	bool members;
};

/* One of 64 places for a key of n bytes starting with byte c: a key is
 * compared with the one edge its place names, or known to be none of them
 * without comparing (the keys a record has, and the program does not
 * want, mostly). */
#define FS_HINT_MANY 255
static inline unsigned fs_keyhint(size_t n, unsigned char c)
{
	return (unsigned)((n * 7 + c) & 63);
}

#endif
