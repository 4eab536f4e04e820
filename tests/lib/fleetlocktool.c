/*
 * fleetlocktool URL GROUP MACHINE_ID_FILE pre-reboot|steady-state TIMEOUT_MS
 * One FleetLock request with the agent's client (common/transport/
 * fleetlock.c).  Prints "ok", "refused STATUS KIND VALUE" or "error MSG";
 * exits 0, 2 or 1.  "fleetlocktool id MACHINE_ID_FILE" prints the id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetlock.h"

int
main(int argc, char **argv)
{
	struct fleetlock_client c;
	struct fleetlock_answer ans;
	char id[FLEETLOCK_ID_LEN + 1];
	struct err e;
	int r;

	if (argc == 3 && strcmp(argv[1], "id") == 0) {
		if (fleetlock_id(argv[2], id, &e) == -1) {
			printf("error %s\n", e.msg);
			return 1;
		}
		printf("%s\n", id);
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: fleetlocktool URL GROUP MACHINE_ID "
		    "pre-reboot|steady-state TIMEOUT_MS\n");
		return 1;
	}
	if (fleetlock_id(argv[3], id, &e) == -1) {
		printf("error %s\n", e.msg);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.url = argv[1];
	c.group = argv[2];
	c.id = id;
	c.timeout_ms = strtoull(argv[5], NULL, 10);
	r = strcmp(argv[4], "pre-reboot") == 0 ?
	    fleetlock_pre_reboot(&c, &ans, &e) :
	    fleetlock_steady_state(&c, &ans, &e);
	if (r == 0)
		printf("ok\n");
	else if (r == FLEETLOCK_REFUSED)
		printf("refused %ld %s %s\n", ans.status, ans.kind, ans.value);
	else
		printf("error %s\n", e.msg);
	return r == 0 ? 0 : r == FLEETLOCK_REFUSED ? 2 : 1;
}
