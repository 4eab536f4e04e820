/*
 * A FleetLock client (the reboot lock protocol of Fedora CoreOS' Zincati,
 * served by coreos/airlock, poseidon/fleetlock and others): at most N hosts
 * of a group reboot at once.
 *
 *   POST {base}v1/pre-reboot	take (or keep: locks are recursive) a slot
 *   POST {base}v1/steady-state	give it back (a no-op when not held)
 *
 * with the header "fleet-lock-protocol: true" and the body
 * {"client_params":{"id":ID,"group":GROUP}}.  HTTP 200 is success; any
 * other answer is a refusal whose body should be {"kind":..,"value":..}.
 * The base URL is joined like a URL (RFC 3986): keep its trailing slash.
 */
#ifndef NIXPULL_FLEETLOCK_H
#define NIXPULL_FLEETLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FLEETLOCK_ID_LEN	32	/* hex characters of a client id */
#define FLEETLOCK_REFUSED	(-2)	/* the server answered, not 200 */

struct fleetlock_client {
	const char	*url;		/* the base URL */
	const char	*group;
	const char	*id;
	const char	*token_file;	/* NULL: no Authorization header */
	const char	*ca_file;	/* NULL: the system's */
	uint64_t	 timeout_ms;	/* the whole request */
};

/* The server's refusal: status and its {"kind","value"}, or "" each. */
struct fleetlock_answer {
	long		 status;	/* HTTP status, 0 when none came */
	char		 kind[128];
	char		 value[512];
};

/*
 * Each sends one request.  0 on HTTP 200; FLEETLOCK_REFUSED when the
 * server said anything else (ans filled, e says "fleet lock URL: 409
 * failed_lock_semaphore_full: ..."); -1 when it could not be asked at all
 * (down, time-out, a bad token file), e saying why.
 */
int	fleetlock_pre_reboot(const struct fleetlock_client *c,
	    struct fleetlock_answer *ans, struct err *e);
int	fleetlock_steady_state(const struct fleetlock_client *c,
	    struct fleetlock_answer *ans, struct err *e);

/*
 * A refusal's body (untrusted, at most MAX_FLEETLOCK_BODY bytes) into
 * ans->kind / ans->value, cut to fit, control characters as '?'.  -1 when
 * it is no {"kind": string, "value": string} object (ans then says so).
 */
int	fleetlock_parse_error(const char *body, size_t len,
	    struct fleetlock_answer *ans);

/* base joined with rel like a URL: "http://h/a/" + "v1/x" is
 * "http://h/a/v1/x", "http://h/a" + "v1/x" is "http://h/v1/x". */
char   *fleetlock_url_join(const char *base, const char *rel);

/*
 * The client id: an app-specific hash of /etc/machine-id (as systemd's
 * sd_id128_get_machine_app_specific: HMAC-SHA256 keyed by the machine id
 * over nixpull's application id, cut to 128 bits, marked as a v4 UUID),
 * never the machine id itself.  32 lowercase hex characters and a NUL.
 */
int	fleetlock_id(const char *machine_id_path,
	    char out[FLEETLOCK_ID_LEN + 1], struct err *e);

#endif
