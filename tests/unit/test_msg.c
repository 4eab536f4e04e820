/* The agent <-> fetcher message frames: build, send, read, parse, refuse. */
#include <sys/socket.h>

#include <stdint.h>
#include <unistd.h>

#include "msg.h"
#include "t.h"
#include "timeutil.h"

static void
test_roundtrip(void)
{
	struct msg_reader *r = calloc(1, sizeof(*r));
	struct msg_view v;
	struct msg m;
	struct err e;
	char s[16];
	uint64_t x = 0;
	bool b = false;
	int sv[2];

	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	msg_init(&m, 7);
	msg_put_str(&m, 1, "hello");
	msg_put_u64(&m, 2, 0x0102030405060708ULL);
	msg_put_u64(&m, 3, 1);
	msg_put_str(&m, 4, NULL);
	T_EQ_INT(msg_send(sv[0], &m, &e), 0);
	msg_release(&m);
	T_EQ_INT(msg_read(sv[1], r, time_monotonic_ms() + 5000, &v, &e), 1);
	T_EQ_INT((int)v.type, 7);
	T_EQ_INT((int)v.nfields, 3);
	T_EQ_INT(msg_get_str(&v, 1, s, sizeof(s), true, &e), 0);
	T_EQ_STR(s, "hello");
	T_EQ_INT(msg_get_u64(&v, 2, &x, true, &e), 0);
	T_OK(x == 0x0102030405060708ULL);
	T_EQ_INT(msg_get_bool(&v, 3, &b, &e), 0);
	T_OK(b);
	T_EQ_INT(msg_get_str(&v, 4, s, sizeof(s), false, &e), 0);
	T_EQ_INT(msg_get_str(&v, 4, s, sizeof(s), true, &e), -1);
	T_EQ_STR(e.msg, "message type 7: no field 4");
	T_EQ_INT(msg_get_str(&v, 1, s, 5, true, &e), -1);	/* too long */
	T_EQ_INT(msg_get_u64(&v, 1, &x, true, &e), -1);	/* not 8 bytes */
	T_EQ_INT(msg_get_bool(&v, 2, &b, &e), -1);
	/* The peer goes away between frames: 0; inside one: -1. */
	T_EQ_INT(write(sv[0], "\0\0\0\1\0\0\0\6", 8), 8);
	close(sv[0]);
	T_EQ_INT(msg_read(sv[1], r, 0, &v, &e), -1);
	T_EQ_STR(e.msg, "connection closed inside a message");
	T_EQ_INT(msg_read(sv[1], r, 0, &v, &e), 0);
	close(sv[1]);
	free(r);
}

static void
test_deadline(void)
{
	struct msg_reader *r = calloc(1, sizeof(*r));
	struct msg_view v;
	struct err e;
	int sv[2];

	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	T_EQ_INT(msg_read(sv[1], r, time_monotonic_ms() + 50, &v, &e), -2);
	T_EQ_STR(e.msg, "no answer in time");
	close(sv[0]);
	close(sv[1]);
	free(r);
}

static void
test_refused(void)
{
	/* Each is a whole frame that must be refused. */
	static const struct { const char *what; const char *bytes; size_t n; }
	    bad[] = {
		{ "short header", "\0\0\0\1\0\0", 6 },
		{ "length says more", "\0\0\0\1\0\0\0\7" "\0\1\0\0\0\0", 14 },
		{ "length says less", "\0\0\0\1\0\0\0\5" "\0\1\0\0\0\0", 14 },
		{ "truncated field head", "\0\0\0\1\0\0\0\3" "\0\1\0", 11 },
		{ "field past the end", "\0\0\0\1\0\0\0\6" "\0\1\0\0\0\1", 14 },
		{ "tag twice", "\0\0\0\1\0\0\0\14" "\0\1\0\0\0\0\0\1\0\0\0\0",
		  20 },
	};
	struct msg_view v;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (msg_parse((const unsigned char *)bad[i].bytes, bad[i].n,
		    &v, &e) != -1)
			T_FAIL("accepted: %s", bad[i].what);
	/* An empty frame is fine. */
	T_EQ_INT(msg_parse((const unsigned char *)"\0\0\0\2\0\0\0\0", 8, &v,
	    &e), 0);
	T_EQ_INT((int)v.type, 2);
}

static void
test_limits(void)
{
	struct msg_reader *r = calloc(1, sizeof(*r));
	unsigned char *big = calloc(1, MAX_MSG_SIZE);
	struct msg_view v;
	struct msg m;
	struct err e;
	int sv[2], i;

	/* A frame over MAX_MSG_SIZE is never sent... */
	msg_init(&m, 1);
	msg_put(&m, 1, big, MAX_MSG_SIZE);
	T_EQ_INT(msg_send(1, &m, &e), -1);
	msg_release(&m);
	/* ...nor more than MAX_MSG_FIELDS fields accepted... */
	msg_init(&m, 1);
	for (i = 0; i <= MAX_MSG_FIELDS; i++)
		msg_put_u64(&m, (uint16_t)i, (uint64_t)i);
	T_EQ_INT(msg_parse((unsigned char *)m.b.data, m.b.len, &v, &e), -1);
	msg_release(&m);
	/* ...and a header announcing more is refused before reading it. */
	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	{
		char want[80];
		unsigned char hdr[8] = { 0, 0, 0, 1,
			(unsigned char)(MAX_MSG_SIZE >> 24),
			(unsigned char)(MAX_MSG_SIZE >> 16),
			(unsigned char)(MAX_MSG_SIZE >> 8),
			(unsigned char)MAX_MSG_SIZE };

		T_EQ_INT(write(sv[0], hdr, 8), 8);
		T_EQ_INT(msg_read(sv[1], r, time_monotonic_ms() + 5000, &v,
		    &e), -1);
		snprintf(want, sizeof(want), "message of %d bytes (the limit "
		    "is %d)", MAX_MSG_SIZE, MAX_MSG_SIZE);
		T_EQ_STR(e.msg, want);
	}
	close(sv[0]);
	close(sv[1]);
	free(big);
	free(r);
}

int
main(void)
{
	test_roundtrip();
	test_deadline();
	test_refused();
	test_limits();
	return T_DONE();
}
