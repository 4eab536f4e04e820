#include <stdint.h>

#include "t.h"
#include "timeutil.h"

static void
test_format(void)
{
	char buf[TIME_RFC3339_LEN];
	const char *why;
	time_t t;

	T_EQ_INT(time_format_rfc3339(0, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "1970-01-01T00:00:00Z");
	T_EQ_INT(time_format_rfc3339(1795575600, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "2026-11-25T03:00:00Z");
	T_EQ_INT(time_format_rfc3339(1, buf, 5), -1);
	/* a year below 1000 keeps four digits, and reads back (fuzz_status) */
	T_EQ_INT(time_parse_rfc3339("0504-12-05T13:54:00Z", &t, &why), 0);
	T_EQ_INT(time_format_rfc3339(t, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "0504-12-05T13:54:00Z");
}

static void
test_parse(void)
{
	const char *why;
	time_t t;

	T_EQ_INT(time_parse_rfc3339("2026-11-25T03:00:00Z", &t, &why), 0);
	T_EQ_INT(t, 1795575600);
	T_EQ_INT(time_parse_rfc3339("2026-11-25t03:00:00.123456z", &t, &why),
	    0);
	T_EQ_INT(t, 1795575600);
	T_EQ_INT(time_parse_rfc3339("2026-11-25T04:30:00+01:30", &t, &why), 0);
	T_EQ_INT(t, 1795575600);
	T_EQ_INT(time_parse_rfc3339("2026-11-24T22:00:00-05:00", &t, &why), 0);
	T_EQ_INT(t, 1795575600);
	T_EQ_INT(time_parse_rfc3339("2024-02-29T00:00:00Z", &t, &why), 0);
	T_EQ_INT(time_parse_rfc3339("2023-02-29T00:00:00Z", &t, &why), -1);
	T_CONTAINS(why, "out of range");
	T_EQ_INT(time_parse_rfc3339("2026-11-25T03:00:00", &t, &why), -1);
	T_CONTAINS(why, "time zone");
	T_EQ_INT(time_parse_rfc3339("2026-11-25T03:00:00Zx", &t, &why), -1);
	T_CONTAINS(why, "trailing");
	T_EQ_INT(time_parse_rfc3339("2026-11-25", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("2026-13-01T00:00:00Z", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("2026-11-25T24:00:00Z", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("2026-11-25T03:00:00.Z", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("2026-11-25T03:00:00+1:00", &t, &why), -1);
	T_EQ_INT(time_parse_rfc3339("+026-11-25T03:00:00Z", &t, &why), -1);
}

static void
test_roundtrip(void)
{
	char buf[TIME_RFC3339_LEN];
	const char *why;
	time_t t;

	for (time_t x = 0; x < 4102444800; x += 86400 * 37 + 3607) {
		T_EQ_INT(time_format_rfc3339(x, buf, sizeof(buf)), 0);
		T_EQ_INT(time_parse_rfc3339(buf, &t, &why), 0);
		if (t != x) {
			T_EQ_INT(t, x);
			break;
		}
	}
}

static void
test_age(void)
{
	char b[32];

	time_format_age(0, b, sizeof(b));
	T_EQ_STR(b, "0s");
	time_format_age(59, b, sizeof(b));
	T_EQ_STR(b, "59s");
	time_format_age(312, b, sizeof(b));
	T_EQ_STR(b, "5m12s");
	time_format_age(3600 * 3 + 240 + 5, b, sizeof(b));
	T_EQ_STR(b, "3h4m");
	time_format_age(86400 * 12 + 3600 * 3 + 5, b, sizeof(b));
	T_EQ_STR(b, "12d3h");
	time_format_age(-5, b, sizeof(b));
	T_EQ_STR(b, "-5s");
}

static void
test_monotonic(void)
{
	uint64_t a = time_monotonic_ms(), b = time_monotonic_ms();

	T_OK(b >= a);
	T_OK(time_now() > 1700000000);
}

int
main(void)
{
	test_format();
	test_parse();
	test_roundtrip();
	test_age();
	test_monotonic();
	return T_DONE();
}
