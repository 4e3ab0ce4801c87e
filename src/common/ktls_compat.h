/* SPDX-License-Identifier: MIT */
/**
 * @file ktls_compat.h
 * @brief Linux kernel-TLS constants, defined once for ssad and libssa: the
 *        fallbacks for C library headers that lack them, and the TLS record
 *        content types that go with TLS_SET_RECORD_TYPE/TLS_GET_RECORD_TYPE.
 *
 * Header only (libssa links nothing from src/common). The values are the
 * kernel's ABI (include/linux/socket.h, include/uapi/linux/tcp.h) and the
 * TLS wire format (RFC 8446, 5.1); they never change.
 */
#ifndef SSA_COMMON_KTLS_COMPAT_H
#define SSA_COMMON_KTLS_COMPAT_H

#include <linux/tls.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef SOL_TLS
/** Option and control-message level of kernel TLS (not IPPROTO_TLS). */
#define SOL_TLS 282
#endif

#ifndef TCP_ULP
/** setsockopt(IPPROTO_TCP, TCP_ULP, "tls"): attach kernel TLS to a socket. */
#define TCP_ULP 31
#endif

/** TLS record content types (RFC 8446, 5.1), as kernel TLS passes them in
 * TLS_SET_RECORD_TYPE/TLS_GET_RECORD_TYPE control messages. */
enum ssa_tls_record_type {
	SSA_TLS_REC_CHANGE_CIPHER_SPEC = 20,
	SSA_TLS_REC_ALERT = 21,
	SSA_TLS_REC_HANDSHAKE = 22,
	SSA_TLS_REC_APPLICATION_DATA = 23,
};

#endif
