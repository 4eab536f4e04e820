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

#include "build.h"

struct cycle;

/* 0 with br->store_path, or -1 with c->err (br->run kept). */
int	source_obtain(struct cycle *c, const struct build_request *rq,
	    struct build_result *br);

#endif
