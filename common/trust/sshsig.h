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
 * Key parsing and the verdict types (enum sig_status, struct sig_info) are
 * in sshkey.h; who may sign is allowed_signers.h.
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
#include "sshkey.h"

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

#endif
