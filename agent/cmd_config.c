/* nixpull check-config: validate and print the effective configuration. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"

int
cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct config cfg;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT, opts,
	    NULL)) != -1)
		if ((r = cmd_common_opt(ch, argv[0], &path)) != CMD_CONTINUE)
			return r;
	if ((r = cmd_no_args(argc, argv)) != EXIT_OK)
		return r;
	if ((r = cmd_load_config(&cfg, path)) != EXIT_OK)
		return r;
	config_print(&cfg, stdout);
	config_release(&cfg);
	return EXIT_OK;
}
