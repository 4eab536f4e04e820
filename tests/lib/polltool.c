/*
 * polltool: one poll (and fetch when the tip moved) as the agent does it,
 * for the integration tests and the benchmark, until `nixpull once` does.
 *
 *   polltool [options] URL STATE_DIR
 *	-r REF  -t TIMEOUT  -C CONNECT_TIMEOUT  -m MAX_FETCH_SIZE
 *	-T TOKEN_FILE  -k SSH_KEY  -K KNOWN_HOSTS  -A CA_FILE
 *	-n	do not record the tip (poll_record) after success
 *	-u	print CPU time and peak RSS (getrusage) too
 *	-N N	poll N times (benchmark; results of the last one)
 *
 * Prints "key value" lines (tip, last, changed, poll_ms, fetch_ms,
 * bytes); errors go to stderr as "polltool: ..." with exit status 1.
 */
#include <sys/resource.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "err.h"
#include "fetch.h"

static void
usage(void)
{
	fprintf(stderr, "usage: polltool [-nu] [-r ref] [-t timeout] "
	    "[-C connect_timeout] [-m max_size] [-T token_file] [-k ssh_key] "
	    "[-K known_hosts] [-A ca_file] [-N count] url state_dir\n");
	exit(2);
}

static uint64_t
duration_arg(const char *s)
{
	const char *why;
	uint64_t ms;

	if (duration_parse(s, &ms, &why) == -1) {
		fprintf(stderr, "polltool: '%s': %s\n", s, why);
		exit(2);
	}
	return ms;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct poll_result r;
	struct rusage ru;
	struct err e;
	const char *why;
	bool record = true, rusage_out = false;
	long count = 1, i;
	int c, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo.ref = "main";
	cfg.repo.max_fetch_size = 512ull << 20;
	cfg.repo.connect_timeout_ms = 30000;
	cfg.repo.timeout_ms = 600000;
	while ((c = getopt(argc, argv, "A:C:k:K:m:nN:r:t:T:u")) != -1) {
		switch (c) {
		case 'A': cfg.repo.ca_file = optarg; break;
		case 'C': cfg.repo.connect_timeout_ms = duration_arg(optarg); break;
		case 'k': cfg.repo.ssh_key = optarg; break;
		case 'K': cfg.repo.known_hosts = optarg; break;
		case 'm':
			if (size_parse(optarg, &cfg.repo.max_fetch_size, &why) == -1) {
				fprintf(stderr, "polltool: '%s': %s\n", optarg, why);
				return 2;
			}
			break;
		case 'n': record = false; break;
		case 'N': count = strtol(optarg, NULL, 10); break;
		case 'r': cfg.repo.ref = optarg; break;
		case 't': cfg.repo.timeout_ms = duration_arg(optarg); break;
		case 'T': cfg.repo.token_file = optarg; break;
		case 'u': rusage_out = true; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || count < 1)
		usage();
	cfg.repo.url = argv[optind];
	cfg.state_dir = argv[optind + 1];

	for (i = 0; i < count && rc == 0; i++) {
		if (poll_run(&cfg, &r, &e) == -1)
			rc = 1;
		else if (record && r.changed && poll_record(&cfg, r.tip, &e) == -1)
			rc = 1;
	}
	printf("tip %s\nlast %s\nchanged %s\npoll_ms %" PRIu64 "\n"
	    "fetch_ms %" PRIu64 "\nbytes %" PRIu64 "\n", r.tip,
	    r.last[0] ? r.last : "-", r.changed ? "yes" : "no", r.poll_ms,
	    r.fetch_ms, r.bytes_received);
	if (rusage_out && getrusage(RUSAGE_SELF, &ru) == 0)
		printf("cpu_us %lld\nmaxrss_kb %ld\n",
		    (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec, ru.ru_maxrss);
	if (rc != 0)
		fprintf(stderr, "polltool: %s\n", e.msg);
	return rc;
}
