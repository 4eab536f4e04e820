/*
 * Files that survive a crash: atomic replacement (temp file in the same
 * directory, fsync, rename, fsync of the directory), bounded reads, mkdir -p,
 * the state-directory lock and removal of a tree.
 */
#ifndef NIXPULL_FSUTIL_H
#define NIXPULL_FSUTIL_H

#include <sys/types.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Replaces path with data: a temp file ".NAME.tmp-RANDOM" in the same
 * directory (O_EXCL), written in full, fchmod'ed to exactly mode (umask
 * ignored), fsynced, renamed over path, then the directory fsynced.  On
 * failure no temp file is left behind, and path is untouched unless only
 * the final fsync of the directory failed.
 */
int	fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, struct err *e);

/*
 * Reads the whole file into out, which is initialised here with cap max and
 * released by the caller (empty on error).  A file larger than max bytes is
 * an error naming it.
 */
int	fs_read_file(const char *path, size_t max, struct buf *out,
	    struct err *e);

/* mkdir -p: creates missing directories with mode (minus umask). */
int	fs_mkdir_p(const char *path, mode_t mode, struct err *e);

/*
 * One agent per state directory: flock(LOCK_EX|LOCK_NB) on path (created
 * 0644, never written: the holder's pid comes from /proc/locks).  Returns the fd (>= 0) to keep open; -1 on
 * error; -2 when another process holds it, e->msg then being
 *   another nixpull (pid 1234) holds '/var/lib/nixpull/lock'
 */
int	fs_lock(const char *path, struct err *e);
/* Releases the lock; the file stays (unlinking lock files races). */
void	fs_unlock(int fd);

/*
 * rm -rf without following symbolic links; a missing path is not an error.
 * Refuses "" and "/".  At most MAX_TREE_DEPTH levels deep.
 */
int	fs_remove_tree(const char *path, struct err *e);
/* Removes what a directory holds and keeps the directory itself (its
 * owner and mode stay: a mirror owned by the fetcher's user).  A path that
 * is not a directory is removed. */
int	fs_clear_tree(const char *path, struct err *e);

#endif
