/*
 * libFuzzer: OpenSSH KRL parsing (trust.revoked_keys), then a lookup of a
 * fixed ed25519 key in whatever parsed.  Inputs without the KRL magic are
 * given one, so that the fuzzer spends its time past the header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "krl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char alice[51] =
    "\0\0\0\x0bssh-ed25519\0\0\0\x20"
    "\xf9\xd4\x86\x34\x00\x2a\xa5\xf8\xe4\xee\xd6\xc8\x0d\x51\xbf\x93"
    "\x55\x86\xd2\x30\xb9\x99\xdc\x9c\xf2\xcb\x97\xe7\x23\x61\x04\x9e";

static void
one(const unsigned char *buf, size_t len, const struct sshsig_key *k)
{
	struct krl krl;
	struct err e;

	memset(&krl, 0, sizeof(krl));
	e.msg[0] = '\0';
	if (krl_parse(&krl, "fuzz", buf, len, &e) == 0)
		(void)krl_revokes(&krl, k);
	else if (strncmp(e.msg, "fuzz: KRL: ", 11) != 0)
		abort();
	krl_release(&krl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sshsig_key k;
	static int ready;
	unsigned char *buf;
	struct err e;

	if (!ready) {
		if (sodium_init() < 0 ||
		    sshsig_key_parse(&k, alice, sizeof(alice), &e) != 0)
			abort();
		ready = 1;
	}
	one(data, size, &k);
	if (krl_is(data, size))
		return 0;
	buf = xmalloc(size + KRL_MAGIC_LEN);
	memcpy(buf, KRL_MAGIC, KRL_MAGIC_LEN);
	memcpy(buf + KRL_MAGIC_LEN, data, size);
	one(buf, size + KRL_MAGIC_LEN, &k);
	free(buf);
	return 0;
}
