/* SPDX-License-Identifier: MIT */
/**
 * @file keeper.h
 * @brief The key keeper: the one ssad process that holds private keys.
 *
 * ssad forks it at start-up, before any key is loaded. It drops to
 * nobody/nogroup (65534) when started as root, keeps no capability, sets
 * no-new-privileges and a seccomp allow-list, never opens a path, and does
 * only what keeper_msg.h describes: load a key from a passed descriptor or
 * from bytes, and perform raw RSA private operations and ECDSA signatures
 * with it. Network bytes never reach it.
 */
#ifndef SSAD_KEEPER_H
#define SSAD_KEEPER_H

#include <stddef.h>
#include <sys/types.h>

/** The uid and gid the keeper runs as when ssad is root (nobody, nogroup). */
#define SSA_KEEPER_UID 65534
#define SSA_KEEPER_GID 65534

/** The first argument of ssad that makes it a key keeper (internal). */
#define SSA_KEEPER_ARG "--key-keeper"
/** The descriptor a keeper finds its socket at. */
#define SSA_KEEPER_FD 3

/**
 * Run as the key keeper on socket sock: sandbox, then answer requests
 * until ssad closes its end (main() calls it when argv[1] is
 * SSA_KEEPER_ARG). @return the exit status
 */
int ssa_keeper_main(int sock);

/**
 * Fork and execute a key keeper: ssad's own file (its name as read from
 * /proc/self/exe at the first call; the magic link itself if that name no
 * longer executes) with the one argument SSA_KEEPER_ARG. *fd is ssad's end of a SOCK_SEQPACKET socket pair
 * (close-on-exec) to it.
 * @retval 0 started, *pid and *fd set
 * @retval EMFILE, ENFILE, EAGAIN, ENOMEM no socket pair or no fork (why says)
 */
int ssa_keeper_spawn(pid_t *pid, int *fd, char *why, size_t wlen);

#endif
