/*
 * Internal to config*.c: the state of one parse of config.yaml and the
 * helpers that report into it.  config.c walks the tree and owns the
 * messages, config_set.c stores one value per key type, config_checks.c
 * parses activate.checks.
 */
#ifndef NIXPULL_CONFIG_INT_H
#define NIXPULL_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "config.h"
#include "config_keys.h"
#include "yamldoc.h"

struct cparse {
	struct config	*cfg;
	const char	*name;		/* for messages */
	char		*basedir;	/* for relative paths */
	bool		 check_files;	/* config_load: look at secrets */
	struct strvec	*errors;
	struct strvec	*warnings;
	size_t		 nerrors;
	const struct ynode *seen[CONFIG_NKEYS];	/* a key's first key node */
	const struct ynode *value[CONFIG_NKEYS];	/* and its value */
};

/* config.c */
/* "NAME:LINE:COL: msg" into c->errors, at most MAX_CONFIG_ERRORS of them. */
void	cerr(struct cparse *c, struct ymark m, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* "NAME:LINE:COL: msg" into c->warnings. */
void	cwarn(struct cparse *c, struct ymark m, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * s as it may appear in a message: control characters and quotes as \xNN,
 * cut with "..." on a character boundary when it does not fit in out.
 */
const char *shown(const char *s, size_t len, char *out, size_t outlen);
/* Whether key node kn is a string without NULs (else an error). */
bool	cparse_key_ok(struct cparse *c, const struct ynode *kn);

/* config_set.c */
/* Stores value v of key k (named full) into c->cfg, or reports why not. */
void	config_set(struct cparse *c, const char *full, const struct key *k,
	    const struct ynode *v);
/* "'full' must be what, not KIND" at v. */
void	cparse_type_error(struct cparse *c, const char *full,
	    const char *what, const struct ynode *v);
/* Whether v is not empty and holds no control characters (else an error). */
bool	cparse_string_ok(struct cparse *c, const char *full,
	    const struct ynode *v);
/* A duration for full at v into *ms; -1 when it is not one (reported). */
int	cparse_duration(struct cparse *c, const char *full,
	    const struct ynode *v, bool nonzero, uint64_t *ms);
/* Why h is no host name, or NULL. */
const char *config_host_invalid(const char *h);

/* config_reboot.c */
/* reboot.windows: a list of {days, start, length} mappings. */
void	config_set_windows(struct cparse *c, const char *full,
	    const struct key *k, const struct ynode *v);
/* After the walk: reboot.users defaults to ignore on a server. */
void	config_reboot_finish(struct cparse *c);
/* reboot.windows as config_set_windows() reads it back. */
void	config_print_windows(FILE *fp, const struct config *cfg);

/* config_checks.c */
/* activate.checks: a list of commands or {command, timeout} mappings. */
void	config_set_checks(struct cparse *c, const char *full,
	    const struct key *k, const struct ynode *v);

#endif
