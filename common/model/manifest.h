/*
 * The signed system manifest kept in the release's tree (default
 * .nixpull/systems.json), read from the verified commit by the fetcher and
 * parsed here by the root parent:
 *
 *	{
 *	  "version": 1,
 *	  "systems": {
 *	    "web1": {
 *	      "path": "/nix/store/<32 nix32>-nixos-system-web1-26.05",
 *	      "narHash": "sha256:<52 nix32>",	or "sha256-<base64>", as
 *	      "narSize": 123456			`nix path-info --json` prints
 *	    }
 *	  }
 *	}
 *
 * A host named there is realised from the binary cache by that store path
 * and its content checked against narHash; it is never evaluated.  Strict:
 * an unknown or repeated key, a wrong type, a store path or hash of the
 * wrong shape is an error "NAME: where: what"; a syntax error is
 * "NAME:LINE:COL: what".
 */
#ifndef NIXPULL_MANIFEST_H
#define NIXPULL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "err.h"

#define MANIFEST_DEFAULT_PATH	".nixpull/systems.json"
#define MANIFEST_VERSION	1	/* "version": read and written */
#define MANIFEST_HASH_LEN	32	/* sha256 */
#define MANIFEST_STORE_DIR	"/nix/store/"

struct manifest_system {
	char		*host;
	char		*path;		/* a store path, no trailing slash */
	unsigned char	 nar_hash[MANIFEST_HASH_LEN];
	uint64_t	 nar_size;	/* 0: not given */
};

struct manifest {
	struct manifest_system *systems;
	size_t		 nsystems;	/* 0..MAX_MANIFEST_SYSTEMS */
};

/* Parses text (len bytes; name for messages) into m: 0 or -1 with e. */
int	 manifest_parse(struct manifest *m, const char *name, const char *text,
	    size_t len, struct err *e);
void	 manifest_release(struct manifest *m);
/* The document for m, as manifest_parse reads it back ("\n" ended;
 * freed by the caller), or NULL when out of memory. */
char	*manifest_format(const struct manifest *m);
/* The entry for host, or NULL. */
const struct manifest_system *manifest_find(const struct manifest *m,
	    const char *host);

/*
 * Decodes a sha256 hash as Nix prints it ("sha256:" and 52 nix32 or 64
 * hex digits, or SRI "sha256-" and base64) into out: 0, or -1.
 */
int	 manifest_hash_decode(const char *s, unsigned char out[MANIFEST_HASH_LEN]);
/* The hash as "sha256:" and nix32 (nix-store --query --hash's form);
 * buf holds at least MANIFEST_HASH_TEXT bytes. */
#define MANIFEST_HASH_TEXT	(7 + 52 + 1)
void	 manifest_hash_format(const unsigned char h[MANIFEST_HASH_LEN],
	    char *buf);
/* Is s a store path: MANIFEST_STORE_DIR, 32 nix32 digits, '-', a name
 * of Nix's characters? */
bool	 manifest_store_path_ok(const char *s);

#endif
