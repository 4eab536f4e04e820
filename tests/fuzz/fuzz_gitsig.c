/*
 * libFuzzer target for the commit and tag payload/signature splitters.
 *	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address
 *	./build-fuzz/tests/fuzz/fuzz_gitsig -max_total_time=60 \
 *	    tests/corpus/gitsig
 * Besides memory errors, it checks that payload and signature are never
 * longer than the object they came from, and that an unsigned object leaves
 * both empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int r, const struct buf *payload, const struct buf *sig, size_t size)
{
	if (r == GITSIG_SIGNED && payload->len + sig->len > size)
		abort();
	if (r == GITSIG_UNSIGNED && (payload->len != 0 || sig->len != 0))
		abort();
	if (r != GITSIG_SIGNED && r != GITSIG_UNSIGNED && r != -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf payload, sig;
	struct gitsig_tag tag;
	struct err e;
	const char *obj = (const char *)data;
	int r;

	buf_init(&payload, MAX_OBJECT_SIZE);
	buf_init(&sig, MAX_ARMOR_SIZE);
	r = gitsig_split_commit(obj, size, &payload, &sig, &e);
	check(r, &payload, &sig, size);
	r = gitsig_split_tag(obj, size, &tag, &payload, &sig, &e);
	check(r, &payload, &sig, size);
	if (r != -1 && (strlen(tag.name) == 0 || strlen(tag.type) == 0))
		abort();
	(void)gitsig_parse_tag(obj, size, &tag, &e);
	buf_release(&payload);
	buf_release(&sig);
	return 0;
}
