/* mem.h - allocation that cannot fail */
#ifndef ES_MEM_H
#define ES_MEM_H

#include <stddef.h>

/* Allocation that cannot fail: out of memory is a runtime failure (exit 1,
 * after flushing what was done). Zero bytes gives a valid pointer. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
