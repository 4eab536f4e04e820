/*
 * SSH signatures (OpenSSH PROTOCOL.sshsig) as made by `ssh-keygen -Y sign`
 * and by git for `gpg.format = ssh`, verified with libsodium.
 *
 * Only ssh-ed25519 and sk-ssh-ed25519@openssh.com keys are accepted; every
 * other key type (RSA, ECDSA, sk-ECDSA, certificates) is refused with
 * SIG_UNSUPPORTED_KEY.  The hash algorithm must be sha256 or sha512.  The
 * armor must be exactly one "-----BEGIN SSH SIGNATURE-----" ...
 * "-----END SSH SIGNATURE-----" block, as git stores it: nothing before the
 * BEGIN line, at most one line break after the END line, and only line
 * breaks inside.
 *
 * Where ssh-keygen -Y verify (OpenSSH 9.2) accepts and we refuse, on
 * purpose (tests/integration/t0300-sshsig-oracle.sh checks each): RSA and
 * ECDSA keys; text after the END line; spaces inside the armor; version 0;
 * a non-empty reserved field; sk signatures without the user-presence flag
 * (ssh-keygen does not check it in -Y verify); a revoked key's raw ed25519
 * point also revokes it as an sk key and vice versa.  See also
 * allowed_signers.h.
 */
#ifndef NIXPULL_SSHSIG_H
#define NIXPULL_SSHSIG_H

#include <stddef.h>
#include <time.h>

#include "allowed_signers.h"
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

/*
 * Verifies an armored SSH signature over payload for namespace ns (git uses
 * "git") against signers at time now.  Returns 0 when the signature is good
 * and trusted (info->status SIG_GOOD); -1 otherwise, with info->status saying
 * which and e->msg saying exactly why, e.g.
 * "signature by unknown key SHA256:...".  info is always filled as far as
 * the signature could be parsed.
 */
int	 sshsig_verify(const struct signers *s, const char *armor,
	    size_t armor_len, const void *payload, size_t payload_len,
	    const char *ns, time_t now, struct sig_info *info, struct err *e);

/* "good", "malformed", "bad-signature", "unknown-key", ... */
const char *sig_status_name(enum sig_status st);

/*
 * Internal: shared by sshsig.c and allowed_signers.c.
 */
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
 */
int	 sshsig_match_list(const char *s, const char *list);
/*
 * Decides whether the signing key k may sign for namespace ns at time now:
 * fills info->status and info->principals; returns 0 when trusted.
 */
int	 signers_check(const struct signers *s, const struct sshsig_key *k,
	    const char *ns, time_t now, struct sig_info *info, struct err *e);

#endif
