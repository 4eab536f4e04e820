/*
 * What kind of machine this is, for the build tuner and the status
 * document: CPUs (online, affinity, cgroup v2 quota), memory, load, power
 * source, free space in /nix/store, OS/arch and the Nix version.
 *
 * Every file-reading step takes a root prefix so the unit tests can feed
 * recorded trees (tests/corpus/platform/<machine>/).  The parsers are plain
 * functions of a string, darwin's included (they are compiled and tested
 * everywhere; only the code that runs pmset/sysctl is darwin-only).  No
 * global state.
 *
 * Test hooks: platform_probe() ends with platform_apply_env(), which reads
 *   NIXPULL_TEST_ON_BATTERY=0|1        power source
 *   NIXPULL_TEST_CPUS=N                online = affinity = N, no quota
 *   NIXPULL_TEST_MEM_AVAILABLE=SIZE    MemAvailable (bytes or "4GiB")
 *   NIXPULL_TEST_LOAD=X                load1 = load5 = load15 = X
 *   NIXPULL_TEST_STORE_FREE=SIZE       free space in /nix/store
 *   NIXPULL_TEST_NIX_VERSION=V         skips running `nix --version`
 * so end-to-end tests can force "on battery", a small VPS, a full disk.
 */
#ifndef NIXPULL_PLATFORM_H
#define NIXPULL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct platform {
	unsigned	cpus_online;	/* 0: unknown */
	unsigned	cpus_affinity;	/* 0: unknown */
	double		cpu_quota;	/* cgroup v2 cpu.max quota/period, 0 = none */
	uint64_t	mem_total;	/* bytes, 0: unknown */
	uint64_t	mem_available;	/* bytes, 0: unknown */
	double		load1, load5, load15;
	int		on_battery;	/* 1 yes, 0 no, -1 unknown */
	uint64_t	nix_store_free;	/* bytes free in /nix/store's filesystem */
	char		os[16];		/* linux | darwin */
	char		arch[16];	/* x86_64 | aarch64 | ..., as Nix names them */
	char		nix_version[64];	/* "" until platform_probe_nix() */
};

/* Zeroes p with the unknowns marked (on_battery -1). */
void	platform_init(struct platform *p);

/*
 * This machine: files under "/", sysconf + sched_getaffinity, uname,
 * statvfs, then platform_apply_env().  Does not run nix: see
 * platform_probe_nix().  What cannot be read stays unknown (0 / -1); only
 * a malformed file or test hook is an error.
 */
int	platform_probe(struct platform *p, struct err *e);
/* os and arch only (uname): no file read, no process; for what the agent
 * needs before it knows that a cycle will do anything. */
void	platform_identify(struct platform *p);

/*
 * The file-reading part, from a tree under root ("" for the real one):
 * sys/devices/system/cpu/online, proc/self/status (Cpus_allowed_list),
 * proc/self/cgroup + sys/fs/cgroup/<path>/cpu.max (the smallest quota of
 * the cgroup and its ancestors), proc/meminfo, proc/loadavg,
 * sys/class/power_supply/<any>, statvfs of nix/store (or the nearest
 * existing parent).  Missing files leave fields unknown.
 */
int	platform_probe_root(const char *root, struct platform *p,
	    struct err *e);

/* Applies the NIXPULL_TEST_* hooks above; an unparsable value is an error. */
int	platform_apply_env(struct platform *p, struct err *e);
/* One hook by name (without the NIXPULL_TEST_ prefix), e.g. "CPUS", "8". */
int	platform_override(struct platform *p, const char *name,
	    const char *value, struct err *e);

/*
 * Runs `nix --version` (nix: program name or path, NULL for "nix") and
 * fills p->nix_version.  NIXPULL_TEST_NIX_VERSION short-circuits it.
 */
int	platform_probe_nix(struct platform *p, const char *nix, struct err *e);

/* min(online, affinity, ceil(quota)), ignoring unknowns; at least 1. */
unsigned platform_cpu_budget(const struct platform *p);

/* ---- parsers: text in, values out; 0 or -1 with e saying what ---- */

/* "0-3,8,10-11\n" -> 7. */
int	platform_parse_cpulist(const char *text, unsigned *count,
	    struct err *e);
/* /proc/self/status: the Cpus_allowed_list line; *count 0 if absent. */
int	platform_parse_status_cpus(const char *text, unsigned *count,
	    struct err *e);
/* /proc/self/cgroup: the v2 ("0::") path into path; "" if none. */
int	platform_parse_cgroup(const char *text, char *path, size_t pathsz,
	    struct err *e);
/* cpu.max: "max 100000" -> 0 (none), "200000 100000" -> 2.0. */
int	platform_parse_cpu_max(const char *text, double *quota,
	    struct err *e);
/* /proc/meminfo: MemTotal and MemAvailable, in bytes. */
int	platform_parse_meminfo(const char *text, uint64_t *total,
	    uint64_t *available, struct err *e);
/* /proc/loadavg. */
int	platform_parse_loadavg(const char *text, double load[3],
	    struct err *e);
/* `nix --version`: the last token of the first line. */
int	platform_parse_nix_version(const char *text, char *out, size_t outsz,
	    struct err *e);
/* uname -m -> Nix's name: amd64 -> x86_64, arm64 -> aarch64, ... */
const char *platform_arch_name(const char *machine);

/* darwin: `pmset -g batt` -> 1 (battery), 0 (AC), -1 (unknown). */
int	platform_parse_pmset(const char *text);
/* darwin: `vm_stat` -> bytes free + inactive + speculative + purgeable. */
int	platform_parse_vm_stat(const char *text, uint64_t *available,
	    struct err *e);
/*
 * darwin: `/usr/bin/stat -f %Su /dev/console`, the owner of the console,
 * i.e. the user at the Mac's screen.  1 and user filled when someone is
 * there; 0 when nobody is: "root" (the login window owns it), or
 * "loginwindow" / "_mbsetupuser" (as SCDynamicStoreCopyConsoleUser and
 * `scutil` "show State:/Users/ConsoleUser" name the login window and the
 * setup assistant); -1 (e says why) when the output is no user name.
 */
int	platform_parse_console_user(const char *text, char *user, size_t n,
	    struct err *e);
/*
 * The person at the console (reboot.users: wait).  darwin: runs that stat
 * and parses it (1, 0 or -1 as above).  Elsewhere 0: on Linux logind
 * lists the sessions (agent/reboot.c asks loginctl).
 */
int	platform_console_user(char *user, size_t n, struct err *e);

#endif
