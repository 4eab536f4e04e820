/*
 * The comparison is the one of nixpkgs' pre-switch check
 * (nixos/modules/system/activation/switchable-system.nix,
 * preSwitchChecks.switchInhibitors; comin's computeOperation is the same):
 * for every key of the running system's object that the new one has too,
 * the values differ.  A missing file counts as {}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "activate.h"
#include "buf.h"
#include "caps.h"
#include "config.h"
#include "fsutil.h"
#include "inhibitors.h"
#include "log.h"
#include "state.h"

#define INHIBITORS_FILE	"switch-inhibitors"

/* system/switch-inhibitors as an object (*out NULL when there is none);
 * -1 when it cannot be read or is not a JSON object. */
static int
load(const char *system, json_t **out, struct err *e)
{
	char *path = xasprintf("%s/%s", system, INHIBITORS_FILE);
	struct buf b;
	json_error_t je;
	int r = -1;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		r = 0;
		goto out;
	}
	if (fs_read_file(path, MAX_SWITCH_INHIBITORS, &b, e) == -1)
		goto out;
	*out = json_loadb(b.data ? b.data : "", b.len, 0, &je);
	if (*out == NULL) {
		err_set(e, "%s:%d:%d: not JSON: %s", path, je.line, je.column,
		    je.text);
		goto out;
	}
	if (!json_is_object(*out)) {
		err_set(e, "%s: not a JSON object", path);
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
 out:
	buf_release(&b);
	free(path);
	return r;
}

/* A value as jq's join prints it: a string as it is, else its JSON. */
static char *
text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int
switch_inhibited(const char *current, const char *next, char **why,
    struct err *e)
{
	json_t *old = NULL, *new = NULL, *v;
	struct buf w = BUF_INIT(MAX_SWITCH_INHIBITORS);
	const char *key;
	char *a, *b;
	int r = -1;

	*why = NULL;
	if (load(current, &old, e) == -1 || load(next, &new, e) == -1)
		goto out;
	r = 0;
	json_object_foreach(old, key, v) {
		json_t *nv = json_object_get(new, key);

		if (nv == NULL || json_equal(v, nv))
			continue;
		a = text(v);
		b = text(nv);
		buf_addf(&w, "%s%s: %s -> %s", r ? ", " : "", key,
		    a ? a : "?", b ? b : "?");
		free(a);
		free(b);
		r = 1;
	}
	if (r == 1)
		*why = xstrdup(buf_str(&w));
 out:
	json_decref(old);
	json_decref(new);
	buf_release(&w);
	return r;
}

bool
switch_inhibitors_refused(const char *output)
{
	return output != NULL && strstr(output,
	    "Pre-switch check 'switchInhibitors' failed") != NULL;
}

/* NixOS, a mode switch-to-configuration checks, a system to check. */
static bool
checked(const struct activate_request *rq, enum activate_mode mode)
{
	const char *nocheck = getenv("NIXOS_NO_CHECK");

	return rq->cfg->activate.mode == mode && rq->os != NULL &&
	    strcmp(rq->os, "darwin") != 0 && rq->store_path != NULL &&
	    rq->method != ACTIVATE_FLAKE &&
	    (nocheck == NULL || strcmp(nocheck, "1") != 0);
}

char *
inhibitors_before(const struct activate_request *rq)
{
	struct err e;
	char *why, *note;
	int r;

	if (!checked(rq, MODE_SWITCH) && !checked(rq, MODE_TEST))
		return NULL;
	r = switch_inhibited(rq->cfg->activate.current_system,
	    rq->store_path, &why, &e);
	if (r == -1)
		log_warnx("switch inhibitors: %s (switch-to-configuration "
		    "decides)", e.msg);
	if (r != 1)
		return NULL;
	note = xasprintf("switch to %.12s inhibited by its switch "
	    "inhibitors (%s)", rq->rev ? rq->rev : "?", why);
	free(why);
	return note;
}

char *
inhibitors_refused(const struct activate_request *rq,
    const struct spawn_result *res, const char *prev)
{
	char *cur;
	bool still;

	if (!checked(rq, MODE_SWITCH) || res->timed_out ||
	    !switch_inhibitors_refused(res->tail))
		return NULL;
	cur = state_resolve_system(rq->cfg->activate.current_system);
	still = (cur == NULL && prev == NULL) ||
	    (cur != NULL && prev != NULL && strcmp(cur, prev) == 0);
	free(cur);
	if (!still)
		return NULL;
	return xasprintf("switch to %.12s refused by switch-to-configuration "
	    "(Pre-switch check 'switchInhibitors' failed)",
	    rq->rev ? rq->rev : "?");
}
