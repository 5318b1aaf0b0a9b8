/* jsonslot.h - a scanned JSON value filed where the fieldset wants it
 *
 * What both NDJSON scanners share (json.c's byte by byte one and scan.c's
 * over SIMD bitmaps): the stack of open containers, each with its node in
 * the fieldset's trie, and the filing of a finished value in its slot and
 * in the list of top-level members. Both file exactly the same spans.
 */
#ifndef ES_JSONSLOT_H
#define ES_JSONSLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "fieldset.h"
#include "json.h"
#include "swar.h"
#include "value.h"

struct frame {
	char type;			/* '{' or '[' */
	const struct fs_node *node;	/* trie node of this container */
	long index;			/* arrays: index of the current element */
	const struct fs_node *vnode;	/* trie node of the value being read */
	const char *vstart;
	struct span key;		/* objects: key of the current member */
};

/* The programs are single-threaded; one stack serves every scan. */
extern struct frame jsonslot_stack[JSON_MAX_DEPTH + 1];

/* The trie child for an object key, for an array index; NULL when
 * nothing below is wanted. */
const struct fs_node *jsonslot_key_escaped(const struct fs_node *n,
					   const struct span *key);
static inline const struct fs_node *jsonslot_key(const struct fs_node *n,
						 const struct span *key)
{
	if (!n || !n->nedges)
		return NULL;
	if (key->escaped)	/* decoded first */
		return jsonslot_key_escaped(n, key);
	const char *k = key->p + 1;
	size_t kn = key->n - 2;
	unsigned h = n->hint[fs_keyhint(kn, kn ? (unsigned char)k[0] : 0)];
	if (!h)
		return NULL;
	if (h != FS_HINT_MANY) {
		const struct fs_edge *e = &n->edges[h - 1];
		return swar_equal(e->key, e->keylen, k, kn) ? e->child : NULL;
	}
	for (int i = 0; i < n->nedges; i++) {
		const struct fs_edge *e = &n->edges[i];
		if (e->key && swar_equal(e->key, e->keylen, k, kn))
			return e->child;
	}
	return NULL;
}
const struct fs_node *jsonslot_index(const struct fs_node *n, long index);

/* Appends a top-level member (key and value) to out->members. */
void jsonslot_member(struct json_scan *out, const struct span *key,
		     const struct span *val);

/* A value of frame f ended: its slot if wanted, and the member list for
 * the top level when the fieldset asks for it. */
static inline void jsonslot_file(struct json_scan *out,
				 const struct fieldset *fs, struct frame *f,
				 const struct span *sp)
{
	if (f->vnode && f->vnode->slot >= 0)
		span_copy(&out->slots[f->vnode->slot], sp);
	if (f == jsonslot_stack && fs->members)
		jsonslot_member(out, &f->key, sp);
}

/* A key was read: a repeated key's last value wins whole, so forget what
 * an earlier one left below it. */
static inline void jsonslot_forget(struct json_scan *out,
				   const struct fs_node *vnode)
{
	if (vnode && vnode->nedges)
		for (int i = 0; i < vnode->nsub; i++)
			out->slots[vnode->sub[i]].kind = SPAN_MISSING;
}

#endif
