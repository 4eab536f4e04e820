/* libFuzzer: a FleetLock server's refusal body (fleetlock_parse_error). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fleetlock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fleetlock_answer ans;

	fleetlock_parse_error((const char *)data, size, &ans);
	if (memchr(ans.kind, '\0', sizeof(ans.kind)) == NULL ||
	    memchr(ans.value, '\0', sizeof(ans.value)) == NULL)
		__builtin_trap();
	return 0;
}
