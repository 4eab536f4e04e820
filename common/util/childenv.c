#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "childenv.h"

extern char **environ;

static const char *const exact[] = {
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR",
	"LOCALE_ARCHIVE", "SSL_CERT_FILE", "TERM",
	/* The override of NixOS' pre-switch checks, for switch-to-
	 * configuration however it is reached (docs/switch-inhibitors.md). */
	"NIXOS_NO_CHECK", NULL,
};

static const char *const prefixes[] = {
	"LC_", "NIX_", "NIXPULL_TEST_", NULL,
};

static bool
allowed(const char *kv)
{
	size_t n = strcspn(kv, "=");

	if (kv[n] != '=')
		return false;
	for (size_t i = 0; exact[i]; i++)
		if (strlen(exact[i]) == n && strncmp(kv, exact[i], n) == 0)
			return true;
	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

void
childenv_init(struct strvec *env)
{
	bool have_path = false;

	for (char **e = environ; e && *e; e++) {
		if (!allowed(*e))
			continue;
		if (strncmp(*e, "PATH=", 5) == 0)
			have_path = true;
		strvec_push(env, *e);
	}
	if (!have_path)
		strvec_push(env, "PATH=/run/current-system/sw/bin:"
		    "/nix/var/nix/profiles/default/bin:/usr/local/bin:"
		    "/usr/bin:/bin:/usr/sbin:/sbin");
}
