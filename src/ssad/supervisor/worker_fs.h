/* SPDX-License-Identifier: MIT */
/**
 * @file worker_fs.h
 * @brief The worker's file-system sandbox (Landlock): once it runs as the
 *        `ssad` user, it may only read the few files it still needs, and
 *        (Landlock ABI 6 and later) may not signal processes outside its
 *        own domain nor connect to abstract UNIX sockets outside it.
 *
 * Every file the configuration names reaches the worker as a descriptor the
 * supervisor opened (cfg_access.h), and Landlock checks a path when it is
 * opened, not a descriptor already open; so what is left for the worker to
 * open by path is the allow-list of worker_fs.c: NSS's user and group
 * databases (match-user and match-group names on reload), /etc/localtime,
 * /proc (callers' status, the worker's own namespaces, the kernel's
 * unprivileged-port floor) and the shared libraries a late NSS dlopen()
 * maps. Nothing may be written, created, removed or truncated anywhere.
 *
 * Network rights (ABI 4) are left alone: the worker connects and binds the
 * sockets the supervisor makes for callers (priv_client.h), to any port.
 */
#ifndef SSAD_WORKER_FS_H
#define SSAD_WORKER_FS_H

#include <stddef.h>
#include <stdint.h>

/**
 * Every file-system access right Landlock ABI abi knows (the handled set:
 * ABI 1 bits 0..12, 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV; 4, 6 and 7 add
 * none). Pure.
 * @return the mask; 0 for an ABI below 1
 */
uint64_t ssa_worker_fs_rights(int abi);

/**
 * Confine the calling thread, and the threads and children it starts
 * afterwards, with Landlock. Must be called before the worker's threads
 * start (Landlock restricts the calling thread only) and after no_new_privs
 * is set (it is: the seccomp filter set it). What the running kernel's ABI
 * lacks is masked off (best-effort compatibility, as the kernel's
 * documentation describes).
 * @param abi set to the kernel's Landlock ABI version, 0 if unavailable
 * @retval 0 confined
 * @retval ENOSYS the kernel has no Landlock (not built in)
 * @retval EOPNOTSUPP Landlock is built in but disabled (boot parameter lsm=)
 * @retval other an errno value: the sandbox could not be set up whole (why
 *         says which step); the worker must not run half-confined
 */
int ssa_worker_fs_confine(int *abi, char *why, size_t wlen);

#endif
