/*
 * The machine probe's OS-independent half: the parsers (Linux files and
 * darwin command outputs alike, so both are tested on any host), the test
 * hooks, the CPU budget and `nix --version`.  The probes that read the
 * machine are in platform_linux.c and platform_darwin.c.
 */
#include <sys/utsname.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "duration.h"
#include "caps.h"
#include "platform.h"
#include "spawn.h"

#define NIX_VERSION_TIMEOUT_MS	10000

void
platform_init(struct platform *p)
{
	memset(p, 0, sizeof(*p));
	p->on_battery = -1;
}

unsigned
platform_cpu_budget(const struct platform *p)
{
	unsigned n = p->cpus_online;

	if (p->cpus_affinity > 0 && (n == 0 || p->cpus_affinity < n))
		n = p->cpus_affinity;
	if (p->cpu_quota > 0 && p->cpu_quota < (double)MAX_CPU_INDEX) {
		unsigned q = (unsigned)p->cpu_quota;	/* ceil, without libm */

		if ((double)q < p->cpu_quota)
			q++;
		if (n == 0 || q < n)
			n = q;
	}
	return n > 0 ? n : 1;
}

/* An unsigned decimal at *sp, advancing *sp; -1 if none or too big. */
static int
scan_u64(const char **sp, uint64_t max, uint64_t *v)
{
	const char *s = *sp;
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || x > max)
		return -1;
	*v = x;
	*sp = end;
	return 0;
}

/* Copies the first line of text (at most n-1 bytes) for messages. */
static const char *
first_line(const char *text, char *out, size_t n)
{
	size_t len = strcspn(text, "\n");

	if (len >= n)
		len = n - 1;
	memcpy(out, text, len);
	out[len] = '\0';
	return out;
}

int
platform_parse_cpulist(const char *text, unsigned *count, struct err *e)
{
	const char *s = text;
	uint64_t lo, hi, n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != '\n') {
		if (scan_u64(&s, MAX_CPU_INDEX, &lo) == -1)
			goto bad;
		hi = lo;
		if (*s == '-') {
			s++;
			if (scan_u64(&s, MAX_CPU_INDEX, &hi) == -1 || hi < lo)
				goto bad;
		}
		n += hi - lo + 1;
		if (*s == ',')
			s++;
		else if (*s != '\0' && *s != '\n')
			goto bad;
	}
	*count = (unsigned)n;
	return 0;
 bad:
	return err_set(e, "bad CPU list '%.64s'", text);
}

int
platform_parse_status_cpus(const char *text, unsigned *count, struct err *e)
{
	static const char key[] = "Cpus_allowed_list:";
	const char *s;

	*count = 0;
	for (s = text; s != NULL && *s != '\0'; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		if (strncmp(s, key, sizeof(key) - 1) == 0)
			return platform_parse_cpulist(s + sizeof(key) - 1,
			    count, e);
	}
	return 0;
}

int
platform_parse_cgroup(const char *text, char *path, size_t pathsz,
    struct err *e)
{
	const char *s, *end;
	size_t len;

	path[0] = '\0';
	for (s = text; s != NULL && *s != '\0'; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		if (strncmp(s, "0::", 3) != 0)
			continue;
		s += 3;
		end = s + strcspn(s, "\n");
		len = (size_t)(end - s);
		if (len == 0 || *s != '/' || len >= pathsz)
			return err_set(e, "bad cgroup v2 path '%.*s'",
			    (int)(len > 64 ? 64 : len), s);
		memcpy(path, s, len);
		path[len] = '\0';
		if (strstr(path, "/../") != NULL ||
		    (len >= 3 && strcmp(path + len - 3, "/..") == 0))
			return err_set(e, "bad cgroup v2 path '%s'", path);
		return 0;
	}
	return 0;
}

int
platform_parse_cpu_max(const char *text, double *quota, struct err *e)
{
	const char *s = text;
	uint64_t q = 0, period = 100000;
	int unlimited = 0;
	char line[64];

	if (strncmp(s, "max", 3) == 0) {
		unlimited = 1;
		s += 3;
	} else if (scan_u64(&s, UINT32_MAX, &q) == -1 || q == 0)
		goto bad;
	if (*s == ' ') {
		s++;
		if (scan_u64(&s, UINT32_MAX, &period) == -1 || period == 0)
			goto bad;
	}
	if (*s != '\n' && *s != '\0')
		goto bad;
	*quota = unlimited ? 0 : (double)q / (double)period;
	return 0;
 bad:
	return err_set(e, "bad cpu.max '%s'",
	    first_line(text, line, sizeof(line)));
}

/* "Key:   1234 kB" -> bytes; 1 if the line is not key, -1 if malformed. */
static int
meminfo_line(const char *s, const char *key, uint64_t *bytes)
{
	size_t klen = strlen(key);
	uint64_t kb;

	if (strncmp(s, key, klen) != 0 || s[klen] != ':')
		return 1;
	s += klen + 1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (scan_u64(&s, UINT64_MAX / 1024, &kb) == -1 ||
	    strncmp(s, " kB", 3) != 0)
		return -1;
	*bytes = kb * 1024;
	return 0;
}

int
platform_parse_meminfo(const char *text, uint64_t *total,
    uint64_t *available, struct err *e)
{
	static const char *const keys[] = {
		"MemTotal", "MemAvailable", "MemFree", "Cached",
	};
	uint64_t v[4] = { 0 };
	int seen[4] = { 0 };
	const char *s;
	size_t i;
	int r;

	for (s = text; s != NULL && *s != '\0'; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		for (i = 0; i < 4; i++) {
			if ((r = meminfo_line(s, keys[i], &v[i])) == -1)
				return err_set(e, "bad meminfo line for '%s'",
				    keys[i]);
			if (r == 0)
				seen[i] = 1;
		}
	}
	if (!seen[0])
		return err_set(e, "no 'MemTotal' in meminfo");
	*total = v[0];
	/* Before Linux 3.14: an estimate from what was there. */
	*available = seen[1] ? v[1] : v[2] + v[3];
	return 0;
}

int
platform_parse_loadavg(const char *text, double load[3], struct err *e)
{
	const char *s = text;
	char *end;
	int i;

	for (i = 0; i < 3; i++) {
		while (*s == ' ')
			s++;
		errno = 0;
		load[i] = strtod(s, &end);
		if (end == s || errno != 0 || load[i] < 0 ||
		    !isfinite(load[i]))
			return err_set(e, "bad load average '%.64s'", text);
		s = end;
	}
	return 0;
}

int
platform_parse_nix_version(const char *text, char *out, size_t outsz,
    struct err *e)
{
	char line[128];
	const char *tok;
	size_t len, i;

	first_line(text, line, sizeof(line));
	len = strlen(line);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	tok = strrchr(line, ' ');
	tok = tok != NULL ? tok + 1 : line;
	len = strlen(tok);
	if (len == 0 || len >= outsz || !isdigit((unsigned char)tok[0]))
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)tok[i]) &&
		    strchr(".+-_", tok[i]) == NULL)
			goto bad;
	memcpy(out, tok, len + 1);
	return 0;
 bad:
	return err_set(e, "unexpected output of 'nix --version': '%s'", line);
}

const char *
platform_arch_name(const char *machine)
{
	static const struct {
		const char *uname, *nix;
	} names[] = {
		{ "amd64", "x86_64" }, { "x86_64", "x86_64" },
		{ "arm64", "aarch64" }, { "aarch64", "aarch64" },
		{ "i386", "i686" }, { "i486", "i686" }, { "i586", "i686" },
		{ "i686", "i686" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(machine, names[i].uname) == 0)
			return names[i].nix;
	return machine;
}

int
platform_parse_pmset(const char *text)
{
	static const char head[] = "Now drawing from '";
	const char *s = strstr(text, head);

	if (s == NULL)
		return -1;
	s += sizeof(head) - 1;
	if (strncmp(s, "AC Power'", 9) == 0)
		return 0;
	/* A UPS on battery is a desktop whose mains failed: battery too. */
	if (strncmp(s, "Battery Power'", 14) == 0 ||
	    strncmp(s, "UPS Power'", 10) == 0)
		return 1;
	return -1;
}

int
platform_parse_vm_stat(const char *text, uint64_t *available, struct err *e)
{
	static const char *const keys[] = {
		"Pages free:", "Pages inactive:", "Pages speculative:",
	};
	const char *s, *p;
	uint64_t page = 0, pages = 0, v;
	size_t i;

	if ((s = strstr(text, "(page size of ")) != NULL) {
		s += 14;
		if (scan_u64(&s, 1 << 24, &page) == -1)
			page = 0;
	}
	if (page == 0)
		return err_set(e, "no page size in 'vm_stat' output");
	for (i = 0; i < 3; i++) {
		if ((p = strstr(text, keys[i])) == NULL)
			return err_set(e, "no '%s' in 'vm_stat' output",
			    keys[i]);
		p += strlen(keys[i]);
		while (*p == ' ')
			p++;
		if (scan_u64(&p, UINT64_MAX / 4 / page, &v) == -1)
			return err_set(e, "bad '%s' in 'vm_stat' output",
			    keys[i]);
		pages += v;
	}
	*available = pages * page;
	return 0;
}

int
platform_parse_console_user(const char *text, char *user, size_t n,
    struct err *e)
{
	static const char *const nobody[] = { "root", "loginwindow",
	    "_mbsetupuser" };
	const char *s = text, *rest;
	size_t len, i;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strcspn(s, "\n");
	rest = s + len;
	if (*rest == '\n' && rest[1 + strspn(rest + 1, " \t\n")] != '\0')
		return err_set(e, "unexpected output of 'stat -f %%Su "
		    "/dev/console': more than one line");
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return err_set(e, "unexpected output of 'stat -f %%Su "
		    "/dev/console': nothing");
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return err_set(e, "unexpected output of 'stat -f %%Su "
			    "/dev/console': '%.*s'", (int)(len > 64 ? 64 : len),
			    s);
	if (len >= n)
		return err_set(e, "console user name too long: '%.*s'",
		    (int)(len > 64 ? 64 : len), s);
	for (i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++)
		if (strlen(nobody[i]) == len && strncmp(s, nobody[i], len) == 0)
			return 0;
	memcpy(user, s, len);
	user[len] = '\0';
	return 1;
}

static int
parse_size(const char *name, const char *value, uint64_t *v, struct err *e)
{
	const char *why = NULL;

	if (size_parse(value, v, &why) == -1)
		return err_set(e, "NIXPULL_TEST_%s: bad size '%s': %s", name,
		    value, why ? why : "invalid");
	return 0;
}

int
platform_override(struct platform *p, const char *name, const char *value,
    struct err *e)
{
	const char *s = value;
	uint64_t v;
	char *end;
	double d;

	if (strcmp(name, "ON_BATTERY") == 0) {
		if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
			goto bad;
		p->on_battery = value[0] == '1';
	} else if (strcmp(name, "CPUS") == 0) {
		if (scan_u64(&s, MAX_CPU_INDEX, &v) == -1 || *s != '\0' ||
		    v == 0)
			goto bad;
		p->cpus_online = p->cpus_affinity = (unsigned)v;
		p->cpu_quota = 0;
	} else if (strcmp(name, "MEM_AVAILABLE") == 0) {
		return parse_size(name, value, &p->mem_available, e);
	} else if (strcmp(name, "STORE_FREE") == 0) {
		return parse_size(name, value, &p->nix_store_free, e);
	} else if (strcmp(name, "LOAD") == 0) {
		errno = 0;
		d = strtod(value, &end);
		if (end == value || *end != '\0' || errno != 0 || d < 0 ||
		    !isfinite(d))
			goto bad;
		p->load1 = p->load5 = p->load15 = d;
	} else if (strcmp(name, "NIX_VERSION") == 0) {
		if (value[0] == '\0' || strlen(value) >= sizeof(p->nix_version))
			goto bad;
		memcpy(p->nix_version, value, strlen(value) + 1);
	} else
		return err_set(e, "unknown test hook 'NIXPULL_TEST_%s'", name);
	return 0;
 bad:
	return err_set(e, "NIXPULL_TEST_%s: bad value '%s'", name, value);
}

int
platform_apply_env(struct platform *p, struct err *e)
{
	static const char *const names[] = {
		"ON_BATTERY", "CPUS", "MEM_AVAILABLE", "STORE_FREE", "LOAD",
		"NIX_VERSION",
	};
#ifdef NIXPULL_TEST_HOOKS
	char var[64];
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(var, sizeof(var), "NIXPULL_TEST_%s", names[i]);
		if ((v = getenv(var)) == NULL)
			continue;
		if (platform_override(p, names[i], v, e) == -1)
			return -1;
	}
#else
	(void)names;	/* a production build reads no NIXPULL_TEST_* */
#endif
	return 0;
}

int
platform_probe_nix(struct platform *p, const char *nix, struct err *e)
{
	const char *argv[] = { nix ? nix : "nix", "--version", NULL };
	struct buf out;
	int r;
#ifdef NIXPULL_TEST_HOOKS
	const char *hook = getenv("NIXPULL_TEST_NIX_VERSION");

	if (hook != NULL)
		return platform_override(p, "NIX_VERSION", hook, e);
#endif
	r = spawn_capture(argv, NULL, NIX_VERSION_TIMEOUT_MS,
	    MAX_PLATFORM_FILE, &out, e);
	if (r == 0)
		r = platform_parse_nix_version(buf_str(&out), p->nix_version,
		    sizeof(p->nix_version), e);
	buf_release(&out);
	return r;
}

void
platform_identify(struct platform *p)
{
	struct utsname u;

	if (uname(&u) != 0)
		return;
	snprintf(p->os, sizeof(p->os), "%.15s",
	    strcmp(u.sysname, "Linux") == 0 ? "linux" :
	    strcmp(u.sysname, "Darwin") == 0 ? "darwin" : u.sysname);
	snprintf(p->arch, sizeof(p->arch), "%.15s",
	    platform_arch_name(u.machine));
}

#ifdef __APPLE__
#include <sys/types.h>
#include <sys/statvfs.h>
#include <sys/sysctl.h>
#include <sys/utsname.h>

#define DARWIN_TOOL_TIMEOUT_MS	5000

/* Runs a darwin tool that prints a report, into out (released by caller). */
static int
darwin_capture(const char *const *argv, struct buf *out, struct err *e)
{
	return spawn_capture(argv, NULL, DARWIN_TOOL_TIMEOUT_MS,
	    MAX_PLATFORM_FILE, out, e);
}

static void
darwin_sysctl_u64(const char *name, uint64_t *v)
{
	uint64_t x = 0;
	int i = 0;
	size_t len = sizeof(x);

	/* hw.memsize is 64-bit, hw.logicalcpu an int: len says which. */
	if (sysctlbyname(name, &x, &len, NULL, 0) == 0 && len == sizeof(x)) {
		*v = x;
		return;
	}
	len = sizeof(i);
	if (sysctlbyname(name, &i, &len, NULL, 0) == 0 && len == sizeof(i) &&
	    i > 0)
		*v = (uint64_t)i;
}

/*
 * The console's owner, as macOS admin scripts ask it (Jamf, installers'
 * postinstall scripts: `stat -f %Su /dev/console`).  /usr/bin/stat by its
 * path: a nix-darwin PATH may put GNU stat first, whose -f means another
 * thing.
 */
int
platform_console_user(char *user, size_t n, struct err *e)
{
	static const char *const argv[] = { "/usr/bin/stat", "-f", "%Su",
	    "/dev/console", NULL };
	struct buf out;
	int r;

	r = darwin_capture(argv, &out, e);
	if (r == 0)
		r = platform_parse_console_user(buf_str(&out), user, n, e);
	buf_release(&out);
	return r;
}

int
platform_probe(struct platform *p, struct err *e)
{
	static const char *const pmset[] = { "pmset", "-g", "batt", NULL };
	static const char *const vmstat[] = { "vm_stat", NULL };
	struct statvfs sv;
	struct utsname u;
	struct buf out;
	double load[3];
	uint64_t v = 0;

	platform_init(p);
	darwin_sysctl_u64("hw.logicalcpu", &v);
	p->cpus_online = p->cpus_affinity = (unsigned)v;
	darwin_sysctl_u64("hw.memsize", &p->mem_total);
	if (getloadavg(load, 3) == 3)
		p->load1 = load[0], p->load5 = load[1], p->load15 = load[2];
	if (darwin_capture(pmset, &out, e) == 0)
		p->on_battery = platform_parse_pmset(buf_str(&out));
	buf_release(&out);
	if (darwin_capture(vmstat, &out, e) == 0)
		(void)platform_parse_vm_stat(buf_str(&out), &p->mem_available,
		    e);
	buf_release(&out);
	if (statvfs("/nix/store", &sv) == 0 || statvfs("/nix", &sv) == 0 ||
	    statvfs("/", &sv) == 0)
		p->nix_store_free = (uint64_t)sv.f_bavail * sv.f_frsize;
	snprintf(p->os, sizeof(p->os), "darwin");
	if (uname(&u) == 0)
		snprintf(p->arch, sizeof(p->arch), "%.15s",
		    platform_arch_name(u.machine));
	return platform_apply_env(p, e);
}
#endif
