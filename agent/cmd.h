/*
 * The subcommands.  Each takes argc/argv starting at its own name, parses its
 * own options (getopt_long) and returns the process exit status; only main.c
 * calls exit().
 */
#ifndef NIXPULL_CMD_H
#define NIXPULL_CMD_H

/* Exit statuses (sysexits(3) where one fits). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* the cycle or the check failed */
	EXIT_USAGE = 2,
	EXIT_UNAVAILABLE = 69,	/* EX_UNAVAILABLE: another agent holds the lock */
	EXIT_SOFTWARE = 70,	/* EX_SOFTWARE: not implemented yet */
	EXIT_CONFIG = 78,	/* EX_CONFIG */
};

struct cmd {
	const char	*name;
	const char	*synopsis;	/* after "nixpull NAME " */
	const char	*summary;
	const char	*options;	/* the command's own options, for --help */
	int		(*fn)(int argc, char **argv);
};

/* Loads the config named by -c / $NIXPULL_CONFIG, printing errors and
 * warnings; returns 0 or EXIT_CONFIG. */
struct config;
int	cmd_load_config(struct config *cfg, const char *opt_path);
/* Prints "usage: nixpull NAME SYNOPSIS" and the summary to fp. */
void	cmd_usage(const char *name, int to_stderr);
/* "nixpull NAME: " and the message on stderr, then the usage:
 * EXIT_USAGE. */
int	cmd_usage_error(const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* -v/-q handling shared by every subcommand. */
void	cmd_verbosity(int delta);

/* The options every subcommand takes, for its getopt_long tables. */
#define CMD_COMMON_SHORT	"c:qvh"
#define CMD_COMMON_LONG						\
	{ "config", required_argument, NULL, 'c' },		\
	{ "quiet", no_argument, NULL, 'q' },			\
	{ "verbose", no_argument, NULL, 'v' },			\
	{ "help", no_argument, NULL, 'h' }
#define CMD_CONTINUE	(-1)
/*
 * The getopt_long result ch of one of those (or an unknown option) for the
 * subcommand name: -c sets *config (when config is not NULL), -q/-v the
 * verbosity; -h prints the help.  CMD_CONTINUE to go on, else the exit
 * status to return.
 */
int	cmd_common_opt(int ch, const char *name, const char **config);
/* After the options: EXIT_OK when nothing is left, else EXIT_USAGE with
 * "nixpull NAME: unexpected argument 'X'". */
int	cmd_no_args(int argc, char **argv);

int	cmd_run(int argc, char **argv);
int	cmd_once(int argc, char **argv);
int	cmd_check_config(int argc, char **argv);
int	cmd_verify(int argc, char **argv);
int	cmd_trust(int argc, char **argv);
int	cmd_status(int argc, char **argv);
int	cmd_fleet(int argc, char **argv);
int	cmd_manifest(int argc, char **argv);

#endif
