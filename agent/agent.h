/*
 * The agent: what lives across the cycles of one agent process (the
 * configuration, the machine, the status document as last published, the
 * fetcher).  The driver (cycle.c) runs the cycles; the steps read what
 * they need from here and report through publish.h.
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

#endif
