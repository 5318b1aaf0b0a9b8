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
	uint64_t keyhint;	/* fs_keyhint() of each key of its edges */
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

/* One bit of 64 for a key of n bytes starting with byte c: a key whose bit
 * a node lacks is none of its edges, known without comparing. */
static inline uint64_t fs_keyhint(size_t n, unsigned char c)
{
	return 1ull << ((n * 7 + c) & 63);
}

#endif
