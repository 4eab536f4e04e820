/*
 * The signed system manifest (manifest.h), parsed strictly with jansson
 * from bytes the fetcher read out of the release's tree.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "jfield.h"
#include "manifest.h"

static const char nix32[] = "0123456789abcdfghijklmnpqrsvwxyz";

#define NIX32_LEN	52	/* digits of a sha256 */
#define MAX_HOST_NAME	253

static int
nix32_decode(const char *s, unsigned char out[MANIFEST_HASH_LEN])
{
	const char *p;
	unsigned b, i, j, d, n;

	if (strlen(s) != NIX32_LEN)
		return -1;
	memset(out, 0, MANIFEST_HASH_LEN);
	for (n = 0; n < NIX32_LEN; n++) {
		if (s[NIX32_LEN - n - 1] == '\0' ||
		    (p = strchr(nix32, s[NIX32_LEN - n - 1])) == NULL)
			return -1;
		d = (unsigned)(p - nix32);
		b = n * 5;
		i = b / 8;
		j = b % 8;
		out[i] |= (unsigned char)(d << j);
		if (i < MANIFEST_HASH_LEN - 1)
			out[i + 1] |= (unsigned char)(d >> (8 - j));
		else if (d >> (8 - j))
			return -1;
	}
	return 0;
}

void
manifest_hash_format(const unsigned char h[MANIFEST_HASH_LEN], char *buf)
{
	unsigned b, i, j, c;
	int n;
	char *q = buf;

	memcpy(q, "sha256:", 7);
	q += 7;
	for (n = NIX32_LEN - 1; n >= 0; n--) {
		b = (unsigned)n * 5;
		i = b / 8;
		j = b % 8;
		c = (unsigned)(h[i] >> j) |
		    (i >= MANIFEST_HASH_LEN - 1 ? 0u : (unsigned)h[i + 1] << (8 - j));
		*q++ = nix32[c & 0x1f];
	}
	*q = '\0';
}

int
manifest_hash_decode(const char *s, unsigned char out[MANIFEST_HASH_LEN])
{
	size_t n = 0, len;
	const char *end = NULL;

	if (strncmp(s, "sha256:", 7) == 0) {
		s += 7;
		len = strlen(s);
		if (len == NIX32_LEN)
			return nix32_decode(s, out);
		if (len != 2 * MANIFEST_HASH_LEN ||
		    sodium_hex2bin(out, MANIFEST_HASH_LEN, s, len, NULL, &n,
		    &end) != 0 || n != MANIFEST_HASH_LEN || *end != '\0')
			return -1;
		return 0;
	}
	if (strncmp(s, "sha256-", 7) != 0)
		return -1;
	s += 7;
	len = strlen(s);
	if (len != 44 || sodium_base642bin(out, MANIFEST_HASH_LEN, s, len,
	    NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != MANIFEST_HASH_LEN || *end != '\0')
		return -1;
	return 0;
}

bool
manifest_store_path_ok(const char *s)
{
	size_t dir = strlen(MANIFEST_STORE_DIR), i, n;

	n = strlen(s);
	if (n <= dir + 33 || n > MAX_STORE_PATH ||
	    strncmp(s, MANIFEST_STORE_DIR, dir) != 0 || s[dir + 32] != '-' ||
	    s[dir + 33] == '.')
		return false;
	for (i = dir; i < dir + 32; i++)
		if (strchr(nix32, s[i]) == NULL || s[i] == '\0')
			return false;
	for (i = dir + 33; i < n; i++)
		if (strchr("+-._?=", s[i]) == NULL &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return false;
	return true;
}

static bool
host_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MAX_HOST_NAME || strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (strchr("-._", s[i]) == NULL &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return false;
	return true;
}

static int
decode_path(const char *s, void *member)
{
	if (!manifest_store_path_ok(s))
		return -1;
	*(char **)member = xstrdup(s);
	return 0;
}

static int
decode_hash(const char *s, void *member)
{
	return manifest_hash_decode(s, member);
}

static json_t *
encode_path(const void *member)
{
	return json_string(*(char *const *)member);
}

static json_t *
encode_hash(const void *member)
{
	char text[MANIFEST_HASH_TEXT];

	manifest_hash_format(member, text);
	return json_string(text);
}

/* An entry (jfield.h): "path" and "narHash" required, "narSize" optional,
 * nothing else. */
static const struct jf_field system_fields[] = {
	{ .key = "path", .type = JF_STRFN, .flags = JF_REQUIRED,
	  .off = offsetof(struct manifest_system, path),
	  .decode = decode_path, .encode = encode_path,
	  .why = "not a store path" },
	{ .key = "narHash", .type = JF_STRFN, .flags = JF_REQUIRED,
	  .off = offsetof(struct manifest_system, nar_hash),
	  .decode = decode_hash, .encode = encode_hash,
	  .why = "not a sha256 hash ('sha256:…' or 'sha256-…')" },
	{ .key = "narSize", .type = JF_U64,
	  .off = offsetof(struct manifest_system, nar_size),
	  .why = "not a size" },
};
static const struct jf_object system_obj = { JF_TABLE(system_fields),
	.closed = true, .missing = "needs 'path' and 'narHash'" };

/* "NAME: systems.'web1'.narSize: not a size" */
static int
entry_err(struct err *e, const char *path, const char *what, void *name)
{
	return err_set(e, "%s: %s: %s", (const char *)name, path, what);
}

static int
parse_system(const char *name, const char *host, json_t *obj,
    struct manifest_system *sys, struct err *e)
{
	char prefix[16 + MAX_HOST_NAME];
	struct jf_read how = { JF_STRICT, prefix, entry_err, (void *)name };

	if (!json_is_object(obj))
		return err_set(e, "%s: systems.'%s': not an object", name, host);
	snprintf(prefix, sizeof(prefix), "systems.'%s'", host);
	return jf_from_json(obj, &system_obj, &how, sys, e);
}

static int
parse_systems(struct manifest *m, const char *name, json_t *obj,
    struct err *e)
{
	struct manifest_system *sys;
	const char *host;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(e, "%s: systems: not an object", name);
	if (json_object_size(obj) > MAX_MANIFEST_SYSTEMS)
		return err_set(e, "%s: systems: more than %d hosts", name,
		    MAX_MANIFEST_SYSTEMS);
	if (json_object_size(obj) > 0 && (m->systems = calloc(
	    json_object_size(obj), sizeof(*m->systems))) == NULL)
		return err_set(e, "%s: out of memory", name);
	json_object_foreach(obj, host, v) {
		if (!host_ok(host, strlen(host)))
			return err_set(e, "%s: systems: '%.64s' is no host name",
			    name, host);
		sys = &m->systems[m->nsystems++];
		if ((sys->host = strdup(host)) == NULL)
			return err_set(e, "%s: out of memory", name);
		if (parse_system(name, host, v, sys, e) == -1)
			return -1;
	}
	return 0;
}

static int
parse_top(struct manifest *m, const char *name, json_t *root, struct err *e)
{
	json_t *ver, *sys;
	const char *k;
	json_t *v;

	if (!json_is_object(root))
		return err_set(e, "%s: not a JSON object", name);
	json_object_foreach(root, k, v)
		if (strcmp(k, "version") != 0 && strcmp(k, "systems") != 0)
			return err_set(e, "%s: unknown key '%.64s'", name, k);
	ver = json_object_get(root, "version");
	if (!json_is_integer(ver) ||
	    json_integer_value(ver) != MANIFEST_VERSION)
		return err_set(e, "%s: version: must be %d", name,
		    MANIFEST_VERSION);
	if ((sys = json_object_get(root, "systems")) == NULL)
		return err_set(e, "%s: no 'systems'", name);
	return parse_systems(m, name, sys, e);
}

int
manifest_parse(struct manifest *m, const char *name, const char *text,
    size_t len, struct err *e)
{
	json_error_t je;
	json_t *root;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > MAX_MANIFEST_SIZE)
		return err_set(e, "%s: larger than %d bytes", name,
		    MAX_MANIFEST_SIZE);
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL)
		return err_set(e, "%s:%d:%d: %s", name, je.line, je.column,
		    je.text);
	r = parse_top(m, name, root, e);
	json_decref(root);
	if (r == -1)
		manifest_release(m);
	return r;
}

void
manifest_release(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsystems; i++) {
		free(m->systems[i].host);
		free(m->systems[i].path);
	}
	free(m->systems);
	memset(m, 0, sizeof(*m));
}

const struct manifest_system *
manifest_find(const struct manifest *m, const char *host)
{
	size_t i;

	for (i = 0; i < m->nsystems; i++)
		if (strcmp(m->systems[i].host, host) == 0)
			return &m->systems[i];
	return NULL;
}

char *
manifest_format(const struct manifest *m)
{
	json_t *root = json_object(), *systems = json_object();
	char *text, *body;

	json_object_set_new(root, "version",
	    json_integer(MANIFEST_VERSION));
	for (size_t i = 0; i < m->nsystems; i++)
		json_object_set_new(systems, m->systems[i].host,
		    jf_to_json(&system_obj, &m->systems[i]));
	json_object_set_new(root, "systems", systems);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL)
		return NULL;
	body = xasprintf("%s\n", text);
	free(text);
	return body;
}
