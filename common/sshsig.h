/*
 * SSH signatures (OpenSSH PROTOCOL.sshsig) as made by `ssh-keygen -Y sign`
 * and by git for `gpg.format = ssh`, verified with libsodium.
 *
 * Only ssh-ed25519 and sk-ssh-ed25519@openssh.com keys are accepted; every
 * other key type (RSA, ECDSA, sk-ECDSA, certificates) is refused with
 * SIG_UNSUPPORTED_KEY.  sk signatures must carry the user-presence flag.
 * The hash algorithm must be sha256 or sha512.  The armor must be exactly
 * one "-----BEGIN SSH SIGNATURE-----" ... "-----END SSH SIGNATURE-----"
 * block; surrounding whitespace is accepted, other text is not.
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

#endif
