/* Durations ("30s", "5m", "1h30m", "1d", "250ms") and sizes ("5GiB", "512M"). */
#ifndef NIXPULL_DURATION_H
#define NIXPULL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -1 with a reason in *why (a static string). */
int	duration_parse(const char *s, uint64_t *ms, const char **why);
/* Shortest form: "1h30m", "250ms", "0s". */
void	duration_format(uint64_t ms, char *out, size_t outlen);
int	size_parse(const char *s, uint64_t *bytes, const char **why);
/* "5GiB", "512MiB", "17B". */
void	size_format(uint64_t bytes, char *out, size_t outlen);

#endif
