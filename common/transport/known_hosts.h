/*
 * Host keys of ssh remotes, checked against known_hosts files.  Pure: no
 * global state, nothing but the named file is read (or nothing at all:
 * known_hosts_check_mem).
 */
#ifndef NIXPULL_KNOWN_HOSTS_H
#define NIXPULL_KNOWN_HOSTS_H

#include <stddef.h>

#include "err.h"

/*
 * Whether known_hosts (a file in OpenSSH format: patterns, [host]:port,
 * hashed |1| names, @revoked) holds blob, an SSH wire-format public key,
 * for host:port.  1 known, 0 not listed, -1 listed with another key or
 * revoked (e says which), -2 the file cannot be read.
 */
int	known_hosts_check(const char *known_hosts, const char *host,
	    int port, const unsigned char *blob, size_t len, struct err *e);
/* The same on a file's contents already read (name is for messages). */
int	known_hosts_check_mem(const char *name, const char *data, size_t dlen,
	    const char *host, int port, const unsigned char *blob, size_t len,
	    struct err *e);

#endif
