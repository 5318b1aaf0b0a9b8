/* mem.c - allocation that cannot fail */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mem.h"

void *xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

void *xmalloc_aligned(size_t align, size_t n)
{
	void *p;
	if (posix_memalign(&p, align, n ? n : 1))
		mem_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		mem_oom();
	return p;
}

void mem_oom(void)
{
	diag_fatal(EXIT_RUNTIME, "out of memory");
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}
