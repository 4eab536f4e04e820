#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* syslog(3) priorities, as journald reads them from "<N>" prefixes. */
enum { PRI_ERR = 3, PRI_WARNING = 4, PRI_INFO = 6, PRI_DEBUG = 7 };

static const char *log_progname = "nixpull";
static int log_level = LOG_LVL_INFO;
static int log_journal;

void
log_detect_journal(void)
{
	const char *s = getenv("JOURNAL_STREAM");

	log_journal = s != NULL && *s != '\0';
}

void
log_init(const char *progname, int level)
{
	if (progname)
		log_progname = progname;
	log_level = level;
	log_detect_journal();
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	char msg[2048], stamp[32];
	int saved = errno;
	struct tm tm;
	time_t now;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		if (with_errno)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg,
			    strerror(saved));
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
	} else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		if (with_errno)
			fprintf(stderr, "%s %s: %s: %s\n", stamp,
			    log_progname, msg, strerror(saved));
		else
			fprintf(stderr, "%s %s: %s\n", stamp, log_progname,
			    msg);
	}
	fflush(stderr);
	errno = saved;
}

#define LOG_BODY(pri, minlevel, with_errno)		\
	va_list ap;					\
							\
	if (log_level < (minlevel))			\
		return;					\
	va_start(ap, fmt);				\
	vlog((pri), fmt, ap, (with_errno));		\
	va_end(ap)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(PRI_WARNING, LOG_LVL_QUIET, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(PRI_WARNING, LOG_LVL_QUIET, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(PRI_INFO, LOG_LVL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(PRI_DEBUG, LOG_LVL_DEBUG, 0);
}

void
log_trace(const char *fmt, ...)
{
	LOG_BODY(PRI_DEBUG, LOG_LVL_TRACE, 0);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
