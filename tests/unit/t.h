/* A tiny assert header for the unit tests: failures print file:line. */
#ifndef NIXPULL_T_H
#define NIXPULL_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"

static int t_failed, t_checks;

#define T_FAIL(...) do {						\
	fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	t_failed++;							\
} while (0)

#define T_OK(cond) do {							\
	t_checks++;							\
	if (!(cond))							\
		T_FAIL("%s", #cond);					\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a = (long long)(a), t_b = (long long)(b);		\
	t_checks++;							\
	if (t_a != t_b)							\
		T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a, t_b);	\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a = (a), *t_b = (b);				\
	t_checks++;							\
	if (t_a == NULL || t_b == NULL || strcmp(t_a, t_b) != 0)	\
		T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,		\
		    t_a ? t_a : "(null)", t_b ? t_b : "(null)");	\
} while (0)

#define T_CONTAINS(hay, needle) do {					\
	const char *t_h = (hay), *t_n = (needle);			\
	t_checks++;							\
	if (t_h == NULL || strstr(t_h, t_n) == NULL)			\
		T_FAIL("%s contains \"%s\": got \"%s\"", #hay, t_n,	\
		    t_h ? t_h : "(null)");				\
} while (0)

/* A whole file (at most 16 MiB) as a NUL-terminated malloc'd string, or
 * NULL when it cannot be read. */
static inline char *
t_slurp(const char *path, size_t *len)
{
	struct buf b;
	struct err e;

	if (fs_read_file(path, 16 * 1024 * 1024, &b, &e) == -1) {
		buf_release(&b);
		return NULL;
	}
	buf_addstr(&b, "");
	return buf_detach(&b, len);
}

/* End of main(): prints a summary and returns the exit status. */
#define T_DONE() (fprintf(stderr, "%d checks, %d failed\n", t_checks,	\
	t_failed), t_failed ? 1 : 0)

#endif
