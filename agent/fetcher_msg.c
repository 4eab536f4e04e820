/*
 * The fetcher's messages, field by field.  The parent decodes what the
 * fetcher says as untrusted input: every field is checked for shape and
 * range here (tests/fuzz/fuzz_fetcher_msg.c), and an answer that fails a
 * check fails the request.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <git2.h>

#include "fetcher.h"

enum tag {
	T_RC = 1, T_ERROR, T_LAST, T_TIP, T_CHANGED, T_POLL_MS, T_FETCH_MS,
	T_BYTES, T_TIMED_OUT, T_TOO_BIG, T_DEPLOYED, T_SYSREV, T_NOW,
	T_OUTCOME, T_REV, T_SIG_STATUS, T_KEY_TYPE, T_FPR, T_PRINCIPALS,
	T_KEY, T_NKEYS, T_NTAGS, T_SKIPPED, T_TIP_WHY, T_TIP_BAD, T_AT_FLOOR,
	T_FLOOR, T_FLOOR_REV, T_TOFU, T_ROLLBACK, T_DEP_UNKNOWN,
	T_COMMIT_TIME, T_STALE, T_WHY,
	T_RELEASE_TIME, T_RELEASE_BY_TAG, T_PLAN_STATE, T_PLAN_LEN, T_PLAN,
	T_MANIFEST_STATE, T_MANIFEST_LEN, T_MANIFEST,
};

_Static_assert(MAX_ROLLOUT_SIZE + MAX_MANIFEST_SIZE + MAX_TRUST_CHAIN_TEXT +
    16 * MAX_ERROR < MAX_MSG_SIZE, "FM_SELECTED fits in one message");

/* trust.follow_repo's fields, numbered apart from the others. */
enum trust_tag {
	T_REC_TRUST_VERSION = 200, T_REC_TRUST_ALLOWED, T_REC_TRUST_FILE,
	T_TRUST_REPO, T_TRUST_VERSION, T_TRUST_ALLOWED, T_TRUST_FILE,
	T_TRUST_EXPIRES, T_TRUST_EXPIRED, T_TRUST_ROLLBACK, T_TRUST_CHAIN,
};

/* "" or 40 lowercase hex digits. */
static int
get_oid(const struct msg_view *v, uint16_t tag, char out[REV_HEX],
    bool required, struct err *e)
{
	size_t n;

	out[0] = '\0';
	if (msg_get_str(v, tag, out, REV_HEX, required, e) == -1)
		return -1;
	n = strlen(out);
	if (n != 0 && !rev_valid(out, n))
		return err_set(e, "message type %u: field %u is not an object "
		    "id", v->type, tag);
	return 0;
}

static int
get_enum(const struct msg_view *v, uint16_t tag, unsigned max, unsigned *out,
    struct err *e)
{
	uint64_t x = 0;

	if (msg_get_u64(v, tag, &x, true, e) == -1)
		return -1;
	if (x > max)
		return err_set(e, "message type %u: field %u out of range",
		    v->type, tag);
	*out = (unsigned)x;
	return 0;
}

static int
get_type(const struct msg_view *v, uint32_t want, struct err *e)
{
	if (v->type != want)
		return err_set(e, "message type %u where %u was expected",
		    v->type, want);
	return 0;
}

static void
put_rc(struct msg *m, int rc, const struct err *why)
{
	msg_put_u64(m, T_RC, rc == 0 ? 0 : 1);
	if (rc != 0)
		msg_put_str(m, T_ERROR, why->msg);
}

static int
get_rc(const struct msg_view *v, int *rc, struct err *why, struct err *e)
{
	bool failed = false;

	why->msg[0] = '\0';
	if (msg_get_bool(v, T_RC, &failed, e) == -1 ||
	    msg_get_str(v, T_ERROR, why->msg, sizeof(why->msg), failed, e) ==
	    -1)
		return -1;
	*rc = failed ? -1 : 0;
	return 0;
}

void
fm_encode_poll_req(struct msg *m, const char *last)
{
	msg_init(m, FM_POLL);
	msg_put_str(m, T_LAST, last);
}

int
fm_decode_poll_req(const struct msg_view *v, char last[REV_HEX],
    struct err *e)
{
	if (get_type(v, FM_POLL, e) == -1)
		return -1;
	return get_oid(v, T_LAST, last, false, e);
}

void
fm_encode_fetching(struct msg *m, const char *tip, uint64_t poll_ms)
{
	msg_init(m, FM_FETCHING);
	msg_put_str(m, T_TIP, tip);
	msg_put_u64(m, T_POLL_MS, poll_ms);
}

int
fm_decode_fetching(const struct msg_view *v, char tip[REV_HEX],
    uint64_t *poll_ms, struct err *e)
{
	if (get_type(v, FM_FETCHING, e) == -1 ||
	    get_oid(v, T_TIP, tip, true, e) == -1 ||
	    msg_get_u64(v, T_POLL_MS, poll_ms, true, e) == -1)
		return -1;
	return 0;
}

void
fm_encode_polled(struct msg *m, int rc, const struct poll_result *r,
    const struct err *why)
{
	msg_init(m, FM_POLLED);
	put_rc(m, rc, why);
	msg_put_str(m, T_TIP, r->tip);
	msg_put_str(m, T_LAST, r->last);
	msg_put_u64(m, T_CHANGED, r->changed);
	msg_put_u64(m, T_POLL_MS, r->poll_ms);
	msg_put_u64(m, T_FETCH_MS, r->fetch_ms);
	msg_put_u64(m, T_BYTES, r->bytes_received);
	msg_put_u64(m, T_TIMED_OUT, r->timed_out);
	msg_put_u64(m, T_TOO_BIG, r->too_big);
}

int
fm_decode_polled(const struct msg_view *v, struct poll_result *r,
    struct err *why, struct err *e)
{
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (get_type(v, FM_POLLED, e) == -1 || get_rc(v, &rc, why, e) == -1 ||
	    get_oid(v, T_TIP, r->tip, rc == 0, e) == -1 ||
	    get_oid(v, T_LAST, r->last, false, e) == -1 ||
	    msg_get_bool(v, T_CHANGED, &r->changed, e) == -1 ||
	    msg_get_u64(v, T_POLL_MS, &r->poll_ms, true, e) == -1 ||
	    msg_get_u64(v, T_FETCH_MS, &r->fetch_ms, true, e) == -1 ||
	    msg_get_u64(v, T_BYTES, &r->bytes_received, true, e) == -1 ||
	    msg_get_bool(v, T_TIMED_OUT, &r->timed_out, e) == -1 ||
	    msg_get_bool(v, T_TOO_BIG, &r->too_big, e) == -1)
		return -1;
	if (r->poll_ms > UINT64_MAX / 2 || r->fetch_ms > UINT64_MAX / 2)
		return err_set(e, "message type %u: duration out of range",
		    v->type);
	if (rc == 0 && r->changed != (strcmp(r->tip, r->last) != 0))
		return err_set(e, "message type %u: 'changed' contradicts the "
		    "tips", v->type);
	r->duration_ms = r->poll_ms + r->fetch_ms;
	return rc == 0 ? 1 : 0;
}

void
fm_encode_select_req(struct msg *m, const struct fetcher_select_req *q)
{
	msg_init(m, FM_SELECT);
	msg_put_str(m, T_TIP, q->tip);
	msg_put_str(m, T_DEPLOYED, q->deployed);
	msg_put_str(m, T_SYSREV, q->system_rev);
	msg_put_u64(m, T_NOW, (uint64_t)q->now);
	msg_put_u64(m, T_REC_TRUST_VERSION, q->rec_trust_version);
	msg_put_str(m, T_REC_TRUST_ALLOWED, q->rec_trust_allowed);
	msg_put_str(m, T_REC_TRUST_FILE, q->rec_trust_file);
}

int
fm_decode_select_req(const struct msg_view *v, struct fetcher_select_req *q,
    char *sysrev, size_t sysrevsz, struct err *e)
{
	uint64_t now = 0;

	memset(q, 0, sizeof(*q));
	sysrev[0] = '\0';
	if (get_type(v, FM_SELECT, e) == -1 ||
	    get_oid(v, T_TIP, q->tip, true, e) == -1 ||
	    get_oid(v, T_DEPLOYED, q->deployed, false, e) == -1 ||
	    msg_get_str(v, T_SYSREV, sysrev, sysrevsz, false, e) == -1 ||
	    msg_get_u64(v, T_NOW, &now, true, e) == -1 ||
	    msg_get_u64(v, T_REC_TRUST_VERSION, &q->rec_trust_version, true,
	    e) == -1 ||
	    get_oid(v, T_REC_TRUST_ALLOWED, q->rec_trust_allowed, true, e) ==
	    -1 ||
	    get_oid(v, T_REC_TRUST_FILE, q->rec_trust_file, true, e) == -1)
		return -1;
	q->system_rev = msg_get(v, T_SYSREV) ? sysrev : NULL;
	q->now = (time_t)now;
	return 0;
}

/* The rollout's inputs: the release time and the plan's raw bytes. */
static void
put_release(struct msg *m, const struct release_info *ri)
{
	msg_put_u64(m, T_RELEASE_TIME, (uint64_t)ri->time);
	msg_put_u64(m, T_RELEASE_BY_TAG, ri->by_tag);
	msg_put_u64(m, T_PLAN_STATE, ri->plan);
	msg_put_u64(m, T_PLAN_LEN, ri->plan_len);
	if (ri->plan == PLAN_PRESENT)
		msg_put(m, T_PLAN, ri->plan_text, ri->plan_len);
	msg_put_u64(m, T_MANIFEST_STATE, ri->manifest);
	msg_put_u64(m, T_MANIFEST_LEN, ri->manifest_len);
	if (ri->manifest == PLAN_PRESENT)
		msg_put(m, T_MANIFEST, ri->manifest_text, ri->manifest_len);
}

/* trust.follow_repo: the trust in effect at the result. */
static void
put_trust(struct msg *m, const struct select_result *res)
{
	msg_put_u64(m, T_TRUST_REPO, res->trust_repo);
	msg_put_u64(m, T_TRUST_VERSION, res->trust_version);
	msg_put_str(m, T_TRUST_ALLOWED, res->trust_allowed_hash);
	msg_put_str(m, T_TRUST_FILE, res->trust_file_hash);
	msg_put_u64(m, T_TRUST_EXPIRES, (uint64_t)res->trust_expires);
	msg_put_u64(m, T_TRUST_EXPIRED, res->trust_expired);
	msg_put_u64(m, T_TRUST_ROLLBACK, res->trust_rollback);
	msg_put_str(m, T_TRUST_CHAIN, res->trust_chain);
}

void
fm_encode_selected(struct msg *m, int rc, const struct select_result *res,
    const struct err *why)
{
	msg_init(m, FM_SELECTED);
	put_rc(m, rc, why);
	msg_put_u64(m, T_OUTCOME, res->outcome);
	msg_put_str(m, T_REV, res->rev);
	msg_put_u64(m, T_SIG_STATUS, res->signer.status);
	msg_put_str(m, T_KEY_TYPE, res->signer.key_type);
	msg_put_str(m, T_FPR, res->signer.fingerprint);
	msg_put_str(m, T_PRINCIPALS, res->signer.principals);
	msg_put(m, T_KEY, res->signer.key, sizeof(res->signer.key));
	msg_put_u64(m, T_NKEYS, res->nkeys);
	msg_put_u64(m, T_NTAGS, res->ntags);
	msg_put_u64(m, T_SKIPPED, res->skipped);
	msg_put_str(m, T_TIP_WHY, res->tip_why);
	msg_put_u64(m, T_TIP_BAD, res->tip_bad_signature);
	msg_put_u64(m, T_AT_FLOOR, res->at_floor);
	msg_put_u64(m, T_FLOOR, res->floor);
	msg_put_str(m, T_FLOOR_REV, res->floor_rev);
	msg_put_u64(m, T_TOFU, res->tofu);
	msg_put_u64(m, T_ROLLBACK, res->rollback);
	msg_put_u64(m, T_DEP_UNKNOWN, res->deployed_unknown);
	msg_put_u64(m, T_COMMIT_TIME, (uint64_t)res->commit_time);
	msg_put_u64(m, T_STALE, res->stale_release);
	msg_put_str(m, T_WHY, res->why);
	put_trust(m, res);
	put_release(m, &res->release);
}

static int
get_counts(const struct msg_view *v, struct select_result *res,
    struct err *e)
{
	unsigned n[3] = { 0, 0, 0 };

	if (get_enum(v, T_NKEYS, MAX_MSG_SIZE, &n[0], e) == -1 ||
	    get_enum(v, T_NTAGS, MAX_MSG_SIZE, &n[1], e) == -1 ||
	    get_enum(v, T_SKIPPED, 100000000, &n[2], e) == -1)
		return -1;
	res->nkeys = n[0];
	res->ntags = n[1];
	res->skipped = n[2];
	return 0;
}

static int
get_flags(const struct msg_view *v, struct select_result *res,
    struct err *e)
{
	if (msg_get_bool(v, T_TIP_BAD, &res->tip_bad_signature, e) == -1 ||
	    msg_get_bool(v, T_AT_FLOOR, &res->at_floor, e) == -1 ||
	    msg_get_bool(v, T_TOFU, &res->tofu, e) == -1 ||
	    msg_get_bool(v, T_ROLLBACK, &res->rollback, e) == -1 ||
	    msg_get_bool(v, T_DEP_UNKNOWN, &res->deployed_unknown, e) == -1 ||
	    msg_get_bool(v, T_STALE, &res->stale_release, e) == -1)
		return -1;
	return 0;
}

static int
get_signer(const struct msg_view *v, struct sig_info *s, struct err *e)
{
	unsigned st = 0;

	if (get_enum(v, T_SIG_STATUS, SIG_CERT_ONLY, &st, e) == -1 ||
	    msg_get_str(v, T_KEY_TYPE, s->key_type, sizeof(s->key_type), true,
	    e) == -1 ||
	    msg_get_str(v, T_FPR, s->fingerprint, sizeof(s->fingerprint), true,
	    e) == -1 ||
	    msg_get_str(v, T_PRINCIPALS, s->principals,
	    sizeof(s->principals), true, e) == -1 ||
	    msg_get_fixed(v, T_KEY, s->key, sizeof(s->key), true, e) == -1)
		return -1;
	s->status = (enum sig_status)st;
	return 0;
}

/* The manifest's bytes are not parsed here: the caller does
 * (manifest.h). */
static int
get_manifest(const struct msg_view *v, struct release_info *ri,
    struct err *e)
{
	const struct msg_field *f;
	unsigned state = 0;
	uint64_t len = 0;

	if (get_enum(v, T_MANIFEST_STATE, PLAN_NOT_FILE, &state, e) == -1 ||
	    msg_get_u64(v, T_MANIFEST_LEN, &len, true, e) == -1)
		return -1;
	ri->manifest = (enum release_plan)state;
	f = msg_get(v, T_MANIFEST);
	if ((f != NULL) != (ri->manifest == PLAN_PRESENT) ||
	    (f != NULL && (f->len != len || len > MAX_MANIFEST_SIZE)))
		return err_set(e, "message type %u: the system manifest "
		    "contradicts its state or length", v->type);
	ri->manifest_len = len > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)len;
	ri->manifest_text[0] = '\0';
	if (f != NULL) {
		memcpy(ri->manifest_text, f->data, f->len);
		ri->manifest_text[f->len] = '\0';
	}
	return 0;
}

/* The plan's bytes are not parsed here: the caller does (rollout.h). */
static int
get_release(const struct msg_view *v, struct release_info *ri, struct err *e)
{
	const struct msg_field *f;
	unsigned plan = 0;
	uint64_t t = 0, len = 0;

	if (msg_get_u64(v, T_RELEASE_TIME, &t, true, e) == -1 ||
	    msg_get_bool(v, T_RELEASE_BY_TAG, &ri->by_tag, e) == -1 ||
	    get_enum(v, T_PLAN_STATE, PLAN_NOT_FILE, &plan, e) == -1 ||
	    msg_get_u64(v, T_PLAN_LEN, &len, true, e) == -1)
		return -1;
	ri->time = (int64_t)t;
	ri->plan = (enum release_plan)plan;
	f = msg_get(v, T_PLAN);
	if ((f != NULL) != (ri->plan == PLAN_PRESENT) ||
	    (f != NULL && (f->len != len || len > MAX_ROLLOUT_SIZE)))
		return err_set(e, "message type %u: the rollout plan "
		    "contradicts its state or length", v->type);
	ri->plan_len = len > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)len;
	ri->plan_text[0] = '\0';
	if (f != NULL) {
		memcpy(ri->plan_text, f->data, f->len);
		ri->plan_text[f->len] = '\0';
	}
	return get_manifest(v, ri, e);
}

/* Lines of printable ASCII. */
static bool
chain_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '\n' && (*s < 0x20 || *s > 0x7e))
			return false;
	return true;
}

static int
get_trust(const struct msg_view *v, struct select_result *res,
    struct err *e)
{
	uint64_t x = 0;
	bool pinned;

	if (msg_get_bool(v, T_TRUST_REPO, &res->trust_repo, e) == -1 ||
	    msg_get_u64(v, T_TRUST_VERSION, &res->trust_version, true, e) ==
	    -1 ||
	    get_oid(v, T_TRUST_ALLOWED, res->trust_allowed_hash, true, e) ==
	    -1 ||
	    get_oid(v, T_TRUST_FILE, res->trust_file_hash, true, e) == -1 ||
	    msg_get_u64(v, T_TRUST_EXPIRES, &x, true, e) == -1 ||
	    msg_get_bool(v, T_TRUST_EXPIRED, &res->trust_expired, e) == -1 ||
	    msg_get_bool(v, T_TRUST_ROLLBACK, &res->trust_rollback, e) == -1 ||
	    msg_get_str(v, T_TRUST_CHAIN, res->trust_chain,
	    sizeof(res->trust_chain), true, e) == -1)
		return -1;
	res->trust_expires = (int64_t)x;
	pinned = res->trust_version == 0;
	if (res->trust_version > TRUSTFILE_MAX_VERSION || x > INT64_MAX ||
	    pinned != (res->trust_allowed_hash[0] == '\0') ||
	    pinned != (res->trust_file_hash[0] == '\0') ||
	    (!res->trust_repo && (!pinned || res->trust_chain[0] != '\0' ||
	    res->trust_expired || res->trust_rollback || x != 0)) ||
	    (res->trust_expired && x == 0) ||
	    (res->trust_rollback && !res->rollback) ||
	    !chain_text_ok(res->trust_chain))
		return err_set(e, "message type %u: the trust in effect "
		    "contradicts itself", v->type);
	return 0;
}

int
fm_decode_selected(const struct msg_view *v, struct select_result *res,
    struct err *why, struct err *e)
{
	unsigned outcome = 0, floor = 0;
	uint64_t t = 0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (get_type(v, FM_SELECTED, e) == -1 ||
	    get_rc(v, &rc, why, e) == -1 ||
	    get_enum(v, T_OUTCOME, SELECT_ERROR, &outcome, e) == -1 ||
	    get_oid(v, T_REV, res->rev, true, e) == -1 ||
	    get_signer(v, &res->signer, e) == -1 ||
	    get_counts(v, res, e) == -1 ||
	    msg_get_str(v, T_TIP_WHY, res->tip_why, sizeof(res->tip_why),
	    true, e) == -1 ||
	    get_flags(v, res, e) == -1 ||
	    get_enum(v, T_FLOOR, FLOOR_NONE, &floor, e) == -1 ||
	    get_oid(v, T_FLOOR_REV, res->floor_rev, true, e) == -1 ||
	    msg_get_u64(v, T_COMMIT_TIME, &t, true, e) == -1 ||
	    msg_get_str(v, T_WHY, res->why, sizeof(res->why), true, e) == -1)
		return -1;
	res->outcome = (enum select_outcome)outcome;
	res->floor = (enum select_floor)floor;
	res->commit_time = (int64_t)t;
	if (get_trust(v, res, e) == -1)
		return -1;
	if (get_release(v, &res->release, e) == -1)
		return -1;
	if ((res->outcome == SELECT_OK || res->outcome == SELECT_ROLLBACK) &&
	    res->rev[0] == '\0')
		return err_set(e, "message type %u: a candidate without a "
		    "revision", v->type);
	if (res->rev[0] != '\0' && git_oid_fromstr(&res->oid, res->rev) != 0)
		return err_set(e, "message type %u: bad revision", v->type);
	if ((rc == 0) != (res->outcome == SELECT_OK))
		return err_set(e, "message type %u: result contradicts the "
		    "outcome", v->type);
	return rc == 0 ? 1 : 0;
}
