/* SPDX-License-Identifier: MIT */
/**
 * @file handover.h
 * @brief Listeners that outlive ssad: the next ssad takes them over.
 *
 * An SSA server's listening socket is its end of a stream pair; ssad holds
 * the other end and the TCP listening socket (listener.c). Under a service
 * manager with a file-descriptor store ($NOTIFY_SOCKET; systemd with
 * FileDescriptorStoreMax=, or scripts/ssa-supervise), ssad stores both
 * descriptors of every listener there ("FDSTORE=1", named "ssa-l-<id>")
 * as soon as it listens, and the listeners' settings in a sealed memfd
 * ("ssa-state-<generation>", mode 0600, handover_state.h), replaced
 * whenever a listener comes or goes. The manager keeps them while ssad
 * restarts, crashed or not, and passes them back ($LISTEN_FDS,
 * $LISTEN_FDNAMES); the new ssad rebuilds each listener and accepts on it
 * again. Meanwhile clients wait in the kernel's queue of the TCP socket,
 * and the application's accept() simply waits. A state that is not a
 * sealed, root-only memfd, or that does not parse, is refused with a
 * logged reason; its listeners are dropped (their accept() fails EINVAL).
 *
 * Connections ssad proxied die with it (the application reads ECONNRESET,
 * libssa's instance check); kernel-TLS connections live in the kernel.
 * Loop thread only.
 */
#ifndef SSAD_HANDOVER_H
#define SSAD_HANDOVER_H

struct ssad;
struct ssa_conn;

/**
 * At start, before READY=1: take over the listeners a service manager
 * passed, and from now on keep the store up to date (only with
 * $NOTIFY_SOCKET set). Failures are logged; ssad starts in any case.
 */
void ssa_handover_start(struct ssad *d);

/** A listener started listening: store its descriptors and the state. */
void ssa_handover_listening(struct ssa_conn *l);

/** A listener goes: drop its descriptors and its settings from the store. */
void ssa_handover_closing(struct ssa_conn *l);

/** ssad stops: leave the store as it is for the next one. */
void ssa_handover_freeze(void);

#endif
