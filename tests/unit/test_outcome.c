/* A step's outcome (agent/outcome.h): what a step hands the driver. */
#include <string.h>

#include "outcome.h"
#include "t.h"

int
main(void)
{
	struct outcome o;
	char tail[] = "last lines";

	outcome_init(&o);
	T_EQ_INT(o.result, RESULT_NONE);
	T_OK(o.error == NULL && o.tail == NULL);
	T_EQ_INT(o.substituted_bytes, -1);
	T_EQ_INT(o.evaluations, 0);
	for (int i = 0; i < PHASE__COUNT; i++)
		T_EQ_INT(o.durations_ms[i], -1);

	/* The error is formatted, the tail copied (not borrowed). */
	T_EQ_INT(outcome_set(&o, RESULT_FAILED, tail, "build of %.4s failed",
	    "abcdef"), -1);
	tail[0] = 'X';
	T_EQ_INT(o.result, RESULT_FAILED);
	T_EQ_STR(o.error, "build of abcd failed");
	T_EQ_STR(o.tail, "last lines");

	/* Set again: replaced; no format and an empty tail: none. */
	T_EQ_INT(outcome_set(&o, RESULT_SUCCESS, "", NULL), -1);
	T_EQ_INT(o.result, RESULT_SUCCESS);
	T_OK(o.error == NULL && o.tail == NULL);

	outcome_time(&o, PHASE_CHECK, 0);
	T_OK(o.durations_ms[PHASE_CHECK] >= 0);
	T_EQ_INT(o.durations_ms[PHASE_BUILD], -1);

	/* Released: as new, and again is harmless. */
	outcome_set(&o, RESULT_ROLLED_BACK, "t", "why");
	outcome_release(&o);
	T_EQ_INT(o.result, RESULT_NONE);
	T_OK(o.error == NULL && o.tail == NULL);
	T_EQ_INT(o.durations_ms[PHASE_CHECK], -1);
	outcome_release(&o);
	return T_DONE();
}
