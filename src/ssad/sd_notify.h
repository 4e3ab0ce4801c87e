/* SPDX-License-Identifier: MIT */
/**
 * @file sd_notify.h
 * @brief Readiness and state for a service manager (systemd's sd_notify
 *        protocol), without linking libsystemd.
 */
#ifndef SSAD_SD_NOTIFY_H
#define SSAD_SD_NOTIFY_H

/**
 * Send one state line (e.g. "READY=1", "RELOADING=1", "STOPPING=1") to the
 * datagram socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Nothing happens without $NOTIFY_SOCKET.
 * @retval 0 sent, or no service manager asked
 * @retval EINVAL $NOTIFY_SOCKET is not a usable address
 * @retval errno of socket() or sendto() otherwise
 */
int ssa_sd_notify(const char *state);

#endif
