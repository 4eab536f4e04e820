/*
 * activate.checks: each entry a command (a string split on blanks, or a
 * list of words) or a mapping {command, timeout}.  No shell is involved.
 */
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "config_int.h"

static const char *const check_keys[] = { "command", "timeout", NULL };

/* A command string split on blanks; no shell, no quoting. */
static int
argv_from_string(struct cparse *c, const char *name, const struct ynode *v,
    struct strvec *argv)
{
	const char *p = v->str;
	char *w;
	size_t n;

	if (ynode_is_null(v)) {
		cerr(c, v->start, "'%s' must be a command (a string, a list or "
		    "a mapping), not null", name);
		return -1;
	}
	if (!cparse_string_ok(c, name, v))
		return -1;
	while (*(p += strspn(p, " \t")) != '\0') {
		n = strcspn(p, " \t");
		if (argv->n == MAX_ARGV) {
			cerr(c, v->start, "'%s' has more than %d words", name,
			    MAX_ARGV);
			return -1;
		}
		w = xstrndup(p, n);
		strvec_push(argv, w);
		free(w);
		p += n;
	}
	if (argv->n == 0) {
		cerr(c, v->start, "'%s' is an empty command", name);
		return -1;
	}
	return 0;
}

static int
argv_from_list(struct cparse *c, const char *name, const struct ynode *v,
    struct strvec *argv)
{
	char word[128];

	if (v->n == 0 || v->n > MAX_ARGV) {
		cerr(c, v->start, "'%s' must have 1 to %d words, not %zu",
		    name, MAX_ARGV, v->n);
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *w = v->items[i];

		snprintf(word, sizeof(word), "%s[%zu]", name, i);
		if (w->type != YNODE_SCALAR || ynode_is_null(w)) {
			cparse_type_error(c, word, "a string", w);
			return -1;
		}
		if (!cparse_string_ok(c, word, w))
			return -1;
		strvec_push(argv, w->str);
	}
	return 0;
}

static int
check_command(struct cparse *c, const char *name, const struct ynode *v,
    struct health_check *hc)
{
	if (v->type == YNODE_SEQ)
		return argv_from_list(c, name, v, &hc->argv);
	if (v->type == YNODE_SCALAR)
		return argv_from_string(c, name, v, &hc->argv);
	cparse_type_error(c, name, "a string or a list", v);
	return -1;
}

/* One "command:"/"timeout:" pair of a health check mapping. */
static int
check_pair(struct cparse *c, const char *name, const struct ynode *kn,
    const struct ynode *vn, const struct ynode **seen,
    struct health_check *hc)
{
	const char *hint;
	char full[160], sh[128];
	int i;

	if (!cparse_key_ok(c, kn))
		return -1;
	for (i = 0; check_keys[i] != NULL; i++)
		if (strcmp(kn->str, check_keys[i]) == 0)
			break;
	if (check_keys[i] == NULL) {
		hint = config_suggest(kn->str, check_keys, 2);
		cerr(c, kn->start, "unknown key '%s' in '%s'%s%s%s",
		    shown(kn->str, kn->len, sh, sizeof(sh)), name,
		    hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
		return -1;
	}
	snprintf(full, sizeof(full), "%s.%s", name, check_keys[i]);
	if (seen[i] != NULL) {
		cerr(c, kn->start, "duplicate key '%s' (first at %u:%u)", full,
		    seen[i]->start.line, seen[i]->start.col);
		return -1;
	}
	seen[i] = kn;
	if (i == 0)
		return check_command(c, full, vn, hc);
	return cparse_duration(c, full, vn, true, &hc->timeout_ms);
}

static int
check_from_map(struct cparse *c, const char *name, const struct ynode *v,
    struct health_check *hc)
{
	const struct ynode *seen[2] = { NULL, NULL };
	int r = 0;

	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (check_pair(c, name, v->items[i], v->items[i + 1], seen,
		    hc) == -1)
			r = -1;
	if (r == 0 && seen[0] == NULL) {
		cerr(c, v->start, "missing required key '%s.command'", name);
		r = -1;
	}
	return r;
}

static int
check_parse(struct cparse *c, const char *full, size_t i,
    const struct ynode *v, struct health_check *hc)
{
	char name[128];

	snprintf(name, sizeof(name), "%s[%zu]", full, i);
	if (v->type == YNODE_MAP)
		return check_from_map(c, name, v, hc);
	return check_command(c, name, v, hc);
}

/* timeout_ms stays 0 until the walk is over: see checks_finish(). */
void
config_set_checks(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	struct config *cfg = c->cfg;
	struct health_check hc;

	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SEQ) {
		cparse_type_error(c, full, "a list", v);
		return;
	}
	if (v->n > MAX_HEALTH_CHECKS) {
		cerr(c, v->start, "'%s' has %zu checks, at most %d", full, v->n,
		    MAX_HEALTH_CHECKS);
		return;
	}
	cfg->activate.checks = xcalloc(v->n, sizeof(*cfg->activate.checks));
	for (size_t i = 0; i < v->n; i++) {
		memset(&hc, 0, sizeof(hc));
		if (check_parse(c, full, i, v->items[i], &hc) == 0)
			cfg->activate.checks[cfg->activate.nchecks++] = hc;
		else
			strvec_clear(&hc.argv);
	}
}
