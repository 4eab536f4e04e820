/*
 * Desktop notifications for the people at a graphical session, as the
 * reboot notice's second voice (the first is wall(1), for terminals).
 *
 * What real tools do, and what this does: a root daemon cannot reach a
 * user's notification server through its own environment; it must run
 * notify-send as that user on that user's session bus.  needrestart
 * (ex/notify.d/400-notify-send) runs `su -p USER -c notify-send` with
 * DISPLAY taken from the session leader's environment; the common scripts
 * set DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/UID/bus, the bus that
 * systemd's user manager (dbus-user-session / dbus-broker) puts there.
 * Zincati (its "Broadcast message from Zincati" to each session's
 * terminal), NixOS' system.autoUpgrade and unattended-upgrades (shutdown
 * -r, whose message logind sends with wall) reach terminals only.  So,
 * for each graphical session logind lists (loginctl
 * list-sessions, then loginctl show-session ID: Type x11, wayland or mir,
 * class user, not closing), once per user:
 *   runuser -u NAME -- env DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/UID/bus
 *	NOTIFY_SEND --app-name=nixpull --urgency=critical --icon=system-reboot
 *	SUMMARY BODY
 * runuser (util-linux) rather than su: no PAM session or password for a
 * command root runs on a user's behalf.  No notify-send on PATH, no
 * graphical session, no loginctl: nothing is sent (logged at debug).
 */
#ifndef NIXPULL_DESKTOP_H
#define NIXPULL_DESKTOP_H

#include <stdbool.h>

#include "err.h"

/* One session as `loginctl show-session ID -p ...` describes it. */
struct desktop_session {
	char		id[64];		/* Id */
	char		name[64];	/* Name: the user's name */
	long long	uid;		/* User, -1 when not given */
	char		type[16];	/* Type: x11, wayland, mir, tty, ... */
	char		cls[32];	/* Class: user, greeter, ... */
	char		state[16];	/* State: online, active, closing */
};

/*
 * `loginctl show-session ID -p Id -p Name -p User -p Type -p Class
 * -p State` (KEY=VALUE lines, any order, unknown keys ignored) into s.
 * -1 (e says why) when a value does not fit or User is no number.
 */
int	desktop_parse_session(const char *text, struct desktop_session *s,
	    struct err *e);

/* A graphical session of a person: type x11, wayland or mir, class user
 * (or user-early, ...), not closing, a name and a uid. */
bool	desktop_is_graphical(const struct desktop_session *s);

/* Sends the notification to every graphical session's user, once per
 * user; returns how many were sent.  Failures are logged, never fatal. */
int	desktop_notify(const char *summary, const char *body);

#endif
