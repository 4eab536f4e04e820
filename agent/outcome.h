/*
 * What a step of the cycle returns: its result, the error that says why,
 * the tail of its log, how long its phases took, and what it found out
 * that the status document shows (how the system was obtained and
 * activated).  A step fills one and never touches the status document;
 * only the driver (cycle.c) maps an outcome to the document's state and
 * result, publishes it and writes the history.
 */
#ifndef NIXPULL_OUTCOME_H
#define NIXPULL_OUTCOME_H

#include <stdarg.h>
#include <stdint.h>

#include "status.h"

struct outcome {
	enum status_result result;	/* RESULT_NONE: passed, go on */
	char		*error;		/* why (malloc'd), or NULL */
	char		*tail;		/* the end of its log (malloc'd), NULL */
	int64_t		 durations_ms[PHASE__COUNT];	/* -1: not run here */
	/* What it found out, for last_attempt: */
	const char	*source;	/* "built", "substituted", or NULL */
	int		 evaluations;	/* of the configuration, by the step */
	int64_t		 substituted_bytes;	/* -1: none, or not known */
	const char	*activation;	/* activate_method_name, or NULL */
};

void	outcome_init(struct outcome *o);
void	outcome_release(struct outcome *o);
/* Sets the result, the error (printf-like; fmt NULL: none) and the tail
 * (NULL or "": none); returns -1, for `return outcome_set(...)`. */
int	outcome_set(struct outcome *o, enum status_result res,
	    const char *tail, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* The time since t0 (time_monotonic_ms) as phase ph's duration. */
void	outcome_time(struct outcome *o, enum status_phase ph, uint64_t t0);

#endif
