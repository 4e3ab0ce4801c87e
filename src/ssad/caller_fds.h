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
 * background), then closes. A closer stuck all the same (FUSE, or a caller
 * who turned the linger back on in between) holds only itself: another is
 * started while none is idle, up to CALLER_FDS_THREADS; beyond, the
 * descriptors wait in the queue, which only grows ssad's descriptor count.
 */
#ifndef SSAD_CALLER_FDS_H
#define SSAD_CALLER_FDS_H

#include <stdbool.h>

/** Closer threads at most. */
#define CALLER_FDS_THREADS 4

/**
 * Release fd, a descriptor a caller sent, without waiting: queued for a
 * closer thread. Before ssa_caller_fds_start() (and in programs that never
 * call it, such as unit tests) it is closed here, as close() would.
 */
void ssa_caller_fd_close(int fd);

/** Start the first closer thread. @retval 0 or the errno of pthread_create */
int ssa_caller_fds_start(void);

/** Descriptors queued or being closed (STATUS, tests). */
unsigned ssa_caller_fds_pending(void);

#endif
