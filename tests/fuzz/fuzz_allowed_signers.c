/*
 * libFuzzer: allowed_signers and revoked-keys parsing, and matching a fixed
 * key against whatever parsed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "allowed_signers.h"
#include "sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPnUhGNAAqpfjk7WyA1Rvk1jVIbSMLmZncnPLl+cjhFJ */
static const char alice_b64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIPnUhGNAAqpfjk7WyA1Rvk1jVIbSMLmZncnPLl+cjhFJ";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char blob[64];
	static size_t blob_len;
	static struct sshsig_key k;
	struct signers *s = NULL;
	struct sig_info info;
	struct err e;
	const char *ns[] = { "git", "file", "" };
	size_t i;

	if (blob_len == 0) {
		if (sodium_init() < 0 || sodium_base642bin(blob, sizeof(blob),
		    alice_b64, sizeof(alice_b64) - 1, NULL, &blob_len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    sshsig_key_parse(&k, blob, blob_len, &e) != 0)
			abort();
	}
	if (signers_parse(&s, "fuzz", (const char *)data, size, &e) == 0) {
		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			memset(&info, 0, sizeof(info));
			if ((signers_check(s, &k, ns[i], 1700000000, &info,
			    &e) == 0) != (info.status == SIG_GOOD))
				abort();
		}
		signers_free(s);
	} else if (s != NULL)
		abort();
	if (signers_parse(&s, "fuzz", "", 0, &e) != 0)
		abort();
	(void)signers_add_revoked(s, "fuzz", (const char *)data, size, &e);
	signers_free(s);
	return 0;
}
