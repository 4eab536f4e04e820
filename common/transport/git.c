/*
 * libgit2 glue: poll one ref, fetch it into a bare mirror, within limits.
 *
 * Time-outs and the size cap are enforced by our own socket stream and
 * ssh watchdog (gitstream.c); the progress callbacks here check the
 * deadline and the byte cap as well.  Host keys are checked against
 * known_hosts (known_hosts.c).
 *
 * State of the operation in flight is thread-local (one per thread), so
 * this file holds no other global state than libgit2's own.
 */
#include <sys/types.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "buf.h"
#include "duration.h"
#include "fsutil.h"
#include "git.h"
#include "gitstream.h"
#include "caps.h"
#include "log.h"
#include "secret.h"
#include "timeutil.h"

#define DEFAULT_KNOWN_HOSTS	"/etc/ssh/ssh_known_hosts"
#define ROOT_KNOWN_HOSTS	"/root/.ssh/known_hosts"

/* One poll or fetch in flight. */
struct op {
	const struct gitx_remote *rm;
	const char	*phase;		/* "poll of", "fetch from" */
	struct gitx_stats *st;
	uint64_t	 start;		/* monotonic ms */
	struct gitstream_limits lim;	/* deadline, bytes, what hit them */
	bool		 auth_rejected;
	int		 ssh_tries;
	bool		 hostkey_bad;
	struct err	 hostkey;	/* why the host key was refused */
	int		 port;		/* of an ssh URL */
	char		*auth_header;	/* secret */
};

/* URLs */

static bool
url_is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0;
}

/*
 * ssh://[user@]host[:port]/path or scp-like [user@]host:path (a colon
 * before any slash).  Stores host and port; false for other URLs.
 */
static bool
url_ssh_host(const char *url, char *host, size_t hostlen, int *port)
{
	const char *p, *end, *colon, *slash, *at;
	size_t n;

	*port = 22;
	if (strncmp(url, "ssh://", 6) == 0 ||
	    strncmp(url, "git+ssh://", 10) == 0 ||
	    strncmp(url, "ssh+git://", 10) == 0) {
		p = strstr(url, "://") + 3;
		end = p + strcspn(p, "/");
		if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
			p = at + 1;
		if (*p == '[') {
			p++;
			colon = memchr(p, ']', (size_t)(end - p));
			if (colon == NULL)
				return false;
			n = (size_t)(colon - p);
			colon = colon[1] == ':' ? colon + 1 : NULL;
		} else {
			colon = memchr(p, ':', (size_t)(end - p));
			n = (size_t)((colon ? colon : end) - p);
		}
		if (colon != NULL)
			*port = (int)strtol(colon + 1, NULL, 10);
	} else {
		if (strstr(url, "://") != NULL || url[0] == '/' ||
		    url[0] == '.')
			return false;
		colon = strchr(url, ':');
		slash = strchr(url, '/');
		if (colon == NULL || (slash != NULL && slash < colon))
			return false;
		p = url;
		if ((at = memchr(p, '@', (size_t)(colon - p))) != NULL)
			p = at + 1;
		n = (size_t)(colon - p);
	}
	if (n == 0 || n >= hostlen)
		return false;
	memcpy(host, p, n);
	host[n] = '\0';
	return true;
}

char *
gitx_full_ref(const char *ref)
{
	if (ref == NULL || *ref == '\0')
		ref = "main";
	if (strncmp(ref, "refs/", 5) == 0)
		return xstrdup(ref);
	return xasprintf("refs/heads/%s", ref);
}

/* Preloaded files */

/* The known_hosts files to consult: repo.known_hosts, or two defaults. */
static size_t
known_files(const struct gitx_remote *rm, const char *files[2])
{
	if (rm->known_hosts != NULL) {
		files[0] = rm->known_hosts;
		return 1;
	}
	files[0] = DEFAULT_KNOWN_HOSTS;
	files[1] = ROOT_KNOWN_HOSTS;
	return 2;
}

int
gitx_preload(const struct gitx_remote *rm, struct gitx_preload *pre,
    struct err *e)
{
	const char *files[2];
	struct err ignored;
	char *pub = NULL, host[256];
	size_t i, n;
	int port;

	memset(pre, 0, sizeof(*pre));
	if (rm->ssh_key != NULL) {
		if (secret_read(&pre->ssh_key, "repo.ssh_key", rm->ssh_key,
		    MAX_SSH_KEY_SIZE, "", e) == -1)
			goto fail;
		pub = xasprintf("%s.pub", rm->ssh_key);
		buf_init(&pre->ssh_pub, MAX_SSH_KEY_SIZE);
		if (access(pub, R_OK) == 0 && fs_read_file(pub,
		    MAX_SSH_KEY_SIZE, &pre->ssh_pub, e) == -1)
			goto fail;
		free(pub);
		pub = NULL;
	}
	if (rm->token_file != NULL && url_is_http(rm->url) &&
	    secret_read(&pre->token, "token file", rm->token_file,
	    MAX_TOKEN_SIZE, "\r\n", e) == -1)
		goto fail;
	n = known_files(rm, files);
	for (i = 0; i < n; i++) {
		buf_init(&pre->known[pre->nknown], MAX_KNOWN_HOSTS_SIZE);
		if (fs_read_file(files[i], MAX_KNOWN_HOSTS_SIZE,
		    &pre->known[pre->nknown], rm->known_hosts ? e :
		    &ignored) == -1) {
			buf_release(&pre->known[pre->nknown]);
			if (rm->known_hosts != NULL && url_ssh_host(rm->url,
			    host, sizeof(host), &port))
				goto fail;
			continue;
		}
		pre->known_name[pre->nknown++] = files[i];
	}
	pre->loaded = true;
	return 0;
 fail:
	free(pub);
	gitx_preload_release(pre);
	return -1;
}

void
gitx_preload_release(struct gitx_preload *pre)
{
	size_t i;

	secret_release(&pre->ssh_key);
	secret_release(&pre->token);
	buf_release(&pre->ssh_pub);
	for (i = 0; i < pre->nknown; i++)
		buf_release(&pre->known[i]);
	memset(pre, 0, sizeof(*pre));
}

/* Callbacks */

static int
check_hostkey(struct op *op, const char *host, const git_cert_hostkey *hk)
{
	const char *files[2];
	const struct gitx_preload *pre = op->rm->pre;
	struct err e;
	size_t i, nfiles = known_files(op->rm, files);
	int r, known = 0;

	op->hostkey_bad = true;
	if (!(hk->type & GIT_CERT_SSH_RAW))
		return err_set(&op->hostkey, "no raw host key from libssh2");
	for (i = 0; i < nfiles; i++) {
		if (pre != NULL && pre->loaded)
			r = i < pre->nknown ? known_hosts_check_mem(
			    pre->known_name[i], buf_str(&pre->known[i]),
			    pre->known[i].len, host, op->port,
			    (const unsigned char *)hk->hostkey,
			    hk->hostkey_len, &e) : 0;
		else
			r = known_hosts_check(files[i], host, op->port,
			    (const unsigned char *)hk->hostkey,
			    hk->hostkey_len, &e);
		if (r == -1) {
			op->hostkey = e;
			return err_prefix(&op->hostkey, "refusing");
		}
		if (r == 1)
			known = 1;
	}
	if (!known)
		return err_set(&op->hostkey, "refusing unknown host key of "
		    "'%s' (not in %s%s%s)", host, files[0],
		    nfiles > 1 ? " or " : "", nfiles > 1 ? files[1] : "");
	op->hostkey_bad = false;
	return 0;
}

static int
cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct op *op = payload;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return check_hostkey(op, host, (const git_cert_hostkey *)cert) ==
		    0 ? 0 : GIT_ECERTIFICATE;
	/* TLS: keep libgit2's verdict (chain and name), never override. */
	return GIT_PASSTHROUGH;
}

static int
cb_credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct op *op = payload;
	const char *key = op->rm->ssh_key;
	char *pub;
	int r;

	if (user == NULL || *user == '\0')
		user = "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && key != NULL &&
	    op->ssh_tries++ == 0 && op->rm->pre && op->rm->pre->loaded)
		return git_credential_ssh_key_memory_new(out, user,
		    op->rm->pre->ssh_pub.len ? buf_str(&op->rm->pre->ssh_pub) :
		    NULL, op->rm->pre->ssh_key.data, NULL);
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && key != NULL &&
	    op->ssh_tries == 1) {
		pub = xasprintf("%s.pub", key);
		r = git_credential_ssh_key_new(out, user,
		    access(pub, R_OK) == 0 ? pub : NULL, key, NULL);
		free(pub);
		return r;
	}
	/* http: the token went with the request; being asked means no. */
	op->auth_rejected = true;
	git_error_set_str(GIT_ERROR_NET, "authentication failed");
	return GIT_EUSER;
}

static int
cb_transfer(const git_indexer_progress *s, void *payload)
{
	struct op *op = payload;

	op->lim.pack_bytes = s->received_bytes;
	return gitstream_check(&op->lim);
}

static int
cb_sideband(const char *str, int len, void *payload)
{
	struct op *op = payload;

	return gitstream_check(&op->lim);
}

static void
op_callbacks(struct op *op, git_remote_callbacks *cb)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = cb_credentials;
	cb->certificate_check = cb_certificate;
	cb->transfer_progress = cb_transfer;
	cb->sideband_progress = cb_sideband;
	cb->payload = op;
}

/* Authorization header from repo.token_file, for http(s) only. */
static int
op_token(struct op *op, struct err *e)
{
	const char *path = op->rm->token_file;
	char b64[((MAX_TOKEN_SIZE + 2) / 3) * 4 + 1];
	struct secret tok;
	int r = -1;

	if (path == NULL || !url_is_http(op->rm->url))
		return 0;
	if (op->rm->pre != NULL && op->rm->pre->loaded) {
		memset(&tok, 0, sizeof(tok));
		tok.data = op->rm->pre->token.data;
		tok.len = op->rm->pre->token.len;
	} else if (secret_read(&tok, "token file", path, MAX_TOKEN_SIZE,
	    "\r\n", e) == -1)
		return -1;
	if (tok.len == 0 || strchr(tok.data, '\n') != NULL) {
		err_set(e, "token file '%s' must hold one non-empty line", path);
		goto out;
	}
	if (strchr(tok.data, ':') != NULL) {
		sodium_bin2base64(b64, sizeof(b64), (unsigned char *)tok.data,
		    tok.len, sodium_base64_VARIANT_ORIGINAL);
		op->auth_header = xasprintf("Authorization: Basic %s", b64);
	} else
		op->auth_header = xasprintf("Authorization: Bearer %s",
		    tok.data);
	r = 0;
 out:
	if (op->rm->pre == NULL || !op->rm->pre->loaded)
		secret_release(&tok);
	sodium_memzero(b64, sizeof(b64));
	return r;
}

static int
op_begin(struct op *op, const struct gitx_remote *rm, const char *phase,
    struct gitx_stats *st, struct err *e)
{
	char host[256];

	memset(op, 0, sizeof(*op));
	memset(st, 0, sizeof(*st));
	op->rm = rm;
	op->phase = phase;
	op->st = st;
	op->start = time_monotonic_ms();
	op->lim.deadline = rm->timeout_ms ? op->start +
	    rm->timeout_ms : UINT64_MAX;
	op->lim.connect_timeout_ms = rm->connect_timeout_ms;
	op->lim.max_bytes = rm->max_fetch_size;
	if (rm->url == NULL)
		return err_set(e, "repo.url is not set");
	op->lim.ssh = url_ssh_host(rm->url, host, sizeof(host),
	    &op->port);
	if (op_token(op, e) == -1)
		return -1;
	git_error_clear();
	gitstream_begin(&op->lim);
	return 0;
}

static void
op_end(struct op *op)
{
	struct gitx_stats *st = op->st;

	gitstream_end();
	st->duration_ms = time_monotonic_ms() - op->start;
	st->bytes_received = op->lim.wire_bytes;
	if (op->lim.pack_bytes > st->bytes_received)
		st->bytes_received = op->lim.pack_bytes;
	st->timed_out = op->lim.timed_out || op->lim.connect_timed_out;
	st->too_big = op->lim.too_big;
	secret_free(op->auth_header);
	op->auth_header = NULL;
}

/* The error for a failed libgit2 call, saying what happened. */
static int
op_error(struct op *op, struct err *e)
{
	const git_error *ge = git_error_last();
	const char *url = op->rm->url;
	char lim[32];

	if (gitstream_watchdog_fired())
		op->lim.timed_out = true;
	if (op->lim.too_big) {
		size_format(op->rm->max_fetch_size, lim, sizeof(lim));
		return err_set(e, "%s '%s' stopped: more than %s received "
		    "(repo.max_fetch_size)", op->phase, url, lim);
	}
	if (op->lim.connect_timed_out) {
		duration_format(op->rm->connect_timeout_ms, lim,
		    sizeof(lim));
		return err_set(e, "%s '%s': cannot connect: timed out after %s",
		    op->phase, url, lim);
	}
	if (op->lim.timed_out) {
		duration_format(op->rm->timeout_ms, lim, sizeof(lim));
		return err_set(e, "%s '%s' timed out after %s", op->phase, url,
		    lim);
	}
	if (op->hostkey_bad)
		return err_set(e, "%s '%s': %s", op->phase, url,
		    op->hostkey.msg);
	if (op->auth_rejected && op->lim.ssh)
		return err_set(e, "%s '%s': ssh authentication failed%s%s%s",
		    op->phase, url, op->rm->ssh_key ? " with key '" : "",
		    op->rm->ssh_key ? op->rm->ssh_key : " (no "
		    "repo.ssh_key)", op->rm->ssh_key ? "'" : "");
	if (op->auth_rejected)
		return err_set(e, "%s '%s': authentication failed (HTTP 401)%s%s%s",
		    op->phase, url, op->rm->token_file ?
		    ": token from '" : ": no repo.token_file",
		    op->rm->token_file ? op->rm->token_file : "",
		    op->rm->token_file ? "' rejected" : "");
	return err_set(e, "%s '%s': %s", op->phase, url,
	    ge && ge->message ? ge->message : "unknown error");
}

static git_strarray
op_headers(struct op *op, char **one)
{
	git_strarray h = { NULL, 0 };

	if (op->auth_header != NULL) {
		one[0] = op->auth_header;
		h.strings = one;
		h.count = 1;
	}
	return h;
}

int
gitx_init(const struct gitx_remote *rm, struct err *e)
{
	static _Thread_local bool done;
	const git_error *ge;

	if (!done) {
		if (git_libgit2_init() < 0)
			return err_set(e, "cannot initialise libgit2");
		if (gitstream_register(e) == -1)
			return -1;
		done = true;
	}
	if (rm != NULL && rm->ca_file != NULL &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, rm->ca_file,
	    NULL) < 0) {
		ge = git_error_last();
		return err_set(e, "repo.ca_file '%s': %s", rm->ca_file,
		    ge ? ge->message : "cannot load");
	}
	return 0;
}

int
gitx_ls_tip(const struct gitx_remote *rm, char tip[REV_HEX],
    struct gitx_stats *st, struct err *e)
{
	struct op op;
	struct gitstream_watchdog wd = { .armed = false };
	git_remote_callbacks cb;
	git_remote *remote = NULL;
	const git_remote_head **heads;
	git_strarray hdrs;
	char *one[1], *ref = NULL;
	size_t n, i;
	int r = -1;

	tip[0] = '\0';
	if (op_begin(&op, rm, "poll of", st, e) == -1)
		goto out;
	ref = gitx_full_ref(rm->ref);
	op_callbacks(&op, &cb);
	hdrs = op_headers(&op, one);
	if (op.lim.ssh && rm->timeout_ms != 0)
		gitstream_watchdog_arm(&wd, rm->timeout_ms);
	if (git_remote_create_detached(&remote, rm->url) < 0 ||
	    git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL,
	    &hdrs) < 0 || git_remote_ls(&heads, &n, remote) < 0) {
		op_error(&op, e);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, ref) == 0)
			break;
	if (i == n) {
		err_set(e, "poll of '%s': no ref '%s' there", rm->url, ref);
		goto out;
	}
	git_oid_tostr(tip, REV_HEX, &heads[i]->oid);
	r = 0;
 out:
	git_remote_free(remote);
	gitstream_watchdog_disarm(&wd);
	op_end(&op);
	free(ref);
	return r;
}

/* Mirror */

/* Stale lock files and temporary packs a killed fetch left behind. */
static int
unlock_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t n = strlen(base);

	if (flag == FTW_F && ((n > 5 && strcmp(base + n - 5, ".lock") == 0) ||
	    strncmp(base, "pack_git2_", 10) == 0 ||
	    strncmp(base, "tmp_", 4) == 0)) {
		log_debug("removing stale '%s'", path);
		unlink(path);
	}
	return 0;
}

static bool
dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return false;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static int
mirror_open(const char *path, git_repository **repo, struct err *e)
{
	const git_error *ge;
	git_reference *head = NULL;
	git_odb *odb = NULL;
	int r;

	*repo = NULL;
	/* An empty directory is a new mirror (the agent creates it for the
	 * fetcher's user): initialised below, nothing to report. */
	if (access(path, F_OK) == 0 && !dir_is_empty(path)) {
		nftw(path, unlock_one, 16, FTW_PHYS);
		r = git_repository_open_ext(repo, path,
		    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
		    NULL);
		/* git (and nix) refuse a repository with a broken HEAD */
		if (r == 0 && git_repository_is_bare(*repo) &&
		    git_reference_lookup(&head, *repo, "HEAD") == 0 &&
		    git_repository_odb(&odb, *repo) == 0 &&
		    git_odb_refresh(odb) == 0) {
			git_reference_free(head);
			git_odb_free(odb);
			return 0;
		}
		git_reference_free(head);
		git_odb_free(odb);
		git_repository_free(*repo);
		*repo = NULL;
		ge = git_error_last();
		log_warnx("mirror '%s' is damaged (%s); re-creating it", path,
		    ge && ge->message ? ge->message : "not a bare repository");
		if (fs_clear_tree(path, e) == -1)
			return -1;
	}
	if (git_repository_init(repo, path, 1) < 0) {
		ge = git_error_last();
		return err_set(e, "cannot create mirror '%s': %s", path,
		    ge && ge->message ? ge->message : "unknown error");
	}
	return 0;
}

/* Whether a failed fetch says more about the mirror than the remote. */
static bool
mirror_suspect(const struct op *op, int klass)
{
	if (op->lim.timed_out || op->lim.connect_timed_out || op->lim.too_big ||
	    op->auth_rejected || op->hostkey_bad || gitstream_watchdog_fired())
		return false;
	switch (klass) {
	case GIT_ERROR_ODB:
	case GIT_ERROR_REFERENCE:
	case GIT_ERROR_REPOSITORY:
	case GIT_ERROR_OBJECT:
	case GIT_ERROR_CONFIG:
	case GIT_ERROR_OS:
	case GIT_ERROR_FILESYSTEM:
		return true;
	default:
		return false;
	}
}

/* The tip of ref in repo, which must be a commit present in the mirror. */
static int
mirror_tip(git_repository *repo, const char *mirror, const char *ref,
    char tip[REV_HEX], struct err *e)
{
	git_oid oid;
	git_commit *c = NULL;
	const git_error *ge;

	if (git_reference_name_to_id(&oid, repo, ref) < 0 ||
	    git_commit_lookup(&c, repo, &oid) < 0) {
		ge = git_error_last();
		return err_set(e, "mirror '%s': '%s' after fetch: %s", mirror,
		    ref, ge && ge->message ? ge->message : "unreadable");
	}
	git_commit_free(c);
	git_oid_tostr(tip, REV_HEX, &oid);
	return 0;
}

/* 0, or -1; *suspect says whether re-creating the mirror may help. */
static int
fetch_once(struct op *op, const char *mirror, const char *ref,
    char tip[REV_HEX], bool *suspect, struct err *e)
{
	git_fetch_options fo;
	git_remote_create_options ro;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	const git_error *ge;
	char *spec = NULL, *one[1];
	git_strarray specs;
	int r = -1;

	*suspect = false;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if (mirror_open(mirror, &repo, e) == -1)
		goto out;
	op_callbacks(op, &fo.callbacks);
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_AUTO;
	fo.custom_headers = op_headers(op, one);
	spec = xasprintf("+%s:%s", ref, ref);
	specs.strings = &spec;
	specs.count = 1;
	/*
	 * Anonymous, without url.*.insteadOf rewriting: the URL is the
	 * config's, and libgit2 1.5's insteadOf lookup leaks pcre2 match
	 * data for every config entry that does not match.
	 */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, op->rm->url, &ro) < 0 ||
	    git_remote_fetch(remote, &specs, &fo, NULL) < 0) {
		ge = git_error_last();
		*suspect = mirror_suspect(op, ge ? ge->klass : GIT_ERROR_NONE);
		op_error(op, e);
		goto out;
	}
	if (mirror_tip(repo, mirror, ref, tip, e) == -1) {
		*suspect = true;
		goto out;
	}
	r = 0;
 out:
	git_remote_free(remote);
	git_repository_free(repo);
	free(spec);
	return r;
}

int
gitx_fetch(const struct gitx_remote *rm, const char *mirror,
    char tip[REV_HEX], struct gitx_stats *st, struct err *e)
{
	struct op op;
	struct gitstream_watchdog wd = { .armed = false };
	struct err e2;
	char *ref = NULL;
	bool suspect;
	int r = -1;

	tip[0] = '\0';
	if (op_begin(&op, rm, "fetch from", st, e) == -1)
		goto out;
	ref = gitx_full_ref(rm->ref);
	if (op.lim.ssh && rm->timeout_ms != 0)
		gitstream_watchdog_arm(&wd, rm->timeout_ms);
	r = fetch_once(&op, mirror, ref, tip, &suspect, e);
	if (r == -1 && suspect) {
		log_warnx("%s; re-creating mirror '%s'", e->msg, mirror);
		if (fs_clear_tree(mirror, &e2) == -1) {
			err_set(e, "%s", e2.msg);
			goto out;
		}
		git_error_clear();
		r = fetch_once(&op, mirror, ref, tip, &suspect, e);
	}
 out:
	gitstream_watchdog_disarm(&wd);
	op_end(&op);
	free(ref);
	return r;
}
