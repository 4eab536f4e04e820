/*
 * NixOS' switch inhibitors: a system lists, in TOPLEVEL/switch-inhibitors,
 * a JSON object of strings (system.switch.inhibitors, e.g.
 * "dbus-implementation": "broker"), and switch-to-configuration refuses to
 * switch (or test) into it from a running system whose file has another
 * value for a key both have.  Where that comes from (nixpkgs, comin) and
 * how nixpull follows it: docs/switch-inhibitors.md.
 */
#ifndef NIXPULL_INHIBITORS_H
#define NIXPULL_INHIBITORS_H

#include <stdbool.h>

#include "err.h"

struct activate_request;
struct spawn_result;

/*
 * Would switch-to-configuration refuse to switch from the system
 * `current` (a path such as /run/current-system) to `next`?  1 yes, and
 * *why (to be freed) names the changes, "KEY: OLD -> NEW" joined by ", ";
 * 0 no (a system without the file, equal values, keys only added or
 * removed); -1 when it cannot be told (a file that is not a JSON object;
 * e says which): then switch-to-configuration decides.
 */
int	switch_inhibited(const char *current, const char *next, char **why,
	    struct err *e);
/* The output of a switch-to-configuration that refused for them. */
bool	switch_inhibitors_refused(const char *output);

/*
 * Before rq (activate_choose'n) is activated: when NixOS would refuse it
 * (activate.mode switch or test, a NixOS system, NIXOS_NO_CHECK not 1 in
 * our environment), what to report, "switch to REV inhibited by its
 * switch inhibitors (CHANGES)", to be freed; else NULL (a comparison
 * that cannot be made is logged, and switch-to-configuration decides).
 */
char	*inhibitors_before(const struct activate_request *rq);
/*
 * After rq's switch failed with res: switch-to-configuration refused it
 * for them and the system that ran before (prev, NULL when none) still
 * runs; what to report, to be freed; else NULL.
 */
char	*inhibitors_refused(const struct activate_request *rq,
	    const struct spawn_result *res, const char *prev);

#endif
