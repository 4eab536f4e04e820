/*
 * libFuzzer target for the config parser (config_parse: no filesystem
 * checks).  Whatever parses must print as YAML that parses again to the same
 * printout.  Seeds: tests/corpus/config/{good,bad}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print_to_string(const struct config *cfg)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	if (fp == NULL)
		abort();
	config_print(cfg, fp);
	fclose(fp);
	return s;
}

static void
round_trip(const struct config *cfg)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config again;
	char *out, *out2;

	out = print_to_string(cfg);
	if (config_parse(&again, "fuzz.yaml", out, strlen(out), &errors,
	    &warnings) != 0) {
		fprintf(stderr, "printout does not parse: %s\n%s\n",
		    errors.n ? errors.v[0] : "?", out);
		abort();
	}
	out2 = print_to_string(&again);
	if (strcmp(out, out2) != 0) {
		fprintf(stderr, "printout changed:\n%s\n---\n%s\n", out, out2);
		abort();
	}
	free(out);
	free(out2);
	config_release(&again);
	strvec_clear(&errors);
	strvec_clear(&warnings);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;

	if (config_parse(&cfg, "fuzz.yaml", (const char *)data, size, &errors,
	    &warnings) == 0) {
		round_trip(&cfg);
		config_release(&cfg);
	} else if (errors.n == 0) {
		fprintf(stderr, "failed without an error\n");
		abort();
	}
	strvec_clear(&errors);
	strvec_clear(&warnings);
	return 0;
}
