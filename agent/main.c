/*
 * nixpull: a pull-based deployment agent for NixOS and nix-darwin.
 * This file only dispatches to the subcommands and decides the exit status.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "log.h"

#define OPT_CONFIG \
	"  -c, --config FILE  config file (default $NIXPULL_CONFIG or " \
	CONFIG_DEFAULT_PATH ")\n"

static const struct cmd cmds[] = {
	{ "run", "[-c config] [-v|-q]",
	  "the daemon: poll, deploy what is signed, report; repeat",
	  OPT_CONFIG
	  "  signals: SIGHUP reloads the config and polls, SIGUSR1 polls,\n"
	  "           SIGTERM/SIGINT stop after the current step\n",
	  cmd_run },
	{ "once", "[-c config] [-v|-q]",
	  "one cycle; exit 0 when the host runs the newest signed revision",
	  OPT_CONFIG, cmd_once },
	{ "check-config", "[-c config]",
	  "validate and print the effective configuration",
	  OPT_CONFIG, cmd_check_config },
	{ "verify",
	  "[-c config] [--repo PATH] [--allowed-signers FILE] "
	  "[--revoked-keys FILE] REV",
	  "which key signed REV, and would it be deployed",
	  OPT_CONFIG
	  "  --repo PATH             repository holding REV (default: the "
	  "agent's mirror)\n"
	  "  --allowed-signers FILE  instead of trust.allowed_signers\n"
	  "  --revoked-keys FILE     instead of trust.revoked_keys\n"
	  "  with --repo and --allowed-signers no config file is read;\n"
	  "  exit 0 when REV carries a valid trusted signature, 1 when not\n",
	  cmd_verify },
	{ "trust",
	  "check [-c config] [--repo DIR] [--allowed-signers FILE] [REV]",
	  "is a prepared trust rotation at REV signed well enough; who "
	  "still signs",
	  OPT_CONFIG
	  "  --repo DIR              repository holding REV (default: the "
	  "current directory)\n"
	  "  --allowed-signers FILE  the pinned root instead of "
	  "trust.allowed_signers;\n"
	  "                          no config file is read\n"
	  "  REV defaults to HEAD; exit 0 when REV would be accepted, 1 when "
	  "not,\n"
	  "  78 when a config or trust file is malformed\n",
	  cmd_trust },
	{ "status", "[-c config] [--json]",
	  "this host's last status",
	  OPT_CONFIG
	  "  --json             the raw status document\n",
	  cmd_status },
	{ "fleet", "DIR|URL [--json] [--rollout] [--stale DURATION] "
	  "[--token-file FILE] [--ca-file FILE]",
	  "a table of every host's status file",
	  "  --json             the merged documents, keyed by host\n"
	  "  --rollout          only the newest release's rollout, wave by "
	  "wave\n"
	  "  --stale DURATION   a host not heard from for this long is stale "
	  "(1h)\n"
	  "  --token-file FILE  credentials for an http(s) URL\n"
	  "  --ca-file FILE     CA bundle for an https URL\n"
	  "  exit 1 when a host is failed, rejected, rolled back, stale or "
	  "malformed\n",
	  cmd_fleet },
	{ "manifest", "[-c config] [--repo DIR] (--hosts H1,H2|--all) "
	  "[--copy-to CACHE_URL] [-o FILE]",
	  "build every host's system and write the system manifest to sign",
	  OPT_CONFIG
	  "  --repo DIR         the flake's work tree (default: the current "
	  "directory)\n"
	  "  --hosts H1,H2      these hosts (nixosConfigurations, else "
	  "darwinConfigurations)\n"
	  "  --all              every host of the flake\n"
	  "  --copy-to URL      then copy the closures there (nix copy --to)\n"
	  "  -o, --output FILE  where to write it (default: DIR/"
	  "build.manifest,\n"
	  "                     .nixpull/systems.json; - for stdout)\n"
	  "  the config (optional) only tunes the build; exit 0 when written,\n"
	  "  1 when a build, a copy or a host failed\n",
	  cmd_manifest },
};

static const struct cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

void
cmd_usage(const char *name, int to_stderr)
{
	FILE *fp = to_stderr ? stderr : stdout;
	const struct cmd *c = cmd_find(name);

	if (c == NULL)
		return;
	fprintf(fp, "usage: nixpull %s %s\n\n  %s\n\n%s", c->name,
	    c->synopsis, c->summary, c->options);
	fprintf(fp, "  -v, --verbose      more output\n"
	    "  -q, --quiet        errors only\n"
	    "  -h, --help         this help\n");
}

int
cmd_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nixpull %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_usage(name, 1);
	return EXIT_USAGE;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: nixpull [--version] [--help] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\n'nixpull COMMAND --help' for a command's options.\n"
	    "Exit status: 0 ok, 1 failed, 2 usage, 69 locked, "
	    "78 config error.\n");
}

int
cmd_common_opt(int ch, const char *name, const char **config)
{
	switch (ch) {
	case 'c':
		if (config == NULL)
			break;
		*config = optarg;
		return CMD_CONTINUE;
	case 'q':
		cmd_verbosity(-1);
		return CMD_CONTINUE;
	case 'v':
		cmd_verbosity(1);
		return CMD_CONTINUE;
	case 'h':
		cmd_usage(name, 0);
		return EXIT_OK;
	}
	cmd_usage(name, 1);
	return EXIT_USAGE;
}

int
cmd_no_args(int argc, char **argv)
{
	if (optind == argc)
		return EXIT_OK;
	fprintf(stderr, "nixpull %s: unexpected argument '%s'\n", argv[0],
	    argv[optind]);
	return EXIT_USAGE;
}

void
cmd_verbosity(int delta)
{
	int level = log_getlevel() + delta;

	if (level < LOG_LVL_QUIET)
		level = LOG_LVL_QUIET;
	log_setlevel(level);
}

int
cmd_load_config(struct config *cfg, const char *opt_path)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	const char *path = config_path(opt_path);
	int r;

	r = config_load(cfg, path, &errors, &warnings);
	for (size_t i = 0; i < warnings.n; i++)
		log_warnx("%s", warnings.v[i]);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "%s\n", errors.v[i]);
	strvec_clear(&errors);
	strvec_clear(&warnings);
	return r == 0 ? EXIT_OK : EXIT_CONFIG;
}

int
main(int argc, char **argv)
{
	const struct cmd *c;

	log_init("nixpull", LOG_LVL_INFO);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("nixpull %s\n", NIXPULL_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && cmd_find(argv[2])) {
			cmd_usage(argv[2], 0);
			return EXIT_OK;
		}
		usage(stdout);
		return EXIT_OK;
	}
	if ((c = cmd_find(argv[1])) == NULL) {
		fprintf(stderr, "nixpull: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
