/* Size limits, in one place.  Untrusted input never grows past these. */
#ifndef NIXPULL_CAPS_H
#define NIXPULL_CAPS_H

#define MAX_CONFIG_SIZE		(1024 * 1024)	/* config.yaml */
#define MAX_CONFIG_DEPTH	8		/* YAML nesting */
#define MAX_HEALTH_CHECKS	32
#define MAX_ARGV		64		/* words in one health check */
#define MAX_ERROR		1024		/* one error message */
#define MAX_CONFIG_NODES	20000		/* YAML nodes in config.yaml */
#define MAX_CONFIG_ERRORS	50		/* errors reported per config file */
#define MAX_DURATION_MS		(3650ULL * 86400 * 1000) /* 10 years */

#define MAX_SIGNERS_SIZE	(4 * 1024 * 1024) /* allowed_signers file */
#define MAX_ARMOR_SIZE		(64 * 1024)	/* armored SSH signature */
#define MAX_SIG_BLOB		(48 * 1024)	/* decoded SSHSIG blob */
#define MAX_OBJECT_SIZE		(16 * 1024 * 1024) /* commit object */
#define MAX_TAG_OBJECT_SIZE	(256 * 1024)	/* tag object considered (read once) */
#define MAX_TAG_NAME		1024		/* "tag" header of a tag object */
#define MAX_TAGS		10000		/* tag refs looked at in one selection */
#define MAX_SELECT_SECONDS	120		/* one release selection */
#define MAX_SELECT_KEYS		100		/* distinct keys remembered at one commit (trust.threshold's max) */
#define MAX_TRUSTFILE_SIZE	(64 * 1024)	/* .nixpull/trust.yaml */
#define MAX_TRUST_REVOKED	1000		/* revoked keys in trust.yaml */
#define MAX_TRUST_CHAIN_TEXT	8192		/* the chain as text in FM_SELECTED */

#define MAX_LOG_TAIL		4096		/* tail of a child's output */
#define MAX_HELP_OUTPUT		(1024 * 1024)	/* `nixos-rebuild --help` (a man page) */
#define MAX_STATUS_SIZE		(1024 * 1024)	/* one status document */
#define MAX_STATUS_HISTORY	50		/* attempts kept in history/ */
#define MAX_REPORT_TRIES	5		/* one report_put, retries included */
#define MAX_TOKEN_SIZE		4096		/* report.token_file */
#define MAX_SSH_KEY_SIZE	(64 << 10)	/* repo.ssh_key and its .pub */
#define MAX_FLEET_FILES		100000		/* status files in one fleet view */
#define MAX_LISTING_SIZE	(64 * 1024 * 1024) /* autoindex / PROPFIND body */

#define MAX_PLATFORM_FILE	(64 * 1024)	/* a /proc or /sys file, a probe's output */
#define MAX_CPU_INDEX		65535		/* highest CPU number believed */
#define MAX_POWER_SUPPLIES	64		/* entries of /sys/class/power_supply */
#define MAX_TREE_DEPTH		128		/* directory levels fs_remove_tree descends */
#define MAX_KNOWN_HOSTS_LINES	100000		/* lines read from one known_hosts file */
#define MAX_KNOWN_HOSTS_SIZE	(16 << 20)	/* bytes of one known_hosts file */
#define MAX_MSG_SIZE		(128 << 10)	/* one agent <-> fetcher message, header included */
#define MAX_MSG_FIELDS		64		/* fields in one message */

#define MAX_REBOOT_WINDOWS	16		/* reboot.windows entries */
#define MAX_FLEETLOCK_BODY	(64 * 1024)	/* one FleetLock answer */
#define MAX_LOGIND_OUTPUT	(1024 * 1024)	/* loginctl / busctl listing */
#define MAX_SWITCH_INHIBITORS	(64 * 1024)	/* a system's switch-inhibitors file */

#define MAX_ROLLOUT_SIZE	(32 * 1024)	/* .nixpull/rollout.yaml (sent in FM_SELECTED) */
#define MAX_ROLLOUT_WAVES	64		/* waves in one plan */
#define MAX_ROLLOUT_NAMES	1000		/* hosts or groups listed in one wave */
#define MAX_ROLLOUT_NAME	253		/* one host name, glob, group or wave name */
#define MAX_ROLLOUT_FLEET_SECONDS 60		/* reading the fleet's status to halt */
#define MAX_ROLLOUT_FLEET_SIZE	(64 * 1024 * 1024) /* status documents read for that */

#define MAX_MANIFEST_SIZE	(64 * 1024)	/* .nixpull/systems.json (sent in FM_SELECTED) */
#define MAX_MANIFEST_SYSTEMS	2000		/* hosts in one manifest */
#define MAX_SUBSTITUTE_LOG	(1024 * 1024)	/* a realisation's log, read for the paths it fetched */
#define MAX_STORE_PATH		(11 + 32 + 1 + 211) /* /nix/store/HASH-NAME */

#endif
