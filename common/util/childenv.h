/*
 * The environment nixpull gives its children (nix, nixos-rebuild, health
 * checks): an explicit allowlist of our own, never everything we inherited.
 */
#ifndef NIXPULL_CHILDENV_H
#define NIXPULL_CHILDENV_H

#include "buf.h"

/* Appends the allowed variables of our environment to env: PATH (a safe
 * default when unset), HOME, USER, LOGNAME, LANG, LC_*, TZ, TMPDIR,
 * LOCALE_ARCHIVE, SSL_CERT_FILE, NIX_SSL_CERT_FILE, NIX_* (NIX_CONFIG,
 * NIX_PATH, NIX_REMOTE, ...), NIXOS_NO_CHECK and NIXPULL_TEST_* (the
 * stand-ins' hooks). */
void	childenv_init(struct strvec *env);

#endif
