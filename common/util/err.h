/*
 * An error that says where and what, filled by library code and printed by
 * main.c only.  Messages are lowercase, no final period, subject quoted:
 *   config.yaml:12:5: unknown key 'intervall' in 'poll'
 */
#ifndef NIXPULL_ERR_H
#define NIXPULL_ERR_H

#include "caps.h"

struct err {
	char msg[MAX_ERROR];
};

/* Sets e->msg (e may be NULL) and returns -1, for `return err_set(...)`. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes e->msg with "fmt: ", for adding context on the way up. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like err_set, with ": strerror(errno)" appended. */
int err_errno(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
