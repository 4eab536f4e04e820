/*
 * reboot_window: the day and time parsers, and the next window against a
 * table of wall-clock cases: wrap past midnight and past Sunday, the DST
 * days of Europe/Berlin and America/New_York (2026), a leap day.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reboot_window.h"
#include "t.h"

#define MON	0x01U
#define TUE	0x02U
#define SAT	0x20U
#define SUN	0x40U

/* A UTC time from its parts. */
static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

struct wcase {
	const char	*what;
	const char	*tz;
	unsigned	 days, start, length;	/* one window */
	time_t		 now, want;
};

static void
test_table(void)
{
	const struct wcase cases[] = {
		{ "before a Saturday night window", "Europe/Berlin", SAT,
		  22 * 60, 240, utc(2026, 3, 7, 20, 0),
		  utc(2026, 3, 7, 21, 0) },
		{ "inside it, past midnight", "Europe/Berlin", SAT, 22 * 60,
		  240, utc(2026, 3, 8, 0, 30), utc(2026, 3, 8, 0, 30) },
		{ "its end is outside", "Europe/Berlin", SAT, 22 * 60, 240,
		  utc(2026, 3, 8, 1, 0), utc(2026, 3, 14, 21, 0) },
		{ "Sunday night into Monday", "UTC", SUN, 23 * 60, 120,
		  utc(2026, 3, 9, 0, 30), utc(2026, 3, 9, 0, 30) },
		{ "Monday after the wrap", "UTC", SUN, 23 * 60, 120,
		  utc(2026, 3, 9, 1, 0), utc(2026, 3, 15, 23, 0) },
		{ "mid-minute before a start", "UTC", MON, 60, 30,
		  utc(2026, 3, 9, 0, 59) + 30, utc(2026, 3, 9, 1, 0) },
		/* Berlin 2026-03-29: 02:00 CET -> 03:00 CEST; 02:30-03:30
		 * wall time is 03:00-03:30 CEST = 01:00 UTC. */
		{ "Berlin spring forward", "Europe/Berlin", SUN, 150, 60,
		  utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0) },
		/* Berlin 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 comes
		 * twice: 00:30 UTC and 01:30 UTC. */
		{ "Berlin fall back, first 02:30", "Europe/Berlin", SUN, 150,
		  30, utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30) },
		{ "Berlin fall back, second 02:30", "Europe/Berlin", SUN, 150,
		  30, utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 1, 30) },
		{ "Berlin, the day before the change", "Europe/Berlin", SAT,
		  150, 30, utc(2026, 10, 24, 0, 0), utc(2026, 10, 24, 0, 30) },
		{ "Berlin, the day after the change", "Europe/Berlin", MON,
		  150, 30, utc(2026, 10, 25, 3, 0), utc(2026, 10, 26, 1, 30) },
		/* New York 2026-03-08: 02:00 EST -> 03:00 EDT: a 02:00-03:00
		 * window does not happen that day; Monday's is 06:00 UTC. */
		{ "New York, a window that does not exist", "America/New_York",
		  REBOOT_DAYS_ALL, 120, 60, utc(2026, 3, 8, 6, 0),
		  utc(2026, 3, 9, 6, 0) },
		{ "New York, the day before", "America/New_York",
		  REBOOT_DAYS_ALL, 120, 60, utc(2026, 3, 7, 6, 0),
		  utc(2026, 3, 7, 7, 0) },
		/* New York 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 EDT
		 * is 05:30 UTC. */
		{ "New York fall back", "America/New_York", SUN, 90, 15,
		  utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30) },
		{ "New York fall back, the repeat", "America/New_York", SUN,
		  90, 15, utc(2026, 11, 1, 5, 50), utc(2026, 11, 1, 6, 30) },
		/* 2028-02-29 is a Tuesday. */
		{ "leap day", "UTC", TUE, 23 * 60, 120, utc(2028, 2, 28, 12,
		  0), utc(2028, 2, 29, 23, 0) },
		{ "leap day into March", "UTC", TUE, 23 * 60, 120,
		  utc(2028, 3, 1, 0, 30), utc(2028, 3, 1, 0, 30) },
		{ "a whole week", "Asia/Tokyo", REBOOT_DAYS_ALL, 0,
		  REBOOT_WEEK_MIN, utc(2026, 5, 5, 5, 5),
		  utc(2026, 5, 5, 5, 5) },
	};
	struct reboot_window w;
	struct err e;
	time_t next;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w.days = cases[i].days;
		w.start_min = cases[i].start;
		w.length_min = cases[i].length;
		next = 0;
		if (reboot_window_next(&w, 1, cases[i].tz, cases[i].now, &next,
		    &e) == -1) {
			T_FAIL("%s: %s", cases[i].what, e.msg);
			continue;
		}
		if (next != cases[i].want)
			T_FAIL("%s: next %lld, want %lld (%+lld s)",
			    cases[i].what, (long long)next,
			    (long long)cases[i].want,
			    (long long)(next - cases[i].want));
		t_checks++;
	}
}

static void
test_zones(void)
{
	struct reboot_window w = { SAT, 0, 60 };
	struct err e;
	time_t next;

	T_EQ_INT(reboot_window_next(NULL, 0, NULL, 1000, &next, &e), 0);
	T_EQ_INT(next, 1000);
	T_EQ_INT(reboot_window_next(&w, 1, "Mars/Olympus", 1000, &next, &e),
	    -1);
	T_CONTAINS(e.msg, "unknown time zone 'Mars/Olympus'");
	T_OK(reboot_tz_invalid("../etc/passwd") != NULL);
	T_OK(reboot_tz_invalid("/etc/localtime") != NULL);
	T_OK(reboot_tz_invalid("Europe/Berlin") == NULL);
	T_OK(reboot_tz_invalid("Etc/GMT+5") == NULL);
	/* The process's zone is put back. */
	setenv("TZ", "America/New_York", 1);
	tzset();
	T_EQ_INT(reboot_window_next(&w, 1, "Europe/Berlin", 1000, &next, &e),
	    0);
	T_EQ_STR(getenv("TZ"), "America/New_York");
	unsetenv("TZ");
	T_EQ_INT(reboot_window_next(&w, 1, "UTC", 1000, &next, &e), 0);
	T_OK(getenv("TZ") == NULL);
}

static void
test_parsers(void)
{
	const char *why;
	unsigned d, m;
	char s[64];

	T_EQ_INT(reboot_days_parse("Fri-Mon", &d, &why), 0);
	T_EQ_INT(d, 0x10U | SAT | SUN | MON);
	reboot_days_format(d, s, sizeof(s));
	T_EQ_STR(s, "Mon,Fri-Sun");
	T_EQ_INT(reboot_days_parse("Mon, Tue,Wed", &d, &why), 0);
	reboot_days_format(d, s, sizeof(s));
	T_EQ_STR(s, "Mon-Wed");
	T_EQ_INT(reboot_days_parse("*", &d, &why), 0);
	T_EQ_INT(d, REBOOT_DAYS_ALL);
	reboot_days_format(d, s, sizeof(s));
	T_EQ_STR(s, "*");
	T_EQ_INT(reboot_days_parse("Sat,Sun", &d, &why), 0);
	reboot_days_format(d, s, sizeof(s));
	T_EQ_STR(s, "Sat,Sun");
	T_EQ_INT(reboot_days_parse("mon", &d, &why), -1);
	T_EQ_INT(reboot_days_parse("Mon,", &d, &why), -1);
	T_EQ_INT(reboot_days_parse("", &d, &why), -1);
	T_EQ_INT(reboot_days_parse("Mon-", &d, &why), -1);
	T_EQ_INT(reboot_hhmm_parse("02:30", &m, &why), 0);
	T_EQ_INT(m, 150);
	T_EQ_INT(reboot_hhmm_parse("23:59", &m, &why), 0);
	T_EQ_INT(reboot_hhmm_parse("24:00", &m, &why), -1);
	T_EQ_INT(reboot_hhmm_parse("2:30", &m, &why), -1);
	T_EQ_INT(reboot_hhmm_parse("02:60", &m, &why), -1);
	T_EQ_INT(reboot_hhmm_parse("02::0", &m, &why), -1);
}

int
main(void)
{
	test_table();
	test_zones();
	test_parsers();
	return T_DONE();
}
