/* SPDX-License-Identifier: MIT */
/* ssad's own capabilities: at start it keeps only those it uses, so that
 * ssad started by hand as root holds what the systemd unit grants, not all
 * of root's (issue 14, item 3). */
#ifndef SSAD_CAPABILITIES_H
#define SSAD_CAPABILITIES_H

#include <stddef.h>
#include <stdint.h>

/**
 * Limit this process to the capabilities ssad uses: CAP_NET_BIND_SERVICE,
 * CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN, and CAP_SYS_PTRACE
 * only if it already holds it (granted on purpose, as by the unit's
 * drop-in; see ssad(8) CAPABILITIES). Every other capability leaves the
 * effective, permitted and bounding sets (so an exec of ssad for a restart
 * or of the key keeper cannot regain it); the inheritable and ambient sets
 * are emptied. A process without CAP_SETPCAP (not root) keeps its bounding
 * set. Called once, before any thread is started.
 *
 * @param kept  set to the capability mask kept (bit N = capability N)
 * @param why   a readable reason on failure
 * @retval 0     done
 * @retval EPERM the kernel refused capset(2) or PR_CAPBSET_DROP
 * @retval errno of capget(2) otherwise
 */
int ssad_caps_limit(uint64_t *kept, char *why, size_t wlen);

/**
 * Write the names of the capabilities in mask ("CAP_SETUID CAP_SETGID")
 * into buf, "none" for an empty mask.
 */
void ssad_caps_names(uint64_t mask, char *buf, size_t len);

#endif
