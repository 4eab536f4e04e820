/*
 * allowed_signers and revoked-keys files (see allowed_signers.h for the
 * format and where we are stricter than ssh-keygen).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "allowed_signers.h"
#include "buf.h"
#include "caps.h"
#include "fsutil.h"
#include "krl.h"
#include "sshkey.h"

struct signer {
	char		*principals;	/* the field, unquoted */
	unsigned char	*blob;		/* public key blob */
	size_t		 blob_len;
	char		*namespaces;	/* pattern list, NULL: any */
	int64_t		 valid_after;	/* 0: unset */
	int64_t		 valid_before;	/* 0: unset */
	int		 ca;
	unsigned long	 line;
};

struct signers {
	char		*name;		/* allowed_signers file, for messages */
	struct signer	*v;
	size_t		 n, alloc;
	unsigned char	(*revoked)[32];	/* raw ed25519 keys */
	size_t		 nrevoked, revoked_alloc;
	struct krl	 krl;		/* from a KRL revocation file */
};

/* What ssh-keygen splits words at (misc.c WHITESPACE, '\n' never here). */
#define WS	" \t\r"

/* One line being parsed: where, and a cursor into its copy. */
struct line {
	const char	*name;
	unsigned long	 num;
	char		*p;
	struct err	*e;
};

#define LINE_ERR(l, ...) line_err((l), __VA_ARGS__)

static int line_err(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
line_err(struct line *l, const char *fmt, ...)
{
	char what[MAX_ERROR];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(l->e, "%s:%lu: %s", l->name, l->num, what);
}

static void
skip_ws(struct line *l)
{
	l->p += strspn(l->p, WS);
}

/* Cuts the next whitespace-delimited word; NULL at end of line. */
static char *
next_word(struct line *l)
{
	char *w;
	size_t n;

	skip_ws(l);
	if (*l->p == '\0')
		return NULL;
	w = l->p;
	n = strcspn(w, WS);
	l->p = w + n;
	if (*l->p != '\0')
		*l->p++ = '\0';
	return w;
}

/* The principals field: a word, or a double-quoted string. */
static char *
parse_principals(struct line *l)
{
	char *w, *q;

	skip_ws(l);
	if (*l->p != '"') {
		w = l->p + strcspn(l->p, WS);
		if (*w == '\r' && w[strspn(w, WS)] != '\0') {
			LINE_ERR(l, "carriage return in principals");
			return NULL;
		}
		if ((w = next_word(l)) != NULL && strchr(w, '"') != NULL) {
			LINE_ERR(l, "stray quote in principals '%s'", w);
			return NULL;
		}
		return w;
	}
	w = l->p + 1;
	if ((q = strchr(w, '"')) == NULL) {
		LINE_ERR(l, "missing end quote in principals");
		return NULL;
	}
	*q = '\0';
	l->p = q + 1;
	if (strchr(w, '\r') != NULL) {
		LINE_ERR(l, "carriage return in principals");
		return NULL;
	}
	if (*l->p != '\0' && strchr(WS, *l->p) == NULL) {
		LINE_ERR(l, "text after the quoted principals");
		return NULL;
	}
	if (*w == '\0') {
		LINE_ERR(l, "empty principals");
		return NULL;
	}
	return w;
}

/* The options word: up to unquoted whitespace (sshkey_advance_past_options). */
static char *
cut_options(struct line *l)
{
	char *start, *p;
	int quoted = 0;

	skip_ws(l);
	start = p = l->p;
	for (; *p != '\0' && (quoted || strchr(WS, *p) == NULL); p++) {
		if (*p == '\\' && p[1] == '"')
			p++;
		else if (*p == '"')
			quoted = !quoted;
	}
	if (quoted) {
		LINE_ERR(l, "missing end quote in options");
		return NULL;
	}
	l->p = p;
	if (*l->p != '\0')
		*l->p++ = '\0';
	return start;
}

/* A quoted option value; *pp is just past '='.  Returns malloc'd text. */
static char *
opt_dequote(struct line *l, const char *opt, char **pp)
{
	char *p = *pp, *out;
	size_t i = 0;

	if (*p != '"') {
		LINE_ERR(l, "option '%s' needs a quoted value", opt);
		return NULL;
	}
	p++;
	out = xmalloc(strlen(p) + 1);
	while (*p != '\0' && *p != '"') {
		if (p[0] == '\\' && p[1] == '"')
			p++;
		out[i++] = *p++;
	}
	if (*p != '"') {
		free(out);
		LINE_ERR(l, "missing end quote in option '%s'", opt);
		return NULL;
	}
	out[i] = '\0';
	*pp = p + 1;
	return out;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * YYYYMMDD[HHMM[SS]][Z|UTC], local time unless Z or UTC (any case), as
 * ssh-keygen's parse_absolute_time(); seconds up to 61 as its strptime()
 * takes them (60 and 61 roll over into the next minute).
 */
static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	size_t n = strspn(s, "0123456789");
	int utc = 0;
	time_t t;

	if (strcasecmp(s + n, "Z") == 0 || strcasecmp(s + n, "UTC") == 0)
		utc = 1;
	else if (s[n] != '\0')
		return -1;
	if (n != 8 && n != 12 && n != 14)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 4, 2) - 1;
	tm.tm_mday = digits(s + 6, 2);
	if (n >= 12) {
		tm.tm_hour = digits(s + 8, 2);
		tm.tm_min = digits(s + 10, 2);
	}
	if (n == 14)
		tm.tm_sec = digits(s + 12, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 ||
	    tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon + 1) ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 61)
		return -1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t <= 0)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int
opt_time(struct line *l, const char *opt, char **pp,
    int64_t *t)
{
	char *v;
	int r;

	if (*t != 0)
		return LINE_ERR(l, "duplicate option '%s'", opt);
	if ((v = opt_dequote(l, opt, pp)) == NULL)
		return -1;
	r = parse_time(v, t);
	if (r != 0)
		LINE_ERR(l, "invalid time '%s' in option '%s'", v, opt);
	free(v);
	return r;
}

/* Is *pp the option keyword kw (a flag: followed by ',' or the end)? */
static int
opt_is(char **pp, const char *kw, int flag)
{
	size_t n = strlen(kw);

	if (strncasecmp(*pp, kw, n) != 0)
		return 0;
	if (flag && (*pp)[n] != ',' && (*pp)[n] != '\0')
		return 0;
	*pp += n;
	return 1;
}

static int
parse_options(struct line *l, struct signer *sg, char *p)
{
	size_t n;

	for (;;) {
		if (opt_is(&p, "cert-authority", 1)) {
			sg->ca = 1;
		} else if (opt_is(&p, "namespaces=", 0)) {
			if (sg->namespaces != NULL)
				return LINE_ERR(l, "duplicate option "
				    "'namespaces'");
			if ((sg->namespaces = opt_dequote(l, "namespaces",
			    &p)) == NULL)
				return -1;
		} else if (opt_is(&p, "valid-after=", 0)) {
			if (opt_time(l, "valid-after", &p,
			    &sg->valid_after) != 0)
				return -1;
		} else if (opt_is(&p, "valid-before=", 0)) {
			if (opt_time(l, "valid-before", &p,
			    &sg->valid_before) != 0)
				return -1;
		} else {
			n = strcspn(p, ",=");
			return LINE_ERR(l, "unknown option '%.*s'", (int)n, p);
		}
		if (*p == '\0')
			break;
		if (*p != ',')
			return LINE_ERR(l, "unexpected '%c' after option", *p);
		if (*++p == '\0')
			return LINE_ERR(l, "empty option after ','");
	}
	if (sg->valid_after != 0 && sg->valid_before != 0 &&
	    sg->valid_before <= sg->valid_after)
		return LINE_ERR(l, "'valid-before' is not after "
		    "'valid-after'");
	return 0;
}

/*
 * Reads "keytype base64" at the cursor: the blob's type must equal the
 * named one, and supported keys must parse completely.  *blobp is NULL for
 * unsupported key types.
 */
static int
parse_key(struct line *l, unsigned char **blobp, size_t *lenp,
    struct sshsig_key *k)
{
	struct err kerr;
	char *type, *b64;
	unsigned char *blob;
	size_t len = 0, max;

	*blobp = NULL;
	if ((type = next_word(l)) == NULL)
		return LINE_ERR(l, "missing key type");
	if (!sshsig_keytype_known(type))
		return LINE_ERR(l, "unknown key type '%s'", type);
	if ((b64 = next_word(l)) == NULL)
		return LINE_ERR(l, "missing key after '%s'", type);
	max = strlen(b64) / 4 * 3 + 3;
	blob = xmalloc(max);
	if (sodium_base642bin(blob, max, b64, strlen(b64), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(blob);
		return LINE_ERR(l, "invalid base64 in '%s' key", type);
	}
	if (sshsig_key_parse(k, blob, len, &kerr) != 0) {
		free(blob);
		return LINE_ERR(l, "invalid '%s' key: %s", type, kerr.msg);
	}
	if (strcmp(k->type_name, type) != 0) {
		LINE_ERR(l, "key of type '%s' labelled '%s'", k->type_name,
		    type);
		free(blob);
		return -1;
	}
	if (k->type == SSHSIG_KEY_OTHER) {
		free(blob);	/* allowed in the file, never matches */
		return 0;
	}
	*blobp = blob;
	*lenp = len;
	return 0;
}

static void
signer_release(struct signer *sg)
{
	free(sg->principals);
	free(sg->blob);
	free(sg->namespaces);
	memset(sg, 0, sizeof(*sg));
}

static int
is_key_word(const char *p)
{
	char w[64];
	size_t n = strcspn(p, WS);

	if (n >= sizeof(w))
		return 0;
	memcpy(w, p, n);
	w[n] = '\0';
	return sshsig_keytype_known(w);
}

/* principals [options] keytype base64 [comment] */
static int
parse_signer_line(struct signers *s, struct line *l)
{
	struct signer sg;
	struct sshsig_key k;
	char *principals, *opts;
	int r = -1;

	memset(&sg, 0, sizeof(sg));
	sg.line = l->num;
	if ((principals = parse_principals(l)) == NULL)
		goto out;
	sg.principals = xstrdup(principals);
	skip_ws(l);
	if (*l->p == '\0') {
		LINE_ERR(l, "missing key");
		goto out;
	}
	if (!is_key_word(l->p)) {
		if ((opts = cut_options(l)) == NULL ||
		    parse_options(l, &sg, opts) != 0)
			goto out;
	}
	if (parse_key(l, &sg.blob, &sg.blob_len, &k) != 0)
		goto out;
	if (sg.blob != NULL) {
		if (s->n == s->alloc) {
			s->alloc = s->alloc ? s->alloc * 2 : 8;
			s->v = xreallocarray(s->v, s->alloc, sizeof(*s->v));
		}
		s->v[s->n++] = sg;
		memset(&sg, 0, sizeof(sg));	/* transferred */
	}
	r = 0;
 out:
	signer_release(&sg);
	return r;
}

/* keytype base64 [comment] */
static int
parse_revoked_line(struct signers *s, struct line *l)
{
	struct sshsig_key k;
	unsigned char *blob;
	size_t len;

	if (parse_key(l, &blob, &len, &k) != 0)
		return -1;
	if (blob == NULL)
		return 0;
	if (s->nrevoked == s->revoked_alloc) {
		s->revoked_alloc = s->revoked_alloc ? s->revoked_alloc * 2 : 8;
		s->revoked = xreallocarray(s->revoked, s->revoked_alloc,
		    sizeof(*s->revoked));
	}
	memcpy(s->revoked[s->nrevoked++], k.pk, 32);
	free(blob);
	return 0;
}

/* Splits text into lines and hands each non-comment one to fn. */
static int
parse_lines(struct signers *s, const char *name, const char *text,
    size_t len, int (*fn)(struct signers *, struct line *), struct err *e)
{
	struct line l = { name, 0, NULL, e };
	char *copy = NULL;
	const char *p = text, *end = text + len, *nl;
	size_t n;
	int r = -1;

	if (len > MAX_SIGNERS_SIZE) {
		err_set(e, "%s: file of %zu bytes is larger than %d bytes",
		    name, len, MAX_SIGNERS_SIZE);
		goto out;
	}
	copy = xmalloc(len + 1);	/* no line is longer than the file */
	while (p < end) {
		l.num++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL) {
			LINE_ERR(&l, "NUL byte in line");
			goto out;
		}
		memcpy(copy, p, n);
		copy[n] = '\0';
		l.p = copy;
		skip_ws(&l);
		if (*l.p != '\0' && *l.p != '#' && fn(s, &l) != 0)
			goto out;
		p = nl + 1;
	}
	r = 0;
 out:
	free(copy);
	return r;
}

int
signers_parse(struct signers **out, const char *name, const char *text,
    size_t len, struct err *e)
{
	struct signers *s;

	*out = NULL;
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(name);
	if (parse_lines(s, name, text, len, parse_signer_line, e) != 0) {
		signers_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
signers_add_revoked(struct signers *s, const char *name, const char *text,
    size_t len, struct err *e)
{
	if (krl_is(text, len)) {
		if (len > MAX_SIGNERS_SIZE)
			return err_set(e, "%s: file of %zu bytes is larger "
			    "than %d bytes", name, len, MAX_SIGNERS_SIZE);
		return krl_parse(&s->krl, name, text, len, e);
	}
	return parse_lines(s, name, text, len, parse_revoked_line, e);
}

void
signers_free(struct signers *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		signer_release(&s->v[i]);
	free(s->v);
	free(s->revoked);
	krl_release(&s->krl);
	free(s->name);
	free(s);
}

size_t
signers_entries(const struct signers *s)
{
	return s->n;
}

static int is_revoked(const struct signers *, const struct sshsig_key *);

int
signers_key(const struct signers *s, size_t i, const char **principals,
    unsigned char pk[32], char *fpr, size_t fprsz)
{
	struct sshsig_key k;

	if (i >= s->n || s->v[i].ca ||
	    sshsig_key_parse(&k, s->v[i].blob, s->v[i].blob_len, NULL) != 0 ||
	    k.type == SSHSIG_KEY_OTHER || is_revoked(s, &k))
		return -1;
	*principals = s->v[i].principals;
	memcpy(pk, k.pk, 32);
	sshsig_fingerprint(k.blob, k.blob_len, fpr, fprsz);
	return 0;
}

size_t
signers_count(const struct signers *s)
{
	return s == NULL ? 0 : s->n;
}

int
signers_load(struct signers **out, const char *allowed_path,
    const char *revoked_path, struct err *e)
{
	struct buf b = BUF_INIT(MAX_SIGNERS_SIZE);
	struct signers *s = NULL;
	int r = -1;

	*out = NULL;
	if (fs_read_file(allowed_path, MAX_SIGNERS_SIZE, &b, e) != 0 ||
	    signers_parse(&s, allowed_path, buf_str(&b), b.len, e) != 0)
		goto out;
	if (revoked_path != NULL) {
		buf_release(&b);
		if (fs_read_file(revoked_path, MAX_SIGNERS_SIZE, &b, e) != 0 ||
		    signers_add_revoked(s, revoked_path, buf_str(&b), b.len,
		    e) != 0)
			goto out;
	}
	*out = s;
	s = NULL;	/* transferred */
	r = 0;
 out:
	signers_free(s);
	buf_release(&b);
	return r;
}

static int
is_revoked(const struct signers *s, const struct sshsig_key *k)
{
	size_t i;

	for (i = 0; i < s->nrevoked; i++)
		if (sodium_memcmp(s->revoked[i], k->pk, 32) == 0)
			return 1;
	return krl_revokes(&s->krl, k);
}

/* Appends principal p (n bytes) to info->principals, whole or not at all. */
static void
add_principal(struct sig_info *info, const char *p, size_t n)
{
	size_t have = strlen(info->principals);

	if (have + (have > 0) + n >= sizeof(info->principals))
		return;
	if (have > 0)
		info->principals[have++] = ',';
	memcpy(info->principals + have, p, n);
	info->principals[have + n] = '\0';
}

static void
time_str(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "@%lld", (long long)t);
}

/* Why line sg does not permit the key (its status), or SIG_GOOD. */
static enum sig_status
signer_permits(const struct signer *sg, const char *ns, time_t now,
    char *why, size_t whysz)
{
	char t[32];

	if (sg->namespaces != NULL &&
	    sshsig_match_list(ns, sg->namespaces) != 1) {
		snprintf(why, whysz, "is not allowed for namespace '%s' "
		    "(namespaces=\"%s\")", ns, sg->namespaces);
		return SIG_WRONG_NAMESPACE;
	}
	if (sg->valid_after != 0 && (int64_t)now < sg->valid_after) {
		time_str(sg->valid_after, t, sizeof(t));
		snprintf(why, whysz, "is not valid before %s", t);
		return SIG_NOT_YET_VALID;
	}
	if (sg->valid_before != 0 && (int64_t)now > sg->valid_before) {
		time_str(sg->valid_before, t, sizeof(t));
		snprintf(why, whysz, "expired at %s", t);
		return SIG_EXPIRED;
	}
	return SIG_GOOD;
}

static int
same_key(const struct signer *sg, const struct sshsig_key *k)
{
	return !sg->ca && sg->blob_len == k->blob_len &&
	    memcmp(sg->blob, k->blob, k->blob_len) == 0;
}

static int
valid_at(const struct signer *sg, time_t now)
{
	return (sg->valid_after == 0 || (int64_t)now >= sg->valid_after) &&
	    (sg->valid_before == 0 || (int64_t)now <= sg->valid_before);
}

/* Why the key was not accepted: the first refusal seen, and where. */
struct refusal {
	enum sig_status	 st;
	unsigned long	 line;
	char		 why[256];
};

/*
 * ssh-keygen -Y verify -I id: does some line of the key whose patterns
 * match id permit namespace ns at now?  Notes the first refusal in *rf.
 */
static int
verify_as(const struct signers *s, const struct sshsig_key *k,
    const char *id, const char *ns, time_t now, struct refusal *rf)
{
	enum sig_status st;
	char why[sizeof(rf->why)];
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct signer *sg = &s->v[i];

		if (!same_key(sg, k) ||
		    sshsig_match_list(id, sg->principals) != 1)
			continue;
		if ((st = signer_permits(sg, ns, now, why,
		    sizeof(why))) == SIG_GOOD)
			return 1;
		if (rf->line == 0) {
			rf->st = st;
			rf->line = sg->line;
			memcpy(rf->why, why, sizeof(why));
		}
	}
	return 0;
}

/*
 * What git does: the principals of the first line of the key valid at
 * now (ssh-keygen -Y find-principals), one by one up to an empty one,
 * each verified with verify_as().  Fills info->principals with those that
 * verify; 1 when any did.
 */
static int
principals_verify(const struct signers *s, const struct sshsig_key *k,
    const char *ns, time_t now, struct sig_info *info, struct refusal *rf)
{
	const struct signer *first = NULL;
	const char *p, *end;
	char *id;
	size_t i, n;
	int good = 0;

	for (i = 0; i < s->n && first == NULL; i++)
		if (same_key(&s->v[i], k) && valid_at(&s->v[i], now))
			first = &s->v[i];
	if (first == NULL)
		return 0;
	for (p = first->principals; *p != '\0' && *p != ','; p = end) {
		n = strcspn(p, ",");
		end = p[n] == ',' ? p + n + 1 : p + n;
		id = xmalloc(n + 1);
		memcpy(id, p, n);
		id[n] = '\0';
		if (verify_as(s, k, id, ns, now, rf)) {
			add_principal(info, p, n);
			good = 1;
		}
		free(id);
	}
	if (!good && rf->line == 0) {
		rf->st = SIG_UNKNOWN_KEY;
		rf->line = first->line;
		snprintf(rf->why, sizeof(rf->why), "has no principal that "
		    "its lines match ('%.200s')", first->principals);
	}
	return good;
}

/* Why no line of the key is valid at now: the first one's reason. */
static void
first_refusal(const struct signers *s, const struct sshsig_key *k,
    const char *ns, time_t now, struct refusal *rf)
{
	char why[sizeof(rf->why)];
	enum sig_status st;
	size_t i;

	for (i = 0; i < s->n && rf->line == 0; i++) {
		if (!same_key(&s->v[i], k))
			continue;
		if ((st = signer_permits(&s->v[i], ns, now, why,
		    sizeof(why))) != SIG_GOOD) {
			rf->st = st;
			rf->line = s->v[i].line;
			memcpy(rf->why, why, sizeof(why));
		}
	}
}

static unsigned long
ca_line(const struct signers *s, const struct sshsig_key *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ca && s->v[i].blob_len == k->blob_len &&
		    memcmp(s->v[i].blob, k->blob, k->blob_len) == 0)
			return s->v[i].line;
	return 0;
}

int
signers_check(const struct signers *s, const struct sshsig_key *k,
    const char *ns, time_t now, struct sig_info *info, struct err *e)
{
	struct refusal rf;
	unsigned long ca;

	memset(&rf, 0, sizeof(rf));
	info->principals[0] = '\0';
	sshsig_fingerprint(k->blob, k->blob_len, info->fingerprint,
	    sizeof(info->fingerprint));
	if (is_revoked(s, k)) {
		info->status = SIG_REVOKED;
		return err_set(e, "signature by revoked key %s",
		    info->fingerprint);
	}
	if (principals_verify(s, k, ns, now, info, &rf)) {
		info->status = SIG_GOOD;
		return 0;
	}
	info->principals[0] = '\0';
	if (rf.line == 0)
		first_refusal(s, k, ns, now, &rf);
	if (rf.line != 0) {
		info->status = rf.st;
		return err_set(e, "%s:%lu: key %s %s", s->name, rf.line,
		    info->fingerprint, rf.why);
	}
	if ((ca = ca_line(s, k)) != 0) {
		info->status = SIG_CERT_ONLY;
		return err_set(e, "%s:%lu: key %s is only a cert-authority "
		    "and certificates are not supported", s->name, ca,
		    info->fingerprint);
	}
	info->status = SIG_UNKNOWN_KEY;
	return err_set(e, "signature by unknown key %s", info->fingerprint);
}
