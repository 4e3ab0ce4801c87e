/* SPDX-License-Identifier: MIT */
/**
 * @file sd_notify.h
 * @brief Readiness and state for a service manager (systemd's sd_notify
 *        protocol), without linking libsystemd.
 */
#ifndef SSAD_SD_NOTIFY_H
#define SSAD_SD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Send one state line (e.g. "READY=1", "RELOADING=1", "STOPPING=1") to the
 * datagram socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Nothing happens without $NOTIFY_SOCKET.
 * @retval 0 sent, or no service manager asked
 * @retval EINVAL $NOTIFY_SOCKET is not a usable address
 * @retval errno of socket() or sendto() otherwise
 */
int ssa_sd_notify(const char *state);

/** Most descriptors one ssa_sd_notify_fds() message carries. */
#define SSA_SD_MAX_FDS 16

/**
 * As ssa_sd_notify(), with n descriptors (SCM_RIGHTS): for the service
 * manager's file-descriptor store, state "FDSTORE=1\nFDNAME=name"
 * (systemd keeps them, and passes them to the next start in $LISTEN_FDS);
 * "FDSTOREREMOVE=1\nFDNAME=name" (n = 0) drops them.
 * @retval 0 sent, or no service manager asked
 * @retval EINVAL more than SSA_SD_MAX_FDS, or $NOTIFY_SOCKET not usable
 * @retval errno of socket() or sendmsg() otherwise
 */
int ssa_sd_notify_fds(const char *state, const int *fds, size_t n);

/**
 * Send every state to fd (a connected datagram socket: the worker's line
 * to its supervisor, supervisor/supervisor.h) instead of $NOTIFY_SOCKET.
 */
void ssa_sd_notify_use_fd(int fd);

/** Whether states go anywhere: to a supervisor or to $NOTIFY_SOCKET. */
bool ssa_sd_notify_active(void);

#endif
