/*
 * Crash-safe files: every state file is written to a temp file in the same
 * directory, fsynced and renamed, so a reader sees the old or the new
 * content and never half of one.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/sysmacros.h>
#endif
#ifdef __APPLE__
#include <sys/random.h>	/* getentropy */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "caps.h"

#define TEMP_TRIES	16
#define READ_CHUNK	65536

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t
temp_random(void)
{
	struct timespec ts;
	uint64_t v;

	if (getentropy(&v, sizeof(v)) == 0)
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)getpid() << 40) ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)ts.tv_sec << 20);
}

/* Directory part of path ("." when none), malloc'd. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Creates ".NAME.tmp-RANDOM" next to path; *tmp is malloc'd. */
static int
temp_create(const char *path, char **tmp)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int fd = -1, i;

	*tmp = NULL;
	for (i = 0; i < TEMP_TRIES; i++) {
		free(*tmp);
		*tmp = xasprintf("%.*s.%s.tmp-%016llx", dirlen, path, base,
		    (unsigned long long)temp_random());
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	return fd;
}

static int
dir_sync(const char *path, struct err *e)
{
	char *dir = dir_of(path);
	int fd, r = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		r = err_errno(e, "cannot open directory '%s'", dir);
	} else {
		if (fsync(fd) == -1 && errno != EINVAL && errno != EROFS)
			r = err_errno(e, "cannot sync directory '%s'", dir);
		close(fd);
	}
	free(dir);
	return r;
}

int
fs_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct err *e)
{
	char *tmp = NULL;
	int fd, r = -1;

	if ((fd = temp_create(path, &tmp)) == -1) {
		err_errno(e, "cannot write '%s'", path);
		goto out;
	}
	if (write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 ||
	    fsync(fd) == -1) {
		err_errno(e, "cannot write '%s'", tmp);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_errno(e, "cannot write '%s'", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_errno(e, "cannot rename '%s' to '%s'", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;	/* it is path now */
	r = dir_sync(path, e);
 out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}

static int
too_large(const char *path, size_t max, struct err *e)
{
	return err_set(e, "'%s' is too large (more than %zu bytes)", path, max);
}

int
fs_read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
	char chunk[READ_CHUNK];
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	buf_init(out, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_errno(e, "cannot open '%s'", path);
	if (fstat(fd, &st) == -1) {
		err_errno(e, "cannot stat '%s'", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		too_large(path, max, e);
		goto out;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			err_errno(e, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(out, chunk, (size_t)n) == -1) {
			too_large(path, max, e);
			goto out;
		}
	}
	r = 0;
 out:
	close(fd);
	if (r != 0)
		buf_release(out);
	return r;
}

/* mkdir that accepts an existing directory. */
static int
mkdir_one(const char *dir, mode_t mode, struct err *e)
{
	struct stat st;

	if (mkdir(dir, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return err_errno(e, "cannot create directory '%s'", dir);
	if (stat(dir, &st) == -1)
		return err_errno(e, "cannot create directory '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "cannot create directory '%s': %s", dir,
		    strerror(ENOTDIR));
	return 0;
}

int
fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char *p, *s;
	int r = -1;

	if (*path == '\0')
		return err_set(e, "cannot create directory ''");
	p = xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		if (mkdir_one(p, mode, e) == -1)
			goto out;
		*s = '/';
	}
	r = mkdir_one(p, mode, e);
 out:
	free(p);
	return r;
}

/*
 * The pid holding a flock() on fd's file, from /proc/locks (Linux); 0 when
 * unknown.  Lines read "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF".
 */
static long
lock_holder(int fd)
{
	unsigned long maj, min, ino;
	char line[256];
	struct stat st;
	long pid, found = 0;
	FILE *fp;

	if (fstat(fd, &st) == -1 || (fp = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%*s FLOCK %*s %*s %ld %lx:%lx:%lu", &pid,
		    &maj, &min, &ino) == 4 && ino == (unsigned long)st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    pid != (long)getpid())
			found = pid;
	}
	fclose(fp);
	return found;
}

/*
 * flock() on an open file description: a second open of the same file is
 * refused too, and closing another descriptor releases nothing.  Nothing is
 * written into the file (the holder is found in /proc/locks), so a poll
 * that finds nothing new leaves the state directory untouched.
 */
int
fs_lock(const char *path, struct err *e)
{
	long pid;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
	    0644);
	if (fd == -1)
		return err_errno(e, "cannot open lock file '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			err_errno(e, "cannot lock '%s'", path);
			close(fd);
			return -1;
		}
		if ((pid = lock_holder(fd)) > 0)
			err_set(e, "another nixpull (pid %ld) holds '%s'", pid,
			    path);
		else
			err_set(e, "another nixpull holds '%s'", path);
		close(fd);
		return -2;
	}
	return fd;
}

void
fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int tree_remove_at(int parent, const char *name, const char *shown,
    int depth, struct err *e);

/* Removes one entry of directory dfd (shown as dir). */
static int
entry_remove(int dfd, const char *dir, const char *name, int depth,
    struct err *e)
{
	struct stat st;
	char *shown;
	int r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 :
		    err_errno(e, "cannot remove '%s/%s'", dir, name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
			return err_errno(e, "cannot remove '%s/%s'", dir,
			    name);
		return 0;
	}
	shown = xasprintf("%s/%s", dir, name);
	r = tree_remove_at(dfd, name, shown, depth + 1, e);
	free(shown);
	return r;
}

/* One pass over a directory; *n counts what was removed. */
static int
dir_pass(int fd, const char *shown, int depth, int *n, struct err *e)
{
	struct dirent *de;
	DIR *d;
	int dup_fd, r = 0;

	if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return err_errno(e, "cannot read directory '%s'", shown);
	if ((d = fdopendir(dup_fd)) == NULL) {
		close(dup_fd);
		return err_errno(e, "cannot read directory '%s'", shown);
	}
	rewinddir(d);	/* the offset is shared with fd */
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = entry_remove(fd, shown, de->d_name, depth, e);
		(*n)++;
	}
	if (r == 0 && errno != 0)
		r = err_errno(e, "cannot read directory '%s'", shown);
	closedir(d);
	return r;
}

static int
tree_remove_at(int parent, const char *name, const char *shown, int depth,
    struct err *e)
{
	int fd, n, pass, r = 0;

	if (depth > MAX_TREE_DEPTH)
		return err_set(e, "cannot remove '%s': more than %d levels "
		    "deep", shown, MAX_TREE_DEPTH);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 :
		    err_errno(e, "cannot open directory '%s'", shown);
	/* Entries removed while reading may hide others: go again. */
	for (pass = 0, n = 1; r == 0 && n > 0 && pass < 4; pass++) {
		n = 0;
		r = dir_pass(fd, shown, depth, &n, e);
	}
	close(fd);
	if (depth < 0)
		return r;	/* fs_clear_tree: the directory itself stays */
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		r = err_errno(e, "cannot remove directory '%s'", shown);
	return r;
}

int
fs_remove_tree(const char *path, struct err *e)
{
	char *real;
	struct stat st;
	int is_root;

	if (*path == '\0')
		return err_set(e, "refusing to remove ''");
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 :
		    err_errno(e, "cannot remove '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) == -1 && errno != ENOENT)
			return err_errno(e, "cannot remove '%s'", path);
		return 0;
	}
	if ((real = realpath(path, NULL)) == NULL)
		return err_errno(e, "cannot remove '%s'", path);
	is_root = strcmp(real, "/") == 0;
	free(real);
	if (is_root)
		return err_set(e, "refusing to remove '%s'", path);
	return tree_remove_at(AT_FDCWD, path, path, 0, e);
}

int
fs_clear_tree(const char *path, struct err *e)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 :
		    err_errno(e, "cannot empty '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return fs_remove_tree(path, e);
	return tree_remove_at(AT_FDCWD, path, path, -1, e);
}
