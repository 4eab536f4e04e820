/*
 * The fleet's status documents as read (fleet.c), shared by the reader
 * and `nixpull fleet` (cmd_fleet.c).  Internal to those two files.
 */
#ifndef NIXPULL_FLEET_INT_H
#define NIXPULL_FLEET_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "status.h"

#define FLEET_HTTP_TIMEOUT_MS	30000

/* Sort order: problems first.  Ranks 0-2 make the exit status 1. */
enum rank {
	RANK_MALFORMED,
	RANK_FAILED,		/* failed, rejected, rolled-back */
	RANK_STALE,		/* no report for longer than --stale */
	RANK_ATTENTION,		/* behind, reboot, deferred, stale release */
	RANK_BUSY,		/* polling ... activating */
	RANK_OK,
};

struct fleet_host {
	char		*name;	/* from the file name, cleaned */
	char		*raw;	/* the document as read, for --json */
	size_t		 rawlen;
	char		*bad;	/* why the file is unusable, or NULL */
	struct status	 st;
	bool		 behind;
	bool		 stale;
	enum rank	 rank;
};

struct fleet {
	struct fleet_host *v;
	size_t		 n;
	size_t		 alloc;
	const char	*newest;	/* the fleet's newest deployed rev */
	time_t		 now;
	uint64_t	 stale_ms;
	uint64_t	 deadline_ms;	/* monotonic; 0: none */
	uint64_t	 max_bytes;	/* documents in all; 0: none */
	uint64_t	 bytes;
};

struct fleet_opts {
	const char	*token_file;
	const char	*ca_file;
	uint64_t	 timeout_ms;	/* per request; 0: FLEET_HTTP_TIMEOUT_MS */
};

/* Every <host>.json of a folder, or of an HTTP(S) folder: 0, or -1 with e. */
int	fleet_load_dir(struct fleet *f, const char *dir, struct err *e);
int	fleet_load_url(struct fleet *f, const char *url,
	    const struct fleet_opts *o, struct err *e);
void	fleet_release(struct fleet *f);
bool	fleet_is_url(const char *s);

#endif
