/*
 * Typed, length-prefixed messages (see msg.h).  Written by hand: no
 * library in the distribution frames messages between two processes of
 * ours (libimsg is OpenBSD's and not packaged for Debian), and the format
 * is small enough to check completely here and fuzz (tests/fuzz/fuzz_msg.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "msg.h"
#include "timeutil.h"

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
msg_init(struct msg *m, uint32_t type)
{
	unsigned char h[MSG_HEADER];

	buf_init(&m->b, MAX_MSG_SIZE);
	put_be32(h, type);
	put_be32(h + 4, 0);
	buf_add(&m->b, h, sizeof(h));
}

void
msg_release(struct msg *m)
{
	buf_release(&m->b);
}

void
msg_put(struct msg *m, uint16_t tag, const void *data, size_t len)
{
	unsigned char h[6];
	size_t payload;

	if (len > MAX_MSG_SIZE)
		len = MAX_MSG_SIZE;	/* buf_add refuses it below */
	h[0] = (unsigned char)(tag >> 8);
	h[1] = (unsigned char)tag;
	put_be32(h + 2, (uint32_t)len);
	/* A frame over the cap fails buf_add: msg_send then refuses it. */
	if (buf_add(&m->b, h, sizeof(h)) == -1 ||
	    buf_add(&m->b, data, len) == -1) {
		m->b.max = 0;	/* marks the frame as too big */
		return;
	}
	payload = m->b.len - MSG_HEADER;
	put_be32((unsigned char *)m->b.data + 4, (uint32_t)payload);
}

void
msg_put_str(struct msg *m, uint16_t tag, const char *s)
{
	if (s != NULL)
		msg_put(m, tag, s, strlen(s));
}

void
msg_put_u64(struct msg *m, uint16_t tag, uint64_t v)
{
	unsigned char p[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
	msg_put(m, tag, p, sizeof(p));
}

int
msg_send(int fd, const struct msg *m, struct err *e)
{
	const char *p = m->b.data;
	size_t left = m->b.len;
	ssize_t n;

	if (m->b.max == 0)
		return err_set(e, "message over %d bytes", MAX_MSG_SIZE);
	while (left > 0) {
		n = write(fd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_errno(e, "cannot send a message");
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int
msg_parse(const unsigned char *data, size_t len, struct msg_view *v,
    struct err *e)
{
	const unsigned char *p, *end;
	uint32_t flen;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (len < MSG_HEADER || len > MAX_MSG_SIZE)
		return err_set(e, "message of %zu bytes", len);
	if (get_be32(data + 4) != len - MSG_HEADER)
		return err_set(e, "message length %u for %zu bytes",
		    get_be32(data + 4), len - MSG_HEADER);
	v->type = get_be32(data);
	p = data + MSG_HEADER;
	end = data + len;
	while (p < end) {
		if ((size_t)(end - p) < 6)
			return err_set(e, "message type %u: truncated field",
			    v->type);
		if (v->nfields == MAX_MSG_FIELDS)
			return err_set(e, "message type %u: more than %d "
			    "fields", v->type, MAX_MSG_FIELDS);
		v->f[v->nfields].tag = (uint16_t)(p[0] << 8 | p[1]);
		flen = get_be32(p + 2);
		p += 6;
		if (flen > (size_t)(end - p))
			return err_set(e, "message type %u: field %u longer "
			    "than the message", v->type, v->f[v->nfields].tag);
		v->f[v->nfields].len = flen;
		v->f[v->nfields].data = p;
		for (i = 0; i < v->nfields; i++)
			if (v->f[i].tag == v->f[v->nfields].tag)
				return err_set(e, "message type %u: field %u "
				    "twice", v->type, v->f[i].tag);
		v->nfields++;
		p += flen;
	}
	return 0;
}

const struct msg_field *
msg_get(const struct msg_view *v, uint16_t tag)
{
	size_t i;

	for (i = 0; i < v->nfields; i++)
		if (v->f[i].tag == tag)
			return &v->f[i];
	return NULL;
}

static int
missing(const struct msg_view *v, uint16_t tag, bool required,
    struct err *e)
{
	if (!required)
		return 0;
	return err_set(e, "message type %u: no field %u", v->type, tag);
}

int
msg_get_str(const struct msg_view *v, uint16_t tag, char *out, size_t outsz,
    bool required, struct err *e)
{
	const struct msg_field *f = msg_get(v, tag);

	if (f == NULL)
		return missing(v, tag, required, e);
	if (f->len >= outsz || memchr(f->data, '\0', f->len) != NULL)
		return err_set(e, "message type %u: field %u is not a string "
		    "of at most %zu bytes", v->type, tag, outsz - 1);
	memcpy(out, f->data, f->len);
	out[f->len] = '\0';
	return 0;
}

int
msg_get_fixed(const struct msg_view *v, uint16_t tag, void *out, size_t len,
    bool required, struct err *e)
{
	const struct msg_field *f = msg_get(v, tag);

	if (f == NULL)
		return missing(v, tag, required, e);
	if (f->len != len)
		return err_set(e, "message type %u: field %u has %u bytes, "
		    "not %zu", v->type, tag, f->len, len);
	memcpy(out, f->data, len);
	return 0;
}

int
msg_get_u64(const struct msg_view *v, uint16_t tag, uint64_t *out,
    bool required, struct err *e)
{
	unsigned char p[8];
	uint64_t x = 0;
	int i;

	if (msg_get(v, tag) == NULL)
		return missing(v, tag, required, e);
	if (msg_get_fixed(v, tag, p, sizeof(p), true, e) == -1)
		return -1;
	for (i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*out = x;
	return 0;
}

int
msg_get_bool(const struct msg_view *v, uint16_t tag, bool *out,
    struct err *e)
{
	uint64_t x = 0;

	if (msg_get_u64(v, tag, &x, false, e) == -1)
		return -1;
	if (x > 1)
		return err_set(e, "message type %u: field %u is not a boolean",
		    v->type, tag);
	*out = x == 1;
	return 0;
}

/* Reads until r holds want bytes.  1 done, 0 EOF at 0 bytes, -1, -2. */
static int
read_upto(int fd, struct msg_reader *r, size_t want, uint64_t deadline,
    struct err *e)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now;
	ssize_t n;
	int ms;

	while (r->len < want) {
		ms = -1;
		if (deadline != 0) {
			now = time_monotonic_ms();
			if (now >= deadline)
				return err_set(e, "no answer in time"), -2;
			ms = deadline - now > 60000 ? 60000 :
			    (int)(deadline - now);
		}
		if (evloop_poll(&pfd, 1, ms) == -1)
			return err_errno(e, "poll");
		if (pfd.revents == 0)
			continue;
		n = read(fd, r->buf + r->len, want - r->len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			return err_errno(e, "cannot read a message");
		if (n == 0) {
			if (r->len == 0)
				return 0;
			return err_set(e, "connection closed inside a "
			    "message");
		}
		r->len += (size_t)n;
	}
	return 1;
}

int
msg_read(int fd, struct msg_reader *r, uint64_t deadline,
    struct msg_view *v, struct err *e)
{
	uint32_t len;
	int rc;

	r->len = 0;
	if ((rc = read_upto(fd, r, MSG_HEADER, deadline, e)) != 1)
		return rc;
	len = get_be32(r->buf + 4);
	if (len > MAX_MSG_SIZE - MSG_HEADER)
		return err_set(e, "message of %u bytes (the limit is %d)",
		    len, MAX_MSG_SIZE);
	if ((rc = read_upto(fd, r, MSG_HEADER + len, deadline, e)) != 1)
		return rc == 0 ? err_set(e, "connection closed inside a "
		    "message") : rc;
	return msg_parse(r->buf, r->len, v, e) == 0 ? 1 : -1;
}
