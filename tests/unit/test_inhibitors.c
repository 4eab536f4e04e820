/*
 * agent/inhibitors.c: the switch-inhibitors comparison of nixpkgs'
 * pre-switch check (a key both systems have, with another value, refuses;
 * added and removed keys, equal values and missing files do not), what it
 * reports, files that are not JSON objects, and the refusal's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inhibitors.h"
#include "t.h"

static char dir[] = "/tmp/nixpull-test-inhibitors.XXXXXX";

/* dir/SYS/switch-inhibitors holds text (NULL: no such file). */
static const char *
sys(const char *name, const char *text)
{
	static char p[2][512];
	static int n;
	char *f;
	FILE *fp;

	n = !n;
	snprintf(p[n], sizeof(p[n]), "%s/%s", dir, name);
	mkdir(p[n], 0755);
	f = xasprintf("%s/switch-inhibitors", p[n]);
	unlink(f);
	if (text != NULL && (fp = fopen(f, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
	free(f);
	return p[n];
}

/* switch_inhibited of two systems with these files. */
static int
cmp(const char *old, const char *new, char **why, struct err *e)
{
	const char *a = sys("cur", old);
	const char *b = sys("new", new);

	return switch_inhibited(a, b, why, e);
}

int
main(void)
{
	struct err e;
	char *why;

	if (mkdtemp(dir) == NULL)
		return 1;

	/* Changed: refused, every changed key named, in the old order. */
	T_EQ_INT(cmp("{\"dbus-implementation\":\"dbus\",\"systemd\":\"258\","
	    "\"kernel\":\"6.12\"}",
	    "{\"kernel\":\"6.18\",\"systemd\":\"258\","
	    "\"dbus-implementation\":\"broker\"}", &why, &e), 1);
	T_EQ_STR(why, "dbus-implementation: dbus -> broker, kernel: 6.12 -> 6.18");
	free(why);

	/* Equal, added, removed: switched. */
	T_EQ_INT(cmp("{\"a\":\"1\",\"gone\":\"x\"}", "{\"a\":\"1\",\"new\":\"y\"}",
	    &why, &e), 0);
	T_OK(why == NULL);
	T_EQ_INT(cmp("{}", "{\"a\":\"1\"}", &why, &e), 0);
	T_EQ_INT(cmp("{\"a\":\"1\"}", "{}", &why, &e), 0);

	/* No file on either side counts as {}. */
	T_EQ_INT(cmp(NULL, "{\"a\":\"1\"}", &why, &e), 0);
	T_EQ_INT(cmp("{\"a\":\"1\"}", NULL, &why, &e), 0);
	T_EQ_INT(cmp(NULL, NULL, &why, &e), 0);
	T_EQ_INT(switch_inhibited("/nonexistent/current-system",
	    sys("new", "{\"a\":\"1\"}"), &why, &e), 0);

	/* Not JSON values compared as JSON, printed as JSON. */
	T_EQ_INT(cmp("{\"a\":[1,2]}", "{\"a\":[1,2]}", &why, &e), 0);
	T_EQ_INT(cmp("{\"a\":1}", "{\"a\":\"1\"}", &why, &e), 1);
	T_EQ_STR(why, "a: 1 -> 1");
	free(why);

	/* Unreadable: cannot be told, the file named. */
	T_EQ_INT(cmp("{\"a\":\"1\"}", "not json", &why, &e), -1);
	T_CONTAINS(e.msg, "new/switch-inhibitors:1:");
	T_CONTAINS(e.msg, "not JSON");
	T_OK(why == NULL);
	T_EQ_INT(cmp("[\"/nix/store/x-systemd\"]", "{\"a\":\"1\"}", &why, &e), -1);
	T_CONTAINS(e.msg, "cur/switch-inhibitors: not a JSON object");
	/* The first format (nixpkgs PR #473282): store paths, one a line. */
	T_EQ_INT(cmp("/nix/store/a-systemd-258\n", "/nix/store/b-systemd-259\n",
	    &why, &e), -1);

	/* The refusal as switch-to-configuration prints it. */
	T_OK(switch_inhibitors_refused("Checking switch inhibitors...\n"
	    "There are changes to critical components of the system:\n\n"
	    "dbus-implementation : dbus -> broker\n\n"
	    "Pre-switch check 'switchInhibitors' failed\n"
	    "Pre-switch checks failed\n"));
	T_OK(!switch_inhibitors_refused("Pre-switch check 'hostname' failed\n"
	    "Pre-switch checks failed\n"));
	T_OK(!switch_inhibitors_refused(NULL));

	why = xasprintf("rm -rf %s", dir);
	if (system(why) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(why);
	return T_DONE();
}
