/*
 * libFuzzer target for the status document parser (status_from_json: the
 * bytes of another host's <host>.json that `nixpull fleet` and the
 * rollout halt read from the status endpoint).  Whatever parses must
 * print (status_to_json) and parse back to the same document, and a
 * refusal must say what.  Seeds: tests/corpus/status/{good,bad}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct status st, again;
	struct buf a = BUF_INIT(MAX_STATUS_SIZE), b = BUF_INIT(MAX_STATUS_SIZE);
	struct err e;

	if (status_from_json((const char *)data, size, &st, &e) != 0) {
		if (e.msg[0] == '\0')
			abort();	/* a refusal says why */
		return 0;
	}
	e.msg[0] = '\0';
	if (status_to_json(&st, &a, &e) != 0 ||
	    status_from_json(a.data, a.len, &again, &e) != 0 ||
	    status_to_json(&again, &b, &e) != 0 ||
	    a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		/* what we print, we read back the same */
		fprintf(stderr, "round trip: %s\n--- printed:\n%s\n--- "
		    "read back and printed:\n%s\n", e.msg,
		    a.data ? a.data : "", b.data ? b.data : "");
		abort();
	}
	status_release(&again);
	status_release(&st);
	buf_release(&a);
	buf_release(&b);
	return 0;
}
