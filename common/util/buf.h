/*
 * Growable buffers with a required cap (curl's dynbuf, git's strbuf), an
 * argv/env vector (git's strvec) and allocation helpers that abort on
 * out-of-memory (OpenSSH's xmalloc): a daemon that cannot allocate a few
 * bytes has nothing sensible left to do.
 */
#ifndef NIXPULL_BUF_H
#define NIXPULL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* always NUL-terminated once anything was added */
	size_t	 len;
	size_t	 alloc;
	size_t	 max;	/* len never exceeds this */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void	 buf_init(struct buf *b, size_t max);
/* 0, or -1 (errno E2BIG) when the result would be longer than max. */
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_addstr(struct buf *b, const char *s);
int	 buf_addch(struct buf *b, char c);
int	 buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int	 buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* "" when empty, never NULL. */
const char *buf_str(const struct buf *b);
void	 buf_reset(struct buf *b);
/* Frees the contents; b can be reused after buf_init. */
void	 buf_release(struct buf *b);
/* Hands the malloc'd string to the caller and resets b. */
char	*buf_detach(struct buf *b, size_t *len);

struct strvec {
	char	**v;	/* NULL-terminated once anything was pushed */
	size_t	  n;
	size_t	  alloc;
};

#define STRVEC_INIT { NULL, 0, 0 }

void	 strvec_push(struct strvec *sv, const char *s);
void	 strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void	 strvec_pushv(struct strvec *sv, const char *const *v);
/* The vector for execve: never NULL, always NULL-terminated. */
char	*const *strvec_argv(struct strvec *sv);
void	 strvec_clear(struct strvec *sv);

void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *p, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
