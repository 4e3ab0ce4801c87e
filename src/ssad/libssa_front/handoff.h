/* SPDX-License-Identifier: MIT */
/**
 * @file handoff.h
 * @brief Kernel-TLS hand-off for the userspace front end (libssa).
 *
 * Where the running kernel has the "tls" ULP, a blocking connect or an
 * accepted connection whose front end says it can read a kernel-TLS socket
 * (SSA_CONNECT_KTLS_OK, SSA_LISTEN_KTLS_OK) runs its handshake with
 * OpenSSL's kernel-TLS offload (SSL_OP_ENABLE_KTLS: TLS_TX for 1.2 and 1.3,
 * TLS_RX for 1.2) and without read-ahead, its session made so by the
 * engine (engine/tls_setup.h with c->ktls_secret); ssad then installs the
 * TLS 1.3 receive key itself (OpenSSL 3.0 does not; engine/ktls_keys.h),
 * the last step. Only with both directions in the kernel does the
 * application get the TCP socket itself; anything short of that keeps the
 * proxy path, which stays correct
 * because OpenSSL knows every offload it made, and TLS_RX, the only key
 * ssad installs behind OpenSSL's back, is installed last.
 *
 * After the hand-off ssad closes its copy of the TCP socket and keeps the
 * connection's record (the SSL object: cipher, version, peer chain, ALPN,
 * SNI, TLS_ID) under the TCP socket's identity, so that TLS getsockopt
 * still works; the socket's SO_COOKIE guards against a reused inode. The
 * records are released once their TCP connection has ended: a sweep of
 * /proc/net/tcp{,6} (socket inodes of the sockets the kernel still has in
 * its tables; a socket in TIME_WAIT or closed is not there) whenever their
 * number has doubled since the last sweep, and before every connection
 * listing. Their memory is thus bounded by about twice the number of live
 * handed-off connections. As on the proxy path, whose record goes when
 * both directions have ended, TLS getsockopt after that answers EBADF.
 *
 * SSAD_NO_KTLS=1 in ssad's environment switches the hand-off off (the
 * probe then reports kernel TLS unavailable).
 */
#ifndef SSAD_HANDOFF_H
#define SSAD_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct ssa_conn;
struct ssad;

/** Whether setsockopt(TCP_ULP, "tls") works here (probed once). */
bool ssa_ktls_available(void);

/**
 * After a successful handshake: make sure both directions are in the
 * kernel (installing the TLS 1.3 receive key: ssa_ktls_install()).
 * @retval 0 kernel TLS is on both ways: hand the socket over
 * @retval -1 not possible (why says why); the session is untouched for the
 *         proxy path
 */
int ssa_ktls_finish(struct ssa_conn *c, char *why, size_t len);

/**
 * The TCP socket has been given to the application: drop ssad's
 * descriptors, keep the record under the TCP socket's identity.
 * ssad's copy of the TCP socket stays open until ssa_ktls_drop_net(), so
 * that it can still be sent.
 * @retval 0 or an errno (the connection must then be destroyed)
 */
int ssa_ktls_adopt(struct ssa_conn *c);

/** Close ssad's copy of a handed-off socket (after sending it). */
void ssa_ktls_drop_net(struct ssa_conn *c);

/** A presented descriptor matches a handed-off record (SO_COOKIE). */
bool ssa_ktls_same(const struct ssa_conn *c, int fd);

/** Release handed-off records whose socket is gone. */
void ssa_ktls_sweep(struct ssad *d);

/** A handed-off record going away (ssa_conn_destroy). */
void ssa_ktls_forget(struct ssa_conn *c);

#endif
