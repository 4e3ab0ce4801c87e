/* SPDX-License-Identifier: MIT */
/**
 * @file requests.h
 * @brief The control requests of the libssa front end, each decoded and
 *        answered in one place (requests.c: a socket's requests;
 *        admin_requests.c: the administrator's).
 */
#ifndef SSAD_REQUESTS_H
#define SSAD_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "../../proto/wire.h"

struct ssa_ctl_client;

/** Handle one validated request: decode it, act, answer (now, or later for
 * a blocking connect and a file option). */
void ssa_handle_request(struct ssa_ctl_client *cl, uint16_t type,
			const uint8_t *payload, size_t len, const int *fds, int nfds);

/** The client is going away: a connect or a file option it waits for
 * must not answer it. */
void ssa_requests_client_gone(struct ssa_ctl_client *cl);

/** The answer to a file option read off the loop (sockopt.h). */
void ssa_ctl_file_done(struct ssa_ctl_client *cl, int status);

/**
 * An administrative request (STATUS, CONNECTIONS, RELOAD): root or the
 * admin group only (admin_requests.c).
 * @retval true type was one, and it was answered
 * @retval false type is not an administrative request
 */
bool ssa_admin_request(struct ssa_ctl_client *cl, uint16_t type, struct ssa_rbuf *r, int fd);

#endif
