/*
 * Step 3 of a cycle: `nix build` of the host's system from exactly the
 * verified revision of the mirror, with the tuner's parallelism, at low
 * priority, under a time-out, keeping a GC root and the full log.
 */
#ifndef NIXPULL_BUILD_H
#define NIXPULL_BUILD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "spawn.h"

struct config;

struct build_request {
	const char	*nix;		/* program; NULL = "nix" */
	const char	*mirror;	/* absolute path of the bare mirror */
	const char	*ref;		/* the tracked ref */
	const char	*rev;		/* full 40-hex revision */
	const char	*attr;		/* flake output attribute path */
	const char	*state_dir;
	int		 max_jobs;
	int		 cores;
	int		 nice;
	bool		 idle_io;
	uint64_t	 timeout_ms;
	const volatile sig_atomic_t *cancel;
};

struct build_result {
	char		*store_path;	/* malloc'd; NULL unless it built */
	char		*log_path;	/* malloc'd: <state_dir>/logs/<rev>.log */
	struct spawn_result run;
	int64_t		 substituted_bytes;	/* substitute_run: NAR bytes
						   fetched, -1 unknown */
};

/* git+file://<mirror>?ref=<ref>&rev=<rev>: pins the revision; Nix 2.8
 * needs the ref= (CONTRACTS.md). */
void	build_flake_url(const char *mirror, const char *ref, const char *rev,
	    struct buf *out);
/* build.attribute, or the OS's system attribute for host:
 *   nixosConfigurations."HOST".config.system.build.toplevel
 *   darwinConfigurations."HOST".system */
void	build_attribute(const struct config *cfg, const char *os,
	    struct buf *out);
/* The same for any host, whatever build.attribute says. */
void	build_system_attribute(const char *os, const char *host,
	    struct buf *out);
/* 0 when it built (res->store_path set); -1 with e naming the revision
 * and the cause (exit status, time-out) and res->run.tail kept. */
int	build_run(const struct build_request *rq, struct build_result *res,
	    struct err *e);
void	build_result_release(struct build_result *res);
/* The outPath of rq->attr, evaluated (`nix eval --raw`), not built, into
 * *path (malloc'd); -1 with e naming the revision. */
int	build_eval(const struct build_request *rq, char **path,
	    struct err *e);
/* Removes GC roots under <state_dir>/gcroots except the nkeep named
 * revisions (NULL entries ignored). */
int	build_prune_gcroots(const char *state_dir, const char *const *keep,
	    size_t nkeep, struct err *e);

#endif
