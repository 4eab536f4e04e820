/*
 * The privilege-separated fetcher: one long-lived child of the root agent
 * that polls, fetches, selects and verifies, and nothing else.  It runs as
 * privsep.user with no new privileges, Landlock (read: the trust files,
 * CA and known_hosts files, the system's libraries; write: the mirror) and
 * a seccomp filter without execve or ptrace (common/util/sandbox.h).  The
 * root parent never gives libgit2 or our parsers bytes from the network:
 * it only reads the fetcher's answers, typed and bounded messages
 * (common/util/msg.h), and builds the verified revision from the mirror.
 *
 *	parent				fetcher
 *	FM_POLL {last}		->
 *				<-	FM_FETCHING {tip, poll_ms}   (tip moved)
 *				<-	FM_POLLED {poll_result, error?}
 *	FM_SELECT {tip, ...}	->
 *				<-	FM_SELECTED {select_result, error?}
 *
 * A fetcher that overruns repo.timeout is killed and started again for the
 * next request; one that dies (any signal) fails that request, and the
 * next one starts a new fetcher.
 */
#ifndef NIXPULL_FETCHER_H
#define NIXPULL_FETCHER_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "fetch.h"
#include "msg.h"
#include "select.h"

struct config;

enum fetcher_msg {
	FM_POLL = 1,
	FM_FETCHING,
	FM_POLLED,
	FM_SELECT,
	FM_SELECTED,
};

struct fetcher {
	const struct config *cfg;
	pid_t		 pid;		/* 0: not running */
	int		 fd;		/* our end of the socket, -1 if none */
	unsigned	 starts;	/* fetchers started so far */
	struct msg_reader *rd;
};

/* What the parent asks for a selection. */
struct fetcher_select_req {
	char		 tip[REV_HEX];
	char		 deployed[REV_HEX];	/* "" if none */
	char		*system_rev;	/* NULL if none */
	time_t		 now;
	/* trust.follow_repo: recorded with the deployed revision */
	uint64_t	 rec_trust_version;	/* 0: the pinned root, or none */
	char		 rec_trust_allowed[REV_HEX];	/* blob ids, "" */
	char		 rec_trust_file[REV_HEX];
};

void	fetcher_init(struct fetcher *f, const struct config *cfg);
/* Prepares the mirror for the fetcher's user and forks it. */
int	fetcher_start(struct fetcher *f, struct err *e);
/* Closes the socket, and kills the fetcher if it does not exit at once. */
void	fetcher_stop(struct fetcher *f);

/*
 * One poll (and fetch when the tip moved) by the fetcher; the result as
 * poll_run_hook gives it.  fetching(arg, tip) is called when the fetcher
 * says the tip moved and the fetch starts.
 */
int	fetcher_poll(struct fetcher *f, const char *last,
	    void (*fetching)(void *, const char *), void *arg,
	    struct poll_result *r, struct err *e);
/* Selection and verification in the mirror, as select_release gives it. */
int	fetcher_select(struct fetcher *f, const struct fetcher_select_req *q,
	    struct select_result *res, struct err *e);

/* The messages (fetcher_msg.c): encoders for both sides, and the
 * decoders of the fetcher's answers, which the parent must not trust. */
void	fm_encode_poll_req(struct msg *m, const char *last);
int	fm_decode_poll_req(const struct msg_view *v, char last[REV_HEX],
	    struct err *e);
void	fm_encode_fetching(struct msg *m, const char *tip, uint64_t poll_ms);
int	fm_decode_fetching(const struct msg_view *v, char tip[REV_HEX],
	    uint64_t *poll_ms, struct err *e);
void	fm_encode_polled(struct msg *m, int rc, const struct poll_result *r,
	    const struct err *why);
int	fm_decode_polled(const struct msg_view *v, struct poll_result *r,
	    struct err *why, struct err *e);
void	fm_encode_select_req(struct msg *m, const struct fetcher_select_req *q);
int	fm_decode_select_req(const struct msg_view *v,
	    struct fetcher_select_req *q, char *sysrev, size_t sysrevsz,
	    struct err *e);
void	fm_encode_selected(struct msg *m, int rc,
	    const struct select_result *res, const struct err *why);
int	fm_decode_selected(const struct msg_view *v,
	    struct select_result *res, struct err *why, struct err *e);

/* fetcher_child.c: the fetcher's side; never returns. */
void	fetcher_child(const struct config *cfg, int fd)
	    __attribute__((noreturn));

#endif
