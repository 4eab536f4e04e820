/*
 * Step 1: poll the tracked ref, fetch it when it moved.  See fetch.h.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"
#include "git.h"
#include "log.h"
#include "fetch.h"

static char *
tip_path(const struct config *cfg)
{
	return xasprintf("%s/tip", cfg->state_dir);
}

char *
poll_mirror_path(const struct config *cfg)
{
	return xasprintf("%s/mirror.git", cfg->state_dir);
}

void
poll_last(const struct config *cfg, char last[REV_HEX])
{
	struct buf b = BUF_INIT(64);
	struct err e;
	char *path = tip_path(cfg);
	size_t n;

	last[0] = '\0';
	if (fs_read_file(path, 64, &b, &e) == 0) {
		n = b.len;
		while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r'))
			n--;
		if (rev_valid(buf_str(&b), n)) {
			memcpy(last, b.data, n);
			last[n] = '\0';
		} else
			log_warnx("%s: not an object id, ignored", path);
	}
	buf_release(&b);
	free(path);
}

int
poll_record(const struct config *cfg, const char *tip, struct err *e)
{
	char line[REV_HEX + 1], *path = NULL;
	int r = -1;

	if (!rev_valid(tip, strlen(tip)))
		return err_set(e, "poll_record: '%s' is not an object id", tip);
	if (fs_mkdir_p(cfg->state_dir, 0700, e) == -1)
		return -1;
	snprintf(line, sizeof(line), "%s\n", tip);
	path = tip_path(cfg);
	r = fs_write_atomic(path, line, strlen(line), 0644, e);
	free(path);
	return r;
}

void
poll_remote(const struct config *cfg, const struct gitx_preload *pre,
    struct gitx_remote *rm)
{
	memset(rm, 0, sizeof(*rm));
	rm->url = cfg->repo.url;
	rm->ref = cfg->repo.ref;
	rm->ssh_key = cfg->repo.ssh_key;
	rm->token_file = cfg->repo.token_file;
	rm->ca_file = cfg->repo.ca_file;
	rm->known_hosts = cfg->repo.known_hosts;
	rm->max_fetch_size = cfg->repo.max_fetch_size;
	rm->connect_timeout_ms = cfg->repo.connect_timeout_ms;
	rm->timeout_ms = cfg->repo.timeout_ms;
	rm->pre = pre;
}

int
poll_run(const struct config *cfg, struct poll_result *r, struct err *e)
{
	char last[REV_HEX];

	poll_last(cfg, last);
	return poll_run_hook(cfg, NULL, last, NULL, NULL, r, e);
}

int
poll_run_hook(const struct config *cfg, const struct gitx_preload *pre,
    const char *last, void (*before_fetch)(void *, const char *),
    void *arg, struct poll_result *r, struct err *e)
{
	struct gitx_stats ls, fe;
	struct gitx_remote rm;
	char *mirror = NULL, fetched[REV_HEX];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&fe, 0, sizeof(fe));
	poll_remote(cfg, pre, &rm);
	if (gitx_init(&rm, e) == -1)
		return -1;
	snprintf(r->last, sizeof(r->last), "%s", last ? last : "");
	rc = gitx_ls_tip(&rm, r->tip, &ls, e);
	r->poll_ms = ls.duration_ms;
	r->bytes_received = ls.bytes_received;
	r->timed_out = ls.timed_out;
	r->too_big = ls.too_big;
	if (rc == -1 || strcmp(r->tip, r->last) == 0)
		goto out;
	rc = -1;
	mirror = poll_mirror_path(cfg);
	if (before_fetch)
		before_fetch(arg, r->tip);
	rc = gitx_fetch(&rm, mirror, fetched, &fe, e);
	r->fetch_ms = fe.duration_ms ? fe.duration_ms : 1;
	r->bytes_received += fe.bytes_received;
	r->timed_out = fe.timed_out;
	r->too_big = fe.too_big;
	if (rc == 0) {
		memcpy(r->tip, fetched, sizeof(fetched));
		r->changed = strcmp(r->tip, r->last) != 0;
		log_info("fetched '%s' from '%s': %s", cfg->repo.ref ?
		    cfg->repo.ref : "main", cfg->repo.url, r->tip);
	}
 out:
	r->duration_ms = r->poll_ms + r->fetch_ms;
	free(mirror);
	return rc;
}
