/*
 * The repository's trust file (trustfile.h), parsed strictly from the
 * YAML tree yamldoc.c builds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "timeutil.h"
#include "trustfile.h"
#include "yamldoc.h"

enum { F_VERSION = 1, F_THRESHOLD = 2, F_EXPIRES = 4, F_REVOKED = 8 };

static int
at(struct err *e, const char *name, const struct ynode *n, const char *what,
    const char *key)
{
	return err_set(e, "%s:%u:%u: %s '%s'", name, n->start.line,
	    n->start.col, what, key);
}

/* A plain decimal integer in lo..hi. */
static int
get_uint(const char *name, const struct ynode *k, const struct ynode *v,
    uint64_t lo, uint64_t hi, uint64_t *out, struct err *e)
{
	unsigned long long x;
	char *end;

	if (v->type != YNODE_SCALAR || !v->plain || v->len == 0 ||
	    strlen(v->str) != v->len || !isdigit((unsigned char)v->str[0]) ||
	    (v->str[0] == '0' && v->len > 1))
		return at(e, name, v, "expected a decimal integer for",
		    k->str);
	errno = 0;
	x = strtoull(v->str, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return err_set(e, "%s:%u:%u: '%s' must be from %llu to %llu",
		    name, v->start.line, v->start.col, k->str,
		    (unsigned long long)lo, (unsigned long long)hi);
	*out = x;
	return 0;
}

static int
get_expires(const char *name, const struct ynode *k, const struct ynode *v,
    time_t *out, struct err *e)
{
	const char *why = "not a string";

	if (v->type != YNODE_SCALAR || strlen(v->str) != v->len ||
	    time_parse_rfc3339(v->str, out, &why) != 0 || *out <= 0)
		return err_set(e, "%s:%u:%u: '%s' is not an RFC 3339 time "
		    "such as 2027-06-01T00:00:00Z: %s", name, v->start.line,
		    v->start.col, k->str, why);
	return 0;
}

/* "TYPE BASE64 [comment]" into "TYPE BASE64". */
static int
revoked_key(const char *name, const struct ynode *v, char **out,
    struct err *e)
{
	const char *s = v->str, *sp, *b, *end;
	size_t i;

	if (v->type != YNODE_SCALAR || strlen(s) != v->len || v->len == 0)
		return at(e, name, v, "expected a public key in", "revoked");
	for (i = 0; i < v->len; i++)
		if (!isprint((unsigned char)s[i]))
			return at(e, name, v, "unprintable character in",
			    "revoked");
	if ((sp = strchr(s, ' ')) == NULL || sp == s)
		return at(e, name, v, "expected 'TYPE BASE64' in", "revoked");
	b = sp + 1;
	end = b + strcspn(b, " ");
	if (end == b || strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/=") != (size_t)(end - b))
		return at(e, name, v, "expected 'TYPE BASE64' in", "revoked");
	*out = xstrndup(s, (size_t)(end - s));
	return 0;
}

static int
get_revoked(struct trustfile *tf, const char *name, const struct ynode *k,
    const struct ynode *v, struct err *e)
{
	size_t i;

	if (ynode_is_null(v))
		return 0;
	if (v->type != YNODE_SEQ)
		return at(e, name, v, "expected a list for", k->str);
	if (v->n > MAX_TRUST_REVOKED)
		return err_set(e, "%s:%u:%u: more than %d revoked keys", name,
		    v->start.line, v->start.col, MAX_TRUST_REVOKED);
	tf->revoked = xcalloc(v->n + 1, sizeof(*tf->revoked));
	for (i = 0; i < v->n; i++) {
		if (revoked_key(name, v->items[i], &tf->revoked[i], e) != 0)
			return -1;
		tf->nrevoked++;
	}
	return 0;
}

static int
set_field(struct trustfile *tf, const char *name, const struct ynode *k,
    const struct ynode *v, unsigned *seen, struct err *e)
{
	static const char *const names[] = { "version", "threshold",
		"expires", "revoked" };
	uint64_t x = 0;
	unsigned f;

	if (k->type != YNODE_SCALAR)
		return at(e, name, k, "expected a key, not", ynode_kind(k));
	for (f = 0; f < 4; f++)
		if (strcmp(k->str, names[f]) == 0)
			break;
	if (f == 4 || strlen(k->str) != k->len)
		return at(e, name, k, "unknown key", k->str);
	if (*seen & (1u << f))
		return at(e, name, k, "repeated key", k->str);
	*seen |= 1u << f;
	switch (1u << f) {
	case F_VERSION:
		if (get_uint(name, k, v, 1, TRUSTFILE_MAX_VERSION, &x, e) != 0)
			return -1;
		tf->version = x;
		return 0;
	case F_THRESHOLD:
		if (get_uint(name, k, v, 1, 100, &x, e) != 0)
			return -1;
		tf->threshold = (unsigned)x;
		return 0;
	case F_EXPIRES:
		return get_expires(name, k, v, &tf->expires, e);
	default:
		return get_revoked(tf, name, k, v, e);
	}
}

static int
parse_doc(struct trustfile *tf, const char *name, const struct ydoc *doc,
    struct err *e)
{
	const struct ynode *root = doc->root;
	unsigned seen = 0;
	size_t i;

	if (root == NULL || root->type != YNODE_MAP)
		return err_set(e, "%s:%u:%u: expected a mapping with 'version' "
		    "and 'threshold'", name, root ? root->start.line : 1,
		    root ? root->start.col : 1);
	for (i = 0; i + 1 < root->n; i += 2)
		if (set_field(tf, name, root->items[i], root->items[i + 1],
		    &seen, e) != 0)
			return -1;
	if (!(seen & F_VERSION))
		return err_set(e, "%s: missing key 'version'", name);
	if (!(seen & F_THRESHOLD))
		return err_set(e, "%s: missing key 'threshold'", name);
	return 0;
}

int
trustfile_parse(struct trustfile *tf, const char *name, const char *text,
    size_t len, struct err *e)
{
	struct strvec errs = STRVEC_INIT;
	struct ydoc doc;
	int r = -1;

	memset(tf, 0, sizeof(*tf));
	memset(&doc, 0, sizeof(doc));
	if (len > MAX_TRUSTFILE_SIZE) {
		err_set(e, "%s: file of %zu bytes is larger than %d bytes",
		    name, len, MAX_TRUSTFILE_SIZE);
		goto out;
	}
	if (ydoc_parse(&doc, name, text, len, &errs) != 0) {
		err_set(e, "%s", errs.n ? errs.v[0] : "cannot parse");
		goto out;
	}
	r = parse_doc(tf, name, &doc, e);
 out:
	ydoc_release(&doc);
	strvec_clear(&errs);
	if (r != 0)
		trustfile_release(tf);
	return r;
}

void
trustfile_release(struct trustfile *tf)
{
	size_t i;

	for (i = 0; i < tf->nrevoked; i++)
		free(tf->revoked[i]);
	free(tf->revoked);
	memset(tf, 0, sizeof(*tf));
}

char *
trustfile_revoked_text(const struct trustfile *tf, size_t *len)
{
	struct buf b = BUF_INIT(SIZE_MAX / 2);
	size_t i;
	char *s;

	for (i = 0; i < tf->nrevoked; i++)
		buf_addf(&b, "%s\n", tf->revoked[i]);
	if ((s = buf_detach(&b, len)) == NULL) {
		*len = 0;
		s = xstrdup("");
	}
	return s;
}

int
trustfile_revokes(const struct trustfile *tf, const char *key)
{
	size_t i;

	for (i = 0; i < tf->nrevoked; i++)
		if (strcmp(tf->revoked[i], key) == 0)
			return 1;
	return 0;
}
