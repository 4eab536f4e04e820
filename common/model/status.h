/*
 * The status document (<host>.json, schema 1; docs/status.md describes every
 * field): what a host runs, what it last tried and how that went.  The agent
 * keeps it in <state_dir>/status.json, with a bounded history of attempts,
 * and reports it (report.h).  Times are time_t here (0: unknown, JSON null)
 * and RFC 3339 UTC in JSON.
 */
#ifndef NIXPULL_STATUS_H
#define NIXPULL_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define STATUS_SCHEMA		1
#define STATUS_FILE		"status.json"
#define STATUS_HISTORY_DIR	"history"
#define STATUS_NOT_FOUND	(-2)	/* status_load: no status yet */

enum status_state {
	STATE_OK,
	STATE_POLLING,
	STATE_FETCHING,
	STATE_BUILDING,
	STATE_ACTIVATING,
	STATE_DEFERRED,
	STATE_REJECTED,		/* signature, anti-rollback */
	STATE_FAILED,
	STATE_ROLLED_BACK,
	STATE__COUNT
};

/* The pipeline phases: last_attempt.phase and the durations_ms keys. */
enum status_phase {
	PHASE_POLL,
	PHASE_FETCH,
	PHASE_VERIFY,
	PHASE_BUILD,
	PHASE_ACTIVATE,
	PHASE_CHECK,
	PHASE__COUNT
};

enum status_result {
	RESULT_NONE,		/* no attempt yet: last_attempt is null */
	RESULT_SUCCESS,		/* the revision runs now */
	RESULT_UNCHANGED,	/* built, equal to the running system */
	RESULT_DEFERRED,	/* e.g. on battery */
	RESULT_REJECTED,
	RESULT_FAILED,
	RESULT_ROLLED_BACK,
	RESULT__COUNT
};

struct status {
	char		*host;
	char		*agent_version;
	enum status_state state;
	time_t		 updated_at;

	struct status_deployed {	/* null in JSON when rev is NULL */
		char	*rev;
		char	*signer;	/* principals, comma-separated */
		char	*key_fingerprint;	/* "SHA256:..." */
		char	*store_path;
		time_t	 activated_at;
		time_t	 committed_at;	/* committer time: release age */
		/* how it was obtained: "built", "substituted"; NULL when
		 * not known (the running system taken as the record, a
		 * resumed activation) */
		char	*source;
	} deployed;

	struct status_tip {		/* null in JSON when rev is NULL */
		char	*rev;
		time_t	 seen_at;
	} tip;

	struct status_attempt {	/* null in JSON when result is NONE */
		char	*rev;
		enum status_result result;
		enum status_phase phase;	/* the phase reached */
		char	*error;
		char	*log_tail;
		time_t	 started_at;
		int64_t	 durations_ms[PHASE__COUNT];	/* -1: not run */
		int64_t	 fetch_bytes;	/* -1: unknown */
		int	 max_jobs;	/* -1: unknown */
		int	 cores;		/* -1: unknown */
		/* how the system was activated: "store-path",
		 * "profile+switch-to-configuration", "profile+activate",
		 * "flake"; NULL (null) when no activation was tried */
		char	*activation;
		/* how the system was obtained (or was being): "built",
		 * "substituted"; NULL when it did not get that far */
		char	*source;
		int	 evaluations;	/* of the configuration; -1: unknown */
		int64_t	 substituted_bytes;	/* NAR bytes fetched from
						   the caches; -1: unknown */
	} last_attempt;

	int		 reboot_required;	/* -1 unknown (null), 0, 1 */

	struct status_reboot {	/* null in JSON unless pending or last_at */
		bool	 pending;	/* required, not done yet */
		char	*reason;	/* kernel, initrd, modules, boot-mode */
		time_t	 pending_since;
		time_t	 next_window;	/* 0: now, or no windows */
		/* "policy never", "window", "user NAME", "inhibitor WHO:
		 * WHY", "notice", "fleet-lock KIND", "reboot failed: ..." */
		char	*blocked_by;
		bool	 overdue;	/* pending longer than max_defer */
		time_t	 last_at;	/* the last reboot, confirmed */
		char	*last_into;	/* the system it rebooted into */
		int64_t	 last_took_ms;	/* -1: unknown */
		char	*last_result;	/* "rebooted", or what came up */
	} reboot;
	struct status_rollout {	/* null in JSON when release is NULL */
		char	*release;	/* the release the plan is of */
		char	*wave;		/* this host's wave */
		time_t	 released_at;	/* the release time (signed) */
		time_t	 due_at;	/* when the wave starts */
		char	*halted_by;	/* "2 hosts failed on ... (a, b)" */
		char	*fleet_error;	/* the fleet's status could not be
					   read (and did not halt) */
	} rollout;
	bool		 stale_release;
	bool		 tofu;		/* deployed by trust on first use */

	struct status_trust {	/* null in JSON when version < 0 */
		/* trust.follow_repo: the trust version in effect at the
		 * last selected release (0: the pinned root); -1 when the
		 * host does not follow the repository's trust */
		int64_t	 version;
		time_t	 expires_at;	/* 0: never */
		bool	 expired;	/* past expires_at (trust-expired),
					   refused or deployed (warn) */
	} trust;

	struct status_system {
		char	*os;		/* "linux", "darwin" */
		char	*arch;		/* "x86_64", "aarch64" */
		int	 cpus;		/* -1: unknown */
		int64_t	 mem_bytes;	/* -1: unknown */
		int	 on_battery;	/* -1 unknown (null), 0, 1 */
		char	*nix_version;
	} system;

	time_t		 next_poll_at;
};

/* Zeroes st and sets the "unknown" markers (-1). */
void	 status_init(struct status *st);
/* Frees the strings; st is ready for status_init again. */
void	 status_release(struct status *st);
/* A deep copy into dst (initialised here). */
void	 status_copy(struct status *dst, const struct status *src);

const char *status_state_name(enum status_state s);
int	 status_state_parse(const char *name, enum status_state *s);
const char *status_phase_name(enum status_phase p);
const char *status_result_name(enum status_result r);
/* The states an operator has to look at: rejected, failed, rolled-back. */
bool	 status_state_is_problem(enum status_state s);

/* Appends the document (pretty-printed, keys in schema order) to out. */
int	 status_to_json(const struct status *st, struct buf *out,
	    struct err *e);
/*
 * Parses a document into st (initialised here; released on failure).
 * Unknown fields are ignored, known fields must have the right type and an
 * allowed value; errors name the field ("'deployed.rev': expected a
 * string").  At most MAX_STATUS_SIZE bytes.
 */
int	 status_from_json(const char *text, size_t len, struct status *st,
	    struct err *e);

/* <state_dir>/status.json, written atomically. */
int	 status_save(const char *state_dir, const struct status *st,
	    struct err *e);
/* Reads it back; STATUS_NOT_FOUND when there is none yet. */
int	 status_load(const char *state_dir, struct status *st, struct err *e);
/*
 * Records a finished attempt in <state_dir>/history/ as
 * <started_at>-<rev12>.json, or <started_at>-<rev12>_NN.json (NN = 02, 03,
 * ...) when another attempt of that revision started the same second
 * (recording the same attempt again replaces its entry), and prunes the
 * oldest beyond MAX_STATUS_HISTORY.
 */
int	 status_history_add(const char *state_dir, const struct status *st,
	    struct err *e);

#endif
