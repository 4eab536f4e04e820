/*
 * Hands-off reboots (config `reboot:`): when the deployed system needs a
 * reboot, wait for a maintenance window, for the people logged in
 * (users: wait), for logind's block inhibitors, give notice, take the
 * fleet-wide lock (FleetLock), record what is rebooted into, reboot
 * through the init system; after the boot, confirm and give the lock
 * back.  <state_dir>/reboot.json keeps what survives the reboot.
 *
 * The step never touches the status document: it returns what it decided
 * (struct reboot_result) and the driver (cycle.c) writes that into the
 * document's reboot_required and reboot block and publishes it.  Where the
 * document must be published before the step goes on (before the reboot
 * command runs, before reboot.json forgets a confirmed reboot, before the
 * fleet lock is given back), the step hands its result so far to the
 * driver's callback in the request.
 */
#ifndef NIXPULL_REBOOT_H
#define NIXPULL_REBOOT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct config;

enum reboot_outcome {
	REBOOT_NOT_NEEDED,
	REBOOT_DEFERRED,	/* blocked_by says why */
	REBOOT_STARTED,		/* the reboot command ran */
	REBOOT_FAILED,		/* it could not */
};

/* What the step did with the document's pending reboot. */
enum reboot_pending {
	REBOOT_PENDING_KEEP,	/* nothing decided (reboot_resume) */
	REBOOT_PENDING_CLEAR,	/* none pending: the block's pending part
				   cleared */
	REBOOT_PENDING_SET,	/* pending: reason ... overdue below */
};

/* After a boot the step asked for, the health checks. */
enum reboot_checks {
	REBOOT_CHECKS_NONE,	/* not run by this call */
	REBOOT_CHECKS_PASSED,
	REBOOT_CHECKS_FAILED,	/* error says why */
};

struct reboot_result {
	enum reboot_outcome outcome;	/* reboot_step's */
	/* reboot_step's (pending not KEEP): */
	int		 required;	/* reboot_required: -1, 0, 1 */
	enum reboot_pending pending;
	char		*reason;	/* kernel, initrd, modules, ... */
	time_t		 pending_since;
	time_t		 next_window;	/* 0: now or none; -1: not known */
	char		*blocked_by;	/* what the reboot waits for */
	bool		 overdue;
	/* A reboot asked for before, confirmed (the document's last): */
	bool		 confirmed;
	time_t		 last_at;
	char		*last_into;
	int64_t		 last_took_ms;
	char		*last_result;	/* "rebooted", "booted X instead" */
	enum reboot_checks checks;
	bool		 confirming;	/* checks after the boot still due:
					   the fleet lock is kept */
	bool		 released;	/* steady-state: the lock given back */
	char		*error;		/* why the checks or the reboot
					   command failed */
};

struct reboot_request {
	const struct config *cfg;
	const char	*os;		/* the machine's: "linux", "darwin" */
	/* For reboot_step: whether the system activated last needs a
	 * reboot (the activation's finding, as the driver keeps it):
	 * -1 unknown, 0, 1 */
	int		 required;
	/*
	 * The driver's: res so far into the status document, published.
	 * Called where the report must come before what the step does next.
	 */
	void		(*publish)(void *arg, const struct reboot_result *res);
	void		*arg;
};

void	reboot_result_init(struct reboot_result *res);
void	reboot_result_release(struct reboot_result *res);

/*
 * At agent start, before anything is deployed: a reboot recorded before
 * is confirmed (the booted system is the one rebooted into) or reported
 * as a failure of that system; after such a boot the health checks run,
 * and only once they pass is the FleetLock slot released (steady-state).
 * A reboot asked for in this very boot keeps the slot.  Confirms once per
 * process; failing checks or a failing steady-state are tried again at
 * the next call.  Everything res holds has gone through q->publish.
 */
void	reboot_resume(const struct reboot_request *q,
	    struct reboot_result *res);
/*
 * After a cycle: reboot now, or why not.  res is what the step decided,
 * for the driver to record; it went through q->publish before the reboot
 * command ran (REBOOT_STARTED) and when a reboot no longer pending was
 * cleared (REBOOT_NOT_NEEDED), and is for the driver to publish when the
 * reboot is deferred or failed.  Returns res->outcome.
 */
enum reboot_outcome reboot_step(const struct reboot_request *q,
	    struct reboot_result *res);

#endif
