/* fieldset.c - the paths a program wants from each record, as a trie */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fieldset.h"
#include "mem.h"



struct fieldset *fieldset_new(void)
{
	struct fieldset *fs = xrealloc(NULL, sizeof *fs);
	memset(fs, 0, sizeof *fs);
	fs->root.slot = -1;
	return fs;
}

static struct fs_node *edge_find(struct fs_node *n, const struct path_step *st)
{
	for (int i = 0; i < n->nedges; i++) {
		struct fs_edge *e = &n->edges[i];
		if (st->key ? (e->key && e->keylen == st->keylen &&
			       !memcmp(e->key, st->key, st->keylen))
			    : (!e->key && e->index == st->index))
			return e->child;
	}
	return NULL;
}

static struct fs_node *edge_add(struct fs_node *n, const struct path_step *st)
{
	n->edges = xrealloc(n->edges, (size_t)(n->nedges + 1) * sizeof *n->edges);
	struct fs_edge *e = &n->edges[n->nedges++];
	e->key = NULL;
	e->keylen = st->keylen;
	e->index = st->index;
	if (st->key) {
		uint8_t *h = &n->hint[fs_keyhint(st->keylen, st->keylen ?
					 (unsigned char)st->key[0] : 0)];
		/* a second key in this place, or past what a byte holds */
		*h = (*h || n->nedges >= FS_HINT_MANY) ? FS_HINT_MANY
						       : (uint8_t)n->nedges;
		e->key = xrealloc(NULL, st->keylen + 1);
		memcpy(e->key, st->key, st->keylen);
		e->key[st->keylen] = 0;
	}
	e->child = xrealloc(NULL, sizeof *e->child);
	memset(e->child, 0, sizeof *e->child);
	e->child->slot = -1;
	return e->child;
}


static void sub_add(struct fs_node *n, int slot)
{
	n->sub = xrealloc(n->sub, (size_t)(n->nsub + 1) * sizeof *n->sub);
	n->sub[n->nsub++] = slot;
}

int fieldset_add(struct fieldset *fs, const struct path *p)
{
	int slot = fieldset_add_optional(fs, p);
	fs->optional[slot] = false;
	return slot;
}

bool fieldset_optional(const struct fieldset *fs, int slot)
{
	return fs->optional[slot];
}

int fieldset_add_optional(struct fieldset *fs, const struct path *p)
{
	struct fs_node *n = &fs->root, *trail[PATH_MAX_DEPTH];
	for (int i = 0; i < p->n; i++) {
		struct fs_node *c = edge_find(n, &p->step[i]);
		n = c ? c : edge_add(n, &p->step[i]);
		trail[i] = n;
	}
	if (n->slot >= 0)
		return n->slot;
	for (int i = 0; i < p->n; i++)
		sub_add(trail[i], fs->npaths);
	/* Keep our own copy of the path, for messages and for CSV lookup. */
	fs->paths = xrealloc(fs->paths, (size_t)(fs->npaths + 1) * sizeof *fs->paths);
	struct path *q = &fs->paths[fs->npaths];
	*q = *p;
	q->text = xstrdup(p->text ? p->text : "");
	for (int i = 0; i < p->n; i++)
		if (p->step[i].key) {
			char *k = xrealloc(NULL, p->step[i].keylen + 1);
			memcpy(k, p->step[i].key, p->step[i].keylen);
			k[p->step[i].keylen] = 0;
			q->step[i].key = k;
		}
	fs->optional = xrealloc(fs->optional, (size_t)(fs->npaths + 1));
	fs->optional[fs->npaths] = true;
	n->slot = fs->npaths++;
	return n->slot;
}

int fieldset_add_text(struct fieldset *fs, const char *text, bool optional,
		      const char **err)
{
	struct path p;
	if (path_parse_all(text, &p, err))
		return -1;
	int slot = optional ? fieldset_add_optional(fs, &p)
			    : fieldset_add(fs, &p);
	path_free(&p);
	return slot;
}

int fieldset_count(const struct fieldset *fs)
{
	return fs->npaths;
}

const struct path *fieldset_path(const struct fieldset *fs, int slot)
{
	return &fs->paths[slot];
}

void fieldset_want_members(struct fieldset *fs, bool on)
{
	fs->members = on;
}

bool fieldset_wants_members(const struct fieldset *fs)
{
	return fs->members;
}

static void node_free(struct fs_node *n)
{
	free(n->sub);
	for (int i = 0; i < n->nedges; i++) {
		node_free(n->edges[i].child);
		free(n->edges[i].child);
		free(n->edges[i].key);
	}
	free(n->edges);
}

void fieldset_free(struct fieldset *fs)
{
	if (!fs)
		return;
	node_free(&fs->root);
	for (int i = 0; i < fs->npaths; i++)
		path_free(&fs->paths[i]);
	free(fs->paths);
	free(fs->optional);
	free(fs);
}
