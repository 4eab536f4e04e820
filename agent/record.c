/*
 * Recording a deployed revision (record.h): deployed.json, and whether the
 * new system needs a reboot to run.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "record.h"
#include "state.h"
#include "timeutil.h"

/* Where dir/name points, not followed further (readlink(1)); NULL when it
 * is not a symbolic link. */
static char *
link_target(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	free(path);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * Reboot needed: booted and current system differ in kernel, initrd or
 * kernel modules, the links compared as system.autoUpgrade compares them
 * (readlink, so two entries that are not links are equal); -1 unknown.
 * In boot mode the deployed system only runs after a reboot.
 */
static int
reboot_required(const struct config *cfg, const char *store_path)
{
	static const char *const parts[] = { "kernel", "initrd",
	    "kernel-modules" };
	char *cur_dir = xstrdup(cfg->activate.current_system), *slash;
	char *booted, *cur, *a, *b;
	int r = 0;

	cur = state_resolve_system(cfg->activate.current_system);
	if (cfg->activate.mode == MODE_BOOT &&
	    (cur == NULL || strcmp(cur, store_path) != 0))
		r = 1;
	free(cur);
	if ((slash = strrchr(cur_dir, '/')) != NULL)
		*slash = '\0';
	booted = xasprintf("%s/booted-system", cur_dir);
	if (r == 0 && access(booted, F_OK) == -1)
		r = -1;
	for (size_t i = 0; r == 0 && i < 3; i++) {
		a = link_target(cfg->activate.current_system, parts[i]);
		b = link_target(booted, parts[i]);
		if (a == NULL && b == NULL)
			r = i == 0 ? -1 : 0;	/* no kernel: a container */
		else if (a == NULL || b == NULL || strcmp(a, b) != 0)
			r = 1;
		free(a);
		free(b);
	}
	free(booted);
	free(cur_dir);
	return r;
}

int
record_save(const struct config *cfg, struct deployed *d)
{
	struct err e;

	d->activated_at = time_now();
	if (state_save_deployed(cfg->state_dir, d, &e) == -1)
		log_warnx("%s", e.msg);
	return reboot_required(cfg, d->store_path);
}
