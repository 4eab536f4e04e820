/*
 * fleetlock: the FleetLock client's pure parts: a refusal's body (the
 * untrusted {"kind","value"} a server answers; cleaned, cut to fit,
 * bounded), the URL join, and the client id (an app-specific HMAC of the
 * machine id, as systemd's sd_id128_get_machine_app_specific; the vector
 * below was computed with Python's hmac from the same application id).
 * The requests themselves are tested against a server in t0800/t0811.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "caps.h"
#include "fleetlock.h"
#include "t.h"

static int
parse(const char *body, struct fleetlock_answer *ans)
{
	memset(ans, 0x55, sizeof(*ans));
	return fleetlock_parse_error(body, strlen(body), ans);
}

static void
test_answers(void)
{
	struct fleetlock_answer a;
	char big[sizeof(a.value) + 100], *huge;
	size_t n;

	T_EQ_INT(parse("{\"kind\":\"failed_lock_semaphore_full\","
	    "\"value\":\"semaphore is full\"}", &a), 0);
	T_EQ_STR(a.kind, "failed_lock_semaphore_full");
	T_EQ_STR(a.value, "semaphore is full");
	/* more fields are fine */
	T_EQ_INT(parse("{\"kind\":\"k\",\"value\":\"v\",\"x\":1}", &a), 0);
	T_EQ_STR(a.kind, "k");
	/* not JSON, no object, wrong types, one missing: -1, saying so */
	T_EQ_INT(parse("<html>502 Bad Gateway</html>", &a), -1);
	T_EQ_STR(a.kind, "");
	T_EQ_STR(a.value, "the answer is not JSON");
	T_EQ_INT(parse("", &a), -1);
	T_EQ_STR(a.value, "the answer is not JSON");
	T_EQ_INT(parse("[\"kind\",\"value\"]", &a), -1);
	T_EQ_STR(a.value, "the answer has no string 'kind' and 'value'");
	T_EQ_INT(parse("{\"kind\":1,\"value\":\"v\"}", &a), -1);
	T_EQ_STR(a.kind, "");
	T_EQ_INT(parse("{\"kind\":\"k\"}", &a), -1);
	T_EQ_INT(parse("{\"kind\":\"k\",\"value\":null}", &a), -1);
	/* a duplicate key is refused, not resolved either way */
	T_EQ_INT(parse("{\"kind\":\"a\",\"kind\":\"b\",\"value\":\"v\"}", &a),
	    -1);
	/* control characters never reach a terminal or the status */
	T_EQ_INT(parse("{\"kind\":\"a\\u001b[31mb\",\"value\":\"l1\\nl2\\t\"}",
	    &a), 0);
	T_EQ_STR(a.kind, "a?[31mb");
	T_EQ_STR(a.value, "l1?l2?");
	/* cut to fit, NUL-terminated */
	memset(big, 'x', sizeof(big));
	n = (size_t)snprintf(big, sizeof(big), "{\"kind\":\"k\",\"value\":\"");
	memset(big + n, 'v', sizeof(big) - n - 3);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	T_EQ_INT(parse(big, &a), 0);
	T_EQ_INT((int)strlen(a.value), (int)sizeof(a.value) - 1);
	/* over MAX_FLEETLOCK_BODY: never parsed */
	huge = malloc(MAX_FLEETLOCK_BODY + 2);
	memset(huge, ' ', MAX_FLEETLOCK_BODY + 1);
	memcpy(huge, "{\"kind\":\"k\",\"value\":\"v\"}", 23);
	huge[MAX_FLEETLOCK_BODY + 1] = '\0';
	T_EQ_INT(parse(huge, &a), -1);
	T_EQ_STR(a.value, "answer too large");
	free(huge);
}

static void
test_join(void)
{
	static const char *const cases[][3] = {
		{ "http://h/a/", "v1/pre-reboot", "http://h/a/v1/pre-reboot" },
		{ "http://h/a", "v1/pre-reboot", "http://h/v1/pre-reboot" },
		{ "http://h/", "v1/steady-state", "http://h/v1/steady-state" },
		{ "https://lock.example.com:8443/fleet/",
		    "v1/pre-reboot",
		    "https://lock.example.com:8443/fleet/v1/pre-reboot" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = fleetlock_url_join(cases[i][0], cases[i][1]);

		T_EQ_STR(u, cases[i][2]);
		free(u);
	}
}

static int
id_of(const char *text, char out[FLEETLOCK_ID_LEN + 1], struct err *e)
{
	char path[] = "/tmp/test_fleetlock.XXXXXX";
	int fd = mkstemp(path), r;

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		T_FAIL("cannot write %s", path);
	if (fd != -1)
		close(fd);
	r = fleetlock_id(path, out, e);
	unlink(path);
	return r;
}

static void
test_id(void)
{
	char id[FLEETLOCK_ID_LEN + 1], other[FLEETLOCK_ID_LEN + 1];
	struct err e;

	T_EQ_INT(id_of("0123456789abcdef0123456789abcdef\n", id, &e), 0);
	T_EQ_STR(id, "aed0aef3439b4ec789695283fc0c15bd");
	/* never the machine id itself; another machine, another id */
	T_OK(strcmp(id, "0123456789abcdef0123456789abcdef") != 0);
	T_EQ_INT(id_of("0123456789abcdef0123456789abcdee", other, &e), 0);
	T_OK(strcmp(id, other) != 0);
	/* not a machine id: refused, naming the file */
	T_EQ_INT(id_of("0123456789ABCDEF0123456789ABCDEF\n", id, &e), -1);
	T_CONTAINS(e.msg, "is no machine id");
	T_EQ_INT(id_of("0123\n", id, &e), -1);
	T_CONTAINS(e.msg, "is no machine id");
	T_EQ_INT(fleetlock_id("/nonexistent/machine-id", id, &e), -1);
	T_CONTAINS(e.msg, "/nonexistent/machine-id");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_answers();
	test_join();
	test_id();
	return T_DONE();
}
