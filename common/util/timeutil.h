/*
 * Time as the status document and the logs want it: RFC 3339 in UTC
 * ("2026-11-25T03:00:00Z") and a monotonic millisecond clock for measuring
 * durations and deadlines.
 */
#ifndef NIXPULL_TIMEUTIL_H
#define NIXPULL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIME_RFC3339_LEN	sizeof("YYYY-MM-DDTHH:MM:SSZ")

/* "YYYY-MM-DDTHH:MM:SSZ" into out (at least TIME_RFC3339_LEN bytes);
 * 0, or -1 when t cannot be represented (year outside 0..9999). */
int	 time_format_rfc3339(time_t t, char *out, size_t outlen);
/*
 * Parses RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t', 'z'
 * and a blank for 'T' accepted as the RFC allows).  Fractions are dropped.
 * 0, or -1 with a reason in *why (a static string).
 */
int	 time_parse_rfc3339(const char *s, time_t *t, const char **why);
/* An age for people, two units at most: "45s", "5m12s", "3h4m", "12d3h";
 * negative ages (clock skew) as "-5s". */
void	 time_format_age(int64_t seconds, char *out, size_t outlen);
/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
uint64_t time_monotonic_ms(void);
/* Wall-clock now. */
time_t	 time_now(void);

#endif
