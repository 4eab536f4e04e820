/*
 * manifest: the signed system manifest's parser (good manifests, errors
 * that name the file and the entry), the hash forms Nix prints (nix32,
 * hex, SRI) decoding to the same bytes, store path shapes, and the corpus
 * under tests/corpus/manifest/{good,bad}.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "manifest.h"
#include "t.h"

#define PATH1	"/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-nixos-system-web1"
#define NIX32	"sha256:1f5icrk5faavf8zwq9g8hc2n07i3drlhhdqkv5aivxwxv4gy28s0"
#define SRI	"sha256-QCPhH9md9x1V2RM3CGluIx5gBYPoJcw/clspV2Zmsbg="
#define HEX	"sha256:4023e11fd99df71d55d9133708696e231e600583e825cc3f725b29576666b1b8"

static int
parse(struct manifest *m, const char *text, struct err *e)
{
	return manifest_parse(m, "systems.json", text, strlen(text), e);
}

static void
test_hashes(void)
{
	unsigned char a[MANIFEST_HASH_LEN], b[MANIFEST_HASH_LEN],
	    c[MANIFEST_HASH_LEN];
	char text[MANIFEST_HASH_TEXT];

	T_EQ_INT(manifest_hash_decode(NIX32, a), 0);
	T_EQ_INT(manifest_hash_decode(SRI, b), 0);
	T_EQ_INT(manifest_hash_decode(HEX, c), 0);
	T_OK(memcmp(a, b, sizeof(a)) == 0);
	T_OK(memcmp(a, c, sizeof(a)) == 0);
	manifest_hash_format(b, text);
	T_EQ_STR(text, NIX32);
	T_EQ_INT(manifest_hash_decode("sha256:", a), -1);
	T_EQ_INT(manifest_hash_decode("md5:1f5icrk5faavf8zwq9g8hc2n07i3drlhhdqkv5aivxwxv4gy28s0", a), -1);
	T_EQ_INT(manifest_hash_decode(SRI "=", a), -1);
	T_EQ_INT(manifest_hash_decode("sha256-QCPhH9md9x1V2RM3CGluIx5gBYPoJcw_clspV2Zmsbg=", a), -1);
	T_EQ_INT(manifest_hash_decode("sha256:zf5icrk5faavf8zwq9g8hc2n07i3drlhhdqkv5aivxwxv4gy28s0", a), -1);
	/* every 52-digit nix32 round-trips when it decodes */
	for (int i = 0; i < 1000; i++) {
		randombytes_buf(a, sizeof(a));
		manifest_hash_format(a, text);
		T_EQ_INT(manifest_hash_decode(text, b), 0);
		T_OK(memcmp(a, b, sizeof(a)) == 0);
	}
}

static void
test_paths(void)
{
	T_OK(manifest_store_path_ok(PATH1));
	T_OK(manifest_store_path_ok("/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-a+b=c?_.d"));
	T_OK(!manifest_store_path_ok("/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-"));
	T_OK(!manifest_store_path_ok("/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-.hidden"));
	T_OK(!manifest_store_path_ok(PATH1 "/bin"));
	T_OK(!manifest_store_path_ok("/nix/store/00mg534cpayw9392pf6vxjkaj0lnxjae-x"));
	T_OK(!manifest_store_path_ok("/nix/stor/00mg534cpayw9392pf6vxjkaj0lnxjaqq-x"));
	T_OK(!manifest_store_path_ok("nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-x"));
}

static void
test_example(void)
{
	const struct manifest_system *s;
	unsigned char h[MANIFEST_HASH_LEN];
	struct manifest m;
	struct err e;

	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"path\": \"" PATH1 "\", \"narHash\": \"" SRI "\", "
	    "\"narSize\": 120}, \"db1\": {\"narHash\": \"" NIX32 "\", "
	    "\"path\": \"" PATH1 "\"}}}", &e), 0);
	T_EQ_INT(m.nsystems, 2);
	T_OK((s = manifest_find(&m, "web1")) != NULL);
	T_EQ_STR(s ? s->path : NULL, PATH1);
	T_EQ_INT(s ? s->nar_size : 0, 120);
	T_EQ_INT(manifest_hash_decode(NIX32, h), 0);
	T_OK(s != NULL && memcmp(s->nar_hash, h, sizeof(h)) == 0);
	T_OK((s = manifest_find(&m, "db1")) != NULL);
	T_EQ_INT(s ? s->nar_size : 1, 0);
	T_OK(manifest_find(&m, "web") == NULL);
	T_OK(manifest_find(&m, "web1 ") == NULL);
	manifest_release(&m);
	manifest_release(&m);	/* twice is harmless */
}

/* What manifest_format prints, manifest_parse reads back the same. */
static void
test_format(void)
{
	struct manifest m, m2;
	struct err e;
	char *t, *t2;

	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"path\": \"" PATH1 "\", \"narHash\": \"" SRI "\", "
	    "\"narSize\": 120}}}", &e), 0);
	T_OK((t = manifest_format(&m)) != NULL);
	T_CONTAINS(t, "\"version\": 1");
	T_CONTAINS(t, "\"path\": \"" PATH1 "\"");
	T_CONTAINS(t, "\"narHash\": \"" NIX32 "\"");	/* nix32 form */
	T_CONTAINS(t, "\"narSize\": 120");
	T_EQ_INT(manifest_parse(&m2, "again", t, strlen(t), &e), 0);
	T_OK((t2 = manifest_format(&m2)) != NULL);
	T_EQ_STR(t2, t);
	free(t);
	free(t2);
	manifest_release(&m);
	manifest_release(&m2);
}

static void
test_errors(void)
{
	struct manifest m;
	struct err e;

	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"path\": \"" PATH1 "\", \"narHash\": \"sha256:x\"}}}", &e), -1);
	T_EQ_STR(e.msg, "systems.json: systems.'web1'.narHash: not a sha256 "
	    "hash ('sha256:…' or 'sha256-…')");
	T_EQ_INT(parse(&m, "{\"version\": 1,\n \"systems\": [}", &e), -1);
	T_CONTAINS(e.msg, "systems.json:2:");
	T_EQ_INT(parse(&m, "{\"version\": 1, \"system\": {}}", &e), -1);
	T_EQ_STR(e.msg, "systems.json: unknown key 'system'");
	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"path\": \"/etc/passwd\", \"narHash\": \"" SRI "\"}}}", &e), -1);
	T_EQ_STR(e.msg, "systems.json: systems.'web1'.path: not a store path");
	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"path\": \"" PATH1 "\", \"path\": \"" PATH1 "\", "
	    "\"narHash\": \"" SRI "\"}}}", &e), -1);
	T_EQ_INT(parse(&m, "{\"version\": 1, \"systems\": {\"web1\": "
	    "{\"narHash\": \"" SRI "\"}}}", &e), -1);
	T_EQ_STR(e.msg, "systems.json: systems.'web1': needs 'path' and "
	    "'narHash'");
}

/* More hosts than MAX_MANIFEST_SYSTEMS, or bytes past the cap: refused. */
static void
test_caps(void)
{
	struct manifest m;
	struct buf b;
	struct err e;

	buf_init(&b, 4 * MAX_MANIFEST_SIZE);
	buf_addstr(&b, "{\"version\": 1, \"systems\": {");
	for (int i = 0; i <= MAX_MANIFEST_SYSTEMS; i++)
		buf_addf(&b, "%s\"h%d\": {}", i ? "," : "", i);
	buf_addstr(&b, "}}");
	T_EQ_INT(manifest_parse(&m, "systems.json", b.data, b.len, &e), -1);
	T_CONTAINS(e.msg, "more than");
	T_EQ_INT(manifest_parse(&m, "systems.json", b.data,
	    MAX_MANIFEST_SIZE + 1, &e), -1);
	T_CONTAINS(e.msg, "larger than");
	buf_release(&b);
}

/* tests/corpus/manifest/good parse, bad do not (naming the file). */
static void
test_corpus(void)
{
	static const char *const kinds[] = { "good", "bad" };
	const char *src = getenv("NIXPULL_SRCDIR");
	struct manifest m;
	struct dirent *de;
	char dir[512], path[1024];
	size_t len, n = 0;
	struct err e;
	DIR *d;

	for (int k = 0; k < 2; k++) {
		snprintf(dir, sizeof(dir), "%s/tests/corpus/manifest/%s",
		    src ? src : ".", kinds[k]);
		if ((d = opendir(dir)) == NULL) {
			T_FAIL("cannot open %s", dir);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char *text;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if ((text = t_slurp(path, &len)) == NULL) {
				T_FAIL("cannot read %s", path);
				continue;
			}
			n++;
			if ((manifest_parse(&m, "systems.json", text, len,
			    &e) == 0) != (k == 0))
				T_FAIL("%s: %s", path, k ? "parsed" : e.msg);
			else if (k == 0)
				manifest_release(&m);
			else
				T_CONTAINS(e.msg, "systems.json");
			t_checks++;
			free(text);
		}
		closedir(d);
	}
	T_OK(n >= 15);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_hashes();
	test_paths();
	test_example();
	test_format();
	test_errors();
	test_caps();
	test_corpus();
	return T_DONE();
}
