/*
 * The FleetLock client: two POSTs with libcurl, bodies built and parsed
 * with jansson, the answer read into a capped buffer, every request
 * bounded by one time-out.  The protocol is Zincati's (docs/development/
 * fleetlock/protocol.md in coreos/zincati); see fleetlock.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "caps.h"
#include "fleetlock.h"
#include "fsutil.h"
#include "secret.h"

/* nixpull's application id for machine-id hashing (random, fixed). */
static const unsigned char app_id[16] = {
	0xa1, 0xf4, 0xc8, 0xe2, 0x7b, 0x9d, 0x4f, 0x36,
	0x85, 0x2e, 0x0c, 0x7d, 0x93, 0xb6, 0xf1, 0x58,
};

char *
fleetlock_url_join(const char *base, const char *rel)
{
	const char *p = strstr(base, "://"), *slash;

	p = p ? p + 3 : base;
	if ((slash = strrchr(p, '/')) == NULL)	/* "http://host:port" */
		return xasprintf("%s/%s", base, rel);
	return xasprintf("%.*s/%s", (int)(slash - base), base, rel);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int
fleetlock_id(const char *machine_id_path, char out[FLEETLOCK_ID_LEN + 1],
    struct err *e)
{
	crypto_auth_hmacsha256_state st;
	unsigned char key[16], mac[crypto_auth_hmacsha256_BYTES];
	struct buf b;
	int r = -1;

	if (fs_read_file(machine_id_path, 4096, &b, e) == -1)
		goto out;
	while (b.len > 0 && (b.data[b.len - 1] == '\n'))
		b.len--;
	if (b.len != 32) {
		err_set(e, "'%s' is no machine id (32 hex digits)",
		    machine_id_path);
		goto out;
	}
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(b.data[2 * i]), lo = hexval(b.data[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			err_set(e, "'%s' is no machine id (32 lowercase hex "
			    "digits)", machine_id_path);
			goto out;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, app_id, sizeof(app_id));
	crypto_auth_hmacsha256_final(&st, mac);
	mac[6] = (mac[6] & 0x0f) | 0x40;	/* a v4 UUID, as systemd */
	mac[8] = (mac[8] & 0x3f) | 0x80;
	sodium_bin2hex(out, FLEETLOCK_ID_LEN + 1, mac, 16);
	r = 0;
 out:
	sodium_memzero(key, sizeof(key));
	buf_release(&b);
	return r;
}

/* s into out, cut to fit, control characters as '?'. */
static void
copy_clean(char *out, size_t outlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	out[i] = '\0';
}

int
fleetlock_parse_error(const char *body, size_t len,
    struct fleetlock_answer *ans)
{
	json_t *j, *kind, *value;
	json_error_t je;
	int r = -1;

	ans->kind[0] = ans->value[0] = '\0';
	if (len > MAX_FLEETLOCK_BODY) {
		copy_clean(ans->value, sizeof(ans->value), "answer too large");
		return -1;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	kind = json_object_get(j, "kind");
	value = json_object_get(j, "value");
	if (json_is_string(kind) && json_is_string(value)) {
		copy_clean(ans->kind, sizeof(ans->kind),
		    json_string_value(kind));
		copy_clean(ans->value, sizeof(ans->value),
		    json_string_value(value));
		r = 0;
	} else
		copy_clean(ans->value, sizeof(ans->value), j == NULL ?
		    "the answer is not JSON" : "the answer has no string "
		    "'kind' and 'value'");
	json_decref(j);
	return r;
}

static size_t
body_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, size * nmemb) == -1)
		return 0;	/* past MAX_FLEETLOCK_BODY: abort */
	return size * nmemb;
}

static char *
request_body(const struct fleetlock_client *c)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "client_params", "id", c->id,
	    "group", c->group);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

/* The headers, with "Authorization: Bearer" from the token file. */
static int
headers(const struct fleetlock_client *c, struct curl_slist **h,
    struct err *e)
{
	struct secret tok;
	char *auth;

	*h = curl_slist_append(NULL, "fleet-lock-protocol: true");
	*h = curl_slist_append(*h, "Content-Type: application/json");
	if (c->token_file == NULL)
		return 0;
	if (secret_read(&tok, "reboot.fleet_lock.token_file", c->token_file,
	    MAX_TOKEN_SIZE, " \t\r\n", e) == -1)
		return -1;
	if (tok.len == 0 || strlen(tok.data) != tok.len ||
	    strpbrk(tok.data, "\r\n") != NULL) {
		secret_release(&tok);
		return err_set(e, "reboot.fleet_lock.token_file '%s': empty, "
		    "or not one line", c->token_file);
	}
	auth = xasprintf("Authorization: Bearer %s", tok.data);
	secret_release(&tok);
	*h = curl_slist_append(*h, auth);
	secret_free(auth);
	return 0;
}

static void
setup(CURL *curl, const struct fleetlock_client *c, const char *url,
    const char *body, struct curl_slist *h, struct buf *out, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "nixpull/" NIXPULL_VERSION);
	if (c->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
}

static int
answer(const char *url, long status, const struct buf *out,
    struct fleetlock_answer *ans, struct err *e)
{
	ans->status = status;
	if (status == 200)
		return 0;
	fleetlock_parse_error(out->data ? out->data : "", out->len, ans);
	if (ans->kind[0] != '\0')
		err_set(e, "fleet lock %s: %ld %s: %s", url, status, ans->kind,
		    ans->value);
	else
		err_set(e, "fleet lock %s: HTTP %ld (%s)", url, status,
		    ans->value);
	return FLEETLOCK_REFUSED;
}

static int
post(const struct fleetlock_client *c, const char *op,
    struct fleetlock_answer *ans, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "", *url, *body = NULL;
	struct buf out = BUF_INIT(MAX_FLEETLOCK_BODY);
	struct curl_slist *h = NULL;
	CURL *curl = NULL;
	CURLcode cc;
	long status = 0;
	int r = -1;

	memset(ans, 0, sizeof(*ans));
	url = fleetlock_url_join(c->url, op);
	if (headers(c, &h, e) == -1)
		goto out;
	if ((body = request_body(c)) == NULL || (curl = curl_easy_init()) ==
	    NULL) {
		err_set(e, "fleet lock %s: out of memory", url);
		goto out;
	}
	setup(curl, c, url, body, h, &out, errbuf);
	if ((cc = curl_easy_perform(curl)) != CURLE_OK) {
		err_set(e, "fleet lock %s: %s", url, errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	r = answer(url, status, &out, ans, e);
 out:
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);	/* curl copied the header: not cleared */
	free(body);
	free(url);
	buf_release(&out);
	return r;
}

int
fleetlock_pre_reboot(const struct fleetlock_client *c,
    struct fleetlock_answer *ans, struct err *e)
{
	return post(c, "v1/pre-reboot", ans, e);
}

int
fleetlock_steady_state(const struct fleetlock_client *c,
    struct fleetlock_answer *ans, struct err *e)
{
	return post(c, "v1/steady-state", ans, e);
}
