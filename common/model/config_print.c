/*
 * config_print(): the effective configuration as YAML that config_parse()
 * reads back to the same struct, in the order of the key table.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "duration.h"

/* Code points libyaml takes as they are in a double-quoted scalar. */
static bool
yaml_printable(unsigned long cp)
{
	return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
	    (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) ||
	    (cp >= 0x10000 && cp <= 0x10ffff);
}

/* The UTF-8 character at s (len bytes left) into *cp; its length. */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned long *cp)
{
	size_t n = s[0] < 0x80 ? 0 : s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 :
	    s[0] >= 0xc0 ? 1 : 0;

	*cp = n == 0 ? s[0] : s[0] & (0x3f >> n);
	if (s[0] >= 0x80 && n == 0)
		return 1;
	if (n >= len)
		n = 0;
	for (size_t i = 1; i <= n; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return n + 1;
}

/* s as a YAML double-quoted scalar that libyaml reads back as s. */
static void
print_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, n;
	unsigned long cp;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (len = strlen(s); len > 0; p += n, len -= n) {
		n = utf8_decode(p, len, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(fp, "\\%c", (int)cp);
		else if (yaml_printable(cp))
			fwrite(p, 1, n, fp);
		else if (cp < 0x100)
			fprintf(fp, "\\x%02lx", cp);
		else if (cp < 0x10000)
			fprintf(fp, "\\u%04lx", cp);
		else
			fprintf(fp, "\\U%08lx", cp);
	}
	fputc('"', fp);
}

static void
print_checks(FILE *fp, const struct config *cfg)
{
	char d[64];

	if (cfg->activate.nchecks == 0) {
		fputs(" []\n", fp);
		return;
	}
	fputc('\n', fp);
	for (size_t i = 0; i < cfg->activate.nchecks; i++) {
		const struct health_check *hc = &cfg->activate.checks[i];

		fputs("    - command: [", fp);
		for (size_t j = 0; j < hc->argv.n; j++) {
			fputs(j ? ", " : "", fp);
			print_string(fp, hc->argv.v[j]);
		}
		duration_format(hc->timeout_ms, d, sizeof(d));
		fprintf(fp, "]\n      timeout: %s\n", d);
	}
}

static void
print_value(FILE *fp, const struct config *cfg, const struct key *k)
{
	const void *p = (const char *)cfg + k->off;
	char s[64];
	unsigned e;

	fputc(' ', fp);
	if (config_key_is_string(k)) {
		print_string(fp, *(char *const *)p);
	} else if (k->type == K_DURATION) {
		duration_format(*(const uint64_t *)p, s, sizeof(s));
		fputs(s, fp);
	} else if (k->type == K_SIZE) {
		size_format(*(const uint64_t *)p, s, sizeof(s));
		fputs(s, fp);
	} else if (k->type == K_UINT) {
		fprintf(fp, "%u", *(const unsigned *)p);
	} else if (k->type == K_JOBS) {
		if (*(const int *)p == CONFIG_AUTO)
			fputs("auto", fp);
		else
			fprintf(fp, "%d", *(const int *)p);
	} else if (k->type == K_BOOL) {
		fputs(*(const bool *)p ? "true" : "false", fp);
	} else if (k->type == K_ENUM) {
		e = *(const unsigned *)p;
		fputs(e < 4 && k->names[e] ? k->names[e] : "null", fp);
	}
	fputc('\n', fp);
}

/* 0 at the top level, 1 in "a", 2 in "a.b". */
static int
key_depth(const struct key *k)
{
	int d = 0;

	if (k->section == NULL)
		return 0;
	for (const char *p = k->section; *p; p++)
		d += *p == '.';
	return d + 1;
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const struct key *k;

	if (cfg->path != NULL) {
		fputs("# the effective configuration of ", fp);
		print_string(fp, cfg->path);
		fputs("\n", fp);
	}
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		fprintf(fp, "%*s%s:", 2 * key_depth(k), "", k->name);
		if (k->type == K_SECTION)
			fputc('\n', fp);
		else if (k->type == K_CHECKS)
			print_checks(fp, cfg);
		else if (k->type == K_WINDOWS)
			config_print_windows(fp, cfg);
		else
			print_value(fp, cfg, k);
	}
}
