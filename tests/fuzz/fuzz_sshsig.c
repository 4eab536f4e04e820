/*
 * libFuzzer: armor and blob parsing and verification against fixed
 * signers.  Inputs that start like an armor are used as they are; anything
 * else is treated as a blob and armored first, so that the fuzzer reaches
 * the blob parser without having to learn base64.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "allowed_signers.h"
#include "buf.h"
#include "caps.h"
#include "sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char signers_text[] =
    "alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPnUhGNAAqpfjk7WyA1Rvk1jVIbSMLmZncnPLl+cjhFJ\n"
    "\"bob the builder\" sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIHVzgA4A4DVM06e5qXmOQA48FA0jBuF8pJZRgiyGLoDBAAAABHNzaDo=\n"
    "carol@example.com namespaces=\"file\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMfmNVbvaG9dbodPY+D+Zs9wYdA7pi/9OoJlUJCL/gvc\n"
    "erin@example.com valid-before=\"20200101Z\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJY+5DqgQjj8Laby44t2Zh0SvK1O9FNVyl9UAwGofffd\n"
    "*@example.com cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINc5ePJrQJDUGhHaQmH8x0GT3J2x/ueFj1Mjl11IV68+\n";

static const char revoked_text[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1Qdgfq7584OzLWs6Bv7bnVLVAPJPWthoTSJQkchcc5 mallory\n";

static const char payload[] =
    "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    "author A U Thor <author@example.com> 1700000000 +0000\n"
    "committer C O Mitter <committer@example.com> 1700000000 +0000\n"
    "\n"
    "release 1\n";

static struct signers *signers;

static void
check(const char *armor, size_t len)
{
	struct sig_info info;
	struct err e;

	if (sshsig_verify(signers, armor, len, payload, sizeof(payload) - 1,
	    "git", 1700000000, &info, &e) == 0) {
		if (info.status != SIG_GOOD)
			abort();
	} else if (info.status == SIG_GOOD)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----\n";
	struct err e;
	size_t n;
	char *b64, *armor;

	if (signers == NULL) {
		if (sodium_init() < 0 || signers_parse(&signers, "fuzz",
		    signers_text, sizeof(signers_text) - 1, &e) != 0)
			abort();
		if (signers_add_revoked(signers, "revoked", revoked_text,
		    sizeof(revoked_text) - 1, &e) != 0)
			abort();
	}
	check((const char *)data, size);
	if (size >= 5 && memcmp(data, begin, 5) == 0)
		return 0;
	if (size > MAX_SIG_BLOB)
		return 0;
	n = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(n);
	sodium_bin2base64(b64, n, data, size, sodium_base64_VARIANT_ORIGINAL);
	armor = xasprintf("%s%s\n-----END SSH SIGNATURE-----\n", begin, b64);
	check(armor, strlen(armor));
	free(armor);
	free(b64);
	return 0;
}
