/*
 * Desktop notifications (desktop.h).  The contracts:
 *   loginctl list-sessions --no-legend --no-pager --output=json
 *	loginctl(1): a JSON array, one object per session, keys the
 *	lowercased columns (session, uid, user, seat, class, state, ...)
 *   loginctl show-session ID -p NAME ...
 *	loginctl(1): the session's D-Bus properties (org.freedesktop.
 *	login1(5), Session: Id, Name, User (the uid), Type, Class, State)
 *	as NAME=VALUE lines
 *   runuser -u USER -- COMMAND...	util-linux runuser(1)
 *   notify-send [OPTIONS] SUMMARY [BODY]	libnotify's notify-send(1)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "caps.h"
#include "desktop.h"
#include "fsutil.h"
#include "log.h"
#include "spawn.h"

#define DESKTOP_TIMEOUT_MS	10000
#define MAX_DESKTOP_USERS	64

static int
copy_value(char *dst, size_t n, const char *v, size_t len, const char *key,
    struct err *e)
{
	if (len >= n)
		return err_set(e, "loginctl show-session: %s too long", key);
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

/* The string properties and where they go. */
#define SESSION_STR(k, m) { k, offsetof(struct desktop_session, m),	\
	sizeof(((struct desktop_session *)0)->m) }
static const struct {
	const char	*key;
	size_t		 off, size;
} session_strs[] = {
	SESSION_STR("Id", id), SESSION_STR("Name", name),
	SESSION_STR("Type", type), SESSION_STR("Class", cls),
	SESSION_STR("State", state),
};

int
desktop_parse_session(const char *text, struct desktop_session *s,
    struct err *e)
{
	const char *line, *eq, *v;
	size_t len, klen, vlen, i;
	char *end;

	memset(s, 0, sizeof(*s));
	s->uid = -1;
	for (line = text; *line != '\0'; line += len + (line[len] == '\n')) {
		len = strcspn(line, "\n");
		if ((eq = memchr(line, '=', len)) == NULL)
			continue;
		klen = (size_t)(eq - line);
		v = eq + 1;
		vlen = len - klen - 1;
		for (i = 0; i < sizeof(session_strs) / sizeof(session_strs[0]);
		    i++)
			if (strlen(session_strs[i].key) == klen &&
			    strncmp(line, session_strs[i].key, klen) == 0)
				break;
		if (i < sizeof(session_strs) / sizeof(session_strs[0])) {
			if (copy_value((char *)s + session_strs[i].off,
			    session_strs[i].size, v, vlen,
			    session_strs[i].key, e))
				return -1;
		} else if (klen == 4 && strncmp(line, "User", 4) == 0) {
			errno = 0;
			if (vlen == 0 || !isdigit((unsigned char)v[0]) ||
			    (s->uid = strtoll(v, &end, 10), errno != 0) ||
			    end != v + vlen || s->uid > UINT32_MAX)
				return err_set(e, "loginctl show-session: bad "
				    "User '%.*s'", (int)(vlen > 32 ? 32 : vlen),
				    v);
		}
	}
	return 0;
}

/* A user name we hand to runuser: no option, no path, no control. */
static bool
plain_name(const char *s)
{
	if (s[0] == '\0' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || iscntrl((unsigned char)*s) ||
		    isspace((unsigned char)*s))
			return false;
	return true;
}

bool
desktop_is_graphical(const struct desktop_session *s)
{
	return (strcmp(s->type, "x11") == 0 ||
	    strcmp(s->type, "wayland") == 0 || strcmp(s->type, "mir") == 0) &&
	    strncmp(s->cls, "user", 4) == 0 &&
	    strcmp(s->state, "closing") != 0 && s->uid >= 0 &&
	    plain_name(s->name);
}

/* prog's full path in our PATH, or NULL. */
static char *
path_find(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	char *cand;
	size_t n;

	for (p = path ? path : ""; *p != '\0'; p += n + (p[n] == ':')) {
		n = strcspn(p, ":");
		if (n == 0)
			continue;
		cand = xasprintf("%.*s/%s", (int)n, p, prog);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/* The ids of the sessions loginctl lists; NULL when it cannot. */
static json_t *
session_list(void)
{
	const char *argv[] = { "loginctl", "list-sessions", "--no-legend",
	    "--no-pager", "--output=json", NULL };
	struct buf out;
	struct err e;
	json_t *j;

	if (spawn_capture(argv, NULL, DESKTOP_TIMEOUT_MS, MAX_LOGIND_OUTPUT,
	    &out, &e) == -1) {
		log_debug("desktop notice: %s", e.msg);
		buf_release(&out);
		return NULL;
	}
	j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	buf_release(&out);
	if (!json_is_array(j)) {
		log_debug("desktop notice: unreadable loginctl output");
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
session_show(const char *id, struct desktop_session *s)
{
	const char *argv[] = { "loginctl", "show-session", id, "--no-pager",
	    "-p", "Id", "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class",
	    "-p", "State", NULL };
	struct buf out;
	struct err e;
	int r;

	if ((r = spawn_capture(argv, NULL, DESKTOP_TIMEOUT_MS,
	    MAX_LOGIND_OUTPUT, &out, &e)) == 0)
		r = desktop_parse_session(buf_str(&out), s, &e);
	if (r == -1)
		log_debug("desktop notice: session %s: %s", id, e.msg);
	buf_release(&out);
	return r;
}

static void
send_one(const char *notify, const struct desktop_session *s,
    const char *summary, const char *body)
{
	char *bus = xasprintf("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/"
	    "%lld/bus", s->uid);
	const char *argv[] = { "runuser", "-u", s->name, "--", "env", bus,
	    notify, "--app-name=nixpull", "--urgency=critical",
	    "--icon=system-reboot", summary, body, NULL };
	struct spawn_opts o;
	struct spawn_result res;
	struct err e;

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = DESKTOP_TIMEOUT_MS;
	if (spawn_run(&o, &res, &e) == -1 ||
	    spawn_check(&res, "notify-send", &e) == -1)
		log_warnx("desktop notice for %s (session %s): %s", s->name,
		    s->id, e.msg);
	else
		log_info("desktop notice sent to %s (session %s)", s->name,
		    s->id);
	free(bus);
}

int
desktop_notify(const char *summary, const char *body)
{
	long long done[MAX_DESKTOP_USERS];
	struct desktop_session s;
	char *notify;
	json_t *list, *row;
	const char *id;
	size_t i, k, ndone = 0;

	if ((notify = path_find("notify-send")) == NULL) {
		log_debug("desktop notice: no notify-send on PATH");
		return 0;
	}
	if ((list = session_list()) == NULL) {
		free(notify);
		return 0;
	}
	json_array_foreach(list, i, row) {
		id = json_string_value(json_object_get(row, "session"));
		if (id == NULL || id[0] == '\0' || id[0] == '-' ||
		    strlen(id) >= sizeof(s.id) || ndone == MAX_DESKTOP_USERS)
			continue;
		if (session_show(id, &s) == -1)
			continue;
		if (s.id[0] == '\0')
			snprintf(s.id, sizeof(s.id), "%s", id);
		if (!desktop_is_graphical(&s)) {
			log_debug("desktop notice: session %s (%s, %s) is no "
			    "graphical session of a person", id,
			    s.type[0] ? s.type : "?", s.cls[0] ? s.cls : "?");
			continue;
		}
		for (k = 0; k < ndone && done[k] != s.uid; k++)
			;
		if (k < ndone)
			continue;	/* one bus per user: once is enough */
		done[ndone++] = s.uid;
		send_one(notify, &s, summary, body);
	}
	json_decref(list);
	free(notify);
	return (int)ndone;
}
