/* SPDX-License-Identifier: MIT */
/**
 * @file proxy.h
 * @brief The proxy path: records carried between the application's stream
 *        and the TLS session of an established connection.
 *
 * conn.c owns the connection's life (creation, connect, handshake, close);
 * once the handshake is over, every event on either side comes here.
 */
#ifndef SSAD_PROXY_H
#define SSAD_PROXY_H

#include <stdint.h>

struct ssa_conn;

/**
 * Move as much as possible in both directions without blocking, then end
 * the connection when both directions are finished or the network side
 * failed (what arrived is handed over first), or update its interest in
 * events. c may be destroyed on return.
 */
void ssa_proxy_pump(struct ssa_conn *c);

/**
 * The events an established connection waits for on each side
 * (EPOLLIN/EPOLLOUT added to *app and *net), from what its buffers hold and
 * what the TLS session last asked for.
 */
void ssa_proxy_interest(const struct ssa_conn *c, uint32_t *app, uint32_t *net);

#endif
