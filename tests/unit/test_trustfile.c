/* The repository's trust file (common/trust/trustfile.c) and its corpus. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"
#include "t.h"
#include "trustfile.h"

/* Every file of tests/corpus/trustfile/<sub> parses (good) or not (bad). */
static void
test_corpus(const char *sub, int good)
{
	struct dirent *d;
	struct trustfile tf;
	struct buf b;
	struct err e;
	char dir[512], path[1024];
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/trustfile/%s",
	    getenv("NIXPULL_SRCDIR"), sub);
	T_OK((dp = opendir(dir)) != NULL);
	while (dp != NULL && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		buf_init(&b, 1 << 20);
		T_EQ_INT(fs_read_file(path, 1 << 20, &b, &e), 0);
		e.msg[0] = '\0';
		if ((trustfile_parse(&tf, d->d_name, buf_str(&b), b.len,
		    &e) == 0) != good)
			T_FAIL("%s/%s: %s", sub, d->d_name, good ? e.msg :
			    "parsed");
		if (!good)
			T_CONTAINS(e.msg, d->d_name);
		trustfile_release(&tf);
		buf_release(&b);
		n++;
	}
	if (dp != NULL)
		closedir(dp);
	T_OK(n > 3);
}

static void
test_fields(void)
{
	static const char text[] = "version: 3\nthreshold: 2\n"
	    "expires: 2027-06-01T00:00:00Z\nrevoked:\n"
	    "  - ssh-ed25519 AAAAC3Nza carol\n";
	struct trustfile tf;
	struct err e;
	size_t len;
	char *rv;

	T_EQ_INT(trustfile_parse(&tf, "t.yaml", text, sizeof(text) - 1, &e),
	    0);
	T_OK(tf.version == 3);
	T_EQ_INT(tf.threshold, 2);
	T_OK(tf.expires == 1811808000);
	T_EQ_INT(tf.nrevoked, 1);
	T_EQ_STR(tf.revoked[0], "ssh-ed25519 AAAAC3Nza");
	T_EQ_INT(trustfile_revokes(&tf, "ssh-ed25519 AAAAC3Nza"), 1);
	T_EQ_INT(trustfile_revokes(&tf, "ssh-ed25519 AAAAC3Nzb"), 0);
	rv = trustfile_revoked_text(&tf, &len);
	T_EQ_STR(rv, "ssh-ed25519 AAAAC3Nza\n");
	free(rv);
	trustfile_release(&tf);
	T_EQ_INT(trustfile_parse(&tf, "t.yaml", "version: 1\nthreshold: 1\n"
	    "threshold: 2\n", 36, &e), -1);
	T_EQ_STR(e.msg, "t.yaml:3:1: repeated key 'threshold'");
	T_EQ_INT(trustfile_parse(&tf, "t.yaml", "version: 1\nthreshhold: 1\n",
	    25, &e), -1);
	T_EQ_STR(e.msg, "t.yaml:2:1: unknown key 'threshhold'");
}

int
main(void)
{
	test_corpus("good", 1);
	test_corpus("bad", 0);
	test_fields();
	return T_DONE();
}
