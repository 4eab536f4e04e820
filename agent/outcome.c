/* A step's outcome (outcome.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "outcome.h"
#include "timeutil.h"

void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->result = RESULT_NONE;
	for (int i = 0; i < PHASE__COUNT; i++)
		o->durations_ms[i] = -1;
	o->substituted_bytes = -1;
}

void
outcome_release(struct outcome *o)
{
	free(o->error);
	free(o->tail);
	outcome_init(o);
}

int
outcome_set(struct outcome *o, enum status_result res, const char *tail,
    const char *fmt, ...)
{
	va_list ap;

	o->result = res;
	free(o->error);
	o->error = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&o->error, fmt, ap) < 0)
			abort();	/* out of memory, as xasprintf */
		va_end(ap);
	}
	free(o->tail);
	o->tail = tail && *tail ? xstrdup(tail) : NULL;
	return -1;
}

void
outcome_time(struct outcome *o, enum status_phase ph, uint64_t t0)
{
	o->durations_ms[ph] = (int64_t)(time_monotonic_ms() - t0);
}
