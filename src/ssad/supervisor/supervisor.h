/* SPDX-License-Identifier: MIT */
/**
 * @file supervisor.h
 * @brief ssad as two processes: a supervisor that never touches TLS, and a
 *        worker it forks, and replaces when it dies.
 *
 * The supervisor is the process the service manager started (its main
 * pid). It holds the control socket's listener, forks the worker (named
 * "ssad-worker"), and from then on only forwards signals (SIGHUP,
 * SIGTERM, SIGINT), relays the worker's sd_notify states to the service
 * manager, and keeps the descriptors the worker stores (its SSA servers'
 * listeners and their settings: fd_store.h, libssa_front/handover.h). It
 * reads no network byte and loads no configuration.
 *
 * The worker runs everything else: control connections, handshakes,
 * records, the kernel front end. The supervisor starts a key keeper for
 * each worker (its child, with one channel of its own to load the
 * configuration's keys: keeper_loader.h); when it dies, its worker is told
 * to end and both are replaced. When it
 * dies after it was ready, the supervisor forks a new one at once: the
 * dead worker's connections are lost (their applications read
 * ECONNRESET), control connections queue on the listener meanwhile, and
 * the new worker takes the stored listeners over, so an SSA server's
 * accept() simply waits. A worker that dies before it is ready ends the
 * supervisor with its exit status if it was the first (a bad
 * configuration at start), and is otherwise retried after a second, at
 * most SSA_SUP_MAX_EARLY times in a row.
 */
#ifndef SSAD_SUPERVISOR_H
#define SSAD_SUPERVISOR_H

#include <stdbool.h>

/** Consecutive workers that may die within a second of their start. */
#define SSA_SUP_MAX_EARLY 10

/**
 * Become the supervisor of a worker forked from this process. ctl_fd is
 * the control socket's listener (kept, and inherited by every worker),
 * socket_path its path (removed when the supervisor ends); config_path the
 * configuration whose files it opens for the worker (cfg_access.h). This
 * process must have no other thread.
 * @retval -1 in the worker: go on starting it (the signals ssad handles
 *         are unblocked again, $NOTIFY_SOCKET is the supervisor, and the
 *         stored descriptors wait in ssa_sd_listen_fds())
 * @retval status in the supervisor, when it ends: the last worker's exit
 *         status (128 + the signal that killed it), or 1 if it could not
 *         start one
 */
int ssad_supervise(int ctl_fd, const char *socket_path, const char *config_path,
		   bool config_explicit);

/**
 * In the worker: end at once (exit status 1) if the supervisor is gone.
 * Called before serving a new control connection: it may have been made
 * to the listener after the supervisor died (the hang-up of the request
 * pair, watched by the loop, may not be read yet).
 */
void ssad_supervisor_check(void);

/** In the worker: its end of the line from the supervisor, or -1. */
int ssad_supervisor_chan(void);

/**
 * In the worker, when ssad_supervisor_chan() is readable: raise each
 * signal the supervisor passed on (SIGHUP, SIGTERM, SIGINT; it may not
 * kill() a process of another user), for the worker's own signal handling.
 * @retval 1 the supervisor says the worker's key keeper died: the worker
 *         must end (a new one, with a new keeper, follows)
 * @retval 0 otherwise
 */
int ssad_supervisor_signal(void);

#endif
