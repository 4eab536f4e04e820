/* common/buf.c: capped buffers and argv vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t.h"

static void
test_cap(void)
{
	struct buf b = BUF_INIT(8);

	T_EQ_INT(buf_addstr(&b, "1234"), 0);
	T_EQ_INT(buf_addf(&b, "%d", 567), 0);
	T_EQ_STR(buf_str(&b), "1234567");
	T_EQ_INT(buf_addch(&b, '8'), 0);
	/* Past the cap: refused, contents untouched. */
	errno = 0;
	T_EQ_INT(buf_addch(&b, '9'), -1);
	T_EQ_INT(errno, E2BIG);
	T_EQ_INT(buf_addf(&b, "%s", "x"), -1);
	T_EQ_INT(b.len, 8);
	T_EQ_STR(buf_str(&b), "12345678");
	buf_reset(&b);
	T_EQ_STR(buf_str(&b), "");
	T_EQ_INT(buf_add(&b, "a\0b", 3), 0);
	T_EQ_INT(b.len, 3);
	T_EQ_INT(memcmp(b.data, "a\0b", 4), 0);	/* NUL-terminated */
	buf_release(&b);
	T_OK(b.data == NULL);
	T_EQ_STR(buf_str(&b), "");
}

static void
test_large(void)
{
	struct buf b = BUF_INIT(1 << 20);
	size_t len;
	char *s;

	for (int i = 0; i < 10000; i++)
		T_EQ_INT(buf_addf(&b, "%04d", i % 10000) == 0 ? 0 : 1, 0);
	T_EQ_INT(b.len, 40000);
	T_OK(strncmp(b.data + 39996, "9999", 4) == 0);
	s = buf_detach(&b, &len);
	T_EQ_INT(len, 40000);
	T_OK(b.data == NULL && b.len == 0);
	free(s);
	s = buf_detach(&b, &len);	/* an empty buffer detaches as "" */
	T_EQ_STR(s, "");
	T_EQ_INT(len, 0);
	free(s);
}

static void
test_strvec(void)
{
	struct strvec sv = STRVEC_INIT;
	const char *words[] = { "c", "d", NULL };
	char *const *argv;

	argv = strvec_argv(&sv);
	T_OK(argv != NULL && argv[0] == NULL);
	strvec_push(&sv, "a");
	strvec_pushf(&sv, "--max-jobs=%d", 3);
	strvec_pushv(&sv, words);
	for (int i = 0; i < 100; i++)
		strvec_push(&sv, "x");
	T_EQ_INT(sv.n, 104);
	argv = strvec_argv(&sv);
	T_EQ_STR(argv[0], "a");
	T_EQ_STR(argv[1], "--max-jobs=3");
	T_EQ_STR(argv[3], "d");
	T_OK(argv[104] == NULL);
	strvec_clear(&sv);
	T_EQ_INT(sv.n, 0);
	T_OK(strvec_argv(&sv)[0] == NULL);
}

int
main(void)
{
	test_cap();
	test_large();
	test_strvec();
	return T_DONE();
}
