/*
 * Weekly maintenance windows: the day and time parsers, and "when does
 * the next window open" in a zone's wall-clock time.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "reboot_window.h"

#define MAX_TZ_NAME		64
#define MAX_WINDOW_STEPS	64	/* offset changes passed in one search */

static const char *const day_names[7] = { "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat", "Sun" };

static int
day_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* One "Mon" or "Mon-Fri" item of n bytes into *days. */
static int
days_item(const char *s, size_t n, unsigned *days, const char **why)
{
	const char *dash = memchr(s, '-', n);
	int a, b;

	if (n == 1 && s[0] == '*') {
		*days |= REBOOT_DAYS_ALL;
		return 0;
	}
	a = day_index(s, dash ? (size_t)(dash - s) : n);
	b = dash ? day_index(dash + 1, n - (size_t)(dash - s) - 1) : a;
	if (a == -1 || b == -1) {
		*why = "use Mon, Tue, Wed, Thu, Fri, Sat, Sun, ranges like "
		    "Mon-Fri, or *";
		return -1;
	}
	for (int d = a;; d = (d + 1) % 7) {	/* Fri-Mon wraps */
		*days |= 1U << d;
		if (d == b)
			break;
	}
	return 0;
}

int
reboot_days_parse(const char *s, unsigned *days, const char **why)
{
	size_t n;

	*days = 0;
	for (;;) {
		s += strspn(s, " ");
		n = strcspn(s, ",");
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n == 0) {
			*why = "empty day";
			return -1;
		}
		if (days_item(s, n, days, why) == -1)
			return -1;
		s += n;
		s += strspn(s, " ");
		if (*s == '\0')
			return 0;
		s++;	/* ',' */
	}
}

void
reboot_days_format(unsigned days, char *out, size_t outlen)
{
	struct buf b = BUF_INIT(64);
	int d = 0, e;

	if ((days & REBOOT_DAYS_ALL) == REBOOT_DAYS_ALL)
		buf_addstr(&b, "*");
	while (d < 7 && (days & REBOOT_DAYS_ALL) != REBOOT_DAYS_ALL) {
		if (!(days & (1U << d))) {
			d++;
			continue;
		}
		for (e = d; e + 1 < 7 && (days & (1U << (e + 1))); e++)
			;
		buf_addf(&b, "%s%s", b.len ? "," : "", day_names[d]);
		if (e > d)
			buf_addf(&b, "%s%s", e > d + 1 ? "-" : ",",
			    day_names[e]);
		d = e + 1;
	}
	snprintf(out, outlen, "%s", buf_str(&b));
	buf_release(&b);
}

int
reboot_hhmm_parse(const char *s, unsigned *min, const char **why)
{
	unsigned h, m;

	if (strlen(s) != 5 || s[2] != ':' || strspn(s, "0123456789:") != 5 ||
	    strchr(s + 3, ':') != NULL || strchr(s, ':') != s + 2) {
		*why = "use HH:MM, like 02:30";
		return -1;
	}
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (h > 23 || m > 59) {
		*why = "hours 00 to 23, minutes 00 to 59";
		return -1;
	}
	*min = h * 60 + m;
	return 0;
}

const char *
reboot_tz_invalid(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n > MAX_TZ_NAME)
		return "1 to 64 characters";
	if (strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789/_+-") != n)
		return "an IANA zone name of letters, digits, '/', '_', '+' "
		    "and '-', like Europe/Berlin";
	if (tz[0] == '/' || tz[0] == '-' || tz[n - 1] == '/' ||
	    strstr(tz, "//") != NULL)
		return "an IANA zone name, like Europe/Berlin";
	return NULL;
}

int
reboot_tz_check(const char *tz, struct err *e)
{
	const char *dirs[] = { getenv("TZDIR"), "/usr/share/zoneinfo",
	    "/etc/zoneinfo" };
	struct stat st;
	char path[512];

	if (reboot_tz_invalid(tz) != NULL)
		return err_set(e, "invalid time zone '%s'", tz);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (dirs[i] == NULL || dirs[i][0] != '/')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[i], tz);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	return err_set(e, "unknown time zone '%s' (not in the zoneinfo "
	    "database)", tz);
}

bool
reboot_windows_contain(const struct reboot_window *w, size_t n,
    unsigned mow)
{
	unsigned s;

	for (size_t i = 0; i < n; i++)
		for (unsigned d = 0; d < 7; d++) {
			if (!(w[i].days & (1U << d)))
				continue;
			s = d * 1440 + w[i].start_min;
			if ((mow + REBOOT_WEEK_MIN - s) % REBOOT_WEEK_MIN <
			    w[i].length_min)
				return true;
		}
	return false;
}

/* Wall-clock minutes from mow to the next window start (>= 1). */
static unsigned
minutes_to_start(const struct reboot_window *w, size_t n, unsigned mow)
{
	unsigned best = REBOOT_WEEK_MIN, delta;

	for (size_t i = 0; i < n; i++)
		for (unsigned d = 0; d < 7; d++) {
			if (!(w[i].days & (1U << d)))
				continue;
			delta = (d * 1440 + w[i].start_min + REBOOT_WEEK_MIN -
			    mow) % REBOOT_WEEK_MIN;
			if (delta > 0 && delta < best)
				best = delta;
		}
	return best;
}

/* TZ set to tz for a while; saved holds what to put back. */
struct tzswap {
	char	*saved;
	bool	 had;
	bool	 active;
};

static void
tz_enter(struct tzswap *s, const char *tz)
{
	const char *old = getenv("TZ");

	memset(s, 0, sizeof(*s));
	if (tz == NULL)
		return;
	s->had = old != NULL;
	s->saved = old ? xstrdup(old) : NULL;
	s->active = true;
	setenv("TZ", tz, 1);
	tzset();
}

static void
tz_leave(struct tzswap *s)
{
	if (!s->active)
		return;
	if (s->had)
		setenv("TZ", s->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(s->saved);
	s->saved = NULL;
}

static unsigned
minute_of_week(const struct tm *tm)
{
	return (unsigned)((tm->tm_wday + 6) % 7) * 1440 +
	    (unsigned)tm->tm_hour * 60 + (unsigned)tm->tm_min;
}

/* The first second after lo (whose UTC offset is off) with another
 * offset, knowing hi has another one: bisection. */
static time_t
offset_change(time_t lo, time_t hi, long off)
{
	struct tm tm;
	time_t mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (localtime_r(&mid, &tm) != NULL && tm.tm_gmtoff == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * While the zone's UTC offset stays the same, wall-clock time runs with
 * real time, so the next start is the wall-clock distance away.  When the
 * offset changes on the way (DST), go on from the change: a window whose
 * start fell into a skipped hour is entered there, one in a repeated hour
 * is entered again.  Each step returns or passes an offset change.
 */
static int
scan(const struct reboot_window *w, size_t n, time_t now, time_t *next)
{
	struct tm tm, tc;
	time_t t = now, cand;

	for (int i = 0; i < MAX_WINDOW_STEPS; i++) {
		if (localtime_r(&t, &tm) == NULL)
			return -1;
		if (reboot_windows_contain(w, n, minute_of_week(&tm))) {
			*next = t;
			return 0;
		}
		cand = t - tm.tm_sec + (time_t)minutes_to_start(w, n,
		    minute_of_week(&tm)) * 60;
		if (localtime_r(&cand, &tc) == NULL)
			return -1;
		t = tc.tm_gmtoff == tm.tm_gmtoff ? cand :
		    offset_change(t, cand, tm.tm_gmtoff);
	}
	return -1;
}

int
reboot_window_next(const struct reboot_window *w, size_t n, const char *tz,
    time_t now, time_t *next, struct err *e)
{
	struct tzswap s;
	int r;

	*next = now;
	if (n == 0)
		return 0;
	if (tz != NULL && reboot_tz_check(tz, e) == -1)
		return -1;
	tz_enter(&s, tz);
	r = scan(w, n, now, next);
	tz_leave(&s);
	if (r == -1)
		return err_set(e, "no maintenance window found after %lld",
		    (long long)now);
	return 0;
}
