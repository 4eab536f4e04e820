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
 * as a failure of that system, and the FleetLock slot is released
 * (steady-state).  Does its work once per process; a steady-state that
 * fails is tried again at the next call.
 */
void	reboot_resume(struct agent *a);
/* After a cycle: reboot now, or record why not in the status. */
enum reboot_outcome reboot_step(struct agent *a);

#endif
