/* The machine probe: parsers, recorded machines, test hooks, the live probe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "t.h"

#define GiB (1024ULL * 1024 * 1024)
#define KiB 1024ULL

static char corpus[4096];

static const char *
machine(const char *name)
{
	static char path[4200];

	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	return path;
}

static const char *
slurp(const char *name)
{
	static char text[65536];
	FILE *fp;
	size_t n;

	text[0] = '\0';
	if ((fp = fopen(machine(name), "r")) == NULL) {
		T_FAIL("cannot open %s", machine(name));
		return text;
	}
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static int
probe(const char *name, struct platform *p, struct err *e)
{
	platform_init(p);
	return platform_probe_root(machine(name), p, e);
}

static void
test_cpulist(void)
{
	struct err e;
	unsigned n = 99;

	T_OK(platform_parse_cpulist("0-3,8,10-11\n", &n, &e) == 0);
	T_EQ_INT(n, 7);
	T_OK(platform_parse_cpulist("0\n", &n, &e) == 0);
	T_EQ_INT(n, 1);
	T_OK(platform_parse_cpulist("\n", &n, &e) == 0);
	T_EQ_INT(n, 0);
	T_OK(platform_parse_cpulist("3-1\n", &n, &e) == -1);
	T_CONTAINS(e.msg, "bad CPU list '3-1");
	T_OK(platform_parse_cpulist("0-3,,x", &n, &e) == -1);
	T_OK(platform_parse_cpulist("0-99999999", &n, &e) == -1);
	T_OK(platform_parse_status_cpus("Name:\tx\nCpus_allowed_list:\t0-1,4\n",
	    &n, &e) == 0);
	T_EQ_INT(n, 3);
	T_OK(platform_parse_status_cpus("Name:\tx\n", &n, &e) == 0);
	T_EQ_INT(n, 0);
}

static void
test_cgroup(void)
{
	struct err e;
	char path[256];
	double q = -1;

	T_OK(platform_parse_cgroup("1:cpu:/x\n0::/a/b.scope\n", path,
	    sizeof(path), &e) == 0);
	T_EQ_STR(path, "/a/b.scope");
	T_OK(platform_parse_cgroup("4:memory:/x\n", path, sizeof(path),
	    &e) == 0);
	T_EQ_STR(path, "");
	T_OK(platform_parse_cgroup("0::/a/../../etc\n", path, sizeof(path),
	    &e) == -1);
	T_OK(platform_parse_cgroup("0::relative\n", path, sizeof(path),
	    &e) == -1);
	T_OK(platform_parse_cpu_max("max 100000\n", &q, &e) == 0);
	T_OK(q == 0);
	T_OK(platform_parse_cpu_max("200000 100000\n", &q, &e) == 0);
	T_OK(q == 2.0);
	T_OK(platform_parse_cpu_max("50000 100000", &q, &e) == 0);
	T_OK(q == 0.5);
	T_OK(platform_parse_cpu_max("max\n", &q, &e) == 0);
	T_OK(q == 0);
	T_OK(platform_parse_cpu_max("lots 100000\n", &q, &e) == -1);
	T_EQ_STR(e.msg, "bad cpu.max 'lots 100000'");
	T_OK(platform_parse_cpu_max("100 0\n", &q, &e) == -1);
	T_OK(platform_parse_cpu_max("100 100 100\n", &q, &e) == -1);
}

static void
test_meminfo_load(void)
{
	struct err e;
	uint64_t t = 0, a = 0;
	double l[3];

	T_OK(platform_parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\n"
	    "MemAvailable: 50 kB\nCached: 5 kB\n", &t, &a, &e) == 0);
	T_EQ_INT(t, 100 * KiB);
	T_EQ_INT(a, 50 * KiB);
	/* Before 3.14: MemFree + Cached. */
	T_OK(platform_parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\n"
	    "Cached: 5 kB\n", &t, &a, &e) == 0);
	T_EQ_INT(a, 15 * KiB);
	T_OK(platform_parse_meminfo("MemFree: 10 kB\n", &t, &a, &e) == -1);
	T_EQ_STR(e.msg, "no 'MemTotal' in meminfo");
	T_OK(platform_parse_meminfo("MemTotal: lots\n", &t, &a, &e) == -1);
	T_EQ_STR(e.msg, "bad meminfo line for 'MemTotal'");

	T_OK(platform_parse_loadavg("0.52 1.5 12.25 1/234 5678\n", l,
	    &e) == 0);
	T_OK(l[0] == 0.52 && l[1] == 1.5 && l[2] == 12.25);
	T_OK(platform_parse_loadavg("0.5 x\n", l, &e) == -1);
	T_CONTAINS(e.msg, "bad load average");
}

static void
test_nix_version(void)
{
	struct err e;
	char v[64];

	T_OK(platform_parse_nix_version(slurp("nix-version-2.8.txt"), v,
	    sizeof(v), &e) == 0);
	T_EQ_STR(v, "2.8.0");
	T_OK(platform_parse_nix_version(slurp("nix-version-lix.txt"), v,
	    sizeof(v), &e) == 0);
	T_EQ_STR(v, "2.91.1");
	T_OK(platform_parse_nix_version(slurp("nix-version-determinate.txt"),
	    v, sizeof(v), &e) == 0);
	T_EQ_STR(v, "2.29.0");
	T_OK(platform_parse_nix_version("nix (Nix) 2.24.0pre20240101_abc\n",
	    v, sizeof(v), &e) == 0);
	T_EQ_STR(v, "2.24.0pre20240101_abc");
	T_OK(platform_parse_nix_version(slurp("nix-version-bad.txt"), v,
	    sizeof(v), &e) == -1);
	T_EQ_STR(e.msg, "unexpected output of 'nix --version': "
	    "'error: unrecognised flag'");
	T_OK(platform_parse_nix_version("", v, sizeof(v), &e) == -1);
	T_OK(platform_parse_nix_version("nix 2.8.0\n", v, 4, &e) == -1);
}

/* darwin's console user: the output of `/usr/bin/stat -f %Su /dev/console`
 * (the owner's name and a newline). */
static void
test_console_user(void)
{
	static const struct {
		const char *text;
		int r;
		const char *user;
	} cases[] = {
		{ "alice\n", 1, "alice" },
		{ "alice", 1, "alice" },
		{ "  j.doe-2_x \n\n", 1, "j.doe-2_x" },
		{ "root\n", 0, NULL },		/* the login window */
		{ "loginwindow\n", 0, NULL },
		{ "_mbsetupuser\n", 0, NULL },	/* the setup assistant */
		{ "rooted\n", 1, "rooted" },
		{ "", -1, NULL },
		{ "\n", -1, NULL },
		{ "stat: /dev/console: stat: No such file or directory\n", -1,
		  NULL },
		{ "alice\nbob\n", -1, NULL },
		{ "al ice\n", -1, NULL },
	};
	char user[32];
	struct err e;
	int r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		user[0] = '\0';
		r = platform_parse_console_user(cases[i].text, user,
		    sizeof(user), &e);
		if (r != cases[i].r)
			T_FAIL("case %zu: %d, want %d", i, r, cases[i].r);
		else if (r == 1)
			T_EQ_STR(user, cases[i].user);
	}
	T_OK(platform_parse_console_user("al ice", user, sizeof(user),
	    &e) == -1);
	T_EQ_STR(e.msg, "unexpected output of 'stat -f %Su /dev/console': "
	    "'al ice'");
	T_OK(platform_parse_console_user("abcdefghij", user, 8, &e) == -1);
	T_CONTAINS(e.msg, "too long");
#ifndef __APPLE__
	T_EQ_INT(platform_console_user(user, sizeof(user), &e), 0);
#endif
}

static void
test_darwin(void)
{
	struct err e;
	uint64_t a = 0;

	T_EQ_INT(platform_parse_pmset(slurp("darwin/pmset-battery.txt")), 1);
	T_EQ_INT(platform_parse_pmset(slurp("darwin/pmset-ac.txt")), 0);
	T_EQ_INT(platform_parse_pmset(slurp("darwin/pmset-desktop.txt")), 0);
	T_EQ_INT(platform_parse_pmset(slurp("darwin/pmset-ups.txt")), 1);
	T_EQ_INT(platform_parse_pmset(""), -1);
	T_EQ_INT(platform_parse_pmset("Now drawing from 'Solar'\n"), -1);
	T_OK(platform_parse_vm_stat(slurp("darwin/vm_stat.txt"), &a,
	    &e) == 0);
	T_EQ_INT(a, (8000ULL + 290000 + 2000) * 16384);
	T_OK(platform_parse_vm_stat("Pages free: 1.\n", &a, &e) == -1);
	T_EQ_STR(e.msg, "no page size in 'vm_stat' output");
	T_OK(platform_parse_vm_stat("(page size of 4096 bytes)\n"
	    "Pages free: 1.\n", &a, &e) == -1);
	T_EQ_STR(e.msg, "no 'Pages inactive:' in 'vm_stat' output");

	T_EQ_STR(platform_arch_name("x86_64"), "x86_64");
	T_EQ_STR(platform_arch_name("arm64"), "aarch64");
	T_EQ_STR(platform_arch_name("aarch64"), "aarch64");
	T_EQ_STR(platform_arch_name("i686"), "i686");
	T_EQ_STR(platform_arch_name("riscv64"), "riscv64");
}

static void
test_machines(void)
{
	struct platform p;
	struct err e;

	T_OK(probe("laptop-battery", &p, &e) == 0);
	T_EQ_INT(p.cpus_online, 8);
	T_EQ_INT(p.cpus_affinity, 8);
	T_OK(p.cpu_quota == 0);
	T_EQ_INT(p.mem_total, 16318040 * KiB);
	T_EQ_INT(p.mem_available, 9 * GiB);
	T_OK(p.load1 == 1.2 && p.load5 == 0.9 && p.load15 == 0.7);
	T_EQ_INT(p.on_battery, 1);
	T_OK(p.nix_store_free > 0);
	T_EQ_INT(platform_cpu_budget(&p), 8);

	T_OK(probe("laptop-ac", &p, &e) == 0);
	T_EQ_INT(p.cpus_online, 4);
	T_EQ_INT(p.on_battery, 0);	/* the mouse's battery does not count */
	T_EQ_INT(p.mem_available, 5 * GiB);

	T_OK(probe("laptop-usbc", &p, &e) == 0);
	T_EQ_INT(p.on_battery, 0);
	T_EQ_INT(platform_cpu_budget(&p), 12);

	T_OK(probe("laptop-unknown", &p, &e) == 0);
	T_EQ_INT(p.on_battery, -1);
	T_EQ_INT(p.cpus_affinity, 0);	/* no proc/self/status recorded */
	T_EQ_INT(platform_cpu_budget(&p), 2);

	T_OK(probe("server", &p, &e) == 0);
	T_EQ_INT(p.cpus_online, 64);
	T_EQ_INT(p.cpus_affinity, 32);
	T_OK(p.cpu_quota == 0);
	T_EQ_INT(p.on_battery, 0);	/* no supplies: not a laptop */
	T_OK(p.load1 == 12.5);
	T_EQ_INT(platform_cpu_budget(&p), 32);

	T_OK(probe("container", &p, &e) == 0);
	T_EQ_INT(p.cpus_online, 16);
	T_OK(p.cpu_quota == 2.0);
	T_EQ_INT(p.mem_available, 4 * GiB);
	T_EQ_INT(platform_cpu_budget(&p), 2);

	T_OK(probe("nested-cgroup", &p, &e) == 0);
	T_OK(p.cpu_quota == 1.5);
	T_EQ_INT(platform_cpu_budget(&p), 2);
	T_EQ_INT(p.mem_available, (512000ULL + 256000) * KiB);

	T_OK(probe("bad-cpumax", &p, &e) == -1);
	T_CONTAINS(e.msg, "bad-cpumax/sys/fs/cgroup/cpu.max: bad cpu.max "
	    "'lots 100000'");

	/* An empty tree: everything unknown, nothing fails. */
	T_OK(probe("no-such-machine", &p, &e) == 0);
	T_EQ_INT(p.cpus_online, 0);
	T_EQ_INT(p.mem_total, 0);
	T_EQ_INT(p.on_battery, 0);
	T_EQ_INT(platform_cpu_budget(&p), 1);
}

static void
test_budget(void)
{
	struct platform p;

	platform_init(&p);
	p.cpus_online = 16;
	p.cpus_affinity = 8;
	p.cpu_quota = 2.5;
	T_EQ_INT(platform_cpu_budget(&p), 3);
	p.cpu_quota = 0.2;
	T_EQ_INT(platform_cpu_budget(&p), 1);
	p.cpu_quota = 100;
	T_EQ_INT(platform_cpu_budget(&p), 8);
	p.cpus_affinity = 0;
	T_EQ_INT(platform_cpu_budget(&p), 16);
}

static void
test_hooks(void)
{
	struct platform p;
	struct err e;

	platform_init(&p);
	p.cpu_quota = 2;
	T_OK(platform_override(&p, "CPUS", "6", &e) == 0);
	T_EQ_INT(platform_cpu_budget(&p), 6);
	T_OK(platform_override(&p, "MEM_AVAILABLE", "3GiB", &e) == 0);
	T_EQ_INT(p.mem_available, 3 * GiB);
	T_OK(platform_override(&p, "STORE_FREE", "1048576", &e) == 0);
	T_EQ_INT(p.nix_store_free, 1048576);
	T_OK(platform_override(&p, "LOAD", "2.5", &e) == 0);
	T_OK(p.load1 == 2.5 && p.load15 == 2.5);
	T_OK(platform_override(&p, "ON_BATTERY", "1", &e) == 0);
	T_EQ_INT(p.on_battery, 1);
	T_OK(platform_override(&p, "ON_BATTERY", "yes", &e) == -1);
	T_EQ_STR(e.msg, "NIXPULL_TEST_ON_BATTERY: bad value 'yes'");
	T_OK(platform_override(&p, "CPUS", "0", &e) == -1);
	T_OK(platform_override(&p, "MEM_AVAILABLE", "lots", &e) == -1);
	T_CONTAINS(e.msg, "NIXPULL_TEST_MEM_AVAILABLE: bad size 'lots'");
	T_OK(platform_override(&p, "CPU", "1", &e) == -1);
	T_EQ_STR(e.msg, "unknown test hook 'NIXPULL_TEST_CPU'");

	setenv("NIXPULL_TEST_ON_BATTERY", "0", 1);
	setenv("NIXPULL_TEST_CPUS", "3", 1);
	T_OK(platform_apply_env(&p, &e) == 0);
	T_EQ_INT(p.on_battery, 0);
	T_EQ_INT(p.cpus_online, 3);
	setenv("NIXPULL_TEST_CPUS", "many", 1);
	T_OK(platform_apply_env(&p, &e) == -1);
	T_EQ_STR(e.msg, "NIXPULL_TEST_CPUS: bad value 'many'");
	unsetenv("NIXPULL_TEST_CPUS");
	unsetenv("NIXPULL_TEST_ON_BATTERY");

	setenv("NIXPULL_TEST_NIX_VERSION", "2.99.0", 1);
	T_OK(platform_probe_nix(&p, "/nonexistent/nix", &e) == 0);
	T_EQ_STR(p.nix_version, "2.99.0");
	unsetenv("NIXPULL_TEST_NIX_VERSION");
}

/* This machine: whatever it is, the probe must see something sane. */
static void
test_live(void)
{
	struct platform p;
	struct err e;

	T_OK(platform_probe(&p, &e) == 0);
	T_OK(p.cpus_online >= 1);
	T_OK(p.cpus_affinity >= 1 && p.cpus_affinity <= p.cpus_online);
	T_OK(p.mem_total > 0 && p.mem_available <= p.mem_total);
	T_OK(p.on_battery >= -1 && p.on_battery <= 1);
	T_OK(p.nix_store_free > 0);
	T_OK(strcmp(p.os, "linux") == 0 || strcmp(p.os, "darwin") == 0);
	T_OK(p.arch[0] != '\0');

	setenv("NIXPULL_TEST_ON_BATTERY", "1", 1);
	setenv("NIXPULL_TEST_MEM_AVAILABLE", "1GiB", 1);
	T_OK(platform_probe(&p, &e) == 0);
	T_EQ_INT(p.on_battery, 1);
	T_EQ_INT(p.mem_available, GiB);
	unsetenv("NIXPULL_TEST_ON_BATTERY");
	unsetenv("NIXPULL_TEST_MEM_AVAILABLE");

	T_OK(platform_probe_nix(&p, "/nonexistent/nix", &e) == -1);
	T_CONTAINS(e.msg, "/nonexistent/nix");
	if (system("nix --version >/dev/null 2>&1") == 0) {
		T_OK(platform_probe_nix(&p, NULL, &e) == 0);
		T_OK(p.nix_version[0] >= '0' && p.nix_version[0] <= '9');
	} else
		fprintf(stderr, "# nix not installed: live nix probe skipped\n");
}

int
main(void)
{
	const char *src = getenv("NIXPULL_SRCDIR");

	snprintf(corpus, sizeof(corpus), "%s/tests/corpus/platform",
	    src ? src : "..");
	test_cpulist();
	test_cgroup();
	test_meminfo_load();
	test_nix_version();
	test_darwin();
	test_console_user();
	test_machines();
	test_budget();
	test_hooks();
	test_live();
	return T_DONE();
}
