/* SPDX-License-Identifier: MIT */
/**
 * @file wire.h
 * @brief The control protocol between the front ends and ssad.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET connection to ssad's control socket.
 * Every message is one datagram: a 16-byte header followed by a payload.
 * Requests that act on a TLS socket carry that socket's file descriptor as
 * SCM_RIGHTS ancillary data: the descriptor is the capability, ssad
 * identifies the socket by its kernel identity, never by a number the
 * caller chooses.
 *
 * Integers are in host byte order (the protocol never leaves the host).
 *
 * This header is the pure codec (wire_codec.c): message layouts, the
 * bounds-checked readers and writers, header and accept-record encoding.
 * It does no I/O; sending and receiving messages with their descriptors is
 * wire_io.h's.
 */
#ifndef SSA_PROTO_WIRE_H
#define SSA_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SSA_WIRE_MAGIC 0x53534131u /* "SSA1" */
#define SSA_WIRE_HDR_LEN 16u
/** Largest request a front end may send (header included). */
#define SSA_WIRE_MAX_REQUEST 8192u
/** Largest reply ssad sends (header included). */
#define SSA_WIRE_MAX_REPLY 65536u
/** Largest option value carried in a request. */
#define SSA_WIRE_MAX_OPTVAL 4096u

/** Most descriptors one request may carry: the socket, then files opened
 * by the front end with the caller's credentials (certificates, keys). */
#define SSA_WIRE_MAX_FDS 16
/** Most descriptors one message can carry at all (the kernel's SCM_MAX_FD):
 * a receiver makes room for them all, so that none is released inside
 * recvmsg() (wire_io.c). */
#define SSA_WIRE_SCM_MAX_FD 253

/*
 * Accepted connections reach the application through its listening socket:
 * ssad writes one fixed-size record per connection, carrying the new
 * socket as SCM_RIGHTS, on the stream the application holds; the front
 * end's accept() reads exactly one record. The application's listening
 * descriptor is thus readable exactly when a connection is ready.
 */
#define SSA_ACCEPT_MAGIC 0x53534141u /* "SSAA" */
#define SSA_ACCEPT_REC_LEN 88u

/** Accept record flag: the descriptor is the TCP socket itself with kernel
 * TLS on both directions (see SSA_REPLY_KTLS). */
#define SSA_ACCEPT_KTLS 1u

struct ssa_accept_rec {
	uint64_t id;
	uint32_t flags;         /**< SSA_ACCEPT_KTLS or 0 */
	uint64_t instance;      /**< the daemon instance that made it */
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
};

/** Encode a record into exactly SSA_ACCEPT_REC_LEN bytes. */
void ssa_accept_rec_encode(const struct ssa_accept_rec *rec, uint8_t out[SSA_ACCEPT_REC_LEN]);
/**
 * Decode and validate a record.
 * @retval 0 valid
 * @retval EINVAL wrong length, magic or address
 */
int ssa_accept_rec_decode(const void *buf, size_t len, struct ssa_accept_rec *rec);

/** Default control socket path (overridden by SSA_SOCKET). */
#define SSA_DEFAULT_SOCKET "/run/ssa/ssad.sock"

/*
 * The key intake: a TLS_PRIVATE_KEY file goes from libssa to ssad's
 * supervisor, never through the worker that parses network bytes
 * (src/ssad/supervisor/key_intake.h). libssa connects a SOCK_SEQPACKET
 * socket to the control socket's path with SSA_KEY_INTAKE_SUFFIX, sends
 * one request (SSA_KEY_INTAKE_REQ_LEN bytes) with the key file's
 * descriptor, and reads one reply: a status (0 or an errno value) and a
 * ticket of SSA_KEY_TICKET_LEN random bytes. It then sends SETOPT with the
 * ticket after the value instead of the descriptor, and closes the intake
 * connection when SETOPT is answered: a ticket nobody used is dropped then.
 */
#define SSA_KEY_INTAKE_SUFFIX ".keys"
#define SSA_KEY_INTAKE_MAGIC 0x4b415353u /* "SSAK" */
#define SSA_KEY_INTAKE_VERSION 1u
#define SSA_KEY_INTAKE_REQ_LEN 8u
#define SSA_KEY_TICKET_LEN 16u
#define SSA_KEY_INTAKE_REP_LEN (4u + SSA_KEY_TICKET_LEN)

/** The intake request: magic and version. */
void ssa_key_intake_req_encode(uint8_t out[SSA_KEY_INTAKE_REQ_LEN]);
/**
 * Check an intake request.
 * @retval 0 valid
 * @retval EINVAL not SSA_KEY_INTAKE_REQ_LEN bytes, or not the magic
 * @retval EPROTONOSUPPORT another version
 */
int ssa_key_intake_req_decode(const void *buf, size_t len);
/** The intake reply: status and, with status 0, the ticket (else zeros). */
void ssa_key_intake_rep_encode(int status, const uint8_t *ticket,
			       uint8_t out[SSA_KEY_INTAKE_REP_LEN]);
/**
 * Decode an intake reply.
 * @retval 0 *status (0 or an errno value below 4096) and, with status 0,
 *         the ticket
 * @retval EINVAL wrong length or a status out of range
 */
int ssa_key_intake_rep_decode(const void *buf, size_t len, int *status,
			      uint8_t ticket[SSA_KEY_TICKET_LEN]);

enum ssa_msg_type {
	SSA_MSG_SOCKET = 1,  /**< new TLS socket; reply: u64 id, u64 daemon instance,
			      *   and the app's fd */
	SSA_MSG_SETOPT = 2,  /**< fd; level, name, value [, for TLS_PRIVATE_KEY a
			      *   key intake ticket, SSA_KEY_TICKET_LEN bytes] */
	SSA_MSG_GETOPT = 3,  /**< fd; level, name, max length; reply: value */
	SSA_MSG_CONNECT = 4, /**< fd; address [, u32 flags]; reply: local and peer
			      *   address, or EINPROGRESS at once with SSA_CONNECT_NONBLOCK */
	SSA_MSG_INFO = 5,    /**< fd; reply: id, domain, state, error, addresses;
			      *   ENOTCONN + i32 error for a released broken socket;
			      *   EBADF + u64 daemon instance for an unknown one */
	SSA_MSG_STATUS = 6,  /**< admin; no fd; reply: daemon status text (JSON) */
	SSA_MSG_ERROR = 7,   /**< reply to a request too malformed to answer in kind */
	SSA_MSG_BIND = 8,    /**< fd; address; reply: bound local address */
	SSA_MSG_LISTEN = 9,  /**< fd; i32 backlog; reply: local address */
	SSA_MSG_CONNECTIONS = 10, /**< admin; u32 start; reply: JSON page of connections */
	SSA_MSG_RELOAD = 11, /**< admin; no payload; reply: status, text if refused */
	SSA_MSG_TYPE_MAX = 11,
};

/** SSA_MSG_CONNECT flags. */
#define SSA_CONNECT_NONBLOCK 1u
/** The front end can take the TCP socket itself with kernel TLS on it. */
#define SSA_CONNECT_KTLS_OK 2u
/**
 * The flags are followed by a blob: the value of TLS_REMOTE_HOSTNAME as the
 * application set it before connect() (NUL counted). libssa checks such a
 * value itself at setsockopt() (ssa_check_hostname()) and sends it with the
 * CONNECT instead of a SETOPT of its own (one round trip less, issue 15);
 * ssad sets it as a SETOPT would, before connecting.
 */
#define SSA_CONNECT_HOSTNAME 4u
/** Longest host name (TLS_REMOTE_HOSTNAME), NUL excluded. */
#define SSA_WIRE_HOSTNAME_MAX 255u
/**
 * The front end keeps the handshake's read-only results (SSA_REPLY_RESULTS)
 * and answers their getsockopt() itself (issue 15). ssad sends them only
 * when asked: an older front end sees the reply it always saw.
 */
#define SSA_CONNECT_RESULTS 8u
/**
 * TCP_NODELAY as the application set it before connect(), held by the front
 * end like the host name (no payload: SSA_CONNECT_NODELAY_ON is its value).
 * ssad records it as a SETOPT would (before the connection is established
 * a SETOPT of TCP_NODELAY only records the value: handshakes run with it
 * on, and the recorded value is applied once established).
 */
#define SSA_CONNECT_NODELAY 16u
/** With SSA_CONNECT_NODELAY: the value is on (else off). */
#define SSA_CONNECT_NODELAY_ON 32u

/*
 * Kernel-TLS hand-off (userspace front end). A front end that can read a
 * kernel-TLS socket (record types, alerts) says so with SSA_CONNECT_KTLS_OK
 * (blocking connects) or SSA_LISTEN_KTLS_OK (u32 after the backlog). Where
 * the kernel has TLS, ssad may then answer a CONNECT with a u32 flags word
 * after the two addresses holding SSA_REPLY_KTLS and the TCP socket as the
 * reply's descriptor, or mark an accept record SSA_ACCEPT_KTLS: the
 * descriptor is then the network socket with TLS_TX and TLS_RX installed,
 * and the front end puts it in place of the application's descriptor.
 */
#define SSA_REPLY_KTLS 1u
/**
 * CONNECT reply flag (the request had SSA_CONNECT_RESULTS; never with
 * SSA_REPLY_KTLS): the u32 flags word after the two addresses is followed
 * by a results blob of at most SSA_WIRE_RESULTS_MAX bytes: a sequence of
 * (i32 option name, blob value), each value exactly what a GETOPT of that
 * IPPROTO_TLS option answers on the established socket. ssad puts in only
 * options whose answer cannot change while the socket lives (no
 * renegotiation, set-only before connect): TLS_RESUMED_SESSION,
 * TLS_CHOSEN_VERSION, TLS_CHOSEN_CIPHER, TLS_ALPN, TLS_HOSTNAME.
 */
#define SSA_REPLY_RESULTS 2u
/** Largest results blob (SSA_REPLY_RESULTS). */
#define SSA_WIRE_RESULTS_MAX 512u
#define SSA_LISTEN_KTLS_OK 1u

/** Connection states reported by SSA_MSG_INFO. */
enum ssa_conn_state {
	SSA_STATE_NEW = 0,
	SSA_STATE_CONNECTING = 1,
	SSA_STATE_ESTABLISHED = 2,
	SSA_STATE_FAILED = 3,
	SSA_STATE_CLOSED = 4,
	SSA_STATE_LISTENING = 5,
};

struct ssa_wire_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;  /**< must be 0 */
	int32_t status;  /**< replies: 0 or a positive errno; requests: 0 */
	uint32_t len;    /**< payload length */
};

/** A bounds-checked writer over a caller-provided buffer. */
struct ssa_wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool err; /**< set once a put did not fit; later puts are ignored */
};

/** A bounds-checked reader. */
struct ssa_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err; /**< set once a get ran past the end or met bad data */
};

void ssa_wbuf_init(struct ssa_wbuf *w, void *buf, size_t cap);
void ssa_put_u32(struct ssa_wbuf *w, uint32_t v);
void ssa_put_i32(struct ssa_wbuf *w, int32_t v);
void ssa_put_u64(struct ssa_wbuf *w, uint64_t v);
void ssa_put_bytes(struct ssa_wbuf *w, const void *data, size_t n);
/** u32 length followed by the bytes. */
void ssa_put_blob(struct ssa_wbuf *w, const void *data, size_t n);
/** A socket address as a blob (length 0 for none). */
void ssa_put_addr(struct ssa_wbuf *w, const struct sockaddr *sa, socklen_t len);

void ssa_rbuf_init(struct ssa_rbuf *r, const void *buf, size_t len);
uint32_t ssa_get_u32(struct ssa_rbuf *r);
int32_t ssa_get_i32(struct ssa_rbuf *r);
uint64_t ssa_get_u64(struct ssa_rbuf *r);
/** Returns a pointer into the buffer to n bytes, or NULL (sets err). */
const void *ssa_get_bytes(struct ssa_rbuf *r, size_t n);
/** A u32-length blob of at most max bytes; *n receives its length. */
const void *ssa_get_blob(struct ssa_rbuf *r, size_t max, size_t *n);
/**
 * A socket address blob: AF_INET or AF_INET6 of the exact size, or an empty
 * blob (returns 0 in *len). Anything else sets err.
 */
void ssa_get_addr(struct ssa_rbuf *r, struct sockaddr_storage *ss, socklen_t *len);
/** True when the whole buffer was consumed without error. */
bool ssa_rbuf_done(const struct ssa_rbuf *r);

/**
 * Check that an option value is a proper C string: optlen counts the NUL,
 * the last byte is the NUL, and there is no NUL before it.
 * @retval 0 the string is valid and at most max bytes long (NUL excluded)
 * @retval EINVAL otherwise
 */
int ssa_check_string(const void *val, size_t optlen, size_t max);

/**
 * Is s a host name TLS_REMOTE_HOSTNAME accepts: labels of letters, digits,
 * '-', ':' or '_', 1..63 characters each, separated by single dots (an IP
 * address in text form passes)? ssad and libssa check alike with it.
 */
bool ssa_hostname_ok(const char *s);

/**
 * Check a TLS_REMOTE_HOSTNAME option value: a proper C string
 * (ssa_check_string()) of at most SSA_WIRE_HOSTNAME_MAX bytes that
 * ssa_hostname_ok() accepts.
 * @retval 0 valid
 * @retval EINVAL otherwise
 */
int ssa_check_hostname(const void *val, size_t optlen);

/**
 * Is a results blob (SSA_REPLY_RESULTS) well formed: at most
 * SSA_WIRE_RESULTS_MAX bytes of whole (i32 name, blob value) entries,
 * nothing left over?
 */
bool ssa_results_valid(const void *blk, size_t len);

/**
 * Find an option's value in a results blob (SSA_REPLY_RESULTS).
 * @param val receives a pointer into blk, @param vlen its length
 * @retval 0 found
 * @retval ENOENT the blob does not hold the option
 * @retval EINVAL the blob is not well formed (ssa_results_valid())
 */
int ssa_results_find(const void *blk, size_t len, int32_t name, const void **val,
		     size_t *vlen);

/**
 * Parse and validate a header from the raw bytes of a whole message (used
 * by ssa_wire_recv() and the fuzzer).
 * @retval 0 valid: magic, flags 0, known type, status in 0..4095, and len
 *         the number of bytes after the header
 * @retval EINVAL otherwise
 */
int ssa_wire_parse_hdr(const void *buf, size_t len, struct ssa_wire_hdr *hdr);

/**
 * Encode a message header (SSA_WIRE_HDR_LEN bytes) for a payload of len
 * bytes; w->err is set when it does not fit.
 */
void ssa_wire_put_hdr(struct ssa_wbuf *w, uint16_t type, int32_t status, uint32_t len);

#endif /* SSA_PROTO_WIRE_H */
