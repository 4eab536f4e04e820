/*
 * libFuzzer: the repository's trust file (.nixpull/trust.yaml, read from a
 * git blob of the fetched repository), then the revocation text built from
 * what parsed, as select_trust.c hands it to signers_add_revoked().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allowed_signers.h"
#include "trustfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signers *s = NULL;
	struct trustfile tf;
	struct err e;
	char *rv;
	size_t len;

	e.msg[0] = '\0';
	if (trustfile_parse(&tf, "trust.yaml", (const char *)data, size,
	    &e) != 0) {
		if (strncmp(e.msg, "trust.yaml", 10) != 0)
			abort();	/* every error names the file */
		return 0;
	}
	if (tf.version == 0 || tf.threshold == 0 || tf.threshold > 100)
		abort();
	rv = trustfile_revoked_text(&tf, &len);
	if (signers_parse(&s, "allowed", "", 0, &e) == 0)
		(void)signers_add_revoked(s, "trust.yaml", rv, len, &e);
	if (tf.nrevoked > 0 && !trustfile_revokes(&tf, tf.revoked[0]))
		abort();
	signers_free(s);
	free(rv);
	trustfile_release(&tf);
	return 0;
}
