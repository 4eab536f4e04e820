/*
 * libFuzzer target for the rollout plan parser (rollout_parse: the bytes a
 * release's .nixpull/rollout.yaml holds).  Whatever parses must keep its
 * invariants: 1..MAX_ROLLOUT_WAVES waves whose 'after' never goes down,
 * percent at most 100, and every host falls in one of them.  Seeds:
 * tests/corpus/rollout/{good,bad}.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "caps.h"
#include "rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct rollout_plan *p)
{
	char *d;

	if (p->nwaves == 0 || p->nwaves > MAX_ROLLOUT_WAVES)
		abort();
	for (size_t i = 0; i < p->nwaves; i++) {
		if (p->waves[i].percent > 100 || p->waves[i].name == NULL ||
		    (i > 0 && p->waves[i].after_ms < p->waves[i - 1].after_ms))
			abort();
		for (size_t k = 0; k < p->waves[i].nhosts; k++)
			(void)rollout_glob(p->waves[i].hosts[k], "lab-1.example");
	}
	if (rollout_wave_of(p, "lab-1", "desktops", "abc") >= p->nwaves)
		abort();
	(void)rollout_due(p, p->nwaves - 1, 1764900000);
	d = rollout_describe(p);
	free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rollout_plan p;
	struct err e;

	if (sodium_init() < 0)
		abort();
	if (rollout_parse(&p, "rollout.yaml", (const char *)data, size,
	    &e) == 0) {
		check(&p);
		rollout_release(&p);
	} else if (strncmp(e.msg, "rollout.yaml", 12) != 0)
		abort();	/* every error names the file */
	return 0;
}
