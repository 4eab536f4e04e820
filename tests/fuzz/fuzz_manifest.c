/*
 * libFuzzer target for the signed system manifest parser (manifest_parse:
 * the bytes a release's .nixpull/systems.json holds).  Whatever parses
 * must keep its invariants: at most MAX_MANIFEST_SYSTEMS entries, each
 * with a host, a well-formed store path, and a hash that prints and reads
 * back the same; and what parses prints (manifest_format, the same field
 * table) and parses back the same.  Seeds: tests/corpus/manifest/{good,bad}.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "caps.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct manifest *m)
{
	unsigned char h[MANIFEST_HASH_LEN];
	char text[MANIFEST_HASH_TEXT];

	if (m->nsystems > MAX_MANIFEST_SYSTEMS)
		abort();
	for (size_t i = 0; i < m->nsystems; i++) {
		const struct manifest_system *s = &m->systems[i];

		if (s->host == NULL || s->path == NULL ||
		    !manifest_store_path_ok(s->path) ||
		    manifest_find(m, s->host) == NULL)
			abort();
		manifest_hash_format(s->nar_hash, text);
		if (manifest_hash_decode(text, h) != 0 ||
		    memcmp(h, s->nar_hash, sizeof(h)) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct err e;

	if (sodium_init() < 0)
		abort();
	if (manifest_parse(&m, "systems.json", (const char *)data, size,
	    &e) == 0) {
		struct manifest m2;
		char *t1 = manifest_format(&m), *t2;

		check(&m);
		if (t1 == NULL || manifest_parse(&m2, "again", t1, strlen(t1),
		    &e) != 0)
			abort();
		t2 = manifest_format(&m2);
		if (t2 == NULL || strcmp(t1, t2) != 0)
			abort();
		free(t1);
		free(t2);
		manifest_release(&m2);
		manifest_release(&m);
	} else if (strncmp(e.msg, "systems.json", 12) != 0)
		abort();	/* every error names the file */
	return 0;
}
