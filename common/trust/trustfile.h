/*
 * The trust file kept in the repository next to its allowed_signers file
 * (default .nixpull/trust.yaml), read from a git blob, never trusted:
 *
 *	version: 3			an integer from 1 that only grows
 *	threshold: 2			distinct keys a release needs (1..100)
 *	expires: 2027-06-01T00:00:00Z	optional, RFC 3339
 *	revoked:			optional: public keys revoked from
 *	  - ssh-ed25519 AAAA... old	  this version on, one a line as in a
 *					  text revocation file
 *
 * Strict: an unknown or repeated key, a wrong type, a number out of
 * range, a bad date or an empty document is an error "NAME:LINE:COL:
 * what".  A file over MAX_TRUSTFILE_SIZE or with more than
 * MAX_TRUST_REVOKED revoked keys is refused.
 */
#ifndef NIXPULL_TRUSTFILE_H
#define NIXPULL_TRUSTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define TRUSTFILE_MAX_VERSION	((uint64_t)1 << 53)	/* exact in JSON */

struct trustfile {
	uint64_t	 version;	/* >= 1 */
	unsigned	 threshold;	/* 1..100 */
	time_t		 expires;	/* 0: never */
	char		**revoked;	/* "TYPE BASE64" (comment dropped) */
	size_t		 nrevoked;
};

/* Parses text (len bytes, name for messages) into tf: 0 or -1 with e. */
int	 trustfile_parse(struct trustfile *tf, const char *name,
	    const char *text, size_t len, struct err *e);
void	 trustfile_release(struct trustfile *tf);

/*
 * The revoked keys as the text of a revocation file ("TYPE BASE64\n"
 * each), for signers_add_revoked(); the caller frees it.
 */
char	*trustfile_revoked_text(const struct trustfile *tf, size_t *len);

/* Does tf revoke the key "TYPE BASE64"?  1 or 0. */
int	 trustfile_revokes(const struct trustfile *tf, const char *key);

#endif
