/* The revision (rev.h). */
#include "rev.h"

bool
rev_valid(const char *s, size_t n)
{
	if (n != REV_DIGITS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}
