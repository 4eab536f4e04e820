#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

int
time_format_rfc3339(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (outlen < TIME_RFC3339_LEN || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	/* Four digits always: strftime's %Y prints the year 504 as "504",
	 * which no RFC 3339 reader (ours included) takes back. */
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return 0;
}

/* Exactly n decimal digits at *s, advancing it. */
static bool
digits(const char **s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*s += n;
	*v = x;
	return true;
}

static bool
expect(const char **s, const char *any)
{
	if (**s == '\0' || strchr(any, **s) == NULL)
		return false;
	(*s)++;
	return true;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

static int
parse_offset(const char **s, long *off, const char **why)
{
	int sign, hh, mm;

	*off = 0;
	if (**s == 'Z' || **s == 'z') {
		(*s)++;
		return 0;
	}
	if (**s != '+' && **s != '-')
		return (*why = "missing time zone ('Z' or +HH:MM)"), -1;
	sign = **s == '-' ? -1 : 1;
	(*s)++;
	if (!digits(s, 2, &hh) || !expect(s, ":") || !digits(s, 2, &mm) ||
	    hh > 23 || mm > 59)
		return (*why = "bad time zone offset"), -1;
	*off = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int
time_parse_rfc3339(const char *s, time_t *t, const char **why)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	long off;
	time_t r;

	*why = "not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)";
	if (!digits(&s, 4, &y) || !expect(&s, "-") || !digits(&s, 2, &mo) ||
	    !expect(&s, "-") || !digits(&s, 2, &d) || !expect(&s, "Tt ") ||
	    !digits(&s, 2, &h) || !expect(&s, ":") || !digits(&s, 2, &mi) ||
	    !expect(&s, ":") || !digits(&s, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return (*why = "date or time out of range"), -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return (*why = "empty fraction of a second"), -1;
		for (int i = 0; *s >= '0' && *s <= '9'; i++, s++)
			if (i >= 9)
				return (*why = "fraction of a second too long"),
				    -1;
	}
	if (parse_offset(&s, &off, why) == -1)
		return -1;
	if (*s != '\0')
		return (*why = "trailing characters after the time"), -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;	/* a leap second: close enough */
	r = timegm(&tm);
	*t = r - off;
	return 0;
}

void
time_format_age(int64_t s, char *out, size_t outlen)
{
	const char *sign = s < 0 ? "-" : "";
	uint64_t a = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;

	if (a < 60)
		snprintf(out, outlen, "%s%llus", sign, (unsigned long long)a);
	else if (a < 3600)
		snprintf(out, outlen, "%s%llum%llus", sign,
		    (unsigned long long)(a / 60), (unsigned long long)(a % 60));
	else if (a < 86400)
		snprintf(out, outlen, "%s%lluh%llum", sign,
		    (unsigned long long)(a / 3600),
		    (unsigned long long)(a % 3600 / 60));
	else
		snprintf(out, outlen, "%s%llud%lluh", sign,
		    (unsigned long long)(a / 86400),
		    (unsigned long long)(a % 86400 / 3600));
}

uint64_t
time_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

time_t
time_now(void)
{
	return time(NULL);
}
