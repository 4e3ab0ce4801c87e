/* SPDX-License-Identifier: MIT */
/**
 * @file ktls_keys.h
 * @brief Kernel-TLS key installation: putting an OpenSSL session's keys
 *        on its TCP socket.
 *
 * Used by both front ends: the libssa hand-off (libssa_front/handoff.c)
 * and the kernel front end (kernel_front/kernel_hs.c) run a handshake with
 * OpenSSL's kernel-TLS offload (SSL_OP_ENABLE_KTLS) and without
 * read-ahead. OpenSSL 3.0 installs the transmit side for TLS 1.2 and 1.3
 * and the receive side for TLS 1.2 only; the TLS 1.3 receive key is
 * derived here from the peer's application traffic secret, captured by a
 * keylog callback into a struct ssa_ktls_secret, with HKDF-Expand-Label
 * (RFC 8446 7.1, 7.3). Its record sequence number is 0: OpenSSL read no
 * record past the peer's Finished (no read-ahead, nothing pending), which
 * is checked.
 *
 * The keylog callback is set once on each context when it is made
 * (ssa_ktls_prepare_ctx()), never while handshakes run on it; a session
 * gets its secret only when a secret was attached to it
 * (ssa_ktls_attach()). The callback runs on whatever thread steps the
 * handshake; the secret belongs to that handshake alone.
 */
#ifndef SSAD_KTLS_KEYS_H
#define SSAD_KTLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

/** The peer's TLS 1.3 application traffic secret of one session, kept by
 * the keylog callback until the receive key is installed. */
struct ssa_ktls_secret {
	unsigned char rx[64];   /**< the secret (the cipher's hash size) */
	size_t rx_len;          /**< 0: none captured */
};

/**
 * Whether the kernel has TLS (setsockopt(TCP_ULP, "tls") works), asked
 * once; the question loads the module where it exists. A failure to make
 * the probe socket is not remembered (it may work later).
 * @param why receives the errno of the probe (0 when it worked)
 */
bool ssa_ktls_kernel_has_tls(int *why);

/**
 * Keylog capture on a new context (client contexts, and server contexts),
 * where the kernel has TLS; a no-op where it has not (the callback would
 * only cost: OpenSSL formats every secret of every handshake as a hex
 * line before calling it).
 */
void ssa_ktls_prepare_ctx(SSL_CTX *ctx);

/**
 * Let the keylog callback keep the peer's TLS 1.3 traffic secret of ssl in
 * s (ssa_ktls_prepare_ctx() must have been called on ssl's context before
 * it ran handshakes). s must outlive the handshake; it is emptied here.
 */
void ssa_ktls_attach(SSL *ssl, struct ssa_ktls_secret *s);

/**
 * Prepare a new session for kernel TLS: keylog capture on its context,
 * kernel-TLS offload on, no read-ahead (what follows the peer's Finished
 * must reach the kernel), the receive secret kept in s.
 */
void ssa_ktls_prepare_ssl(SSL *ssl, SSL_CTX *ctx, struct ssa_ktls_secret *s);

/**
 * After a successful handshake on fd: make sure both directions are in
 * the kernel, installing the TLS 1.3 receive key from s (the last step:
 * TLS_RX is the only key installed behind OpenSSL's back). s is wiped,
 * whatever the outcome. On success the SSL counts as shut down by ssad
 * (SSL_SENT_SHUTDOWN: the kernel ends the connection), so that freeing it
 * leaves its session resumable.
 * @retval 0 kernel TLS is on both ways
 * @retval -1 not possible (why says why); the receive side is then
 *         unchanged, OpenSSL's
 */
int ssa_ktls_install(SSL *ssl, int fd, struct ssa_ktls_secret *s, char *why, size_t wl);

/** Wipe a secret (a session given up before ssa_ktls_install()). */
void ssa_ktls_secret_clear(struct ssa_ktls_secret *s);

#endif
