/* jsonslot.c - a scanned JSON value filed where the fieldset wants it */
#include <stdlib.h>
#include <string.h>

#include "jsonslot.h"
#include "mem.h"

struct frame jsonslot_stack[JSON_MAX_DEPTH + 1];

const struct fs_node *jsonslot_key_escaped(const struct fs_node *n,
					   const struct span *key)
{
	char small[256];
	char *buf = key->n <= sizeof small ? small : xrealloc(NULL, key->n);
	size_t kn = json_unescape(key, buf);
	const struct fs_node *found = NULL;
	for (int i = 0; i < n->nedges && !found; i++) {
		const struct fs_edge *e = &n->edges[i];
		if (e->key && e->keylen == kn && !memcmp(e->key, buf, kn))
			found = e->child;
	}
	if (buf != small)
		free(buf);
	return found;
}

const struct fs_node *jsonslot_index(const struct fs_node *n, long index)
{
	if (!n)
		return NULL;
	for (int i = 0; i < n->nedges; i++)
		if (!n->edges[i].key && n->edges[i].index == index)
			return n->edges[i].child;
	return NULL;
}

void jsonslot_member(struct json_scan *o, const struct span *key,
		     const struct span *val)
{
	if (o->nmembers == o->capmembers) {
		o->capmembers = o->capmembers ? o->capmembers * 2 : 16;
		o->members = xrealloc(o->members,
				      o->capmembers * sizeof *o->members);
	}
	struct member *m = &o->members[o->nmembers++];
	span_copy(&m->key, key);
	span_copy(&m->val, val);
}
