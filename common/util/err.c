#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* dst = a ": " b, truncated to fit cap (which is > 0). */
static void
join(char *dst, size_t cap, const char *a, const char *b)
{
	size_t off = strnlen(a, cap - 1), n;

	memmove(dst, a, off);
	if (cap - 1 - off >= 2) {
		memcpy(dst + off, ": ", 2);
		off += 2;
	}
	n = strnlen(b, cap - 1 - off);
	memmove(dst + off, b, n);
	dst[off + n] = '\0';
}

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char head[MAX_ERROR], old[MAX_ERROR];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	join(e->msg, sizeof(e->msg), head, old);
	return -1;
}

int
err_errno(struct err *e, const char *fmt, ...)
{
	char head[MAX_ERROR];
	int saved = errno;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	join(e->msg, sizeof(e->msg), head, strerror(saved));
	errno = saved;
	return -1;
}
