/* Durations and sizes: what parses, what is refused and why, round trips. */
#include <stdint.h>
#include <string.h>

#include "duration.h"
#include "caps.h"
#include "t.h"

static const struct {
	const char	*in;
	uint64_t	 ms;
	const char	*shortest;
} good_durations[] = {
	{ "30s", 30000, "30s" },
	{ "5m", 300000, "5m" },
	{ "2h", 7200000, "2h" },
	{ "1d", 86400000, "1d" },
	{ "1h30m", 5400000, "1h30m" },
	{ "250ms", 250, "250ms" },
	{ "0s", 0, "0s" },
	{ "0ms", 0, "0s" },
	{ "90m", 5400000, "1h30m" },
	{ "1d2h3m4s5ms", 93784005, "1d2h3m4s5ms" },
	{ "1500ms", 1500, "1s500ms" },
	{ "3650d", MAX_DURATION_MS, "3650d" },
};

static const struct {
	const char	*in;
	const char	*why;	/* a part of the reason */
} bad_durations[] = {
	{ "", "empty" },
	{ "300", "needs a unit" },
	{ "5", "needs a unit" },
	{ "5min", "unknown unit" },
	{ "5M", "unknown unit" },
	{ "1.5h", "fractions" },
	{ "30m1h", "largest to the smallest" },
	{ "1m1m", "largest to the smallest" },
	{ "-5m", "negative" },
	{ "m", "expected a number" },
	{ "5m ", "expected a number" },
	{ " 5m", "expected a number" },
	{ "1h 30m", "expected a number" },
	{ "5m3", "needs a unit" },
	{ "3651d", "too large" },
	{ "99999999999999999999s", "too large" },
	{ "18446744073709551615ms", "too large" },
};

static const struct {
	const char	*in;
	uint64_t	 bytes;
	const char	*shortest;
} good_sizes[] = {
	{ "5GiB", 5ULL << 30, "5GiB" },
	{ "512MiB", 512ULL << 20, "512MiB" },
	{ "100M", 100ULL << 20, "100MiB" },
	{ "1G", 1ULL << 30, "1GiB" },
	{ "4096", 4096, "4KiB" },
	{ "17", 17, "17B" },
	{ "17B", 17, "17B" },
	{ "0", 0, "0B" },
	{ "2T", 2ULL << 40, "2TiB" },
	{ "1536MiB", 1536ULL << 20, "1536MiB" },
	{ "3K", 3072, "3KiB" },
};

static const struct {
	const char	*in;
	const char	*why;
} bad_sizes[] = {
	{ "", "empty" },
	{ "5GB", "ambiguous" },
	{ "5gb", "ambiguous" },
	{ "5 GiB", "unknown unit" },
	{ "5gib", "unknown unit" },
	{ "1.5G", "fractions" },
	{ "-1", "negative" },
	{ "GiB", "expected a number" },
	{ "99999999999999999999", "too large" },
	{ "17179869184GiB", "too large" },
};

#define N(a) (sizeof(a) / sizeof(a[0]))

static void
test_durations(void)
{
	char out[64];
	uint64_t ms, again;
	const char *why;

	for (size_t i = 0; i < N(good_durations); i++) {
		why = NULL;
		T_EQ_INT(duration_parse(good_durations[i].in, &ms, &why), 0);
		T_EQ_INT(ms, good_durations[i].ms);
		duration_format(ms, out, sizeof(out));
		T_EQ_STR(out, good_durations[i].shortest);
		T_EQ_INT(duration_parse(out, &again, &why), 0);
		T_EQ_INT(again, ms);
	}
	for (size_t i = 0; i < N(bad_durations); i++) {
		why = NULL;
		T_EQ_INT(duration_parse(bad_durations[i].in, &ms, &why), -1);
		T_CONTAINS(why, bad_durations[i].why);
	}
	duration_format(UINT64_MAX, out, sizeof(out));
	T_CONTAINS(out, "d");
	duration_format(5400000, out, 4);	/* truncated, still a string */
	T_EQ_INT(strlen(out) < 4, 1);
}

static void
test_sizes(void)
{
	char out[64];
	uint64_t b, again;
	const char *why;

	for (size_t i = 0; i < N(good_sizes); i++) {
		why = NULL;
		T_EQ_INT(size_parse(good_sizes[i].in, &b, &why), 0);
		T_EQ_INT(b, good_sizes[i].bytes);
		size_format(b, out, sizeof(out));
		T_EQ_STR(out, good_sizes[i].shortest);
		T_EQ_INT(size_parse(out, &again, &why), 0);
		T_EQ_INT(again, b);
	}
	for (size_t i = 0; i < N(bad_sizes); i++) {
		why = NULL;
		T_EQ_INT(size_parse(bad_sizes[i].in, &b, &why), -1);
		T_CONTAINS(why, bad_sizes[i].why);
	}
}

int
main(void)
{
	test_durations();
	test_sizes();
	return T_DONE();
}
