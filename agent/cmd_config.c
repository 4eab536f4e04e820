/* nixpull check-config: validate and print the effective configuration. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"

int
cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct config cfg;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'q':
			cmd_verbosity(-1);
			break;
		case 'v':
			cmd_verbosity(1);
			break;
		case 'h':
			cmd_usage(argv[0], 0);
			return EXIT_OK;
		default:
			cmd_usage(argv[0], 1);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nixpull check-config: unexpected argument "
		    "'%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((r = cmd_load_config(&cfg, path)) != EXIT_OK)
		return r;
	config_print(&cfg, stdout);
	config_release(&cfg);
	return EXIT_OK;
}
