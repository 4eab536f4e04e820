/*
 * Logging in the manner of OpenBSD's log.h.  Everything goes to stderr; under
 * journald (JOURNAL_STREAM set) each line carries a <N> priority prefix and
 * no timestamp, otherwise a local timestamp.  Library code logs but never
 * exits; fatal() and fatalx() are for main.c and the daemon loop.
 */
#ifndef NIXPULL_LOG_H
#define NIXPULL_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_QUIET = -1,	/* -q: errors only */
	LOG_LVL_INFO = 0,	/* default */
	LOG_LVL_DEBUG = 1,	/* -v */
	LOG_LVL_TRACE = 2,	/* -vv */
};

void	log_init(const char *progname, int level);
void	log_setlevel(int level);
int	log_getlevel(void);
/* Re-reads JOURNAL_STREAM; done by log_init. */
void	log_detect_journal(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
