/* SPDX-License-Identifier: MIT */
/**
 * @file in_tls.h
 * @brief The Secure Socket API: TLS through the POSIX socket calls.
 *
 * Create a TLS socket with
 *
 *     int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
 *
 * and use it as a TCP socket: connect() returns after the TCP connection,
 * the TLS handshake and the verification of the peer's certificate chain
 * and name; read()/write() carry plaintext; close() sends close_notify.
 *
 * All options below are used with level IPPROTO_TLS in setsockopt() and
 * getsockopt(). Strings are NUL-terminated and optlen counts the NUL.
 * The TLS service (ssad) applies the administrator's policy: options can
 * only tighten it.
 *
 * Errors common to every option:
 *  - ENOPROTOOPT  unknown option, or an option this build does not provide
 *  - EINVAL       wrong optlen, a string without its NUL or with an embedded
 *                 NUL, a value out of range
 *  - EPERM        the setting would weaken the administrator's policy
 *  - EACCES       a certificate or key file the caller may not read
 *  - EOPNOTSUPP   the option cannot be set in the socket's current state
 *                 (for instance after connect())
 *  - ENOTCONN     a connection property read before the handshake
 *  - ERANGE       getsockopt() buffer too small; optlen is set to the size
 *                 needed
 *  - EPROTO       (connect) handshake or verification failure; the reason
 *                 is in TLS_ERROR
 *
 * Per-user limits of ssad (ssa.conf(5), PER-USER LIMITS; ssa(7), ERRORS):
 *  - EMFILE       socket(): the user holds max-sockets-per-user TLS sockets
 *                 or max-control-connections-per-user connections to ssad,
 *                 or ssad is down to its reserve of descriptors
 *  - EAGAIN       connect(): max-handshakes-per-user connects under way; a
 *                 file option: the user's requests used their share of
 *                 ssad's time (max-request-ms-per-user); try again
 *  - EFBIG        a file option: more than max-pem-size bytes, or more than
 *                 max-trusted-certificates certificates
 *  - ENOBUFS      TLS_TRUSTED_PEER_CERTIFICATES: the user's sockets would
 *                 hold more than max-trusted-certificates-per-user;
 *                 TLS_PRIVATE_KEY: they hold max-keys-per-user keys, or the
 *                 user has 16 key files on their way to ssad at once
 *
 * Do not confuse IPPROTO_TLS with SOL_TLS (282), Linux's kernel-TLS level.
 *
 * The kernel module ssa.ko includes this same file (it lives in kernel/ so
 * that the module's directory builds on its own; include/ssa/in_tls.h is
 * a symlink to it): it holds constants only, includes nothing, and keeps
 * to kernel style (scripts/checkpatch.pl).
 */
#ifndef SSA_IN_TLS_H
#define SSA_IN_TLS_H

#ifndef IPPROTO_TLS
/** Protocol number of TLS sockets, and option level of the options below. */
#define IPPROTO_TLS 205
#endif

/** Client: SNI, and the name the peer certificate must match (set/get,
 * string of at most 255 bytes plus NUL). Without it, the certificate must
 * be valid for the IP address connected to.
 */
#define TLS_REMOTE_HOSTNAME 85
/** Server, accepted socket: the SNI name the client asked for, "" if none
 * (get, string).
 */
#define TLS_HOSTNAME 86
/** Extra trust anchors or pinned peer certificates: path of a PEM file or
 * of a hashed directory (set). Refused with EPERM unless the policy allows
 * applications to add trust anchors.
 */
#define TLS_TRUSTED_PEER_CERTIFICATES 87
/** Own certificate chain, leaf first: path of a PEM file (set); the chain
 * in PEM (get). May be set several times: one identity per SNI name.
 */
#define TLS_CERTIFICATE_CHAIN 88
/** Private key for the chain set last: path (set). The key never enters
 * the application. A key that does not match the chain gives EINVAL.
 * The file is opened with the caller's permissions and handed to ssad's
 * key keeper, never to the process that parses network bytes (through
 * ssa.ko: with a module of netlink family version 3 or later); EFBIG for
 * a file over 1 MiB, EBADF or EINVAL for one that is not a readable
 * regular file (through ssa.ko, EINVAL for one on FUSE), EAGAIN while
 * ssad's key keeper cannot take it. Keep the key in a file of its own: a
 * chain file that holds the key too is read by that process.
 */
#define TLS_PRIVATE_KEY 89
/** ALPN: comma-separated preference list such as "h2,http/1.1" (set); the
 * protocol chosen by the handshake (get, "" if none).
 */
#define TLS_ALPN 90
/** Session lifetime in seconds, long (set/get); 0 disables resumption. */
#define TLS_SESSION_TTL 91
/** Never use this cipher (OpenSSL or IANA name) on this socket (set). */
#define TLS_DISABLE_CIPHER 92
/** The verified peer identity: subject and subject alternative names
 * (get, string).
 */
#define TLS_PEER_IDENTITY 93
/** Server: client-certificate authentication, int: 0 none, 1 request,
 * 2 require (set/get).
 */
#define TLS_REQUEST_PEER_AUTH 94
/** The peer's full certificate chain as sent, in PEM, leaf first (get). */
#define TLS_PEER_CERTIFICATE_CHAIN 95
/** An opaque, non-guessable 64-bit identifier of this TLS socket
 * (get, uint64_t).
 */
#define TLS_ID 96
/** The ciphers this socket may use, OpenSSL names separated by ':'
 * (get, string).
 */
#define TLS_TRUSTED_CIPHERS 97
/** The negotiated cipher, IANA name (get, string). */
#define TLS_CHOSEN_CIPHER 98
/** A readable reason for the last failure on this socket (get, string,
 * "" if none).
 */
#define TLS_ERROR 100
/** Revocation checking switches, int 0/1 (set/get, tighten-only). */
#define TLS_REVOCATION_CHECKS 102
#define TLS_OCSP_STAPLED_CHECKS 103
#define TLS_OCSP_CHECKS 104
#define TLS_CRL_CHECKS 105
#define TLS_CACHED_REV_CHECKS 106
/** Share settings and session cache with another socket: the other
 * socket's TLS_ID (get/set, uint64_t).
 */
#define TLS_CONTEXT 107
/** Session resumption on (1) or off (0), int (set/get, tighten-only). */
#define TLS_SESSION_REUSE 108
/** 1 if this connection resumed an earlier session, int (get). */
#define TLS_RESUMED_SESSION 109
/** Re-enable a cipher, only within policy (set, string). */
#define TLS_ENABLE_CIPHER 110
/** Version bounds, int: TLS_VERSION_1_2 or TLS_VERSION_1_3 (set/get,
 * tighten-only).
 */
#define TLS_VERSION_MIN 111
#define TLS_VERSION_MAX 112
/** The negotiated version, int (get). */
#define TLS_CHOSEN_VERSION 113
/** Server: staple OCSP responses, int 0/1 (set/get). */
#define TLS_SERVER_OCSP_STAPLING 122
/** On a connected plain TCP socket, run TLS on it in place (STARTTLS):
 * the hostname to verify (client) or "" (server) (set).
 */
#define TLS_UPGRADE 123

/** Values of TLS_VERSION_MIN, TLS_VERSION_MAX and TLS_CHOSEN_VERSION. */
#define TLS_VERSION_1_2 0x0303
#define TLS_VERSION_1_3 0x0304

/** Values of TLS_REQUEST_PEER_AUTH. */
#define TLS_PEER_AUTH_NONE 0
#define TLS_PEER_AUTH_REQUEST 1
#define TLS_PEER_AUTH_REQUIRE 2

#endif /* SSA_IN_TLS_H */
