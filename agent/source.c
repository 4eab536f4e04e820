/* The system of the selected revision: substituted or built (source.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "manifest.h"
#include "select.h"
#include "source.h"
#include "substitute.h"

/* The manifest of the release, parsed into m: 0, or -1 with e. */
static int
manifest_load(const struct source_request *c, struct manifest *m,
    struct err *e)
{
	const struct release_info *ri = &c->sel->release;
	const char *name = c->cfg->build.manifest;

	memset(m, 0, sizeof(*m));
	switch (ri->manifest) {
	case PLAN_NONE:
		return 0;
	case PLAN_TOO_BIG:
		return err_set(e, "%s: larger than %d bytes in %.12s", name,
		    MAX_MANIFEST_SIZE, c->sel->rev);
	case PLAN_NOT_FILE:
		return err_set(e, "%s: not a file in %.12s", name, c->sel->rev);
	case PLAN_PRESENT:
		break;
	}
	return manifest_parse(m, name, ri->manifest_text, ri->manifest_len,
	    e);
}

/* An evaluation and a build of the flake, noted in the outcome. */
static int
build(const struct source_request *c, const struct build_request *rq,
    struct build_result *br, struct outcome *o, struct err *e)
{
	o->source = "built";
	o->evaluations++;
	return build_run(rq, br, e);
}

static int
substitute(const struct source_request *c,
    const struct manifest_system *sys, struct build_result *br,
    struct err *e)
{
	struct substitute_request sq;

	memset(&sq, 0, sizeof(sq));
	sq.sys = sys;
	sq.substituters = c->cfg->build.substituters;
	sq.trusted_keys = c->cfg->build.trusted_public_keys;
	sq.rev = c->sel->rev;
	sq.state_dir = c->cfg->state_dir;
	sq.timeout_ms = c->cfg->build.timeout_ms;
	sq.cancel = c->cancel;
	return substitute_run(&sq, br, e);
}

/* build.verify_manifest: eval: the configuration must evaluate to the
 * path the manifest names, else the manifest is refused (no fallback). */
static int
verify(const struct source_request *c, const struct build_request *rq,
    const struct manifest_system *sys, struct outcome *o, struct err *e)
{
	char *path;
	int r;

	if (c->cfg->build.verify_manifest != VERIFY_EVAL)
		return 0;
	o->evaluations++;
	if (build_eval(rq, &path, e) == -1)
		return -1;
	r = strcmp(path, sys->path) == 0 ? 0 : err_set(e,
	    "build.verify_manifest: %.12s's %s names %s for '%s', but the "
	    "configuration evaluates to %s; refused", c->sel->rev,
	    c->cfg->build.manifest, sys->path, c->cfg->host, path);
	free(path);
	return r;
}

/* A substitution that failed: build instead, or not. */
static int
fall_back(const struct source_request *c, const struct build_request *rq,
    struct build_result *br, int r, struct outcome *o, struct err *e)
{
	if (r == SUBSTITUTE_MISMATCH || br->run.cancelled ||
	    c->cfg->build.source != SOURCE_AUTO ||
	    c->cfg->build.fallback != FALLBACK_BUILD)
		return -1;
	log_warnx("%s; building %.12s instead (build.fallback: build)",
	    e->msg, c->sel->rev);
	build_result_release(br);
	return build(c, rq, br, o, e);
}

static int
obtain(const struct source_request *c, const struct build_request *rq,
    struct build_result *br, struct outcome *o, struct err *e)
{
	const struct manifest_system *sys = NULL;
	struct manifest m;
	int r;

	if (c->cfg->build.source == SOURCE_BUILD)
		return build(c, rq, br, o, e);
	if (manifest_load(c, &m, e) == -1)
		return -1;
	if ((sys = manifest_find(&m, c->cfg->host)) == NULL) {
		manifest_release(&m);
		if (c->cfg->build.source == SOURCE_SUBSTITUTE)
			return err_set(e, "build.source is substitute, "
			    "but %.12s's %s names no system for '%s'",
			    c->sel->rev, c->cfg->build.manifest, c->cfg->host);
		return build(c, rq, br, o, e);
	}
	o->source = "substituted";
	if (verify(c, rq, sys, o, e) == -1) {
		manifest_release(&m);
		return -1;
	}
	r = substitute(c, sys, br, e);
	if (r == 0) {
		log_info("substituted %s for %.12s (no evaluation)", sys->path,
		    c->sel->rev);
		o->substituted_bytes = br->substituted_bytes;
	}
	else
		r = fall_back(c, rq, br, r, o, e);
	manifest_release(&m);
	return r;
}

int
source_obtain(const struct source_request *c, const struct build_request *rq,
    struct build_result *br, struct outcome *o)
{
	struct err e;

	memset(br, 0, sizeof(*br));
	if (obtain(c, rq, br, o, &e) == 0)
		return 0;
	return outcome_set(o, RESULT_FAILED, br->run.tail, "%s", e.msg);
}
