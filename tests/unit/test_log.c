/* common/log.c and common/err.c: priorities under journald, levels, and
 * error messages that keep their context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "t.h"

/* Runs fn with stderr redirected to a file; returns what it printed. */
static char *
capture(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
emit(void)
{
	log_warnx("warned %d", 1);
	log_info("informed");
	log_debug("debugged");
	log_trace("traced");
}

static void
test_journal(void)
{
	char *out;

	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("nixpull", LOG_LVL_INFO);
	out = capture(emit);
	T_CONTAINS(out, "<4>warned 1\n");
	T_CONTAINS(out, "<6>informed\n");
	T_OK(strstr(out, "debugged") == NULL);

	log_setlevel(LOG_LVL_DEBUG);
	out = capture(emit);
	T_CONTAINS(out, "<7>debugged\n");
	T_OK(strstr(out, "traced") == NULL);
	log_setlevel(LOG_LVL_TRACE);
	T_CONTAINS(capture(emit), "<7>traced\n");

	log_setlevel(LOG_LVL_QUIET);
	out = capture(emit);
	T_CONTAINS(out, "<4>warned 1\n");
	T_OK(strstr(out, "informed") == NULL);
}

static void
test_terminal(void)
{
	char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("nixpull", LOG_LVL_INFO);
	out = capture(emit);
	/* A timestamp and the program name, no priority prefix. */
	T_CONTAINS(out, " nixpull: warned 1\n");
	T_OK(out[0] >= '0' && out[0] <= '9');
	T_OK(strstr(out, "<4>") == NULL);
}

static void
test_err(void)
{
	struct err e;
	char big[2 * MAX_ERROR];

	T_EQ_INT(err_set(&e, "unknown key '%s'", "intervall"), -1);
	T_EQ_STR(e.msg, "unknown key 'intervall'");
	T_EQ_INT(err_prefix(&e, "%s:%d:%d", "config.yaml", 12, 5), -1);
	T_EQ_STR(e.msg, "config.yaml:12:5: unknown key 'intervall'");
	T_EQ_INT(err_set(NULL, "ignored"), -1);

	/* Context that does not fit is cut, never overflows. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, "%s", "tail");
	err_prefix(&e, "%s", big);
	T_EQ_INT(strlen(e.msg), MAX_ERROR - 1);
	T_OK(e.msg[0] == 'x');
}

int
main(void)
{
	test_journal();
	test_terminal();
	test_err();
	return T_DONE();
}
