/*
 * Secrets read from files, cleared on release.  See secret.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "secret.h"

/* Up to max + 1 bytes of fd into s->data: one more says "too long". */
static int
read_capped(int fd, struct secret *s, size_t max)
{
	ssize_t n;

	while (s->len < max + 1) {
		n = read(fd, s->data + s->len, max + 1 - s->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	return 0;
}

int
secret_read(struct secret *s, const char *what, const char *path,
    size_t max, const char *trim, struct err *e)
{
	int fd, r = -1;

	memset(s, 0, sizeof(*s));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_errno(e, "cannot read %s '%s'", what, path);
	s->alloc = max + 2;
	s->data = xcalloc(1, s->alloc);
	if (read_capped(fd, s, max) == -1) {
		err_errno(e, "cannot read %s '%s'", what, path);
		goto out;
	}
	if (s->len > max) {
		err_set(e, "%s '%s' is longer than %zu bytes", what, path, max);
		goto out;
	}
	/* strchr() finds '\0' too: trailing NUL bytes go as well */
	while (s->len > 0 && strchr(trim, s->data[s->len - 1]) != NULL)
		s->len--;
	s->data[s->len] = '\0';
	r = 0;
 out:
	close(fd);
	if (r != 0)
		secret_release(s);
	return r;
}

void
secret_release(struct secret *s)
{
	if (s->data != NULL) {
		sodium_memzero(s->data, s->alloc);
		free(s->data);
	}
	memset(s, 0, sizeof(*s));
}

void
secret_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}
