/* common/git.c: refs, known_hosts matching, file:// poll and fetch. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "git.h"
#include "t.h"

/* ssh-ed25519 wire blob with a fixed key byte. */
static size_t
make_blob(unsigned char *b, unsigned char fill)
{
	static const char type[] = "ssh-ed25519";
	size_t n = 0;

	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 11;
	memcpy(b + n, type, 11); n += 11;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 32;
	memset(b + n, fill, 32); n += 32;
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

static void
test_known_hosts(const char *dir)
{
	unsigned char blob[64], other[64];
	char b64[128], text[1024], path[512];
	size_t len = make_blob(blob, 7);
	struct err e;

	make_blob(other, 9);
	sodium_bin2base64(b64, sizeof(b64), blob, len,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(path, sizeof(path), "%s/kh", dir);
	snprintf(text, sizeof(text), "# comment\n\n"
	    "git.example.com,[git.example.com]:2222 ssh-ed25519 %s\n"
	    "*.example.org,!bad.example.org ssh-ed25519 %s\n"
	    "|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= "
	    "ssh-ed25519 %s\n", b64, b64, b64);
	write_file(path, text);
	T_EQ_INT(known_hosts_check(path, "git.example.com", 22, blob, len,
	    &e), 1);
	T_EQ_INT(known_hosts_check(path, "GIT.example.com", 22, blob, len,
	    &e), 1);
	T_EQ_INT(known_hosts_check(path, "git.example.com", 2222, blob, len,
	    &e), 1);
	T_EQ_INT(known_hosts_check(path, "git.example.com", 2223, blob, len,
	    &e), 0);
	T_EQ_INT(known_hosts_check(path, "a.example.org", 22, blob, len,
	    &e), 1);
	T_EQ_INT(known_hosts_check(path, "bad.example.org", 22, blob, len,
	    &e), 0);
	T_EQ_INT(known_hosts_check(path, "example.net", 22, blob, len, &e), 0);
	/* the same type with another key: changed */
	T_EQ_INT(known_hosts_check(path, "git.example.com", 22, other, len,
	    &e), -1);
	T_CONTAINS(e.msg, "does not match");
	/* a hashed entry for another name does not match (t0402 checks a real one) */
	T_EQ_INT(known_hosts_check(path, "nothashed.example.com", 22, blob, len,
	    &e), 0);
	snprintf(text, sizeof(text), "@revoked git.example.com ssh-ed25519 %s\n"
	    "git.example.com ssh-ed25519 %s\n", b64, b64);
	write_file(path, text);
	T_EQ_INT(known_hosts_check(path, "git.example.com", 22, blob, len,
	    &e), -1);
	T_CONTAINS(e.msg, "revoked");
	snprintf(path, sizeof(path), "%s/missing", dir);
	T_EQ_INT(known_hosts_check(path, "x", 22, blob, len, &e), -2);
}

static void
test_refs(void)
{
	char *s;

	T_EQ_STR(s = gitx_full_ref("main"), "refs/heads/main");
	free(s);
	T_EQ_STR(s = gitx_full_ref("refs/tags/v1"), "refs/tags/v1");
	free(s);
	T_EQ_STR(s = gitx_full_ref(NULL), "refs/heads/main");
	free(s);
}

static void
test_file_fetch(const char *dir)
{
	struct gitx_remote cfg;
	struct gitx_stats st;
	struct err e;
	char tip[REV_HEX], tip2[REV_HEX], cmd[1024], url[512],
	    mirror[512];

	snprintf(cmd, sizeof(cmd), "cd '%s' && git init -q -b main src && "
	    "git -C src -c user.name=a -c user.email=a@b commit -q "
	    "--allow-empty -m one", dir);
	if (system(cmd) != 0) {
		T_FAIL("cannot create a repository with git");
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(url, sizeof(url), "file://%s/src", dir);
	snprintf(mirror, sizeof(mirror), "%s/mirror.git", dir);
	cfg.url = url;
	cfg.ref = "main";
	cfg.timeout_ms = 30000;
	cfg.connect_timeout_ms = 5000;
	cfg.max_fetch_size = 1 << 20;
	T_EQ_INT(gitx_init(&cfg, &e), 0);
	T_EQ_INT(gitx_ls_tip(&cfg, tip, &st, &e), 0);
	T_EQ_INT(strlen(tip), 40);
	T_EQ_INT(gitx_fetch(&cfg, mirror, tip2, &st, &e), 0);
	T_EQ_STR(tip2, tip);
	/* again: incremental, nothing new */
	T_EQ_INT(gitx_fetch(&cfg, mirror, tip2, &st, &e), 0);
	T_EQ_STR(tip2, tip);
	cfg.ref = "nosuch";
	T_EQ_INT(gitx_ls_tip(&cfg, tip, &st, &e), -1);
	T_CONTAINS(e.msg, "no ref 'refs/heads/nosuch'");
	T_CONTAINS(e.msg, url);
}

int
main(void)
{
	char dir[] = "/tmp/test_git.XXXXXX", cmd[600];

	if (mkdtemp(dir) == NULL || sodium_init() < 0)
		return 1;
	test_refs();
	test_known_hosts(dir);
	test_file_fetch(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_FAIL("cleanup");
	return T_DONE();
}
