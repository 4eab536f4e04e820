/*
 * The agent: what lives across the cycles of one agent process (the
 * configuration, the machine, the status document as last published, the
 * fetcher).  The driver (cycle.c) runs the cycles: it gives each step
 * what it needs from here in a request and writes what the step returns
 * into the status document (publish.h).
 */
#ifndef NIXPULL_AGENT_H
#define NIXPULL_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "fetcher.h"
#include "platform.h"
#include "status.h"

struct config;
struct err;

/* What lives across cycles of one agent process. */
struct agent {
	const struct config *cfg;
	const volatile sig_atomic_t *cancel;	/* set by SIGTERM/SIGINT */
	struct platform	 plat;
	bool		 nix_probed;
	struct status	 st;		/* the document as last published */
	bool		 st_loaded;
	time_t		 next_poll_at;	/* set by the daemon, for the status */
	void		(*phase_hook)(const char *phase); /* e.g. sd_notify */
	struct fetcher	 fetcher;	/* poll, fetch, select, verify */
};

void	agent_init(struct agent *a, const struct config *cfg,
	    const volatile sig_atomic_t *cancel);
void	agent_release(struct agent *a);
/* Starts the fetcher; -1 with e saying why (e.g. no privsep.user). */
int	agent_start(struct agent *a, struct err *e);
/* After a reload: the next poll starts a fetcher with the new config; a
 * new host name starts the document again from the one saved on disk. */
void	agent_reload(struct agent *a, const struct config *cfg,
	    bool new_host);
/* The machine (platform_probe) into a->plat. */
void	agent_probe(struct agent *a);
/* `nix --version` for the status, once per agent, and only when a build
 * or an activation is about to run. */
void	agent_probe_nix(struct agent *a);

#endif
