/*
 * sigcheck: verifies one SSH signature with nixpull's verifier, for the
 * integration tests and the benchmark.
 *
 *	sigcheck [-n COUNT] [-t UNIXTIME] ALLOWED_SIGNERS [REVOKED] NAMESPACE
 *	    SIGFILE < PAYLOAD
 *
 * Prints "status=... key_type=... fingerprint=... principals=..." and the
 * error on stderr; exits 0 when good, 1 when rejected, 2 on usage or file
 * errors.  -n verifies COUNT times (benchmark) and prints the rate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allowed_signers.h"
#include "buf.h"
#include "sshsig.h"

static int
slurp(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if (buf_add(b, chunk, (size_t)n) != 0)
			return -1;
	}
}

static int
usage(void)
{
	fprintf(stderr, "usage: sigcheck [-n COUNT] [-t UNIXTIME] "
	    "ALLOWED_SIGNERS [REVOKED] NAMESPACE SIGFILE < PAYLOAD\n");
	return 2;
}

static long long
number(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0)
		return -1;
	return v;
}

int
main(int argc, char **argv)
{
	struct buf sig = BUF_INIT(1024 * 1024), payload = BUF_INIT(1 << 30);
	struct signers *s = NULL;
	struct sig_info info;
	struct err e = { "" };
	struct timespec t0, t1;
	long long count = 1, i, now = (long long)time(NULL);
	const char *revoked = NULL, *ns, *sigpath;
	double secs;
	int c, fd, r = 2, ok = 0;

	while ((c = getopt(argc, argv, "n:t:")) != -1) {
		if (c == 'n' && (count = number(optarg)) >= 1)
			continue;
		if (c == 't' && (now = number(optarg)) >= 0)
			continue;
		return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc != 3 && argc != 4)
		return usage();
	if (argc == 4)
		revoked = argv[1];
	ns = argv[argc - 2];
	sigpath = argv[argc - 1];
	if (signers_load(&s, argv[0], revoked, &e) != 0) {
		fprintf(stderr, "sigcheck: %s\n", e.msg);
		goto out;
	}
	if ((fd = open(sigpath, O_RDONLY)) == -1 || slurp(fd, &sig) != 0 ||
	    slurp(0, &payload) != 0) {
		fprintf(stderr, "sigcheck: cannot read '%s' or stdin\n",
		    sigpath);
		goto out;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++)
		ok = sshsig_verify(s, buf_str(&sig), sig.len, payload.data,
		    payload.len, ns, (time_t)now, &info, &e) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("status=%s key_type=%s fingerprint=%s principals=%s\n",
	    sig_status_name(info.status), info.key_type, info.fingerprint,
	    info.principals);
	if (!ok)
		fprintf(stderr, "sigcheck: %s\n", e.msg);
	if (count > 1) {
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("verifications=%lld seconds=%.6f per_second=%.1f\n",
		    count, secs, secs > 0 ? (double)count / secs : 0.0);
	}
	r = ok ? 0 : 1;
 out:
	signers_free(s);
	buf_release(&sig);
	buf_release(&payload);
	return r;
}
