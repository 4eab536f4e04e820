/*
 * OpenSSH key revocation lists (PROTOCOL.krl), as made by `ssh-keygen -k`
 * and accepted by git and ssh-keygen as a revocation file.
 *
 * The whole format is parsed and checked as OpenSSH's ssh_krl_from_blob()
 * checks it: magic "SSHKRL\n\0", format version 1, the header, and every
 * section: certificates (CA key, serial lists, ranges, bitmaps, key IDs),
 * explicit keys, SHA-1 and SHA-256 fingerprints, no unknown section type,
 * no byte left unparsed in any section.  What it revokes that can concern
 * us is kept: explicit ed25519 / sk-ed25519 keys (by raw point, as in the
 * text revocation file) and the SHA-1 and SHA-256 hashes of key blobs.
 * Certificate sections are parsed and then ignored: nixpull accepts no
 * certificate.  Hashes need not be sorted (OpenSSH does not check it).
 *
 * Stricter than OpenSSH on purpose (tests/integration/t0300 checks each):
 *  - an extension section or certificate subsection is refused, critical
 *    or not, as OpenSSH 9.2 (the oracle of our tests) refuses it; 9.4 and
 *    later skip non-critical ones.  ssh-keygen writes none.
 *  - a signature section is refused.  OpenSSH 9.2 checks such a signature
 *    against the key inside it and trusts any key, later releases skip it
 *    unverified, and PROTOCOL.krl says OpenSSH >= 9.4 refuses it; a
 *    signature that proves nothing is better refused; ssh-keygen cannot
 *    make one.
 *  - the CA key of a certificate section must be empty, a valid ed25519 /
 *    sk-ed25519 key, or of a key type OpenSSH knows; the body of another
 *    type is not checked (laxer there, harmless: it only scopes
 *    certificate revocations, and no certificate is ever accepted).
 */
#ifndef NIXPULL_KRL_H
#define NIXPULL_KRL_H

#include <stddef.h>

#include "err.h"
#include "sshkey.h"

#define KRL_MAGIC	"SSHKRL\n"	/* and a NUL: 8 bytes */
#define KRL_MAGIC_LEN	8

/* Flat arrays of n entries of 32, 20 and 32 bytes. */
struct krl {
	unsigned char	*pk;		/* explicit ed25519 points */
	size_t		 npk, pk_alloc;
	unsigned char	*sha1;
	size_t		 nsha1, sha1_alloc;
	unsigned char	*sha256;
	size_t		 nsha256, sha256_alloc;
};

/* Do these bytes start with the KRL magic (else a text revocation file)? */
int	 krl_is(const void *buf, size_t len);

/*
 * Parses a KRL into k (initialised with zeros, may already hold entries:
 * they are added to).  Returns 0, or -1 with e saying "NAME: KRL: what at
 * byte N".
 */
int	 krl_parse(struct krl *k, const char *name, const void *buf,
	    size_t len, struct err *e);

/* Does k revoke key (by explicit point, SHA-1 or SHA-256 of its blob)? */
int	 krl_revokes(const struct krl *k, const struct sshsig_key *key);

void	 krl_release(struct krl *k);

/* SHA-1 of len bytes into out[20] (libsodium has none; KRLs need it). */
void	 krl_sha1(const void *buf, size_t len, unsigned char out[20]);

#endif
