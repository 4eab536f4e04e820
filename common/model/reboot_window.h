/*
 * Weekly maintenance windows for reboots (config `reboot.windows`): days of
 * the week, a wall-clock start and a length, in one IANA time zone.  A
 * window is wall-clock time in its zone: on a DST day a window at 02:30
 * starts at 03:00 when 02:30 does not exist and opens twice when it
 * happens twice.  Windows may wrap past midnight and past Sunday.
 */
#ifndef NIXPULL_REBOOT_WINDOW_H
#define NIXPULL_REBOOT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

#define REBOOT_WEEK_MIN		(7 * 1440)	/* minutes in a week */
#define REBOOT_DAYS_ALL		0x7fU

struct reboot_window {
	unsigned	 days;		/* bit d: day d, 0 Monday .. 6 Sunday */
	unsigned	 start_min;	/* minutes after midnight, < 1440 */
	unsigned	 length_min;	/* 1 .. REBOOT_WEEK_MIN */
};

/* "Mon", "Sat,Sun", "Mon-Fri", "Fri-Mon" (wraps), "*" into a day mask. */
int	reboot_days_parse(const char *s, unsigned *days, const char **why);
/* The mask as reboot_days_parse() reads it back ("Mon,Wed-Fri"). */
void	reboot_days_format(unsigned days, char *out, size_t outlen);
/* "HH:MM" (00:00 .. 23:59) into minutes after midnight. */
int	reboot_hhmm_parse(const char *s, unsigned *min, const char **why);
/* Why tz is no IANA zone name ("Europe/Berlin", "UTC"), or NULL. */
const char *reboot_tz_invalid(const char *tz);
/* 0 when the zone's file exists under $TZDIR, /usr/share/zoneinfo or
 * /etc/zoneinfo; -1 otherwise (an unknown zone would silently be UTC). */
int	reboot_tz_check(const char *tz, struct err *e);

/* Whether wall-clock minute of the week mow (0 = Monday 00:00) is in one
 * of the windows. */
bool	reboot_windows_contain(const struct reboot_window *w, size_t n,
	    unsigned mow);

/*
 * The first time >= now that lies in a window, in zone tz (NULL: the
 * process's own zone): now itself when it is inside one, or when there
 * are no windows (any time).  -1 when tz is unknown.
 *
 * A zone other than the process's own is entered by setting TZ and
 * calling tzset(), then restored before returning: TZ is process-global,
 * so no other thread may use local time meanwhile (the agent's only other
 * thread, the systemd watchdog, never does).
 */
int	reboot_window_next(const struct reboot_window *w, size_t n,
	    const char *tz, time_t now, time_t *next, struct err *e);

#endif
