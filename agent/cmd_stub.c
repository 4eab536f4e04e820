/*
 * Subcommands whose issues have not landed yet.  Each is replaced by its real
 * implementation in its own file (daemon.c, cycle.c, verify.c, statuscmd.c,
 * fleet.c); until then it says so and exits 70 (EX_SOFTWARE).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int
not_yet(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cmd_usage(argv[0], 0);
			return EXIT_OK;
		}
	}
	fprintf(stderr, "nixpull %s: not implemented yet\n", argv[0]);
	return EXIT_SOFTWARE;
}

int cmd_run(int argc, char **argv) { return not_yet(argc, argv); }
int cmd_once(int argc, char **argv) { return not_yet(argc, argv); }
