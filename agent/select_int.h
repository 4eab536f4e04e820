/*
 * Internal to select*.c: the tag index and the evaluation of one commit
 * that select.c (the walk) and select_trust.c (the trust chain) share.
 */
#ifndef NIXPULL_SELECT_INT_H
#define NIXPULL_SELECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <git2.h>

#include "select.h"

struct tagref {
	git_oid	 tag;
	git_oid	 target;
	char	*refname;
	char	*name;		/* the tag object's "tag" header */
	bool	 ok;		/* a tag of a commit, within the bounds */
};

struct tagindex {
	struct tagref	*v;
	size_t		 n;
	size_t		 alloc;
};

/* The time one selection may take, from its start (MAX_SELECT_SECONDS). */
struct deadline {
	uint64_t	end_ms;
};

void	 deadline_start(struct deadline *d);
bool	 deadline_passed(const struct deadline *d);

/* The refs/tags/ index (select.h explains the bounds): 0 or -1. */
int	 tags_load(git_repository *repo, struct tagindex *ti,
	    const struct deadline *dl, struct err *e);
void	 tags_release(struct tagindex *ti);

/* What commit oid is worth under s: 0, or -1 when it cannot be read. */
int	 trust_eval(git_repository *repo, const struct tagindex *ti,
	    const git_oid *oid, const struct signers *s, time_t now,
	    struct select_trust *t, struct err *e);

/* The parent on the first-parent line: 0, 1 at a root, -1 on error. */
int	 first_parent(git_repository *repo, git_oid *oid, struct err *e);

/* trust_chain_build with the tag index and deadline of a selection. */
int	 trust_chain_build_ti(git_repository *repo, const struct tagindex *ti,
	    const struct deadline *dl, const git_oid *tip, const git_oid *base,
	    const struct select_opts *o, struct trust_chain *c, struct err *e);

/* snprintf that may truncate, for one-line messages. */
void	 line_set(char *out, size_t outsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* libgit2's last error message. */
const char *git_msg(void);

#endif
