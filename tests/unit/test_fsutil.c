/*
 * fsutil: atomic replacement, bounded reads, mkdir -p, the state-directory
 * lock (held against another process) and tree removal.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "t.h"

static char tmpdir[] = "/tmp/nixpull-test-fsutil.XXXXXX";

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Entries of dir other than . and .., or -1. */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void)
{
	char *dir = tpath("w"), *file = tpath("w/status.json");
	char *missing = tpath("nodir/status.json");
	struct stat st;
	struct buf b;
	struct err e;
	mode_t old;

	T_EQ_INT(fs_mkdir_p(dir, 0755, &e), 0);
	T_EQ_INT(fs_write_atomic(file, "one\n", 4, 0600, &e), 0);
	T_EQ_INT(fs_read_file(file, 100, &b, &e), 0);
	T_EQ_STR(buf_str(&b), "one\n");
	buf_release(&b);
	T_OK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* Replaced, mode exactly as asked whatever the umask. */
	old = umask(077);
	T_EQ_INT(fs_write_atomic(file, "two, longer\n", 12, 0644, &e), 0);
	umask(old);
	T_EQ_INT(fs_read_file(file, 100, &b, &e), 0);
	T_EQ_STR(buf_str(&b), "two, longer\n");
	buf_release(&b);
	T_OK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0644);

	/* Empty content is fine too. */
	T_EQ_INT(fs_write_atomic(file, "", 0, 0600, &e), 0);
	T_OK(stat(file, &st) == 0 && st.st_size == 0);

	/* No temp file left behind. */
	T_EQ_INT(count_entries(dir), 1);

	/* A relative path (temp file in ".") works as well. */
	T_EQ_INT(chdir(dir), 0);
	T_EQ_INT(fs_write_atomic("rel", "r", 1, 0600, &e), 0);
	T_EQ_INT(count_entries("."), 2);
	T_EQ_INT(chdir("/"), 0);

	memset(&e, 0, sizeof(e));
	T_EQ_INT(fs_write_atomic(missing, "x", 1, 0600, &e), -1);
	T_CONTAINS(e.msg, "cannot write '");
	T_CONTAINS(e.msg, missing);
	T_CONTAINS(e.msg, "No such file or directory");
	free(dir);
	free(file);
	free(missing);
}

static void
test_read_file(void)
{
	char *file = tpath("hundred"), *missing = tpath("missing");
	char data[100];
	struct buf b;
	struct err e;

	memset(data, 'x', sizeof(data));
	T_EQ_INT(fs_write_atomic(file, data, sizeof(data), 0600, &e), 0);
	T_EQ_INT(fs_read_file(file, 100, &b, &e), 0);
	T_EQ_INT(b.len, 100);
	buf_release(&b);

	T_EQ_INT(fs_read_file(file, 99, &b, &e), -1);
	T_CONTAINS(e.msg, file);
	T_CONTAINS(e.msg, "too large (more than 99 bytes)");
	T_EQ_INT(b.len, 0);
	buf_release(&b);

	/* st_size says 0 for /proc files: the cap holds while reading. */
	T_EQ_INT(fs_read_file("/proc/self/status", 10, &b, &e), -1);
	T_CONTAINS(e.msg, "'/proc/self/status' is too large");
	buf_release(&b);

	T_EQ_INT(fs_read_file(missing, 10, &b, &e), -1);
	T_CONTAINS(e.msg, "cannot open '");
	T_CONTAINS(e.msg, "No such file or directory");
	buf_release(&b);

	T_EQ_INT(fs_read_file(tmpdir, 10, &b, &e), -1);
	T_CONTAINS(e.msg, "Is a directory");
	buf_release(&b);
	free(file);
	free(missing);
}

static void
test_mkdir_p(void)
{
	char *deep = tpath("a/b//c/d/"), *file = tpath("a/file");
	char *under = tpath("a/file/x/y");
	struct stat st;
	struct err e;

	T_EQ_INT(fs_mkdir_p(deep, 0700, &e), 0);
	T_OK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
	T_EQ_INT(fs_mkdir_p(deep, 0700, &e), 0);	/* exists: fine */
	T_EQ_INT(fs_mkdir_p(tmpdir, 0700, &e), 0);

	T_EQ_INT(fs_write_atomic(file, "f", 1, 0600, &e), 0);
	T_EQ_INT(fs_mkdir_p(file, 0700, &e), -1);
	T_CONTAINS(e.msg, "Not a directory");
	T_EQ_INT(fs_mkdir_p(under, 0700, &e), -1);
	T_CONTAINS(e.msg, "cannot create directory '");
	T_CONTAINS(e.msg, "a/file': Not a directory");
	T_EQ_INT(fs_mkdir_p("", 0700, &e), -1);
	free(deep);
	free(file);
	free(under);
}

/*
 * In a child process: tries the lock, writes its error to fd, and exits
 * with 2 when it got -2, 0 when it got the lock, 1 otherwise.
 */
static int
try_lock_in_child(const char *path, struct err *e)
{
	int p[2], st = -1;
	ssize_t n;
	pid_t pid;

	memset(e, 0, sizeof(*e));
	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		struct err ce;
		int r;

		memset(&ce, 0, sizeof(ce));
		r = fs_lock(path, &ce);
		(void)!write(p[1], ce.msg, strlen(ce.msg));
		_exit(r == -2 ? 2 : r >= 0 ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], e->msg, sizeof(e->msg) - 1);
	if (n > 0)
		e->msg[n] = '\0';
	close(p[0]);
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

static void
test_lock(void)
{
	char *path = tpath("lock"), want[64];
	struct buf b;
	struct err e;
	int fd;

	fd = fs_lock(path, &e);
	T_OK(fd >= 0);
	/* Nothing is written: a no-change poll leaves the directory alone. */
	T_EQ_INT(fs_read_file(path, 100, &b, &e), 0);
	T_EQ_INT(b.len, 0);
	buf_release(&b);

	/* Another process is refused, told who holds it. */
	T_EQ_INT(try_lock_in_child(path, &e), 2);
	snprintf(want, sizeof(want), "another nixpull (pid %ld) holds '",
	    (long)getpid());
	T_CONTAINS(e.msg, want);
	T_CONTAINS(e.msg, path);
	/* So is a second open file in this process (flock is per open). */
	T_EQ_INT(fs_lock(path, &e), -2);

	/* Released on unlock. */
	fs_unlock(fd);
	T_EQ_INT(try_lock_in_child(path, &e), 0);

	/* Released when the holder closes (or dies) without unlocking. */
	fd = fs_lock(path, &e);
	T_OK(fd >= 0);
	close(fd);
	fd = fs_lock(path, &e);
	T_OK(fd >= 0);
	fs_unlock(fd);
	fs_unlock(-1);

	T_EQ_INT(fs_lock("/nonexistent/dir/lock", &e), -1);
	T_CONTAINS(e.msg, "cannot open lock file '/nonexistent/dir/lock'");
	free(path);
}

static void
test_remove_tree(void)
{
	char *root = tpath("tree"), *outside = tpath("outside");
	char *keep = tpath("outside/keep"), *p;
	struct stat st;
	struct err e;
	int i;

	T_EQ_INT(fs_mkdir_p(outside, 0755, &e), 0);
	T_EQ_INT(fs_write_atomic(keep, "k", 1, 0600, &e), 0);
	for (i = 0; i < 50; i++) {
		p = xasprintf("%s/d%d/sub/deeper", root, i % 7);
		T_EQ_INT(fs_mkdir_p(p, 0755, &e), 0);
		free(p);
		p = xasprintf("%s/d%d/sub/f%d", root, i % 7, i);
		T_EQ_INT(fs_write_atomic(p, "x", 1, 0400, &e), 0);
		free(p);
	}
	/* A symlink to a directory is removed, not followed. */
	p = xasprintf("%s/d0/link", root);
	T_EQ_INT(symlink(outside, p), 0);
	free(p);
	p = xasprintf("%s/d1/sub/deeper", root);
	T_EQ_INT(chmod(p, 0500), 0);	/* root may still remove it */
	free(p);

	T_EQ_INT(fs_remove_tree(root, &e), 0);
	T_OK(lstat(root, &st) == -1 && errno == ENOENT);
	T_OK(stat(keep, &st) == 0);
	T_EQ_INT(fs_remove_tree(root, &e), 0);	/* missing: fine */

	/* A plain file or a symlink is removed as such. */
	T_EQ_INT(fs_remove_tree(keep, &e), 0);
	T_OK(stat(keep, &st) == -1);

	T_EQ_INT(fs_remove_tree("", &e), -1);
	T_EQ_STR(e.msg, "refusing to remove ''");
	T_EQ_INT(fs_remove_tree("/", &e), -1);
	T_EQ_STR(e.msg, "refusing to remove '/'");
	T_EQ_INT(fs_remove_tree("//", &e), -1);
	T_EQ_INT(fs_remove_tree("/tmp/..", &e), -1);
	T_CONTAINS(e.msg, "refusing");
	free(root);
	free(outside);
	free(keep);
}

int
main(void)
{
	struct err e;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_write_atomic();
	test_read_file();
	test_mkdir_p();
	test_lock();
	test_remove_tree();
	T_EQ_INT(fs_remove_tree(tmpdir, &e), 0);
	return T_DONE();
}
