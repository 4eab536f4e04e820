/*
 * Durations ("30s", "5m", "1h30m", "1d", "250ms") and sizes ("5GiB",
 * "512M", "4096").  Durations need a unit and list their units from the
 * largest to the smallest; sizes are powers of 1024, as in nix.conf and
 * systemd.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "caps.h"

struct unit {
	const char	*name;
	uint64_t	 mult;
};

static const struct unit dunits[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	{ "ms", 1 },
};
#define NDUNITS (sizeof(dunits) / sizeof(dunits[0]))

static const struct unit sunits[] = {
	{ "TiB", 1ULL << 40 }, { "T", 1ULL << 40 }, { "GiB", 1ULL << 30 },
	{ "G", 1ULL << 30 }, { "MiB", 1ULL << 20 }, { "M", 1ULL << 20 },
	{ "KiB", 1ULL << 10 }, { "K", 1ULL << 10 }, { "B", 1 }, { "", 1 },
};
#define NSUNITS (sizeof(sunits) / sizeof(sunits[0]))

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads decimal digits at *sp into *v; -1 on overflow or no digits. */
static int
read_number(const char **sp, uint64_t *v, const char **why)
{
	const char *s = *sp;

	*v = 0;
	if (!is_digit(*s)) {
		*why = *s == '-' ? "negative values are not allowed" :
		    "expected a number";
		return -1;
	}
	for (; is_digit(*s); s++) {
		if (*v > (UINT64_MAX - 9) / 10) {
			*why = "number too large";
			return -1;
		}
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	return 0;
}

/* The index of the unit spelled [s, s+n) in dunits, or -1. */
static int
dunit_find(const char *s, size_t n)
{
	for (size_t i = 0; i < NDUNITS; i++)
		if (strlen(dunits[i].name) == n &&
		    memcmp(dunits[i].name, s, n) == 0)
			return (int)i;
	return -1;
}

/* One "<number><unit>" part at *sp, whose unit must come after *last. */
static int
duration_part(const char **sp, int *last, uint64_t *ms, const char **why)
{
	const char *s = *sp, *u;
	uint64_t v;
	int i;

	if (read_number(&s, &v, why) == -1)
		return -1;
	if (*s == '.' || *s == ',') {
		*why = "fractions are not allowed (write 1h30m, not 1.5h)";
		return -1;
	}
	for (u = s; is_alpha(*s); s++)
		;
	if (s == u) {
		*why = *s == '\0' ? "duration needs a unit (ms, s, m, h, d)" :
		    "unexpected character after the number";
		return -1;
	}
	if ((i = dunit_find(u, (size_t)(s - u))) == -1) {
		*why = "unknown unit (use ms, s, m, h, d)";
		return -1;
	}
	if (i <= *last) {
		*why = "units must go from the largest to the smallest, "
		    "each once (like 1h30m)";
		return -1;
	}
	if (v > MAX_DURATION_MS / dunits[i].mult) {
		*why = "duration too large (at most 3650d)";
		return -1;
	}
	*ms = v * dunits[i].mult;
	*last = i;
	*sp = s;
	return 0;
}

int
duration_parse(const char *s, uint64_t *ms, const char **why)
{
	uint64_t total = 0, part;
	int last = -1;

	if (*s == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*s != '\0') {
		if (duration_part(&s, &last, &part, why) == -1)
			return -1;
		total += part;
		if (total > MAX_DURATION_MS) {
			*why = "duration too large (at most 3650d)";
			return -1;
		}
	}
	*ms = total;
	return 0;
}

void
duration_format(uint64_t ms, char *out, size_t outlen)
{
	size_t len = 0;
	int n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ms == 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	for (size_t i = 0; i < NDUNITS && len < outlen; i++) {
		uint64_t v = ms / dunits[i].mult;

		if (v == 0)
			continue;
		ms %= dunits[i].mult;
		n = snprintf(out + len, outlen - len, "%llu%s",
		    (unsigned long long)v, dunits[i].name);
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

static int
sunit_find(const char *s, const char **why)
{
	for (size_t i = 0; i < NSUNITS; i++)
		if (strcmp(sunits[i].name, s) == 0)
			return (int)i;
	if ((strlen(s) == 2 && strchr("KMGT", s[0]) && s[1] == 'B') ||
	    (strlen(s) == 2 && strchr("kmgt", s[0]) && (s[1] | 0x20) == 'b'))
		*why = "ambiguous unit (sizes are powers of 1024: write "
		    "G or GiB, not GB)";
	else
		*why = "unknown unit (use B, KiB, MiB, GiB, TiB or K, M, G, T)";
	return -1;
}

int
size_parse(const char *s, uint64_t *bytes, const char **why)
{
	uint64_t v;
	int i;

	if (*s == '\0') {
		*why = "empty size";
		return -1;
	}
	if (read_number(&s, &v, why) == -1)
		return -1;
	if (*s == '.' || *s == ',') {
		*why = "fractions are not allowed (write 1536MiB, not 1.5GiB)";
		return -1;
	}
	if ((i = sunit_find(s, why)) == -1)
		return -1;
	if (v > UINT64_MAX / sunits[i].mult) {
		*why = "size too large";
		return -1;
	}
	*bytes = v * sunits[i].mult;
	return 0;
}

void
size_format(uint64_t bytes, char *out, size_t outlen)
{
	static const struct unit big[] = {
		{ "TiB", 1ULL << 40 }, { "GiB", 1ULL << 30 },
		{ "MiB", 1ULL << 20 }, { "KiB", 1ULL << 10 },
	};

	for (size_t i = 0; bytes != 0 && i < sizeof(big) / sizeof(big[0]);
	    i++) {
		if (bytes % big[i].mult == 0) {
			snprintf(out, outlen, "%llu%s",
			    (unsigned long long)(bytes / big[i].mult),
			    big[i].name);
			return;
		}
	}
	snprintf(out, outlen, "%lluB", (unsigned long long)bytes);
}
