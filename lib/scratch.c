/* scratch.c - the scratch arena: memory reset per record */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "scratch.h"

/*
 * Blocks are chained through their first word. A pointer handed out stays
 * valid until scratch_reset(), so growing allocates a new block instead of
 * moving the old one; reset frees all but the newest (largest) block, which
 * is then big enough for every later record of the same shape.
 */
void *scratch_alloc(struct scratch *sc, size_t n)
{
	if (!sc->buf || sc->cap - sc->len < n) {
		size_t cap = sc->cap ? sc->cap * 2 : 4096;
		while (cap - sizeof(char *) < n)
			cap *= 2;
		char *nb = xmalloc(cap);
		memcpy(nb, &sc->buf, sizeof(char *));
		sc->buf = nb;
		sc->cap = cap;
		sc->len = sizeof(char *);
	}
	void *p = sc->buf + sc->len;
	sc->len += (n + 7) & ~(size_t)7;
	if (sc->len > sc->cap)
		sc->len = sc->cap;
	return p;
}

/* Frees chained older blocks; keeps the newest (the largest) for reuse. */
void scratch_reset(struct scratch *sc)
{
	if (!sc->buf)
		return;
	char *old;
	memcpy(&old, sc->buf, sizeof(char *));
	while (old) {
		char *next;
		memcpy(&next, old, sizeof(char *));
		free(old);
		old = next;
	}
	char *none = NULL;
	memcpy(sc->buf, &none, sizeof none);
	sc->len = sizeof(char *);
}

void scratch_free(struct scratch *sc)
{
	scratch_reset(sc);
	free(sc->buf);
	sc->buf = NULL;
	sc->len = sc->cap = 0;
}
