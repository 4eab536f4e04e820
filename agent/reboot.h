/*
 * Hands-off reboots (config `reboot:`): when the deployed system needs a
 * reboot, wait for a maintenance window, for the people logged in
 * (users: wait), for logind's block inhibitors, give notice, take the
 * fleet-wide lock (FleetLock), record what is rebooted into, reboot
 * through the init system; after the boot, confirm and give the lock
 * back.  <state_dir>/reboot.json keeps what survives the reboot.
 */
#ifndef NIXPULL_REBOOT_H
#define NIXPULL_REBOOT_H

struct agent;

enum reboot_outcome {
	REBOOT_NOT_NEEDED,
	REBOOT_DEFERRED,	/* status reboot.blocked_by says why */
	REBOOT_STARTED,		/* the reboot command ran */
	REBOOT_FAILED,		/* it could not */
};

/*
 * At agent start, before anything is deployed: a reboot recorded before
 * is confirmed (the booted system is the one rebooted into) or reported
 * as a failure of that system; after such a boot the health checks run,
 * and only once they pass is the FleetLock slot released (steady-state).
 * A reboot asked for in this very boot keeps the slot.  Confirms once per
 * process; failing checks or a failing steady-state are tried again at
 * the next call.
 */
void	reboot_resume(struct agent *a);
/* After a cycle: reboot now, or record why not in the status. */
enum reboot_outcome reboot_step(struct agent *a);

#endif
