/*
 * Where the selected revision's system comes from (build.source): the
 * signed system manifest of the release (manifest.h), realised from the
 * binary caches with no evaluation (substitute.h), or a build of the
 * flake (build.h).  auto substitutes when the manifest names this host and
 * builds otherwise; a substitution that fails builds instead with
 * build.fallback: build, but a NAR hash that differs from the signed one
 * never does.
 */
#ifndef NIXPULL_SOURCE_H
#define NIXPULL_SOURCE_H

#include <signal.h>

#include "build.h"
#include "outcome.h"

struct config;
struct select_result;

struct source_request {
	const struct config *cfg;
	const struct select_result *sel;	/* the verified release */
	const volatile sig_atomic_t *cancel;	/* a stop cancels it */
};

/*
 * The system of c->sel's revision, as rq builds it or as the release's
 * manifest names it: 0 with br->store_path, or -1 with o's result
 * RESULT_FAILED, its error and the run's tail (br->run kept: run.cancelled
 * says a stop was asked for).  o notes how it was obtained (source), the
 * evaluations it made and the NAR bytes a substitution fetched.
 */
int	source_obtain(const struct source_request *c,
	    const struct build_request *rq, struct build_result *br,
	    struct outcome *o);

#endif
