/*
 * reboot.windows: a list of weekly maintenance windows, each a mapping
 *   { days: Mon-Fri | [Sat, Sun], start: "02:00", length: 2h }
 * (reboot_window.h says what they mean), and the reboot defaults that
 * depend on other keys.
 */
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "duration.h"
#include "reboot_window.h"

static const char *const window_keys[] = { "days", "start", "length",
	NULL };

static int
window_days(struct cparse *c, const char *full, const struct ynode *v,
    unsigned *days)
{
	const char *why;
	unsigned d;
	char item[160], sh[128];

	if (v->type == YNODE_SCALAR && !ynode_is_null(v)) {
		if (strlen(v->str) == v->len &&
		    reboot_days_parse(v->str, days, &why) == 0)
			return 0;
		if (strlen(v->str) != v->len)
			why = "NUL character";
		cerr(c, v->start, "invalid days '%s' for '%s': %s",
		    shown(v->str, v->len, sh, sizeof(sh)), full, why);
		return -1;
	}
	if (v->type != YNODE_SEQ || v->n == 0 || v->n > 7) {
		cparse_type_error(c, full, "days (Mon-Fri, or a list of 1 to 7 "
		    "days)", v);
		return -1;
	}
	*days = 0;
	for (size_t i = 0; i < v->n; i++) {
		snprintf(item, sizeof(item), "%s[%zu]", full, i);
		if (window_days(c, item, v->items[i], &d) == -1)
			return -1;
		*days |= d;
	}
	return 0;
}

static int
window_start(struct cparse *c, const char *full, const struct ynode *v,
    unsigned *min)
{
	const char *why = "NUL character";
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "a time (HH:MM)", v);
		return -1;
	}
	if (strlen(v->str) == v->len && reboot_hhmm_parse(v->str, min,
	    &why) == 0)
		return 0;
	cerr(c, v->start, "invalid time '%s' for '%s': %s",
	    shown(v->str, v->len, sh, sizeof(sh)), full, why);
	return -1;
}

static int
window_length(struct cparse *c, const char *full, const struct ynode *v,
    unsigned *min)
{
	uint64_t ms;
	char sh[128];

	if (cparse_duration(c, full, v, true, &ms) == -1)
		return -1;
	if (ms % 60000 != 0 || ms > (uint64_t)REBOOT_WEEK_MIN * 60000) {
		cerr(c, v->start, "invalid length '%s' for '%s': whole minutes, "
		    "at most 7d", shown(v->str, v->len, sh, sizeof(sh)), full);
		return -1;
	}
	*min = (unsigned)(ms / 60000);
	return 0;
}

/* One key of a window mapping; its index in window_keys, or -1. */
static int
window_key(struct cparse *c, const char *name, const struct ynode *kn,
    const struct ynode **seen)
{
	const char *hint;
	char sh[128];
	int i;

	if (!cparse_key_ok(c, kn))
		return -1;
	for (i = 0; window_keys[i] != NULL; i++)
		if (strcmp(kn->str, window_keys[i]) == 0)
			break;
	if (window_keys[i] == NULL) {
		hint = config_suggest(kn->str, window_keys, 3);
		cerr(c, kn->start, "unknown key '%s' in '%s'%s%s%s",
		    shown(kn->str, kn->len, sh, sizeof(sh)), name,
		    hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
		return -1;
	}
	if (seen[i] != NULL) {
		cerr(c, kn->start, "duplicate key '%s.%s' (first at %u:%u)",
		    name, window_keys[i], seen[i]->start.line,
		    seen[i]->start.col);
		return -1;
	}
	seen[i] = kn;
	return i;
}

static int
window_parse(struct cparse *c, const char *name, const struct ynode *v,
    struct reboot_window *w)
{
	const struct ynode *seen[3] = { NULL, NULL, NULL };
	char full[160];
	int i, r = 0;

	if (v->type != YNODE_MAP) {
		cparse_type_error(c, name, "a mapping with days, start and "
		    "length", v);
		return -1;
	}
	for (size_t j = 0; j + 1 < v->n; j += 2) {
		if ((i = window_key(c, name, v->items[j], seen)) == -1) {
			r = -1;
			continue;
		}
		snprintf(full, sizeof(full), "%s.%s", name, window_keys[i]);
		if ((i == 0 && window_days(c, full, v->items[j + 1],
		    &w->days) == -1) ||
		    (i == 1 && window_start(c, full, v->items[j + 1],
		    &w->start_min) == -1) ||
		    (i == 2 && window_length(c, full, v->items[j + 1],
		    &w->length_min) == -1))
			r = -1;
	}
	for (i = 0; r == 0 && i < 3; i++) {
		if (seen[i] == NULL) {
			cerr(c, v->start, "missing required key '%s.%s'", name,
			    window_keys[i]);
			r = -1;
		}
	}
	return r;
}

void
config_set_windows(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	struct config *cfg = c->cfg;
	struct reboot_window w;
	char name[128];

	(void)k;
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SEQ) {
		cparse_type_error(c, full, "a list", v);
		return;
	}
	if (v->n > MAX_REBOOT_WINDOWS) {
		cerr(c, v->start, "'%s' has %zu windows, at most %d", full,
		    v->n, MAX_REBOOT_WINDOWS);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		memset(&w, 0, sizeof(w));
		snprintf(name, sizeof(name), "%s[%zu]", full, i);
		if (window_parse(c, name, v->items[i], &w) == 0)
			cfg->reboot.windows[cfg->reboot.nwindows++] = w;
	}
}

void
config_reboot_finish(struct cparse *c)
{
	if (c->seen[config_key_index("reboot", "users")] == NULL)
		c->cfg->reboot.users = c->cfg->build.profile ==
		    PROFILE_SERVER ? USERS_IGNORE : USERS_WAIT;
}

void
config_print_windows(FILE *fp, const struct config *cfg)
{
	const struct reboot_window *w;
	char days[64], len[64];

	if (cfg->reboot.nwindows == 0) {
		fputs(" []\n", fp);
		return;
	}
	fputc('\n', fp);
	for (size_t i = 0; i < cfg->reboot.nwindows; i++) {
		w = &cfg->reboot.windows[i];
		reboot_days_format(w->days, days, sizeof(days));
		duration_format((uint64_t)w->length_min * 60000, len,
		    sizeof(len));
		fprintf(fp, "    - days: \"%s\"\n      start: \"%02u:%02u\"\n"
		    "      length: %s\n", days, w->start_min / 60,
		    w->start_min % 60, len);
	}
}
