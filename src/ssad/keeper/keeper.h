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
 *
 * It serves N channels (SOCK_SEQPACKET socket pairs), one thread each, so
 * that private-key operations of concurrent handshakes use up to N cores;
 * the threads share one key table (a key loaded on one channel is usable
 * on every channel). The threads start before the sandbox, which covers
 * them all (the seccomp filter is synchronised to every thread).
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
/** The descriptor a keeper finds its first socket at (the others follow). */
#define SSA_KEEPER_FD 3
/** Channels (and threads) of one keeper at most. */
#define SSA_KEEPER_MAX_CHANNELS 8

/**
 * Run as the key keeper on the n sockets sock..sock+n-1 (1 <= n <=
 * SSA_KEEPER_MAX_CHANNELS): start a thread per extra socket, sandbox, then
 * answer requests until ssad closes the first socket (main() calls it when
 * argv[1] is SSA_KEEPER_ARG, argv[2] the number of sockets).
 * @return the exit status
 */
int ssa_keeper_main(int sock, int n);

/**
 * Fork and execute a key keeper: ssad's own file (its name as read from
 * /proc/self/exe at the first call; the magic link itself if that name no
 * longer executes) with the arguments SSA_KEEPER_ARG and n. fds[0..n-1]
 * are ssad's ends of n SOCK_SEQPACKET socket pairs (close-on-exec) to it.
 * @retval 0 started, *pid and fds set
 * @retval EINVAL n out of 1..SSA_KEEPER_MAX_CHANNELS
 * @retval EMFILE, ENFILE, EAGAIN, ENOMEM no socket pair or no fork (why says)
 */
int ssa_keeper_spawn(pid_t *pid, int *fds, int n, char *why, size_t wlen);

#endif
