/*
 * SSH public keys as the trust layer sees them, and the verdict types
 * shared by sshsig.c (signatures) and allowed_signers.c (who may sign).
 * The leaf of the trust layer: it includes nothing of the others.
 *
 * Only ssh-ed25519 and sk-ssh-ed25519@openssh.com keys are parsed
 * completely; every other type OpenSSH knows is parsed as far as its name.
 */
#ifndef NIXPULL_SSHKEY_H
#define NIXPULL_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum sig_status {
	SIG_GOOD,
	SIG_MALFORMED,
	SIG_BAD_SIGNATURE,
	SIG_UNKNOWN_KEY,
	SIG_REVOKED,
	SIG_EXPIRED,
	SIG_NOT_YET_VALID,
	SIG_WRONG_NAMESPACE,
	SIG_UNSUPPORTED_KEY,
	SIG_CERT_ONLY,		/* key only in cert-authority lines */
};

struct sig_info {
	enum sig_status	status;
	char		key_type[48];	/* "ssh-ed25519", "sk-ssh-ed25519@openssh.com" or the refused type */
	char		fingerprint[64]; /* "SHA256:..." like ssh-keygen -l */
	char		principals[512]; /* matching allowed_signers principals, comma-joined */
	unsigned char	key[32];	/* raw ed25519 public key (for counting distinct keys) */
};

/* "good", "malformed", "bad-signature", "unknown-key", ... */
const char *sig_status_name(enum sig_status st);

enum sshsig_keytype {
	SSHSIG_KEY_OTHER,	/* parsed as far as its type name only */
	SSHSIG_KEY_ED25519,
	SSHSIG_KEY_SK_ED25519,
};

/* A public key blob, parsed in place (pointers into the blob). */
struct sshsig_key {
	enum sshsig_keytype	 type;
	char			 type_name[48];	/* printable, truncated */
	unsigned char		 pk[32];
	const unsigned char	*app;		/* sk only: application */
	size_t			 app_len;
	const unsigned char	*blob;		/* the whole key blob */
	size_t			 blob_len;
};

/*
 * Parses a public key blob.  Unsupported key types succeed with type
 * SSHSIG_KEY_OTHER; supported ones are checked completely (lengths, no
 * trailing bytes).
 */
int	 sshsig_key_parse(struct sshsig_key *k, const unsigned char *blob,
	    size_t len, struct err *e);
/* "SHA256:" + unpadded base64 of SHA-256(blob), like ssh-keygen -l. */
void	 sshsig_fingerprint(const unsigned char *blob, size_t len, char *out,
	    size_t outsz);
/* Is a key type name one OpenSSH knows (plain or certificate)? */
int	 sshsig_keytype_known(const char *name);
/*
 * OpenSSH match_pattern_list(): 1 if s matches a positive pattern of the
 * comma list and no negated one, -1 if a negated one matches, else 0.
 * As there, a sub-pattern of 1023 bytes or more ('!' not counted) makes
 * the whole list match nothing (0), whatever came before it.
 */
int	 sshsig_match_list(const char *s, const char *list);

/*
 * A bounds-checked reader over a byte string in SSH wire encoding
 * (OpenSSH's sshbuf, read-only): each function returns 0, or -1 when the
 * bytes run out, leaving the reader as it was.
 */
struct sshrd {
	const unsigned char	*p;
	size_t			 len;
};

int	 sshrd_bytes(struct sshrd *r, size_t n, const unsigned char **out);
int	 sshrd_u8(struct sshrd *r, uint8_t *v);
int	 sshrd_u32(struct sshrd *r, uint32_t *v);
int	 sshrd_u64(struct sshrd *r, uint64_t *v);
int	 sshrd_string(struct sshrd *r, const unsigned char **s, size_t *len);
/* Is the string s (len bytes) exactly the C string lit? */
int	 sshrd_str_eq(const unsigned char *s, size_t len, const char *lit);
/* A printable copy of an untrusted name for messages ('?' for the rest). */
void	 sshrd_printable(char *out, size_t outsz, const unsigned char *s,
	    size_t len);

#endif
