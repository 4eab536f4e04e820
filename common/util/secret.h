/*
 * Secrets kept in files (repo.token_file, report.token_file): read with a
 * size cap into one allocation that is never grown (so no copy is left in
 * freed memory) and cleared with sodium_memzero on release.  A secret never
 * goes into an error message or a log line; errors name the file.
 */
#ifndef NIXPULL_SECRET_H
#define NIXPULL_SECRET_H

#include <stddef.h>

#include "err.h"

struct secret {
	char	*data;		/* NUL-terminated (may hold other NULs) */
	size_t	 len;
	size_t	 alloc;		/* cleared on release */
};

/*
 * Reads path into s (initialised here, empty on error): at most max bytes,
 * then the trailing characters found in trim (and NUL bytes) are dropped.
 * what names the file in errors:
 *   cannot read token file '/etc/nixpull/token': No such file or directory
 *   token file '/etc/nixpull/token' is longer than 4096 bytes
 */
int	secret_read(struct secret *s, const char *what, const char *path,
	    size_t max, const char *trim, struct err *e);
/* Clears and frees the contents; s may be released again. */
void	secret_release(struct secret *s);
/* Clears a NUL-terminated secret and frees it; NULL is a no-op. */
void	secret_free(char *s);

#endif
