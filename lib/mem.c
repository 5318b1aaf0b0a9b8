/* mem.c - allocation that cannot fail */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mem.h"

void *xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		diag_fatal(EXIT_RUNTIME, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}
