/*
 * libgit2 glue: poll one ref, fetch it into a bare mirror, within limits.
 *
 * Time-outs.  libgit2 1.5 has no server time-outs (GIT_OPT_SET_SERVER_
 * TIMEOUT is 1.7), and a server that accepts and never answers leaves it
 * in recv() for ever.  Rather than running every poll in a forked child
 * with a deadline (a process per poll, which a no-change poll must not
 * cost), we register our own GIT_STREAM_STANDARD socket stream: libgit2
 * creates every TCP connection through it (plain http, the socket under
 * its mbedTLS stream, and the ssh transport's socket), so connect, read and
 * write all wait in poll() against the connect time-out and the deadline of
 * the whole operation, and it counts the bytes against repo.max_fetch_size.
 * The ssh transport hands the socket to libssh2, which reads it directly;
 * for ssh a one-shot POSIX timer (SIGALRM) shuts the socket down at the
 * deadline, so libssh2's next poll() or recv() returns at once.  The
 * stream keeps the layout of libgit2's git_socket_stream for that reason.
 * Progress callbacks check the deadline and the byte cap as well.
 * Name resolution (getaddrinfo) is not bounded.
 *
 * State of the operation in flight is thread-local (one per thread), so
 * this file holds no other global state than libgit2's own.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>
#include <sodium.h>

#include "buf.h"
#include "duration.h"
#include "git.h"
#include "caps.h"
#include "log.h"

#define DEFAULT_KNOWN_HOSTS	"/etc/ssh/ssh_known_hosts"
#define ROOT_KNOWN_HOSTS	"/root/.ssh/known_hosts"

/* One poll or fetch in flight. */
struct op {
	const struct config *cfg;
	const char	*phase;		/* "poll of", "fetch from" */
	struct gitx_stats *st;
	uint64_t	 start;		/* monotonic ms */
	uint64_t	 deadline;
	uint64_t	 wire_bytes;	/* read through our stream */
	uint64_t	 pack_bytes;	/* from the progress callback */
	bool		 connect_timed_out;
	bool		 timed_out;
	bool		 too_big;
	bool		 auth_rejected;
	int		 ssh_tries;
	bool		 hostkey_bad;
	struct err	 hostkey;	/* why the host key was refused */
	int		 port;		/* of an ssh URL */
	bool		 ssh;
	char		*auth_header;	/* secret */
};

static _Thread_local struct op *cur;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 while within the limits, else -1 with the reason recorded. */
static int
op_check(struct op *op)
{
	uint64_t max = op->cfg->repo.max_fetch_size;

	if (max != 0 && (op->wire_bytes > max || op->pack_bytes > max)) {
		op->too_big = true;
		return -1;
	}
	if (now_ms() >= op->deadline) {
		op->timed_out = true;
		return -1;
	}
	return 0;
}

/* The socket stream: same first members as libgit2's git_socket_stream. */
struct tstream {
	git_stream	 parent;
	char		*host;
	char		*port;
	int		 s;
};

/* Waits for events on fd until deadline: 0 ready, 1 timed out, -1 error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return 1;
		n = poll(&pfd, 1, (int)(deadline - now > 60000 ? 60000 :
		    deadline - now));
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
tstream_connect_one(struct tstream *ts, const struct addrinfo *ai,
    uint64_t deadline)
{
	socklen_t len = sizeof(int);
	int fd, soerr = 0, w;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS)
		goto fail;
	if ((w = wait_fd(fd, POLLOUT, deadline)) != 0) {
		if (w == 1)
			errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
 ok:
	/* libgit2 writes a request in pieces: no Nagle + delayed-ACK stall */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	ts->s = fd;
	return 0;
 fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static volatile sig_atomic_t watch_fd = -1;

static int
tstream_connect(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;
	struct addrinfo hints, *res = NULL, *ai;
	uint64_t deadline;
	int r, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(ts->host, ts->port, &hints, &res)) != 0) {
		git_error_set_str(GIT_ERROR_NET, gai_strerror(r));
		return -1;
	}
	deadline = cur ? cur->deadline : UINT64_MAX;
	if (cur && cur->cfg->repo.connect_timeout_ms != 0 &&
	    now_ms() + cur->cfg->repo.connect_timeout_ms < deadline)
		deadline = now_ms() + cur->cfg->repo.connect_timeout_ms;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (tstream_connect_one(ts, ai, deadline) == 0)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (ts->s == -1) {
		if (saved == ETIMEDOUT && cur)
			cur->connect_timed_out = true;
		git_error_set_str(GIT_ERROR_NET, strerror(saved));
		return -1;
	}
	if (cur && cur->ssh)
		watch_fd = ts->s;
	return 0;
}

static int
tstream_wait(struct tstream *ts, short events)
{
	int w;

	w = wait_fd(ts->s, events, cur ? cur->deadline : UINT64_MAX);
	if (w == 1) {
		if (cur)
			cur->timed_out = true;
		git_error_set_str(GIT_ERROR_NET, "timed out");
	} else if (w == -1)
		git_error_set_str(GIT_ERROR_NET, strerror(errno));
	return w == 0 ? 0 : -1;
}

static ssize_t
tstream_read(git_stream *gs, void *data, size_t len)
{
	struct tstream *ts = (struct tstream *)gs;
	ssize_t n;

	for (;;) {
		n = recv(ts->s, data, len, 0);
		if (n >= 0) {
			if (cur) {
				cur->wire_bytes += (uint64_t)n;
				if (op_check(cur) == -1) {
					git_error_set_str(GIT_ERROR_NET,
					    "limit reached");
					return -1;
				}
			}
			return n;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			git_error_set_str(GIT_ERROR_NET, strerror(errno));
			return -1;
		}
		if (tstream_wait(ts, POLLIN) == -1)
			return -1;
	}
}

static ssize_t
tstream_write(git_stream *gs, const char *data, size_t len, int flags)
{
	struct tstream *ts = (struct tstream *)gs;
	ssize_t n;

	for (;;) {
		n = send(ts->s, data, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			git_error_set_str(GIT_ERROR_NET, strerror(errno));
			return -1;
		}
		if (tstream_wait(ts, POLLOUT) == -1)
			return -1;
	}
}

static int
tstream_close(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;

	if (ts->s == -1)
		return 0;
	if (watch_fd == ts->s)
		watch_fd = -1;
	close(ts->s);
	ts->s = -1;
	return 0;
}

static void
tstream_free(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;

	tstream_close(gs);
	free(ts->host);
	free(ts->port);
	free(ts);
}

static int
tstream_new(git_stream **out, const char *host, const char *port)
{
	struct tstream *ts;

	ts = xcalloc(1, sizeof(*ts));
	ts->parent.version = GIT_STREAM_VERSION;
	ts->parent.connect = tstream_connect;
	ts->parent.read = tstream_read;
	ts->parent.write = tstream_write;
	ts->parent.close = tstream_close;
	ts->parent.free = tstream_free;
	ts->host = xstrdup(host);
	ts->port = xstrdup(port);
	ts->s = -1;
	*out = &ts->parent;
	return 0;
}

/*
 * The ssh watchdog: at the deadline (and every 100 ms after) shut down the
 * socket libssh2 is waiting on.  shutdown() is async-signal-safe.
 */
struct watchdog {
	timer_t		 timer;
	struct sigaction old;
	bool		 armed;
};

static volatile sig_atomic_t watch_fired;

static void
watch_alarm(int sig)
{
	int fd = watch_fd;

	watch_fired = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void
watchdog_arm(struct watchdog *w, uint64_t ms)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;

	memset(w, 0, sizeof(*w));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_alarm;
	sigemptyset(&sa.sa_mask);
	watch_fired = 0;
	if (sigaction(SIGALRM, &sa, &w->old) == -1)
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, &w->timer) == -1) {
		log_warn("timer_create");
		sigaction(SIGALRM, &w->old, NULL);
		return;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (ms == 0)
		its.it_value.tv_nsec = 1;
	its.it_interval.tv_nsec = 100 * 1000000;
	timer_settime(w->timer, 0, &its, NULL);
	w->armed = true;
}

static void
watchdog_disarm(struct watchdog *w)
{
	if (!w->armed)
		return;
	timer_delete(w->timer);
	sigaction(SIGALRM, &w->old, NULL);
	watch_fd = -1;
	w->armed = false;
}

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

/* known_hosts */

struct sha1 {
	uint32_t	h[5];
	uint64_t	len;
	unsigned char	buf[64];
};

#define ROL(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

static void
sha1_block(struct sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3]; e = c->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d; d = cc; cc = ROL(b, 30); b = a; a = t;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

static void
sha1_init(struct sha1 *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
	    0x10325476, 0xc3d2e1f0 };

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

static void
sha1_update(struct sha1 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used;

	while (n > 0) {
		used = c->len % 64;
		c->buf[used] = *p++;
		c->len++;
		n--;
		if (used == 63)
			sha1_block(c, c->buf);
	}
}

static void
sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, len[8];
	int i;

	sha1_update(c, &pad, 1);
	pad = 0;
	while (c->len % 64 != 56)
		sha1_update(c, &pad, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* HMAC-SHA1 with a key of at most 64 bytes (known_hosts salts are 20). */
static void
hmac_sha1(const unsigned char *key, size_t klen, const char *msg,
    unsigned char out[20])
{
	unsigned char k[64], inner[20];
	struct sha1 c;
	size_t i;

	memset(k, 0, sizeof(k));
	memcpy(k, key, klen > 64 ? 64 : klen);
	for (i = 0; i < 64; i++)
		k[i] ^= 0x36;
	sha1_init(&c);
	sha1_update(&c, k, 64);
	sha1_update(&c, msg, strlen(msg));
	sha1_final(&c, inner);
	for (i = 0; i < 64; i++)
		k[i] ^= 0x36 ^ 0x5c;
	sha1_init(&c);
	sha1_update(&c, k, 64);
	sha1_update(&c, inner, 20);
	sha1_final(&c, out);
}

/* "|1|salt|hash" against name. */
static bool
hashed_match(const char *pat, size_t plen, const char *name)
{
	unsigned char salt[64], hash[64], mac[20];
	size_t slen, hlen;
	const char *bar, *end = pat + plen;

	pat += 3;
	if ((bar = memchr(pat, '|', (size_t)(end - pat))) == NULL)
		return false;
	if (sodium_base642bin(salt, sizeof(salt), pat, (size_t)(bar - pat),
	    NULL, &slen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sodium_base642bin(hash, sizeof(hash), bar + 1,
	    (size_t)(end - bar - 1), NULL, &hlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || hlen != 20)
		return false;
	hmac_sha1(salt, slen, name, mac);
	return sodium_memcmp(mac, hash, 20) == 0;
}

/* OpenSSH host patterns: '*' and '?' only ('[' is literal: [host]:port). */
static bool
glob_match(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '*') {
			for (; *s != '\0'; s++)
				if (glob_match(pat + 1, s))
					return true;
			return glob_match(pat + 1, s);
		}
		if (*s == '\0' || (*pat != '?' &&
		    tolower((unsigned char)*pat) != tolower((unsigned char)*s)))
			return false;
	}
	return *s == '\0';
}

/* Whether the comma-separated patterns match name ("host" or "[host]:port"). */
static bool
hosts_match(const char *pats, size_t len, const char *name)
{
	char pat[1024];
	const char *p = pats, *end = pats + len, *comma;
	bool negated, hit = false;
	size_t n;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		n = (size_t)((comma ? comma : end) - p);
		negated = n > 0 && *p == '!';
		if (strncmp(p, "|1|", n < 3 ? n : 3) == 0 && n > 3) {
			if (hashed_match(p, n, name))
				hit = true;
		} else if (n - negated < sizeof(pat)) {
			memcpy(pat, p + negated, n - negated);
			pat[n - negated] = '\0';
			if (glob_match(pat, name)) {
				if (negated)
					return false;
				hit = true;
			}
		}
		p += n + 1;
	}
	return hit;
}

static size_t
key_type_len(const unsigned char *blob, size_t len)
{
	size_t n;

	if (len < 4)
		return 0;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3];
	return n <= len - 4 ? n + 4 : 0;
}

/* One line: 1 match, 0 does not apply, -1 changed, -2 revoked. */
static int
known_line(char *line, const char *name, const unsigned char *blob,
    size_t len)
{
	unsigned char key[8192];
	char *f[4], *p = line;
	size_t klen, tl;
	bool revoked = false;
	int i;

	for (i = 0; i < 4; i++) {
		p += strspn(p, " \t");
		f[i] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (*f[0] == '\0' || *f[0] == '#')
		return 0;
	if (*f[0] == '@') {
		if (strcmp(f[0], "@revoked") != 0)
			return 0;	/* @cert-authority: not supported */
		revoked = true;
		f[0] = f[1]; f[1] = f[2]; f[2] = f[3];
	}
	if (!hosts_match(f[0], strlen(f[0]), name))
		return 0;
	if (sodium_base642bin(key, sizeof(key), f[2], strlen(f[2]), NULL,
	    &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	if (klen == len && memcmp(key, blob, len) == 0)
		return revoked ? -2 : 1;
	tl = key_type_len(blob, len);
	if (!revoked && tl != 0 && tl == key_type_len(key, klen) &&
	    memcmp(key, blob, tl) == 0)
		return -1;
	return 0;
}

int
gitx_known_host(const char *path, const char *host, int port,
    const unsigned char *blob, size_t len, struct err *e)
{
	char name[300], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int r, found = 0, changed = 0, lines = 0;

	if (port == 22 || port <= 0)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	if ((fp = fopen(path, "re")) == NULL) {
		err_errno(e, "cannot read '%s'", path);
		return -2;
	}
	while ((n = getline(&line, &cap, fp)) != -1 &&
	    lines++ < MAX_KNOWN_HOSTS_LINES) {
		r = known_line(line, name, blob, len);
		if (r == -2) {
			found = -2;
			break;
		}
		if (r == 1)
			found = 1;
		else if (r == -1)
			changed = 1;
	}
	free(line);
	fclose(fp);
	if (found == -2) {
		err_set(e, "host key of '%s' is revoked in '%s'", name, path);
		return -1;
	}
	if (found == 1)
		return 1;
	if (changed) {
		err_set(e, "host key of '%s' does not match the one in '%s' "
		    "(changed host key?)", name, path);
		return -1;
	}
	return 0;
}

/* Callbacks */

static int
check_hostkey(struct op *op, const char *host, const git_cert_hostkey *hk)
{
	const char *files[2] = { DEFAULT_KNOWN_HOSTS, ROOT_KNOWN_HOSTS };
	struct err e;
	size_t i, nfiles = 2;
	int r, known = 0;

	if (op->cfg->repo.known_hosts != NULL) {
		files[0] = op->cfg->repo.known_hosts;
		nfiles = 1;
	}
	op->hostkey_bad = true;
	if (!(hk->type & GIT_CERT_SSH_RAW))
		return err_set(&op->hostkey, "no raw host key from libssh2");
	for (i = 0; i < nfiles; i++) {
		r = gitx_known_host(files[i], host, op->port,
		    (const unsigned char *)hk->hostkey, hk->hostkey_len, &e);
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
	const char *key = op->cfg->repo.ssh_key;
	char *pub;
	int r;

	if (user == NULL || *user == '\0')
		user = "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && key != NULL &&
	    op->ssh_tries++ == 0) {
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

	op->pack_bytes = s->received_bytes;
	return op_check(op);
}

static int
cb_sideband(const char *str, int len, void *payload)
{
	return op_check(payload);
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
	const char *path = op->cfg->repo.token_file;
	char tok[MAX_TOKEN_SIZE + 1], b64[((MAX_TOKEN_SIZE + 2) / 3) * 4 + 1];
	ssize_t n = 0, got;
	size_t len;
	int fd, r = -1;

	if (path == NULL || !url_is_http(op->cfg->repo.url))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, "cannot read token file '%s'", path);
	while (n < MAX_TOKEN_SIZE + 1 && (got = read(fd, tok + n,
	    (size_t)(MAX_TOKEN_SIZE + 1 - n))) > 0)
		n += got;
	close(fd);
	if (n > MAX_TOKEN_SIZE) {
		err_set(e, "token file '%s' is longer than %d bytes", path,
		    MAX_TOKEN_SIZE);
		goto out;
	}
	len = (size_t)n;
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
		len--;
	tok[len] = '\0';
	if (len == 0 || strchr(tok, '\n') != NULL) {
		err_set(e, "token file '%s' must hold one non-empty line", path);
		goto out;
	}
	if (strchr(tok, ':') != NULL) {
		sodium_bin2base64(b64, sizeof(b64), (unsigned char *)tok, len,
		    sodium_base64_VARIANT_ORIGINAL);
		op->auth_header = xasprintf("Authorization: Basic %s", b64);
	} else
		op->auth_header = xasprintf("Authorization: Bearer %s", tok);
	r = 0;
 out:
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(b64, sizeof(b64));
	return r;
}

static int
op_begin(struct op *op, const struct config *cfg, const char *phase,
    struct gitx_stats *st, struct err *e)
{
	char host[256];

	memset(op, 0, sizeof(*op));
	memset(st, 0, sizeof(*st));
	op->cfg = cfg;
	op->phase = phase;
	op->st = st;
	op->start = now_ms();
	op->deadline = cfg->repo.timeout_ms ? op->start + cfg->repo.timeout_ms :
	    UINT64_MAX;
	if (cfg->repo.url == NULL)
		return err_set(e, "repo.url is not set");
	op->ssh = url_ssh_host(cfg->repo.url, host, sizeof(host), &op->port);
	if (op_token(op, e) == -1)
		return -1;
	git_error_clear();
	cur = op;
	return 0;
}

static void
op_end(struct op *op)
{
	struct gitx_stats *st = op->st;

	cur = NULL;
	st->duration_ms = now_ms() - op->start;
	st->bytes_received = op->wire_bytes;
	if (op->pack_bytes > st->bytes_received)
		st->bytes_received = op->pack_bytes;
	st->timed_out = op->timed_out || op->connect_timed_out;
	st->too_big = op->too_big;
	if (op->auth_header != NULL) {
		sodium_memzero(op->auth_header, strlen(op->auth_header));
		free(op->auth_header);
		op->auth_header = NULL;
	}
}

/* The error for a failed libgit2 call, saying what happened. */
static int
op_error(struct op *op, struct err *e)
{
	const git_error *ge = git_error_last();
	const char *url = op->cfg->repo.url;
	char lim[32];

	if (watch_fired)
		op->timed_out = true;
	if (op->too_big) {
		size_format(op->cfg->repo.max_fetch_size, lim, sizeof(lim));
		return err_set(e, "%s '%s' stopped: more than %s received "
		    "(repo.max_fetch_size)", op->phase, url, lim);
	}
	if (op->connect_timed_out) {
		duration_format(op->cfg->repo.connect_timeout_ms, lim,
		    sizeof(lim));
		return err_set(e, "%s '%s': cannot connect: timed out after %s",
		    op->phase, url, lim);
	}
	if (op->timed_out) {
		duration_format(op->cfg->repo.timeout_ms, lim, sizeof(lim));
		return err_set(e, "%s '%s' timed out after %s", op->phase, url,
		    lim);
	}
	if (op->hostkey_bad)
		return err_set(e, "%s '%s': %s", op->phase, url,
		    op->hostkey.msg);
	if (op->auth_rejected && op->ssh)
		return err_set(e, "%s '%s': ssh authentication failed%s%s%s",
		    op->phase, url, op->cfg->repo.ssh_key ? " with key '" : "",
		    op->cfg->repo.ssh_key ? op->cfg->repo.ssh_key : " (no "
		    "repo.ssh_key)", op->cfg->repo.ssh_key ? "'" : "");
	if (op->auth_rejected)
		return err_set(e, "%s '%s': authentication failed (HTTP 401)%s%s%s",
		    op->phase, url, op->cfg->repo.token_file ?
		    ": token from '" : ": no repo.token_file",
		    op->cfg->repo.token_file ? op->cfg->repo.token_file : "",
		    op->cfg->repo.token_file ? "' rejected" : "");
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
gitx_init(const struct config *cfg, struct err *e)
{
	static _Thread_local bool done;
	git_stream_registration reg;
	const git_error *ge;

	if (!done) {
		if (git_libgit2_init() < 0)
			return err_set(e, "cannot initialise libgit2");
		memset(&reg, 0, sizeof(reg));
		reg.version = GIT_STREAM_VERSION;
		reg.init = tstream_new;
		if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0)
			return err_set(e, "cannot register the socket stream");
		done = true;
	}
	if (cfg != NULL && cfg->repo.ca_file != NULL &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, cfg->repo.ca_file,
	    NULL) < 0) {
		ge = git_error_last();
		return err_set(e, "repo.ca_file '%s': %s", cfg->repo.ca_file,
		    ge ? ge->message : "cannot load");
	}
	return 0;
}

int
gitx_ls_tip(const struct config *cfg, char tip[GITX_OID_HEX],
    struct gitx_stats *st, struct err *e)
{
	struct op op;
	struct watchdog wd = { .armed = false };
	git_remote_callbacks cb;
	git_remote *remote = NULL;
	const git_remote_head **heads;
	git_strarray hdrs;
	char *one[1], *ref = NULL;
	size_t n, i;
	int r = -1;

	tip[0] = '\0';
	if (op_begin(&op, cfg, "poll of", st, e) == -1)
		goto out;
	ref = gitx_full_ref(cfg->repo.ref);
	op_callbacks(&op, &cb);
	hdrs = op_headers(&op, one);
	if (op.ssh && cfg->repo.timeout_ms != 0)
		watchdog_arm(&wd, cfg->repo.timeout_ms);
	if (git_remote_create_detached(&remote, cfg->repo.url) < 0 ||
	    git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL,
	    &hdrs) < 0 || git_remote_ls(&heads, &n, remote) < 0) {
		op_error(&op, e);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, ref) == 0)
			break;
	if (i == n) {
		err_set(e, "poll of '%s': no ref '%s' there", cfg->repo.url, ref);
		goto out;
	}
	git_oid_tostr(tip, GITX_OID_HEX, &heads[i]->oid);
	r = 0;
 out:
	git_remote_free(remote);
	watchdog_disarm(&wd);
	op_end(&op);
	free(ref);
	return r;
}

/* Mirror */

static int
rmtree_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (remove(path) == -1 && errno != ENOENT)
		log_warn("cannot remove '%s'", path);
	return 0;
}

static int
mirror_remove(const char *path, struct err *e)
{
	if (nftw(path, rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		return err_errno(e, "cannot remove '%s'", path);
	if (access(path, F_OK) == 0)
		return err_set(e, "cannot remove '%s'", path);
	return 0;
}

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

static int
mirror_open(const char *path, git_repository **repo, struct err *e)
{
	const git_error *ge;
	git_reference *head = NULL;
	git_odb *odb = NULL;
	int r;

	*repo = NULL;
	if (access(path, F_OK) == 0) {
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
		if (mirror_remove(path, e) == -1)
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
	if (op->timed_out || op->connect_timed_out || op->too_big ||
	    op->auth_rejected || op->hostkey_bad || watch_fired)
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
    char tip[GITX_OID_HEX], struct err *e)
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
	git_oid_tostr(tip, GITX_OID_HEX, &oid);
	return 0;
}

/* 0, or -1; *suspect says whether re-creating the mirror may help. */
static int
fetch_once(struct op *op, const char *mirror, const char *ref,
    char tip[GITX_OID_HEX], bool *suspect, struct err *e)
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
	if (git_remote_create_with_opts(&remote, op->cfg->repo.url, &ro) < 0 ||
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
gitx_fetch(const struct config *cfg, const char *mirror,
    char tip[GITX_OID_HEX], struct gitx_stats *st, struct err *e)
{
	struct op op;
	struct watchdog wd = { .armed = false };
	struct err e2;
	char *ref = NULL;
	bool suspect;
	int r = -1;

	tip[0] = '\0';
	if (op_begin(&op, cfg, "fetch from", st, e) == -1)
		goto out;
	ref = gitx_full_ref(cfg->repo.ref);
	if (op.ssh && cfg->repo.timeout_ms != 0)
		watchdog_arm(&wd, cfg->repo.timeout_ms);
	r = fetch_once(&op, mirror, ref, tip, &suspect, e);
	if (r == -1 && suspect) {
		log_warnx("%s; re-creating mirror '%s'", e->msg, mirror);
		if (mirror_remove(mirror, &e2) == -1) {
			err_set(e, "%s", e2.msg);
			goto out;
		}
		git_error_clear();
		r = fetch_once(&op, mirror, ref, tip, &suspect, e);
	}
 out:
	watchdog_disarm(&wd);
	op_end(&op);
	free(ref);
	return r;
}
