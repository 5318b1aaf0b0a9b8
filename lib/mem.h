/* mem.h - allocation that cannot fail */
#ifndef ES_MEM_H
#define ES_MEM_H

#include <stddef.h>

/* Allocation that cannot fail: out of memory is a runtime failure (exit 1,
 * after flushing what was done). Zero bytes gives a valid pointer. This is
 * the one place below the framework that exits on its own: every caller
 * would otherwise carry an error it can do nothing with. */
void *xmalloc(size_t n);
/* n bytes at a multiple of align (a power of two, a multiple of
 * sizeof(void *)); freed with free(). */
void *xmalloc_aligned(size_t align, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Out of memory where an allocator of a library said so (libcsv). */
__attribute__((noreturn)) void mem_oom(void);

#endif
