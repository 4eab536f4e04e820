/*
 * /etc/nixpull/config.yaml, parsed with libyaml into a plain struct with the
 * defaults filled in.  Durations are kept in milliseconds, sizes in bytes.
 * Strings are malloc'd and owned by the struct; NULL means "not set".
 */
#ifndef NIXPULL_CONFIG_H
#define NIXPULL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "caps.h"
#include "err.h"
#include "reboot_window.h"

#define CONFIG_DEFAULT_PATH	"/etc/nixpull/config.yaml"
#define CONFIG_AUTO		(-1)	/* max_jobs / cores: let the tuner pick */

enum build_profile { PROFILE_WORKSTATION, PROFILE_SERVER };
enum on_battery { ON_BATTERY_DEFER, ON_BATTERY_BUILD };
/* Where the system comes from: the signed manifest (manifest.h) or a build. */
enum build_source { SOURCE_AUTO, SOURCE_BUILD, SOURCE_SUBSTITUTE };
enum build_fallback { FALLBACK_BUILD, FALLBACK_FAIL };
/* build.verify_manifest: eval also evaluates the toplevel and compares. */
enum build_verify { VERIFY_NONE, VERIFY_EVAL };
enum activate_mode { MODE_SWITCH, MODE_BOOT, MODE_TEST, MODE_NONE };
enum reboot_policy { REBOOT_NEVER, REBOOT_WHEN_NEEDED };
enum reboot_users { USERS_WAIT, USERS_IGNORE };
enum reboot_inhibitors { INHIBITORS_RESPECT, INHIBITORS_IGNORE };
enum on_expired { ON_EXPIRED_REFUSE, ON_EXPIRED_WARN };

struct health_check {
	struct strvec	argv;		/* a YAML string split on blanks, or a list */
	uint64_t	timeout_ms;	/* default activate.check_timeout */
};

struct config {
	char		*path;		/* the file it was read from */
	char		*host;		/* default: gethostname() up to the first '.' */
	char		*state_dir;	/* default /var/lib/nixpull */

	struct {
		char		*url;		/* required */
		char		*ref;		/* default "main"; a branch or "refs/..." */
		char		*ssh_key;	/* secret: path only */
		char		*token_file;	/* secret: path only */
		char		*ca_file;
		char		*known_hosts;	/* default: /etc/ssh/ssh_known_hosts + ~root */
		uint64_t	 max_fetch_size;	/* default 512 MiB */
		uint64_t	 connect_timeout_ms;	/* default 30s */
		uint64_t	 timeout_ms;		/* default 10m, whole poll or fetch */
	} repo;

	struct {
		char		*allowed_signers;	/* required */
		char		*revoked_keys;
		unsigned	 max_walk;	/* default 1000 */
		unsigned	 threshold;	/* default 1 */
		uint64_t	 max_age_ms;	/* 0: no freeze detection (default) */
		bool		 follow_repo;	/* rotate by the repository's files */
		char		*repo_allowed_signers;	/* in the tree, default .nixpull/allowed_signers */
		char		*repo_trust_file;	/* in the tree, default .nixpull/trust.yaml */
		enum on_expired	 on_expired;	/* default refuse */
	} trust;

	struct {
		uint64_t	 interval_ms;	/* default 5m */
		uint64_t	 jitter_ms;	/* default 1m */
	} poll;

	struct {
		enum build_profile profile;	/* default workstation */
		int		 max_jobs;	/* CONFIG_AUTO or >= 1 */
		int		 cores;		/* CONFIG_AUTO or >= 0 (0: all) */
		uint64_t	 timeout_ms;	/* default 2h */
		enum on_battery	 on_battery;	/* default defer */
		uint64_t	 mem_per_job;	/* default 2 GiB */
		uint64_t	 min_free_disk;	/* default 5 GiB */
		char		*attribute;	/* default: per OS, see DESIGN.md */
		enum build_source source;	/* default auto */
		enum build_fallback fallback;	/* default build (auto only) */
		enum build_verify verify_manifest;	/* default none */
		char		*manifest;	/* in the tree, default .nixpull/systems.json */
		char		*substituters;	/* NULL: Nix's own */
		char		*trusted_public_keys;	/* NULL: Nix's own */
	} build;

	struct {
		enum activate_mode mode;	/* default switch */
		struct health_check *checks;
		size_t		 nchecks;
		uint64_t	 check_timeout_ms;	/* default 5m */
		bool		 rollback;	/* default true */
		char		*command;	/* default nixos-rebuild / darwin-rebuild */
		char		*current_system;	/* default /run/current-system */
		char		*profile;	/* default /nix/var/nix/profiles/system:
						   what boot mode compares with */
		uint64_t	 timeout_ms;	/* default 1h */
	} activate;

	struct {
		char		*url;		/* NULL: no remote report */
		char		*token_file;	/* secret: path only */
		char		*ca_file;
		char		*prometheus_textfile;
		uint64_t	 timeout_ms;	/* default 30s */
	} report;

	struct {
		char		*user;	/* the fetcher's user; default "nixpull" */
	} privsep;

	struct {
		enum reboot_policy policy;	/* default never: report only */
		struct reboot_window windows[MAX_REBOOT_WINDOWS];
		size_t		 nwindows;	/* 0: any time */
		char		*tz;		/* NULL: the host's zone */
		enum reboot_users users;	/* default: wait on a
						   workstation, else ignore */
		enum reboot_inhibitors inhibitors;	/* default respect */
		uint64_t	 notice_ms;	/* default 5m */
		uint64_t	 max_defer_ms;	/* default 7d, then overdue */
		struct {
			char	*url;		/* NULL: no fleet-wide lock */
			char	*group;		/* default "default" */
			char	*token_file;	/* secret: path only */
			char	*ca_file;
			char	*machine_id;	/* default /etc/machine-id */
			uint64_t timeout_ms;	/* default 30s, per request */
		} fleet_lock;
	} reboot;

	struct {
		char		*plan;	/* in the tree, default .nixpull/rollout.yaml */
		char		*group;	/* this host's group for waves' groups */
	} rollout;
};

/*
 * Loads path into cfg (which it initialises).  On failure returns -1 and
 * appends one "file:line:col: what" line per problem to errors; cfg is then
 * released.  Warnings (e.g. a world-readable secret) go to warnings either
 * way.  A missing file is an error too.  Relative paths in the file are
 * resolved against the file's directory (state_dir must be absolute).  Only
 * config_load looks at the filesystem: secrets (repo.ssh_key,
 * repo.token_file, report.token_file) must be readable regular files, and a
 * warning says when group or others may read them; they are never read.
 */
int	config_load(struct config *cfg, const char *path, struct strvec *errors,
	    struct strvec *warnings);
/* Same, from memory; name is used in messages. */
int	config_parse(struct config *cfg, const char *name, const char *text,
	    size_t len, struct strvec *errors, struct strvec *warnings);
/* Defaults only (no file): what check-config shows for unset keys. */
void	config_defaults(struct config *cfg);
void	config_release(struct config *cfg);
/* The effective config as YAML, defaults filled in; secrets as paths. */
void	config_print(const struct config *cfg, FILE *fp);
/* -c FILE, else $NIXPULL_CONFIG, else CONFIG_DEFAULT_PATH. */
const char *config_path(const char *opt);

const char *config_mode_name(enum activate_mode m);
const char *config_profile_name(enum build_profile p);
const char *config_reboot_policy_name(enum reboot_policy p);

#endif
