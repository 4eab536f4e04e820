/*
 * OpenSSH allowed_signers files (ssh-keygen(1) ALLOWED SIGNERS) and a list
 * of revoked keys.
 *
 * Line format:
 *	principals [options] keytype base64-key [comment]
 * principals is a comma list, optionally double-quoted; options are
 * comma-separated keywords (case-insensitive): cert-authority,
 * namespaces="pattern-list", valid-after="YYYYMMDD[HHMM[SS]][Z]",
 * valid-before="...".  '#' lines, blank lines and CRLF are accepted.
 *
 * Deliberately stricter than ssh-keygen -Y verify:
 *  - validity windows are checked against `now` (the current time), never
 *    against a committer date that the signer controls;
 *  - any malformed line makes the whole file an error "FILE:LINE: what"
 *    (ssh-keygen skips bad lines with a debug message);
 *  - cert-authority lines never match a plain key (SIG_CERT_ONLY), and
 *    certificates are not supported at all;
 *  - lines with a key type other than ssh-ed25519 and
 *    sk-ssh-ed25519@openssh.com are parsed (the type must be well-formed and
 *    the base64 valid) but never match anything;
 *  - principals are labels only: no identity is matched against them, as
 *    git does with `ssh-keygen -Y find-principals`.
 * A key listed on several lines is accepted when any of them permits it.
 *
 * Revocation file: one public key per line ("ssh-ed25519 AAAA... comment"),
 * '#' comments and blank lines, the same strictness (KRLs are not read); a
 * revoked key never verifies, whatever the allowed_signers file says.  A
 * key is revoked by its raw ed25519 point, so revoking it as ssh-ed25519
 * also revokes it as sk-ssh-ed25519 (any application) and vice versa.
 *
 * Times without 'Z' are local time, as in ssh-keygen; dates are checked
 * (no February 30th, nothing before 1970).
 */
#ifndef NIXPULL_ALLOWED_SIGNERS_H
#define NIXPULL_ALLOWED_SIGNERS_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sshkey.h"

struct signers;	/* parsed allowed_signers + revoked keys */

/* Reads and parses allowed_path and (if not NULL) revoked_path. */
int	 signers_load(struct signers **out, const char *allowed_path,
	    const char *revoked_path, struct err *e);
/* Parses allowed_signers text; name is used in error messages. */
int	 signers_parse(struct signers **out, const char *name,
	    const char *text, size_t len, struct err *e);
/* Adds the keys of a revocation file's text. */
int	 signers_add_revoked(struct signers *s, const char *name,
	    const char *text, size_t len, struct err *e);
void	 signers_free(struct signers *s);	/* NULL ok */

/* Number of usable (ed25519 / sk-ed25519) entries, for diagnostics. */
size_t	 signers_count(const struct signers *s);

/*
 * Decides whether the signing key k may sign for namespace ns at time now:
 * fills info->status and info->principals; returns 0 when trusted.
 */
int	 signers_check(const struct signers *s, const struct sshsig_key *k,
	    const char *ns, time_t now, struct sig_info *info, struct err *e);

#endif
