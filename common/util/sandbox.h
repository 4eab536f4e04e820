/*
 * Confining a process that handles bytes from the network: a user of its
 * own, no new privileges, the file system limited to what it was given
 * (Landlock, where the kernel has it) and no system calls it never needs
 * (seccomp, libseccomp).  On other systems only the user drop.
 */
#ifndef NIXPULL_SANDBOX_H
#define NIXPULL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct sandbox {
	const char	*user;		/* switch to it when running as root */
	const char	*read[32];	/* paths it may read (missing ones skipped) */
	size_t		 nread;
	const char	*write[4];	/* paths it may read and write */
	size_t		 nwrite;
};

/* What sandbox_enter managed, for the log and the tests. */
struct sandbox_report {
	uid_t		 uid;
	gid_t		 gid;
	bool		 no_new_privs;
	int		 landlock_abi;	/* 0: the kernel has no Landlock */
	bool		 seccomp;
};

/* The uid and gid of a user, or an error naming it. */
int	sandbox_user(const char *name, uid_t *uid, gid_t *gid, struct err *e);
/* Adds a path to sb->read (ignored when the list is full). */
void	sandbox_allow_read(struct sandbox *sb, const char *path);
/*
 * Confines the calling process for good.  Fails (and the caller must not
 * go on) when a step the system supports fails; a kernel without Landlock
 * is reported, not an error.
 */
int	sandbox_enter(const struct sandbox *sb, struct sandbox_report *rep,
	    struct err *e);

#endif
