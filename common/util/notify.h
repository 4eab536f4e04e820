/*
 * systemd's sd_notify datagram protocol, without libsystemd: one datagram
 * per call to $NOTIFY_SOCKET (a path or an abstract "@name" socket).
 */
#ifndef NIXPULL_NOTIFY_H
#define NIXPULL_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1", "STATUS=building", ...).  0 also when
 * NOTIFY_SOCKET is unset (nothing to do); -1 when the send failed. */
int	notify_send(const char *state);
/* The watchdog interval asked for by systemd ($WATCHDOG_USEC, honouring
 * $WATCHDOG_PID), in ms; 0 when none. */
uint64_t notify_watchdog_ms(void);

#endif
