/* SPDX-License-Identifier: MIT */
/**
 * @file caller_fds.h
 * @brief Descriptors callers sent, released away from the loop.
 *
 * Releasing a descriptor can wait for whoever is behind it: the last
 * reference to a TCP socket with SO_LINGER waits until its queued data is
 * acknowledged or the linger runs out (the peer decides), close() of a
 * file on FUSE sends FUSE_FLUSH and waits for its server (any user may run
 * one). A caller can leave ssad holding such a last reference: attached to
 * a request, beyond the descriptors a request may carry, or sent on its TLS
 * socket's stream. Done on the loop, that wait stalls every user.
 *
 * So ssad closes what a caller sent on closer threads: each turns a
 * socket's linger off first (the kernel then sends what is queued in the
 * background), then closes. A closer stuck all the same (FUSE, a unix
 * socket holding a lingering TCP socket, or a caller who turned the linger
 * back on in between) holds only itself: another is started while none is
 * idle, up to CALLER_FDS_THREADS, and one user's descriptors are closed one
 * at a time, so hers wait behind her stuck one, not anyone else's. Each is
 * charged to a user until it is
 * closed: a user with CALLER_FDS_PER_USER or more waiting has no further
 * request read (control.c), so she cannot fill ssad's descriptor table by
 * blocking the closers and sending more.
 */
#ifndef SSAD_CALLER_FDS_H
#define SSAD_CALLER_FDS_H

#include <stdbool.h>
#include <sys/types.h>

/** Closer threads at most. */
#define CALLER_FDS_THREADS 4
/** Descriptors waiting to be closed above which a user's requests wait. */
#define CALLER_FDS_PER_USER 256

/**
 * Release fd, a descriptor a caller sent, without waiting: queued for a
 * closer thread, charged to uid until closed. Before
 * ssa_caller_fds_start() (and in programs that never call it, such as unit
 * tests), or out of memory, it is closed here, as close() would.
 */
void ssa_caller_fd_close(uid_t uid, int fd);

/** Start the first closer thread. @retval 0 or the errno of pthread_create */
int ssa_caller_fds_start(void);

/** Descriptors of uid queued or being closed. */
unsigned ssa_caller_fds_pending(uid_t uid);

/** Whether uid has CALLER_FDS_PER_USER or more descriptors waiting. */
bool ssa_caller_fds_over(uid_t uid);

/**
 * Whom the descriptors the control protocol's code lets go of are charged
 * to (ssa_io_close() in wire_io_ssad.c knows no sender): set by the loop
 * before it reads a client's message. Loop thread only.
 */
void ssa_caller_fds_charge(uid_t uid);
uid_t ssa_caller_fds_charged(void);

#endif
