/* The revision (rev.h): what is one, what is not. */
#include <string.h>

#include "rev.h"
#include "t.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const good[] = {
	"0123456789abcdef0123456789abcdef01234567",
	"ffffffffffffffffffffffffffffffffffffffff",
	"0000000000000000000000000000000000000000",
};

static const char *const bad[] = {
	"",
	"0123456789abcdef0123456789abcdef0123456",	/* 39 */
	"0123456789abcdef0123456789abcdef012345678",	/* 41 */
	"0123456789ABCDEF0123456789abcdef01234567",	/* upper case */
	"0123456789abcdeg0123456789abcdef01234567",	/* not hex */
	"0123456789abcdef0123456789abcdef0123456 ",
	"-123456789abcdef0123456789abcdef01234567",
};

int
main(void)
{
	T_EQ_INT(REV_HEX, 41);
	for (size_t i = 0; i < N(good); i++)
		T_OK(rev_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < N(bad); i++)
		T_OK(!rev_valid(bad[i], strlen(bad[i])));
	/* n is what counts, not a NUL: 40 digits at the start of more. */
	T_OK(rev_valid("0123456789abcdef0123456789abcdef01234567zz", 40));
	T_OK(!rev_valid("0123456789abcdef0123456789abcdef0123456\0" "7", 40));
	return T_DONE();
}
