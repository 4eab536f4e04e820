/* The fetcher's messages: every field survives the trip, and the parent
 * refuses answers that contradict themselves. */
#include <stdint.h>
#include <string.h>

#include "fetcher.h"
#include "t.h"

static void
test_polled(void)
{
	struct poll_result r, got;
	struct msg_view v;
	struct msg m;
	struct err e, why = { "" }, got_why;

	memset(&r, 0, sizeof(r));
	memset(r.tip, 'b', 40);
	memset(r.last, 'a', 40);
	r.changed = true;
	r.poll_ms = 12;
	r.fetch_ms = 30;
	r.bytes_received = 4096;
	fm_encode_polled(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_polled(&v, &got, &got_why, &e), 1);
	T_EQ_STR(got.tip, r.tip);
	T_EQ_STR(got.last, r.last);
	T_OK(got.changed);
	T_EQ_INT((int)got.duration_ms, 42);
	T_EQ_INT((int)got.bytes_received, 4096);
	msg_release(&m);

	/* "changed" must agree with the tips. */
	r.changed = false;
	fm_encode_polled(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_polled(&v, &got, &got_why, &e), -1);
	T_CONTAINS(e.msg, "'changed' contradicts the tips");
	msg_release(&m);

	/* A failure carries its reason. */
	err_set(&why, "fetch from 'x': timed out");
	r.timed_out = true;
	fm_encode_polled(&m, -1, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_polled(&v, &got, &got_why, &e), 0);
	T_EQ_STR(got_why.msg, "fetch from 'x': timed out");
	T_OK(got.timed_out);
	msg_release(&m);
}

static void
test_selected(void)
{
	struct select_result r, got;
	struct msg_view v;
	struct msg m;
	struct err e, why = { "" }, got_why;

	memset(&r, 0, sizeof(r));
	r.outcome = SELECT_OK;
	memset(r.rev, 'c', 40);
	memset(r.floor_rev, 'd', 40);
	snprintf(r.signer.key_type, sizeof(r.signer.key_type), "ssh-ed25519");
	snprintf(r.signer.fingerprint, sizeof(r.signer.fingerprint),
	    "SHA256:abc");
	snprintf(r.signer.principals, sizeof(r.signer.principals),
	    "alice@example.com");
	memset(r.signer.key, 7, sizeof(r.signer.key));
	r.nkeys = 2;
	r.ntags = 1;
	r.skipped = 3;
	r.floor = FLOOR_SYSTEM;
	r.commit_time = 1764900000;
	r.stale_release = true;
	snprintf(r.why, sizeof(r.why), "selected");
	fm_encode_selected(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), 1);
	T_EQ_STR(got.rev, r.rev);
	T_EQ_STR(got.floor_rev, r.floor_rev);
	T_EQ_STR(got.signer.principals, "alice@example.com");
	T_OK(memcmp(got.signer.key, r.signer.key, 32) == 0);
	T_EQ_INT((int)got.nkeys, 2);
	T_EQ_INT((int)got.skipped, 3);
	T_EQ_INT((int)got.floor, FLOOR_SYSTEM);
	T_OK(got.commit_time == 1764900000);
	T_OK(got.stale_release);
	msg_release(&m);

	/* Success without a candidate, or a failure that says OK: refused. */
	r.rev[0] = '\0';
	fm_encode_selected(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), -1);
	msg_release(&m);
	memset(r.rev, 'c', 40);
	err_set(&why, "no");
	fm_encode_selected(&m, -1, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), -1);
	T_CONTAINS(e.msg, "contradicts the outcome");
	msg_release(&m);
}

/* The largest plan, manifest and trust chain fit in one FM_SELECTED; a
 * manifest whose bytes contradict its state is refused. */
static void
test_manifest(void)
{
	static struct select_result r, got;
	struct msg_view v;
	struct msg m;
	struct err e, why = { "" }, got_why;

	memset(&r, 0, sizeof(r));
	r.outcome = SELECT_OK;
	memset(r.rev, 'c', 40);
	r.release.plan = PLAN_PRESENT;
	r.release.plan_len = MAX_ROLLOUT_SIZE;
	memset(r.release.plan_text, 'p', MAX_ROLLOUT_SIZE);
	r.release.manifest = PLAN_PRESENT;
	r.release.manifest_len = MAX_MANIFEST_SIZE;
	memset(r.release.manifest_text, 'm', MAX_MANIFEST_SIZE);
	memset(r.trust_chain, 'x', sizeof(r.trust_chain) - 1);
	r.trust_repo = true;
	fm_encode_selected(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), 1);
	T_EQ_INT(got.release.manifest, PLAN_PRESENT);
	T_EQ_INT(got.release.manifest_len, MAX_MANIFEST_SIZE);
	T_OK(memcmp(got.release.manifest_text, r.release.manifest_text,
	    MAX_MANIFEST_SIZE) == 0);
	T_EQ_INT(got.release.manifest_text[MAX_MANIFEST_SIZE], '\0');
	msg_release(&m);

	/* too big: only the length travels */
	r.release.manifest = PLAN_TOO_BIG;
	r.release.manifest_len = MAX_MANIFEST_SIZE + 1;
	fm_encode_selected(&m, 0, &r, &why);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), 1);
	T_EQ_INT(got.release.manifest, PLAN_TOO_BIG);
	T_EQ_INT(got.release.manifest_len, MAX_MANIFEST_SIZE + 1);
	msg_release(&m);

	/* bytes for a manifest said to be absent */
	r.release.manifest = PLAN_NONE;
	r.release.manifest_len = 3;
	fm_encode_selected(&m, 0, &r, &why);
	msg_put(&m, 42, "abc", 3);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), 0);
	T_EQ_INT(fm_decode_selected(&v, &got, &got_why, &e), -1);
	T_CONTAINS(e.msg, "the system manifest contradicts");
	msg_release(&m);
}

static void
test_corpus(void)
{
	static const struct { const char *name; int want; } seeds[] = {
		{ "polled-ok", 1 }, { "polled-failed", 0 },
		{ "selected-ok", 1 }, { "selected-none", 0 },
	};
	struct select_result sr;
	struct poll_result pr;
	struct msg_view v;
	struct buf b;
	struct err e, why;
	char path[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/corpus/fetcher_msg/%s",
		    getenv("NIXPULL_SRCDIR"), seeds[i].name);
		buf_init(&b, MAX_MSG_SIZE);
		T_EQ_INT(fs_read_file(path, MAX_MSG_SIZE, &b, &e), 0);
		T_EQ_INT(msg_parse((unsigned char *)b.data, b.len, &v, &e), 0);
		r = v.type == FM_POLLED ? fm_decode_polled(&v, &pr, &why, &e) :
		    fm_decode_selected(&v, &sr, &why, &e);
		if (r != seeds[i].want)
			T_FAIL("%s: %d, wanted %d (%s)", seeds[i].name, r,
			    seeds[i].want, e.msg);
		buf_release(&b);
	}
}

int
main(void)
{
	test_polled();
	test_selected();
	test_manifest();
	test_corpus();
	return T_DONE();
}
