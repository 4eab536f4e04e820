/*
 * libgit2 glue: ask a remote for one ref (one round trip, no pack), fetch
 * that ref into a bare mirror, with time and size limits that libgit2 1.5
 * does not have itself.  Functions are named gitx_* because git_* is
 * libgit2's namespace.
 *
 * Transports: file:// and plain paths, http(s):// (TLS verification always
 * on, repo.ca_file for a private CA), ssh:// and scp-like user@host:path
 * (repo.ssh_key, host key checked against repo.known_hosts).
 *
 * repo.token_file holds one line: "user:password" is sent as HTTP basic
 * auth, anything without a colon as "Authorization: Bearer TOKEN".  Either
 * goes out with the first request (no 401 round trip).
 */
#ifndef NIXPULL_GIT_H
#define NIXPULL_GIT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "known_hosts.h"	/* known_hosts_check() */
#include "rev.h"
#include "secret.h"


/*
 * Files read ahead by gitx_preload, so that an unprivileged process that
 * may not open them (a root-only key, /root/.ssh/known_hosts) can still
 * use them.
 */
struct gitx_preload {
	struct secret	 ssh_key;	/* contents of ssh_key, if set */
	struct buf	 ssh_pub;	/* ssh_key.pub, empty if none */
	struct secret	 token;		/* contents of token_file, if set */
	struct buf	 known[2];	/* the known_hosts files that exist */
	const char	*known_name[2];
	size_t		 nknown;
	bool		 loaded;
};

/* The remote and the limits of one poll or fetch (repo.* of the config). */
struct gitx_remote {
	const char	*url;		/* required */
	const char	*ref;		/* NULL: "main" */
	const char	*ssh_key;	/* path: private key for ssh */
	const char	*token_file;	/* path: http(s) token */
	const char	*ca_file;	/* TLS CA bundle, NULL: the system's */
	const char	*known_hosts;	/* NULL: the system's and root's */
	uint64_t	 max_fetch_size;
	uint64_t	 connect_timeout_ms;
	uint64_t	 timeout_ms;	/* whole poll, or whole fetch */
	const struct gitx_preload *pre;	/* NULL: read the files when needed */
};

/*
 * Reads rm's secrets and known_hosts files into pre (cleared first).  A
 * file that cannot be read is an error naming it, except the default
 * known_hosts files, which may be missing.
 */
int	gitx_preload(const struct gitx_remote *rm, struct gitx_preload *pre,
	    struct err *e);
void	gitx_preload_release(struct gitx_preload *pre);

/* What one network step cost; filled even when it failed. */
struct gitx_stats {
	uint64_t	duration_ms;
	uint64_t	bytes_received;	/* read from the socket (http), pack bytes (ssh, file://) */
	bool		timed_out;	/* repo.connect_timeout or repo.timeout hit */
	bool		too_big;	/* repo.max_fetch_size hit */
};

/*
 * Once per process, before any other gitx_ call: libgit2 initialisation,
 * the time-out aware socket stream, repo.ca_file.  Later calls only
 * re-apply ca_file.  Returns 0 or -1.
 */
int	gitx_init(const struct gitx_remote *rm, struct err *e);

/* "main" -> "refs/heads/main"; "refs/..." is kept.  Caller frees. */
char	*gitx_full_ref(const char *ref);

/*
 * Lists the remote's refs and stores the tip of repo.ref in tip (40 hex
 * digits).  One smart-HTTP GET or one ssh session; nothing is written to
 * disk and no process is spawned.  A ref the remote does not have is an
 * error.
 */
int	gitx_ls_tip(const struct gitx_remote *rm, char tip[REV_HEX],
	    struct gitx_stats *st, struct err *e);

/*
 * Fetches repo.ref (forced, so a force-push is followed) and the annotated
 * tags that point into it (include-tag) into the bare repository at
 * mirror, creating it when missing and re-creating it when it is corrupt
 * or half-written (stale locks are removed first).  On success tip holds
 * what the mirror's ref now points to, a commit that is in the mirror.
 */
int	gitx_fetch(const struct gitx_remote *rm, const char *mirror,
	    char tip[REV_HEX], struct gitx_stats *st, struct err *e);

#endif
