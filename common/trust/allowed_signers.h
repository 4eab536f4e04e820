/*
 * OpenSSH allowed_signers files (ssh-keygen(1) ALLOWED SIGNERS) and a list
 * of revoked keys.
 *
 * Line format:
 *	principals [options] keytype base64-key [comment]
 * principals is a comma list of patterns, optionally double-quoted;
 * options are comma-separated keywords (case-insensitive): cert-authority,
 * namespaces="pattern-list", valid-after="YYYYMMDD[HHMM[SS]][Z|UTC]",
 * valid-before="...".  Words are separated by spaces, tabs and carriage
 * returns (so CRLF and CR CR LF line ends are fine), '#' lines and blank
 * lines are skipped whatever their length, as in ssh-keygen.
 *
 * Who signed, as git finds it: git asks `ssh-keygen -Y find-principals`
 * for the principals of the first line that holds the key and is valid,
 * takes them one by one up to an empty one, and asks `ssh-keygen -Y verify
 * -I <principal>` for each, which matches the principal against the
 * pattern list of every line of the key (OpenSSH match_pattern_list(): a
 * negated pattern that matches wins, a sub-pattern of 1023 bytes or more
 * matches nothing) and checks that line's namespaces and validity.
 * signers_check() does the same; the principals that verify are reported.
 * So "!alice K", "alice,!alice K" and ",alice K" never verify.
 *
 * Deliberately stricter than ssh-keygen -Y verify (and git), each checked
 * by tests/integration/t0310-verify-oracle.sh:
 *  - validity windows are checked against `now` (the current time), never
 *    against a committer date that the signer controls;
 *  - any malformed line makes the whole file an error "FILE:LINE: what"
 *    (ssh-keygen skips bad lines with a debug message), among them a
 *    carriage return inside the principals and an impossible date such as
 *    February 30th (strptime() takes it and mktime() moves it to March);
 *  - cert-authority lines never match a plain key (SIG_CERT_ONLY), and
 *    certificates are not supported at all;
 *  - lines with a key type other than ssh-ed25519 and
 *    sk-ssh-ed25519@openssh.com are parsed (the type must be well-formed and
 *    the base64 valid) but never match anything;
 *  - a revocation file that is configured but missing is an error (git
 *    warns and verifies without it): a revocation list that went away must
 *    not give revoked keys back their trust.
 *
 * Revocation file: an OpenSSH KRL (binary, starting "SSHKRL\n\0", made by
 * `ssh-keygen -k`; krl.h) or, as ssh-keygen falls back to when the magic
 * is not there, one public key per line ("ssh-ed25519 AAAA... comment"),
 * '#' comments and blank lines, the same strictness as above; a revoked
 * key never verifies, whatever the allowed_signers file says.  A key
 * listed in the text file or as an explicit key of a KRL is revoked by its
 * raw ed25519 point, so
 * revoking it as ssh-ed25519 also revokes it as sk-ssh-ed25519 (any
 * application) and vice versa.
 *
 * Times without 'Z' or 'UTC' are local time, as in ssh-keygen; seconds 60
 * and 61 are taken as ssh-keygen's strptime() takes them; dates are checked
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
 * Entry i (0 .. signers_entries() - 1) as a signer to ask for: 0 with its
 * principals, raw key and fingerprint when it is a usable ed25519 or
 * sk-ed25519 key, not a cert-authority and not revoked; else -1.
 */
size_t	 signers_entries(const struct signers *s);
int	 signers_key(const struct signers *s, size_t i,
	    const char **principals, unsigned char pk[32], char *fpr,
	    size_t fprsz);

/*
 * Decides whether the signing key k may sign for namespace ns at time now:
 * fills info->status and info->principals; returns 0 when trusted.
 */
int	 signers_check(const struct signers *s, const struct sshsig_key *k,
	    const char *ns, time_t now, struct sig_info *info, struct err *e);

#endif
