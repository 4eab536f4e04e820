/*
 * The rollout plan (rollout.h): parsed strictly from the YAML tree that
 * yamldoc.c builds, and the pure decisions on it: which wave a host is in
 * and when that wave starts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "caps.h"
#include "duration.h"
#include "rollout.h"
#include "yamldoc.h"

struct pctx {
	const char	*name;
	struct err	*e;
};

static int
at(const struct pctx *c, const struct ynode *n, const char *what,
    const char *subject)
{
	return err_set(c->e, "%s:%u:%u: %s '%s'", c->name, n->start.line,
	    n->start.col, what, subject);
}

/* A scalar holding a string without NULs or control characters. */
static bool
scalar_ok(const struct ynode *v)
{
	if (v->type != YNODE_SCALAR || ynode_is_null(v) || v->len == 0 ||
	    strlen(v->str) != v->len)
		return false;
	for (size_t i = 0; i < v->len; i++)
		if (iscntrl((unsigned char)v->str[i]))
			return false;
	return true;
}

static int
get_bool(const struct pctx *c, const struct ynode *k, const struct ynode *v,
    bool *out)
{
	if (v->type == YNODE_SCALAR && v->plain && strcmp(v->str, "true") == 0)
		*out = true;
	else if (v->type == YNODE_SCALAR && v->plain &&
	    strcmp(v->str, "false") == 0)
		*out = false;
	else
		return at(c, v, "expected true or false for", k->str);
	return 0;
}

/* A plain decimal integer in lo..hi. */
static int
get_uint(const struct pctx *c, const struct ynode *k, const struct ynode *v,
    unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long x;
	char *end;

	if (v->type != YNODE_SCALAR || !v->plain || v->len == 0 ||
	    v->len > 9 || strlen(v->str) != v->len ||
	    strspn(v->str, "0123456789") != v->len ||
	    (v->str[0] == '0' && v->len > 1))
		return at(c, v, "expected a decimal integer for", k->str);
	errno = 0;
	x = strtoul(v->str, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return err_set(c->e, "%s:%u:%u: '%s' must be from %u to %u",
		    c->name, v->start.line, v->start.col, k->str, lo, hi);
	*out = (unsigned)x;
	return 0;
}

static int
get_duration(const struct pctx *c, const struct ynode *k,
    const struct ynode *v, uint64_t *ms)
{
	const char *why = "not a string";

	if (!scalar_ok(v) || duration_parse(v->str, ms, &why) != 0)
		return err_set(c->e, "%s:%u:%u: '%s' is not a duration such "
		    "as 2h or 1d12h: %s", c->name, v->start.line,
		    v->start.col, k->str, why);
	if (*ms > MAX_DURATION_MS)
		return at(c, v, "duration too long in", k->str);
	return 0;
}

/* Host names and groups: letters, digits, '.', '-', '_'; globs add
 * '*' and '?'. */
static bool
name_ok(const char *s, bool glob)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_ROLLOUT_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".-_", *s) &&
		    !(glob && strchr("*?", *s)))
			return false;
	return true;
}

/* A list of names (a single string is a list of one). */
static int
get_names(const struct pctx *c, const struct ynode *k, const struct ynode *v,
    bool glob, char ***out, size_t *nout)
{
	const struct ynode *const *items = &v;
	size_t n = 1;

	if (v->type == YNODE_SEQ) {
		items = (const struct ynode *const *)v->items;
		n = v->n;
	}
	if (n == 0 || n > MAX_ROLLOUT_NAMES)
		return err_set(c->e, "%s:%u:%u: '%s' must list from 1 to %d "
		    "names", c->name, v->start.line, v->start.col, k->str,
		    MAX_ROLLOUT_NAMES);
	*out = xcalloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		if (!scalar_ok(items[i]) || !name_ok(items[i]->str, glob))
			return at(c, items[i], glob ? "expected a host name "
			    "or glob (letters, digits, '.-_*?') in" :
			    "expected a group name (letters, digits, '.-_') "
			    "in", k->str);
		(*out)[(*nout)++] = xstrdup(items[i]->str);
	}
	return 0;
}

enum { W_NAME, W_HOSTS, W_GROUPS, W_PERCENT, W_AFTER, W__COUNT };

static int
wave_key(const struct pctx *c, struct rollout_wave *w, const struct ynode *k,
    const struct ynode *v, unsigned *seen)
{
	static const char *const keys[W__COUNT] = { "name", "hosts",
		"groups", "percent", "after" };
	unsigned f;

	if (!scalar_ok(k))
		return at(c, k, "expected a key, not", ynode_kind(k));
	for (f = 0; f < W__COUNT && strcmp(k->str, keys[f]) != 0; f++)
		;
	if (f == W__COUNT)
		return at(c, k, "unknown key in a wave:", k->str);
	if (*seen & (1u << f))
		return at(c, k, "repeated key", k->str);
	*seen |= 1u << f;
	switch (f) {
	case W_NAME:
		if (!scalar_ok(v) || !name_ok(v->str, false))
			return at(c, v, "expected a wave name (letters, "
			    "digits, '.-_') for", k->str);
		free(w->name);
		w->name = xstrdup(v->str);
		return 0;
	case W_HOSTS:
		return get_names(c, k, v, true, &w->hosts, &w->nhosts);
	case W_GROUPS:
		return get_names(c, k, v, false, &w->groups, &w->ngroups);
	case W_PERCENT:
		return get_uint(c, k, v, 0, 100, &w->percent);
	default:
		return get_duration(c, k, v, &w->after_ms);
	}
}

static int
parse_wave(const struct pctx *c, struct rollout_plan *p,
    const struct ynode *v)
{
	struct rollout_wave *w = &p->waves[p->nwaves++];
	unsigned seen = 0;

	w->percent = 100;
	w->line = v->start.line;
	w->col = v->start.col;
	w->name = xasprintf("wave %zu", p->nwaves);
	if (v->type != YNODE_MAP)
		return at(c, v, "expected a mapping for a wave, not",
		    ynode_kind(v));
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (wave_key(c, w, v->items[i], v->items[i + 1], &seen) != 0)
			return -1;
	for (size_t i = 0; i + 1 < p->nwaves; i++)
		if (strcmp(p->waves[i].name, w->name) == 0)
			return err_set(c->e, "%s:%u:%u: wave name '%s' used "
			    "twice", c->name, w->line, w->col, w->name);
	if (p->nwaves > 1 && w->after_ms < p->waves[p->nwaves - 2].after_ms)
		return err_set(c->e, "%s:%u:%u: wave '%s' starts before the "
		    "wave above it", c->name, w->line, w->col, w->name);
	return 0;
}

static int
parse_waves(const struct pctx *c, struct rollout_plan *p,
    const struct ynode *k, const struct ynode *v)
{
	if (v->type != YNODE_SEQ)
		return at(c, v, "expected a list for", k->str);
	if (v->n == 0 || v->n > MAX_ROLLOUT_WAVES)
		return err_set(c->e, "%s:%u:%u: 'waves' must list from 1 to "
		    "%d waves", c->name, v->start.line, v->start.col,
		    MAX_ROLLOUT_WAVES);
	p->waves = xcalloc(v->n, sizeof(*p->waves));
	for (size_t i = 0; i < v->n; i++)
		if (parse_wave(c, p, v->items[i]) != 0)
			return -1;
	return 0;
}

static int
parse_halt(const struct pctx *c, struct rollout_plan *p,
    const struct ynode *k, const struct ynode *v)
{
	unsigned seen = 0, f;

	if (v->type != YNODE_MAP)
		return at(c, v, "expected a mapping for", k->str);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *hk = v->items[i], *hv = v->items[i + 1];

		if (!scalar_ok(hk))
			return at(c, hk, "expected a key, not", ynode_kind(hk));
		if (strcmp(hk->str, "failed") == 0)
			f = 0;
		else if (strcmp(hk->str, "require_status") == 0)
			f = 1;
		else
			return at(c, hk, "unknown key in 'halt':", hk->str);
		if (seen & (1u << f))
			return at(c, hk, "repeated key", hk->str);
		seen |= 1u << f;
		if ((f == 0 ? get_uint(c, hk, hv, 1, MAX_FLEET_FILES,
		    &p->halt_failed) : get_bool(c, hk, hv,
		    &p->require_status)) != 0)
			return -1;
	}
	return 0;
}

enum { P_WAVES, P_HALT, P_URGENT, P_SHUFFLE, P__COUNT };

static int
plan_key(const struct pctx *c, struct rollout_plan *p, const struct ynode *k,
    const struct ynode *v, unsigned *seen)
{
	static const char *const keys[P__COUNT] = { "waves", "halt", "urgent",
		"shuffle" };
	unsigned f;

	if (!scalar_ok(k))
		return at(c, k, "expected a key, not", ynode_kind(k));
	for (f = 0; f < P__COUNT && strcmp(k->str, keys[f]) != 0; f++)
		;
	if (f == P__COUNT)
		return at(c, k, "unknown key", k->str);
	if (*seen & (1u << f))
		return at(c, k, "repeated key", k->str);
	*seen |= 1u << f;
	switch (f) {
	case P_WAVES:
		return parse_waves(c, p, k, v);
	case P_HALT:
		return parse_halt(c, p, k, v);
	case P_URGENT:
		return get_bool(c, k, v, &p->urgent);
	default:
		return get_bool(c, k, v, &p->shuffle);
	}
}

static int
parse_doc(const struct pctx *c, struct rollout_plan *p, const struct ydoc *d)
{
	const struct ynode *root = d->root;
	unsigned seen = 0;

	if (root == NULL || root->type != YNODE_MAP)
		return err_set(c->e, "%s:%u:%u: expected a mapping with "
		    "'waves'", c->name, root ? root->start.line : 1,
		    root ? root->start.col : 1);
	for (size_t i = 0; i + 1 < root->n; i += 2)
		if (plan_key(c, p, root->items[i], root->items[i + 1],
		    &seen) != 0)
			return -1;
	if (!(seen & (1u << P_WAVES)))
		return err_set(c->e, "%s:%u:%u: missing key 'waves'", c->name,
		    root->start.line, root->start.col);
	return 0;
}

int
rollout_parse(struct rollout_plan *p, const char *name, const char *text,
    size_t len, struct err *e)
{
	struct strvec errs = STRVEC_INIT;
	struct pctx c = { name, e };
	struct ydoc doc;
	int r = -1;

	memset(p, 0, sizeof(*p));
	memset(&doc, 0, sizeof(doc));
	if (len > MAX_ROLLOUT_SIZE) {
		err_set(e, "%s: %zu bytes, more than %d", name, len,
		    MAX_ROLLOUT_SIZE);
		goto out;
	}
	if (ydoc_parse(&doc, name, text, len, &errs) != 0) {
		err_set(e, "%s", errs.n ? errs.v[0] : "cannot parse");
		goto out;
	}
	r = parse_doc(&c, p, &doc);
 out:
	ydoc_release(&doc);
	strvec_clear(&errs);
	if (r != 0)
		rollout_release(p);
	return r;
}

static void
names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
rollout_release(struct rollout_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nwaves; i++) {
		free(p->waves[i].name);
		names_free(p->waves[i].hosts, p->waves[i].nhosts);
		names_free(p->waves[i].groups, p->waves[i].ngroups);
	}
	free(p->waves);
	memset(p, 0, sizeof(*p));
}

/* ---- decisions --------------------------------------------------------- */

bool
rollout_glob(const char *g, const char *s)
{
	const char *star = NULL, *mark = NULL;

	/* Greedy with one back-up point: the last '*' seen. */
	while (*s) {
		if (*g == '?' || (*g != '*' && *g == *s)) {
			g++;
			s++;
		} else if (*g == '*') {
			star = g++;
			mark = s;
		} else if (star != NULL) {
			g = star + 1;
			s = ++mark;
		} else
			return false;
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

unsigned
rollout_bucket(const char *host, const char *wave, const char *rev)
{
	crypto_generichash_state st;
	unsigned char h[8];
	uint64_t x = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"nixpull-rollout",
	    sizeof("nixpull-rollout"));
	crypto_generichash_update(&st, (const unsigned char *)host,
	    strlen(host) + 1);
	crypto_generichash_update(&st, (const unsigned char *)wave,
	    strlen(wave) + 1);
	if (rev != NULL)
		crypto_generichash_update(&st, (const unsigned char *)rev,
		    strlen(rev) + 1);
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		x = x << 8 | h[i];
	return (unsigned)(x % ROLLOUT_HASH_BUCKETS);
}

static bool
wave_matches(const struct rollout_plan *p, const struct rollout_wave *w,
    const char *host, const char *group, const char *rev)
{
	bool listed = w->nhosts == 0 && w->ngroups == 0;

	for (size_t i = 0; !listed && i < w->nhosts; i++)
		listed = rollout_glob(w->hosts[i], host);
	for (size_t i = 0; !listed && group && i < w->ngroups; i++)
		listed = strcmp(w->groups[i], group) == 0;
	if (!listed)
		return false;
	if (w->percent >= 100)
		return true;
	return rollout_bucket(host, w->name, p->shuffle ? rev : NULL) <
	    w->percent * (ROLLOUT_HASH_BUCKETS / 100);
}

size_t
rollout_wave_of(const struct rollout_plan *p, const char *host,
    const char *group, const char *rev)
{
	size_t i;

	for (i = 0; i < p->nwaves; i++)
		if (wave_matches(p, &p->waves[i], host, group, rev))
			return i;
	return p->nwaves ? p->nwaves - 1 : 0;
}

time_t
rollout_due(const struct rollout_plan *p, size_t w, time_t release_time)
{
	uint64_t s;

	if (p->urgent || w >= p->nwaves)
		return release_time;
	s = p->waves[w].after_ms / 1000;
	return release_time + (time_t)s;
}

static void
describe_names(struct buf *b, const char *what, char **v, size_t n)
{
	if (n == 0)
		return;
	buf_addf(b, " %s", what);
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%s", i ? "," : " ", v[i]);
}

char *
rollout_describe(const struct rollout_plan *p)
{
	struct buf b = BUF_INIT(SIZE_MAX / 2);
	char d[32];
	size_t len;
	char *s;

	for (size_t i = 0; i < p->nwaves; i++) {
		const struct rollout_wave *w = &p->waves[i];

		duration_format(w->after_ms, d, sizeof(d));
		buf_addf(&b, "  wave %s: after %s", w->name, d);
		describe_names(&b, "hosts", w->hosts, w->nhosts);
		describe_names(&b, "groups", w->groups, w->ngroups);
		if (w->percent < 100)
			buf_addf(&b, " percent %u", w->percent);
		buf_addf(&b, "\n");
	}
	if (p->halt_failed)
		buf_addf(&b, "  halt: after %u failed host%s%s\n",
		    p->halt_failed, p->halt_failed == 1 ? "" : "s",
		    p->require_status ? "; the fleet's status is required" :
		    "");
	if (p->urgent)
		buf_addf(&b, "  urgent: every host at once\n");
	if (p->shuffle)
		buf_addf(&b, "  shuffle: percent picks other hosts each "
		    "release\n");
	if ((s = buf_detach(&b, &len)) == NULL)
		s = xstrdup("");
	return s;
}
