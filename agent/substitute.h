/*
 * Step 3 of a cycle for a host the signed system manifest names
 * (manifest.h): realise that store path from the binary caches with
 * `nix-store --realise` (Nix checks the caches' narinfo signatures against
 * trusted-public-keys), never evaluating the configuration, then check
 * that the realised path's NAR hash (`nix-store --query --hash`, the same
 * in Nix 2.8 and today) is the one the operator signed.
 */
#ifndef NIXPULL_SUBSTITUTE_H
#define NIXPULL_SUBSTITUTE_H

#include <signal.h>
#include <stdint.h>

#include "build.h"
#include "err.h"
#include "manifest.h"

struct substitute_request {
	const char	*nix_store;	/* program; NULL = "nix-store" */
	const struct manifest_system *sys;
	const char	*substituters;	/* NULL: Nix's own settings */
	const char	*trusted_keys;	/* NULL: Nix's own settings */
	const char	*rev;		/* full 40-hex revision */
	const char	*state_dir;
	uint64_t	 timeout_ms;
	const volatile sig_atomic_t *cancel;
};

#define SUBSTITUTE_MISMATCH	(-2)

/*
 * 0 when sys->path is in the store with the signed NAR hash
 * (res->store_path set, a GC root <state_dir>/gcroots/<rev> kept); -1
 * with e when it could not be realised (no cache has it, no trusted
 * signature, time-out: res->run.tail kept); SUBSTITUTE_MISMATCH with e
 * naming the path, the expected and the actual hash.
 */
int	substitute_run(const struct substitute_request *rq,
	    struct build_result *res, struct err *e);

#endif
