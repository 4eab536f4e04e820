/*
 * The machine probe on Linux: files under a root prefix (so the tests can
 * feed recorded trees), then sysconf, sched_getaffinity and uname for the
 * live machine.  The file-reading half is plain POSIX and built everywhere.
 */
#include <sys/types.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "platform.h"

/* 0 read, 1 absent or unreadable (left unknown), -1 error. */
static int
read_file(const char *root, const char *rel, struct buf *b, struct err *e)
{
	char path[PATH_MAX], chunk[4096];
	ssize_t n;
	int fd, r = -1;

	buf_reset(b);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    sizeof(path))
		return err_set(e, "path too long '%s/%s'", root, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
		    errno == ENODEV)
			return 1;
		return err_errno(e, "cannot open '%s'", path);
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* sysfs attributes may fail to read (ENODATA...). */
			r = 1;
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(b, chunk, (size_t)n) == -1) {
			err_set(e, "'%s' is larger than %d bytes", path,
			    MAX_PLATFORM_FILE);
			goto out;
		}
	}
	buf_addstr(b, "");	/* NUL-terminated even when empty */
	r = 0;
 out:
	close(fd);
	return r;
}

/* Reads rel and hands it to parse; absent files are skipped. */
#define READ_PARSE(root, rel, b, e, call) do {				\
	int rr_ = read_file((root), (rel), (b), (e));			\
	if (rr_ == -1)							\
		goto out;						\
	if (rr_ == 0 && (call) == -1) {					\
		err_prefix((e), "%s/%s", (root), (rel));		\
		goto out;						\
	}								\
} while (0)

/* The smallest cpu.max quota of the cgroup at path and its ancestors. */
static int
cgroup_quota(const char *root, const char *cgpath, double *quota,
    struct buf *b, struct err *e)
{
	char path[PATH_MAX], rel[PATH_MAX + 32], *slash;
	double q;
	int r;

	*quota = 0;
	if (strlen(cgpath) >= sizeof(path))
		return err_set(e, "cgroup path too long");
	memcpy(path, cgpath, strlen(cgpath) + 1);
	for (;;) {
		snprintf(rel, sizeof(rel), "sys/fs/cgroup%s/cpu.max",
		    strcmp(path, "/") == 0 ? "" : path);
		if ((r = read_file(root, rel, b, e)) == -1)
			return -1;
		if (r == 0) {
			if (platform_parse_cpu_max(buf_str(b), &q, e) == -1)
				return err_prefix(e, "%s/%s", root, rel);
			if (q > 0 && (*quota == 0 || q < *quota))
				*quota = q;
		}
		if (strcmp(path, "/") == 0)
			return 0;
		slash = strrchr(path, '/');
		slash[slash == path ? 1 : 0] = '\0';
	}
}

/* One entry of sys/class/power_supply: what kind, whether it counts. */
struct supply {
	int	ac_online;	/* a mains (or USB-C...) supply feeding us */
	int	discharging;	/* a system battery running down */
	int	unknown;	/* a system battery that does not say */
	int	batteries;
};

static int
supply_read(const char *root, const char *name, struct supply *s,
    struct buf *b, struct err *e)
{
	char rel[PATH_MAX], type[32];
	int r;

	snprintf(rel, sizeof(rel), "sys/class/power_supply/%s/scope", name);
	if ((r = read_file(root, rel, b, e)) == -1)
		return -1;
	if (r == 0 && strncmp(buf_str(b), "Device", 6) == 0)
		return 0;	/* a mouse or a phone, not ours */
	snprintf(rel, sizeof(rel), "sys/class/power_supply/%s/type", name);
	if ((r = read_file(root, rel, b, e)) != 0)
		return r == -1 ? -1 : 0;
	snprintf(type, sizeof(type), "%.*s",
	    (int)strcspn(buf_str(b), "\n"), buf_str(b));
	if (strcmp(type, "Battery") == 0) {
		s->batteries++;
		snprintf(rel, sizeof(rel), "sys/class/power_supply/%s/status",
		    name);
		if ((r = read_file(root, rel, b, e)) == -1)
			return -1;
		if (r == 0 && strncmp(buf_str(b), "Discharging", 11) == 0)
			s->discharging = 1;
		else if (r == 1 || strncmp(buf_str(b), "Unknown", 7) == 0)
			s->unknown = 1;
		return 0;
	}
	snprintf(rel, sizeof(rel), "sys/class/power_supply/%s/online", name);
	if ((r = read_file(root, rel, b, e)) == -1)
		return -1;
	if (r == 0 && buf_str(b)[0] == '1')
		s->ac_online = 1;
	return 0;
}

/*
 * AC when any supply feeding the system is online; battery when a system
 * battery discharges and no mains is online; no supplies at all (desktops,
 * servers, VMs) is not on battery; a battery that says nothing is unknown.
 */
static int
power_source(const char *root, int *on_battery, struct buf *b, struct err *e)
{
	char dir[PATH_MAX];
	struct supply s = { 0 };
	struct dirent *de;
	DIR *d;
	int n = 0, r = 0;

	snprintf(dir, sizeof(dir), "%s/sys/class/power_supply", root);
	if ((d = opendir(dir)) == NULL) {
		*on_battery = 0;
		return 0;
	}
	while ((de = readdir(d)) != NULL && n < MAX_POWER_SUPPLIES) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if ((r = supply_read(root, de->d_name, &s, b, e)) == -1)
			break;
	}
	closedir(d);
	if (s.ac_online)
		*on_battery = 0;
	else if (s.discharging)
		*on_battery = 1;
	else
		*on_battery = s.unknown ? -1 : 0;
	return r;
}

/* Free bytes in /nix/store's filesystem, or of its nearest parent. */
static void
store_free(const char *root, uint64_t *bytes)
{
	static const char *const rels[] = { "/nix/store", "/nix", "/" };
	char path[PATH_MAX];
	struct statvfs sv;
	size_t i;

	for (i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, rels[i]);
		if (statvfs(path, &sv) == 0) {
			*bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
			return;
		}
	}
}

int
platform_probe_root(const char *root, struct platform *p, struct err *e)
{
	struct buf b;
	char cgpath[PATH_MAX];
	double load[3];
	int r = -1;

	buf_init(&b, MAX_PLATFORM_FILE);
	READ_PARSE(root, "sys/devices/system/cpu/online", &b, e,
	    platform_parse_cpulist(buf_str(&b), &p->cpus_online, e));
	READ_PARSE(root, "proc/self/status", &b, e,
	    platform_parse_status_cpus(buf_str(&b), &p->cpus_affinity, e));
	cgpath[0] = '\0';
	READ_PARSE(root, "proc/self/cgroup", &b, e,
	    platform_parse_cgroup(buf_str(&b), cgpath, sizeof(cgpath), e));
	if (cgpath[0] != '\0' &&
	    cgroup_quota(root, cgpath, &p->cpu_quota, &b, e) == -1)
		goto out;
	READ_PARSE(root, "proc/meminfo", &b, e,
	    platform_parse_meminfo(buf_str(&b), &p->mem_total,
	    &p->mem_available, e));
	load[0] = p->load1, load[1] = p->load5, load[2] = p->load15;
	READ_PARSE(root, "proc/loadavg", &b, e,
	    platform_parse_loadavg(buf_str(&b), load, e));
	p->load1 = load[0], p->load5 = load[1], p->load15 = load[2];
	if (power_source(root, &p->on_battery, &b, e) == -1)
		goto out;
	store_free(root, &p->nix_store_free);
	r = 0;
 out:
	buf_release(&b);
	return r;
}

#ifndef __APPLE__
/* No console user: logind lists the sessions (see platform.h). */
int
platform_console_user(char *user, size_t n, struct err *e)
{
	(void)e;
	if (n > 0)
		user[0] = '\0';
	return 0;
}

/* Like nproc: the CPUs this process may run on. */
static unsigned
affinity_count(void)
{
#ifdef __linux__
	cpu_set_t *set;
	size_t ncpus, size;
	unsigned n = 0;

	for (ncpus = 1024; ncpus <= MAX_CPU_INDEX + 1; ncpus *= 2) {
		if ((set = CPU_ALLOC(ncpus)) == NULL)
			return 0;
		size = CPU_ALLOC_SIZE(ncpus);
		if (sched_getaffinity(0, size, set) == 0) {
			n = (unsigned)CPU_COUNT_S(size, set);
			CPU_FREE(set);
			return n;
		}
		CPU_FREE(set);
		if (errno != EINVAL)
			return 0;
	}
#endif
	return 0;
}

int
platform_probe(struct platform *p, struct err *e)
{
	struct utsname u;
	long n;
	unsigned aff;

	platform_init(p);
	if (platform_probe_root("", p, e) == -1)
		return -1;
	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
		p->cpus_online = (unsigned)n;
	if ((aff = affinity_count()) > 0)
		p->cpus_affinity = aff;
	if (uname(&u) == 0) {
		snprintf(p->os, sizeof(p->os), "%.15s",
		    strcmp(u.sysname, "Linux") == 0 ? "linux" : u.sysname);
		snprintf(p->arch, sizeof(p->arch), "%.15s",
		    platform_arch_name(u.machine));
	}
	return platform_apply_env(p, e);
}
#endif
