/*
 * The record step (record.c): what was deployed, into deployed.json, and
 * whether the deployed system needs a reboot to run.
 */
#ifndef NIXPULL_RECORD_H
#define NIXPULL_RECORD_H

struct config;
struct deployed;

/* Saves d (activated now: d->activated_at set) as the deployed record
 * (a failure to is logged); returns reboot_required: 1 when the booted
 * and the current system differ in kernel, initrd or kernel modules (or
 * boot mode installed d for the next boot), 0 when not, -1 unknown. */
int	record_save(const struct config *cfg, struct deployed *d);

#endif
