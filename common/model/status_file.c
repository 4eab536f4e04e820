/*
 * The agent's copy of the status document: <state_dir>/status.json, written
 * atomically, and <state_dir>/history/, one document per finished attempt,
 * pruned to the newest MAX_STATUS_HISTORY.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "fsutil.h"
#include "status.h"

/* st as a document into path, replaced atomically. */
static int
doc_write(const char *path, const struct status *st, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	int r = -1;

	if (status_to_json(st, &b, e) == -1)
		goto out;
	if (fs_write_atomic(path, b.data, b.len, 0644, e) == -1)
		goto out;
	r = 0;
 out:
	buf_release(&b);
	return r;
}

/* The document at path into st (initialised here); errors name path. */
static int
doc_read(const char *path, struct status *st, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	int r = -1;

	status_init(st);
	if (fs_read_file(path, MAX_STATUS_SIZE, &b, e) == -1)
		goto out;
	if (status_from_json(b.data ? b.data : "", b.len, st, e) == -1) {
		err_prefix(e, "%s", path);
		goto out;
	}
	r = 0;
 out:
	buf_release(&b);
	return r;
}

int
status_save(const char *state_dir, const struct status *st, struct err *e)
{
	char *path = xasprintf("%s/%s", state_dir, STATUS_FILE);
	int r;

	r = doc_write(path, st, e);
	free(path);
	return r;
}

int
status_load(const char *state_dir, struct status *st, struct err *e)
{
	char *path = xasprintf("%s/%s", state_dir, STATUS_FILE);
	int r;

	if (access(path, F_OK) == -1 && errno == ENOENT) {
		status_init(st);
		err_set(e, "no status yet in '%s'", state_dir);
		r = STATUS_NOT_FOUND;
	} else
		r = doc_read(path, st, e);
	free(path);
	return r;
}

/* History entries: "YYYYMMDDTHHMMSSZ-<rev12>[_NN].json". */
static bool
is_history_name(const char *name)
{
	size_t n = strlen(name);

	return n > 22 && name[0] >= '0' && name[0] <= '9' &&
	    name[8] == 'T' && name[16] == '-' &&
	    strcmp(name + n - 5, ".json") == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
history_prune(const char *dir, size_t keep, struct err *e)
{
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return err_errno(e, "opendir '%s'", dir);
	while ((de = readdir(d)) != NULL)
		if (is_history_name(de->d_name))
			strvec_push(&names, de->d_name);
	closedir(d);
	if (names.n > keep)
		qsort(names.v, names.n, sizeof(char *), cmp_names);
	for (size_t i = 0; names.n > keep && i < names.n - keep; i++) {
		char *p = xasprintf("%s/%s", dir, names.v[i]);

		if (unlink(p) == -1 && errno != ENOENT)
			r = err_errno(e, "unlink '%s'", p);
		free(p);
	}
	strvec_clear(&names);
	return r;
}

/* "YYYYMMDDTHHMMSSZ-<rev12>" for st's attempt into out. */
static int
history_stem(const struct status *st, char *out, size_t outlen,
    struct err *e)
{
	char rev[13] = "none";
	time_t t = st->last_attempt.started_at ? st->last_attempt.started_at :
	    st->updated_at;
	struct tm tm;
	char ts[20];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return err_set(e, "status history: bad attempt time");
	if (st->last_attempt.rev != NULL) {
		size_t i;

		for (i = 0; i < 12 && st->last_attempt.rev[i] != '\0'; i++) {
			char c = st->last_attempt.rev[i];

			rev[i] = (c >= '0' && c <= '9') || (c >= 'a' &&
			    c <= 'f') ? c : '_';
		}
		rev[i] = '\0';
	}
	snprintf(out, outlen, "%s-%s", ts, rev);
	return 0;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
attempt_equal(const struct status_attempt *a, const struct status_attempt *b)
{
	return str_eq(a->rev, b->rev) && a->result == b->result &&
	    a->phase == b->phase && str_eq(a->error, b->error) &&
	    str_eq(a->log_tail, b->log_tail) &&
	    a->started_at == b->started_at &&
	    memcmp(a->durations_ms, b->durations_ms,
	    sizeof(a->durations_ms)) == 0 &&
	    a->fetch_bytes == b->fetch_bytes && a->max_jobs == b->max_jobs &&
	    a->cores == b->cores;
}

/* Whether the entry at path records the same attempt as st. */
static bool
history_same_attempt(const char *path, const struct status *st)
{
	struct status old;
	struct err e;
	bool same;

	if (doc_read(path, &old, &e) == -1)
		return false;
	same = attempt_equal(&old.last_attempt, &st->last_attempt);
	status_release(&old);
	return same;
}

_Static_assert(MAX_STATUS_HISTORY <= 99, "history sequence is two digits");

static char *
history_name(const char *dir, const char *stem, int seq)
{
	if (seq == 1)
		return xasprintf("%s/%s.json", dir, stem);
	return xasprintf("%s/%s_%02d.json", dir, stem, seq);
}

/*
 * The entry for st's attempt: the one that already records it, else the
 * one after the newest of its second and revision: <stem>.json first, then
 * <stem>_02.json, <stem>_03.json ...  Names sort by age.
 */
static int
history_path(const char *dir, const struct status *st, char **out,
    struct err *e)
{
	char stem[64], *p;
	int last = 0;

	if (history_stem(st, stem, sizeof(stem), e) == -1)
		return -1;
	for (int seq = 1; seq <= MAX_STATUS_HISTORY; seq++) {
		p = history_name(dir, stem, seq);
		if (access(p, F_OK) == 0) {
			if (history_same_attempt(p, st)) {
				*out = p;
				return 0;
			}
			last = seq;
		}
		free(p);
	}
	if (last == MAX_STATUS_HISTORY)
		return err_set(e, "status history: more than %d attempts "
		    "named '%s' in '%s'", MAX_STATUS_HISTORY, stem, dir);
	*out = history_name(dir, stem, last + 1);
	return 0;
}

int
status_history_add(const char *state_dir, const struct status *st,
    struct err *e)
{
	char *dir = xasprintf("%s/%s", state_dir, STATUS_HISTORY_DIR);
	char *path = NULL;
	int r = -1;

	if (fs_mkdir_p(dir, 0755, e) == -1 ||
	    history_path(dir, st, &path, e) == -1 ||
	    doc_write(path, st, e) == -1 ||
	    history_prune(dir, MAX_STATUS_HISTORY, e) == -1)
		goto out;
	r = 0;
 out:
	free(dir);
	free(path);
	return r;
}
