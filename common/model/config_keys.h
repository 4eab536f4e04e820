/*
 * Internal to config*.c: the table of config.yaml keys (config_keys.c),
 * which drives parsing (config.c), printing (config_print.c) and releasing.
 */
#ifndef NIXPULL_CONFIG_KEYS_H
#define NIXPULL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum ktype {
	K_SECTION, K_STR, K_PATH, K_ABSPATH, K_SECRET, K_REPO_URL,
	K_REPORT_URL, K_HOST, K_DURATION, K_SIZE, K_UINT, K_JOBS, K_BOOL,
	K_ENUM, K_CHECKS, K_WINDOWS, K_TZ, K_LOCK_URL, K_LOCK_GROUP,
	K_TREE_PATH,	/* a relative path inside the repository's tree */
};

#define KF_REQUIRED	0x1	/* must be set */
#define KF_NULLABLE	0x2	/* null means unset */
#define KF_NONZERO	0x4	/* durations and sizes: not 0 */

struct key {
	const char	*section;	/* NULL: top level */
	const char	*name;
	enum ktype	 type;
	size_t		 off;		/* into struct config */
	unsigned	 flags;
	long long	 min, max;	/* K_UINT, K_JOBS */
	const char *const *names;	/* K_ENUM, indexed by value */
};

#define CONFIG_NKEYS	75	/* entries in config_keys[], sections included */

extern const struct key config_keys[];

/* Whether the key holds a malloc'd string (freed by config_release). */
bool	config_key_is_string(const struct key *k);
/* "section.name", or "name" at the top level. */
void	config_key_fullname(const struct key *k, char *out, size_t outlen);
/* The index of section.name (section NULL: top level), or CONFIG_NKEYS. */
size_t	config_key_index(const char *section, const char *name);
/* The closest of names to s, if close enough to be a typo; else NULL. */
const char *config_suggest(const char *s, const char *const *names, size_t n);
/* " (did you mean 'x'?)" for an unknown key s in section, or "". */
void	config_key_hint(const char *section, const char *s, char *out,
	    size_t outlen);

#endif
