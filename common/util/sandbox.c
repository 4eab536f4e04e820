/*
 * sandbox.h on Linux: setresgid/setresuid, PR_SET_NO_NEW_PRIVS, Landlock
 * (raw system calls: glibc 2.36 has no wrappers) and a seccomp filter
 * built with libseccomp.  Elsewhere (darwin), the user drop only.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#ifdef __linux__
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <seccomp.h>
#endif

int
sandbox_user(const char *name, uid_t *uid, gid_t *gid, struct err *e)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return errno ? err_errno(e, "cannot look up user '%s'", name) :
		    err_set(e, "no user '%s' for privsep.user (the NixOS and "
		    "nix-darwin modules create it; elsewhere create a system "
		    "user, or name another one)", name);
	if (pw->pw_uid == 0)
		return err_set(e, "privsep.user '%s' is root: the fetcher must "
		    "run unprivileged", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
sandbox_allow_read(struct sandbox *sb, const char *path)
{
	if (path != NULL && sb->nread < sizeof(sb->read) / sizeof(sb->read[0]))
		sb->read[sb->nread++] = path;
}

static int
drop_user(const char *user, struct sandbox_report *rep, struct err *e)
{
	uid_t uid;
	gid_t gid;

	rep->uid = getuid();
	rep->gid = getgid();
	if (geteuid() != 0 || user == NULL)
		return 0;	/* not root: nothing to drop */
	if (sandbox_user(user, &uid, &gid, e) == -1)
		return -1;
	if (setgroups(1, &gid) == -1)
		return err_errno(e, "setgroups");
#ifdef __linux__
	if (setresgid(gid, gid, gid) == -1)
		return err_errno(e, "setresgid %u", (unsigned)gid);
	if (setresuid(uid, uid, uid) == -1)
		return err_errno(e, "setresuid %u", (unsigned)uid);
#else
	if (setgid(gid) == -1 || setegid(gid) == -1)
		return err_errno(e, "setgid %u", (unsigned)gid);
	if (setuid(uid) == -1 || seteuid(uid) == -1)
		return err_errno(e, "setuid %u", (unsigned)uid);
#endif
	if (setuid(0) != -1)
		return err_set(e, "could regain root after the drop to '%s'",
		    user);
	rep->uid = uid;
	rep->gid = gid;
	return 0;
}

#ifdef __linux__

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif

#define FS_READ	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_FILE	(LANDLOCK_ACCESS_FS_READ_FILE |				\
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_EXECUTE |	\
	LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Everything the kernel's Landlock ABI can restrict on the file system. */
static uint64_t
handled_fs(int abi)
{
	uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return h;
}

static int
landlock_rule(int ruleset, const char *path, uint64_t access,
    struct err *e)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == EACCES ? 0 :
		    err_errno(e, "landlock: cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= FS_FILE;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1)
		r = err_errno(e, "landlock: cannot allow '%s'", path);
	close(fd);
	return r;
}

static int
landlock(const struct sandbox *sb, struct sandbox_report *rep,
    struct err *e)
{
	struct landlock_ruleset_attr ra;
	uint64_t h, rw;
	size_t i;
	int abi, fd, r = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;	/* not built in, or not enabled: reported */
	h = handled_fs(abi);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = h;
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) == -1)
		return err_errno(e, "landlock: cannot create a ruleset");
	rw = h & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_IOCTL_DEV);
	for (i = 0; i < sb->nread; i++)
		if (landlock_rule(fd, sb->read[i], FS_READ, e) == -1)
			goto out;
	for (i = 0; i < sb->nwrite; i++)
		if (landlock_rule(fd, sb->write[i], rw, e) == -1)
			goto out;
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		err_errno(e, "landlock: cannot restrict the process");
		goto out;
	}
	rep->landlock_abi = abi;
	r = 0;
 out:
	close(fd);
	return r;
}

/* What the fetcher never needs: each fails with EPERM. */
static const int denied[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
	SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
	SCMP_SYS(setgroups), SCMP_SYS(setfsuid), SCMP_SYS(setfsgid),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
	SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
	SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(acct), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
	SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex), SCMP_SYS(personality),
	SCMP_SYS(userfaultfd), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(quotactl), SCMP_SYS(syslog),
	SCMP_SYS(fanotify_init), SCMP_SYS(vhangup), SCMP_SYS(mknod),
	SCMP_SYS(mknodat), SCMP_SYS(chown), SCMP_SYS(fchown),
	SCMP_SYS(lchown), SCMP_SYS(fchownat), SCMP_SYS(sethostname),
	SCMP_SYS(setdomainname), SCMP_SYS(iopl), SCMP_SYS(ioperm),
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(kill), SCMP_SYS(tkill),
};

static int
seccomp(struct sandbox_report *rep, struct err *e)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return err_set(e, "seccomp: cannot initialise a filter");
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (denied[i] < 0)
			continue;	/* not on this architecture */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    denied[i], 0)) < 0) {
			seccomp_release(ctx);
			return err_set(e, "seccomp: cannot add a rule: %s",
			    strerror(-r));
		}
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return err_set(e, "seccomp: cannot load the filter: %s",
		    strerror(-r));
	rep->seccomp = true;
	return 0;
}

int
sandbox_enter(const struct sandbox *sb, struct sandbox_report *rep,
    struct err *e)
{
	memset(rep, 0, sizeof(*rep));
	if (drop_user(sb->user, rep, e) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_errno(e, "prctl(PR_SET_NO_NEW_PRIVS)");
	rep->no_new_privs = true;
	if (landlock(sb, rep, e) == -1)
		return -1;
	return seccomp(rep, e);
}

#else	/* !__linux__ */

int
sandbox_enter(const struct sandbox *sb, struct sandbox_report *rep,
    struct err *e)
{
	memset(rep, 0, sizeof(*rep));
	return drop_user(sb->user, rep, e);
}

#endif
