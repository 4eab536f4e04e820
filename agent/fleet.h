/*
 * The fleet's status documents as `nixpull fleet` reads them (fleet.c),
 * for the rollout step (turn.c): a folder, a file:// URL, or an HTTP(S)
 * folder listed by nginx autoindex or WebDAV PROPFIND.  The documents are
 * untrusted: they can only ever halt or delay a rollout.
 */
#ifndef NIXPULL_FLEET_H
#define NIXPULL_FLEET_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "err.h"
#include "status.h"

struct fleet_source {
	const char	*url;		/* report.url */
	const char	*token_file;	/* report.token_file, or NULL */
	const char	*ca_file;
	uint64_t	 timeout_ms;	/* the whole read; 0: none */
	uint64_t	 max_bytes;	/* documents read in all; 0: none */
};

/*
 * Calls fn(arg, st) for every well-formed <host>.json at src->url (a
 * document must name its own host).  0, or -1 with e when the listing
 * cannot be read or a bound was reached before the end.
 */
int	fleet_each(const struct fleet_source *src,
	    void (*fn)(void *, const struct status *), void *arg,
	    struct err *e);

/* s with anything but printable ASCII replaced by '?', at most max bytes. */
char	*fleet_clean(const char *s, size_t max);

/*
 * The staged rollout of the newest release (cmd_fleet_rollout.c): the
 * release named by the hosts' rollout objects with the latest release
 * time, and for each of its waves (by due time) the hosts deployed,
 * pending, failed or halted.  NULL when no host reports a rollout.
 */
struct fleet_waves;
struct fleet_waves *fleet_waves_new(const struct status *const *v, size_t n);
void	 fleet_waves_print(const struct fleet_waves *fw, FILE *fp);
json_t	*fleet_waves_json(const struct fleet_waves *fw);
void	 fleet_waves_free(struct fleet_waves *fw);

#endif
