/*
 * libFuzzer target for what the root agent reads from its fetcher: the
 * frame parser (common/util/msg.c) and the decoders of every message
 * (agent/fetcher_msg.c).
 *	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address
 *	./build-fuzz/tests/fuzz/fuzz_fetcher_msg -max_total_time=60 \
 *	    tests/corpus/fetcher_msg
 * Besides memory errors, it checks that a decoded answer keeps its
 * promises: object ids are 40 hex digits or empty, a selected candidate
 * has one, strings end within their fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_oid(const char *s)
{
	size_t n = strnlen(s, REV_HEX);

	if (n != 0 && n != REV_HEX - 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetcher_select_req q;
	struct select_result res;
	struct poll_result pr;
	struct msg_view v;
	struct err e, why;
	char tip[REV_HEX], sysrev[256];
	uint64_t ms;

	if (msg_parse(data, size, &v, &e) != 0)
		return 0;
	if (fm_decode_poll_req(&v, tip, &e) == 0)
		check_oid(tip);
	if (fm_decode_fetching(&v, tip, &ms, &e) == 0)
		check_oid(tip);
	if (fm_decode_polled(&v, &pr, &why, &e) >= 0) {
		check_oid(pr.tip);
		check_oid(pr.last);
		if (strnlen(why.msg, sizeof(why.msg)) == sizeof(why.msg))
			abort();
	}
	if (fm_decode_select_req(&v, &q, sysrev, sizeof(sysrev), &e) == 0) {
		check_oid(q.tip);
		check_oid(q.deployed);
	}
	if (fm_decode_selected(&v, &res, &why, &e) >= 0) {
		check_oid(res.rev);
		check_oid(res.floor_rev);
		if (res.outcome == SELECT_OK && res.rev[0] == '\0')
			abort();
		if (strnlen(res.signer.principals,
		    sizeof(res.signer.principals)) ==
		    sizeof(res.signer.principals))
			abort();
	}
	return 0;
}
