/* SPDX-License-Identifier: MIT */
/**
 * @file key_intake.h
 * @brief Applications' key files, taken in by the supervisor so that the
 * worker never holds one.
 *
 * A key file an application sets (TLS_PRIVATE_KEY) is opened by libssa
 * with the application's own permissions. Sent to the worker, it would be
 * readable by the one process that parses network bytes. Instead libssa
 * sends the descriptor to the supervisor on a socket of its own, the
 * control socket's path with SSA_KEY_INTAKE_SUFFIX (proto/wire.h). The
 * supervisor checks it (a regular file, opened for reading, at most 1 MiB),
 * hands it to the key keeper's stash under a random ticket and the sender's
 * uid from the kernel (SCM_CREDENTIALS), and answers the ticket. libssa
 * sends the ticket to the worker with SETOPT; the worker has the keeper
 * load the stashed file by ticket and the uid of the SETOPT's sender
 * (keeper/keeper_msg.h, LOAD_TICKET). When libssa closes the intake
 * connection, a ticket that was not used is dropped from the stash.
 *
 * Bounded against a hostile local user: at most SSA_KEY_INTAKE_PER_USER
 * open intake connections per uid (the next is answered ENOBUFS and
 * closed), SSA_KEY_INTAKE_MAX for all users, one request per connection,
 * and a connection lives at most SSA_KEY_INTAKE_TIMEOUT_MS.
 */
#ifndef SSAD_KEY_INTAKE_H
#define SSAD_KEY_INTAKE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/** Open intake connections one uid may hold. */
#define SSA_KEY_INTAKE_PER_USER 16u
/** Open intake connections for all users together. */
#define SSA_KEY_INTAKE_MAX 256u
/** How long an intake connection may stay open. */
#define SSA_KEY_INTAKE_TIMEOUT_MS 30000u
/** The largest key file taken in. */
#define SSA_KEY_INTAKE_MAX_FILE (1u << 20)
/** Descriptors the supervisor polls for the intake, at most. */
#define SSA_KEY_INTAKE_POLLFDS (1u + SSA_KEY_INTAKE_MAX)

/**
 * Bind and listen on ctl_path with SSA_KEY_INTAKE_SUFFIX (mode 0666, in
 * the control socket's directory, which ssa_ctl_bind() checked), replacing
 * a stale socket there: called once the control socket is ours.
 * @retval 0 serving
 * @retval ENAMETOOLONG the path does not fit a unix socket address
 * @retval EEXIST something that is not a socket is there (left alone)
 * @retval errno of socket(), bind(), chmod(), listen()
 */
int ssa_key_intake_start(const char *ctl_path);

/**
 * Fill p with the listener and the open connections (at most
 * SSA_KEY_INTAKE_POLLFDS). @return how many
 */
size_t ssa_key_intake_pollfds(struct pollfd *p);

/**
 * Serve what poll() reported on the n entries ssa_key_intake_pollfds()
 * filled, stashing files in the keeper on keeper_chan (-1: no keeper now:
 * answered EAGAIN), and close connections past their time (now_ms, a
 * monotonic clock).
 */
void ssa_key_intake_serve(const struct pollfd *p, size_t n, int keeper_chan, uint64_t now_ms);

/** Milliseconds until the next connection times out, -1 if none is open. */
int ssa_key_intake_timeout(uint64_t now_ms);

/**
 * In a worker just forked: close the intake's listener and connections
 * and wipe their tickets, leaving the socket and the keeper's stash to the
 * supervisor (the worker must never take in a key file).
 */
void ssa_key_intake_forget(void);

/**
 * Whether fd is a key file the supervisor takes (from the intake, and from
 * ssa.ko: kernel_keys.h): a regular, non-empty file opened for reading, of
 * at most SSA_KEY_INTAKE_MAX_FILE bytes, judged from the attributes the
 * kernel has cached (a FUSE or network file system is not asked).
 * @retval 0 taken
 * @retval EBADF not open for reading, or O_PATH
 * @retval EINVAL not a regular file, or empty
 * @retval EFBIG larger than SSA_KEY_INTAKE_MAX_FILE
 */
int ssa_key_intake_file_ok(int fd);

/** Close everything and remove the socket (the supervisor ends). */
void ssa_key_intake_stop(void);

#endif
