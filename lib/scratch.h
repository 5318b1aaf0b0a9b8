/* scratch.h - the scratch arena: memory reset per record */
#ifndef ES_SCRATCH_H
#define ES_SCRATCH_H

#include <stddef.h>

/* A scratch arena reset per record: decoded strings and computed text live
 * here, so the hot path allocates nothing once it has grown to fit. */
struct scratch {
	char *buf;
	size_t len, cap;
};
void *scratch_alloc(struct scratch *sc, size_t n);	/* xmalloc: exits 1 on OOM */
void scratch_reset(struct scratch *sc);
void scratch_free(struct scratch *sc);

#endif
