/* SPDX-License-Identifier: MIT */
/**
 * @file worker_user.h
 * @brief The worker gives up root: it becomes the unprivileged system user
 *        SSA_WORKER_USER, with no supplementary group, no capability and
 *        not dumpable (no other process of that user can ptrace it).
 *
 * It does so once the key keeper is started, the configuration loaded and
 * the kernel front end registered, before its threads start. From then on
 * what needs privileges is asked of the supervisor (priv_client.h).
 */
#ifndef SSAD_WORKER_USER_H
#define SSAD_WORKER_USER_H

#include <stddef.h>
#include <sys/types.h>

/** The worker's user, created by `make install` and the package. */
#define SSA_WORKER_USER "ssad"
/** Its ids where no such user exists (a build-tree ssad): nobody's neighbour. */
#define SSA_WORKER_FALLBACK_ID 65533

/**
 * Become the worker's user for good (real, effective, saved and file-system
 * ids), and check that no capability is left. The parent-death signal
 * (SIGKILL), which the change of ids clears, is set again; if parent (the
 * supervisor) is gone already, the process exits.
 * @retval 0 done; *uid and *gid say which
 * @retval EPERM an id could not be set, or a capability is left (why says)
 */
int ssa_worker_drop(pid_t parent, uid_t *uid, gid_t *gid, char *why, size_t wlen);

#endif
