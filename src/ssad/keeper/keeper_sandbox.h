/* SPDX-License-Identifier: MIT */
/**
 * @file keeper_sandbox.h
 * @brief The key keeper's confinement: no root, no capability, no new
 * privileges, and a seccomp allow-list of the system calls its loop makes.
 */
#ifndef SSAD_KEEPER_SANDBOX_H
#define SSAD_KEEPER_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include <stddef.h>

/**
 * Confine the calling process for good: when root, drop to
 * SSA_KEEPER_UID/GID with no supplementary groups (which clears every
 * capability); set PR_SET_NO_NEW_PRIVS and, again (the change of ids
 * cleared it), the parent-death signal; install a seccomp filter that
 * kills the process on any system call outside the keeper's allow-list.
 * @retval 0 confined
 * @retval EPERM a step failed (why says which)
 * @retval ESRCH parent, the process that started the keeper, is gone
 */
int ssa_keeper_sandbox(pid_t parent, char *why, size_t wlen);

#endif
