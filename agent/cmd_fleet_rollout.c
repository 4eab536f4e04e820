/*
 * nixpull fleet: the staged rollout of the newest release, wave by wave
 * (fleet.h).  Everything comes from the hosts' status documents, which are
 * untrusted: names and reasons are cleaned, and at most MAX_ROLLOUT_WAVES
 * waves are shown (hosts in others are counted).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "fleet.h"
#include "timeutil.h"

#define FLEET_WAVE_NAMES	10	/* hosts named per wave and kind */
#define FLEET_REASON_MAX	200	/* of a halt, in the table */

enum wave_kind { W_DEPLOYED, W_PENDING, W_FAILED, W_HALTED, W__COUNT };

static const char *const kind_name[W__COUNT] = {
	"deployed", "pending", "failed", "halted",
};

struct wave_view {
	char		*name;		/* cleaned */
	time_t		 due_at;	/* the earliest any host reported */
	struct strvec	 hosts[W__COUNT];
};

struct fleet_waves {
	char		*release;	/* cleaned */
	time_t		 released_at;
	char		*halted_by;	/* the first host's reason, cleaned */
	struct wave_view *w;
	size_t		 n;
	size_t		 other;		/* hosts in waves past the cap */
};

/* Is a before b: the later release time, then the greater rev. */
static bool
newer(const struct status *a, const struct status *b)
{
	if (a->rollout.released_at != b->rollout.released_at)
		return a->rollout.released_at > b->rollout.released_at;
	return strcmp(a->rollout.release, b->rollout.release) > 0;
}

static enum wave_kind
kind_of(const struct status *st, const char *rev)
{
	const struct status_attempt *la = &st->last_attempt;

	if (st->deployed.rev != NULL && strcmp(st->deployed.rev, rev) == 0)
		return W_DEPLOYED;
	if (la->rev != NULL && strcmp(la->rev, rev) == 0 &&
	    (la->result == RESULT_FAILED || la->result == RESULT_ROLLED_BACK))
		return W_FAILED;
	if (st->rollout.halted_by != NULL)
		return W_HALTED;
	return W_PENDING;
}

static struct wave_view *
wave_get(struct fleet_waves *fw, const char *name, time_t due)
{
	struct wave_view *w;
	char *c = fleet_clean(name, MAX_ROLLOUT_NAME);

	for (size_t i = 0; i < fw->n; i++)
		if (strcmp(fw->w[i].name, c) == 0) {
			free(c);
			w = &fw->w[i];
			if (due < w->due_at)
				w->due_at = due;
			return w;
		}
	if (fw->n == MAX_ROLLOUT_WAVES) {
		free(c);
		return NULL;
	}
	w = &fw->w[fw->n++];
	memset(w, 0, sizeof(*w));
	w->name = c;
	w->due_at = due;
	return w;
}

static void
host_add(struct fleet_waves *fw, const struct status *st)
{
	struct wave_view *w;

	if ((w = wave_get(fw, st->rollout.wave ? st->rollout.wave : "?",
	    st->rollout.due_at)) == NULL) {
		fw->other++;
		return;
	}
	strvec_push(&w->hosts[kind_of(st, st->rollout.release)], st->host);
	if (st->rollout.halted_by != NULL && fw->halted_by == NULL)
		fw->halted_by = fleet_clean(st->rollout.halted_by,
		    FLEET_REASON_MAX);
}

static int
cmp_status(const void *a, const void *b)
{
	const struct status *const *x = a, *const *y = b;

	return strcmp((*x)->host, (*y)->host);
}

static int
cmp_wave(const void *a, const void *b)
{
	const struct wave_view *x = a, *y = b;

	if (x->due_at != y->due_at)
		return x->due_at < y->due_at ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct fleet_waves *
fleet_waves_new(const struct status *const *v, size_t n)
{
	const struct status **s = xcalloc(n ? n : 1, sizeof(*s));
	const struct status *best = NULL;
	struct fleet_waves *fw;

	for (size_t i = 0; i < n; i++) {
		s[i] = v[i];
		if (v[i]->rollout.release != NULL &&
		    (best == NULL || newer(v[i], best)))
			best = v[i];
	}
	if (best == NULL) {
		free(s);
		return NULL;
	}
	qsort(s, n, sizeof(*s), cmp_status);
	fw = xcalloc(1, sizeof(*fw));
	fw->release = fleet_clean(best->rollout.release, 64);
	fw->released_at = best->rollout.released_at;
	fw->w = xcalloc(MAX_ROLLOUT_WAVES, sizeof(*fw->w));
	for (size_t i = 0; i < n; i++)
		if (s[i]->rollout.release != NULL &&
		    strcmp(s[i]->rollout.release, best->rollout.release) == 0)
			host_add(fw, s[i]);
	qsort(fw->w, fw->n, sizeof(*fw->w), cmp_wave);
	free(s);
	return fw;
}

void
fleet_waves_free(struct fleet_waves *fw)
{
	if (fw == NULL)
		return;
	for (size_t i = 0; i < fw->n; i++) {
		free(fw->w[i].name);
		for (int k = 0; k < W__COUNT; k++)
			strvec_clear(&fw->w[i].hosts[k]);
	}
	free(fw->w);
	free(fw->release);
	free(fw->halted_by);
	free(fw);
}

/* "2026-12-03T14:00Z", or "-" when unknown. */
static void
minute(time_t t, char *out, size_t outsz)
{
	char full[TIME_RFC3339_LEN];

	if (t == 0 || time_format_rfc3339(t, full, sizeof(full)) == -1)
		snprintf(out, outsz, "-");
	else
		snprintf(out, outsz, "%.16sZ", full);
}

/* "; failed: lab-1, lab-2" with at most FLEET_WAVE_NAMES names. */
static void
print_kind(FILE *fp, const struct strvec *hosts, int k, bool *first)
{
	size_t n = hosts->n;

	if (n == 0)
		return;
	fprintf(fp, "%s%s: ", *first ? "" : "; ", kind_name[k]);
	for (size_t i = 0; i < n && i < FLEET_WAVE_NAMES; i++)
		fprintf(fp, "%s%s", i ? ", " : "", hosts->v[i]);
	if (n > FLEET_WAVE_NAMES)
		fprintf(fp, " and %zu more", n - FLEET_WAVE_NAMES);
	*first = false;
}

void
fleet_waves_print(const struct fleet_waves *fw, FILE *fp)
{
	char when[32];
	int width = 0;

	minute(fw->released_at, when, sizeof(when));
	fprintf(fp, "rollout of %.12s, released %s%s%s\n", fw->release, when,
	    fw->halted_by ? ": " : "", fw->halted_by ? fw->halted_by : "");
	for (size_t i = 0; i < fw->n; i++)
		if ((int)strlen(fw->w[i].name) > width)
			width = (int)strlen(fw->w[i].name);
	for (size_t i = 0; i < fw->n; i++) {
		const struct wave_view *w = &fw->w[i];
		bool first = true;

		minute(w->due_at, when, sizeof(when));
		fprintf(fp, "  %-*s  due %s  ", width, w->name, when);
		for (int k = 0; k < W__COUNT; k++)
			print_kind(fp, &w->hosts[k], k, &first);
		fputc('\n', fp);
	}
	if (fw->other > 0)
		fprintf(fp, "  %zu hosts in waves past the first %d\n",
		    fw->other, MAX_ROLLOUT_WAVES);
}

static json_t *
json_time(time_t t)
{
	char s[TIME_RFC3339_LEN];

	if (t == 0 || time_format_rfc3339(t, s, sizeof(s)) == -1)
		return json_null();
	return json_string(s);
}

static json_t *
json_names(const struct strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

json_t *
fleet_waves_json(const struct fleet_waves *fw)
{
	json_t *o = json_object(), *waves = json_array();

	json_object_set_new(o, "release", json_string(fw->release));
	json_object_set_new(o, "released_at", json_time(fw->released_at));
	json_object_set_new(o, "halted_by", fw->halted_by ?
	    json_string(fw->halted_by) : json_null());
	for (size_t i = 0; i < fw->n; i++) {
		json_t *w = json_object();

		json_object_set_new(w, "name", json_string(fw->w[i].name));
		json_object_set_new(w, "due_at", json_time(fw->w[i].due_at));
		for (int k = 0; k < W__COUNT; k++)
			json_object_set_new(w, kind_name[k],
			    json_names(&fw->w[i].hosts[k]));
		json_array_append_new(waves, w);
	}
	json_object_set_new(o, "waves", waves);
	json_object_set_new(o, "other_hosts", json_integer((json_int_t)
	    fw->other));
	return o;
}
