/*
 * The revision, as nixpull holds and passes it everywhere outside
 * libgit2's own calls (git_oid): a git object id in hex, 40 lowercase
 * digits and a NUL, in a char[REV_HEX]; "" when there is none.  The
 * status document, deployed.json, inflight.json, the tip file and the
 * fetcher's messages all carry it so.
 */
#ifndef NIXPULL_REV_H
#define NIXPULL_REV_H

#include <stdbool.h>
#include <stddef.h>

#define REV_DIGITS	40
#define REV_HEX		(REV_DIGITS + 1)	/* and the NUL */

/* Whether the n bytes at s are a revision: 40 lowercase hex digits. */
bool	rev_valid(const char *s, size_t n);

#endif
