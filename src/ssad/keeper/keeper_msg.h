/* SPDX-License-Identifier: MIT */
/**
 * @file keeper_msg.h
 * @brief The key keeper's protocol: a pure codec (no I/O).
 *
 * ssad and its key keeper (keeper.c) exchange one message per
 * SOCK_SEQPACKET datagram: a 16-byte header in host byte order (both ends
 * run on one machine) followed by len payload bytes. A request of op X is
 * answered by exactly one reply of op X | SSA_KEEP_REPLY carrying the
 * request's id; status 0 is success, anything else an errno value.
 *
 * | request           | payload                | reply payload (status 0)     |
 * |-------------------|------------------------|------------------------------|
 * | LOAD_FD           | none (fd by SCM_RIGHTS)| DER SubjectPublicKeyInfo     |
 * | LOAD_BYTES        | PEM or DER private key | DER SubjectPublicKeyInfo     |
 * | RSA_PRIVATE       | modulus-sized input    | raw RSA private op (no pad)  |
 * | ECDSA_SIGN        | a digest (1..64 bytes) | DER ECDSA-Sig-Value          |
 * | RELEASE           | none                   | none                         |
 * | EXPORT            | none (fd by SCM_RIGHTS)| none: the key's PEM written  |
 * |                   |                        | to the passed memfd          |
 * | STASH             | ticket, uid (fd by     | none: the file is kept, not  |
 * |                   | SCM_RIGHTS)            | read, until LOAD_TICKET      |
 * | UNSTASH           | ticket                 | none (ENOENT: not stashed)   |
 * | LOAD_TICKET       | ticket, uid, max size  | DER SubjectPublicKeyInfo     |
 * | HANDOVER_KEY      | the hand-over key      | none (EPERM: set already)    |
 *
 * A reply to LOAD_* carries the new key id in key_id. EXPORT serves the
 * restart hand-over: ssad passes an empty memfd, the keeper writes the key
 * into it sealed under the hand-over key (key_seal.h; ENOKEY without one),
 * and the next ssad's keeper loads it (LOAD_FD opens a sealed key with its
 * own hand-over key). The supervisor sets the hand-over key once, right
 * after it started the keeper and before the worker exists
 * (HANDOVER_KEY; a second one is refused).
 *
 * STASH, UNSTASH and LOAD_TICKET carry an application's key file around
 * the worker (supervisor/key_intake.h): the supervisor stashes the file
 * libssa sent it under a random ticket and the uid that sent it (a
 * SSA_KEEP_TICKET_LEN-byte ticket, then the uid as a u32), the worker
 * loads it by the ticket, the uid of the request it serves and the largest
 * file it takes (a u32: max-pem-size; EFBIG beyond), and the supervisor
 * unstashes a ticket nobody redeemed. A ticket is used once. STASH,
 * UNSTASH and HANDOVER_KEY are taken only on the channel of whoever started
 * the keeper with two or more channels (the last: the supervisor's);
 * elsewhere they are refused with EPERM.
 */
#ifndef SSAD_KEEPER_MSG_H
#define SSAD_KEEPER_MSG_H

#include <stddef.h>
#include <stdint.h>

enum ssa_keepmsg_op {
	SSA_KEEP_LOAD_FD = 1,
	SSA_KEEP_LOAD_BYTES = 2,
	SSA_KEEP_RSA_PRIVATE = 3,
	SSA_KEEP_ECDSA_SIGN = 4,
	SSA_KEEP_RELEASE = 5,
	SSA_KEEP_EXPORT = 6,
	SSA_KEEP_STASH = 7,
	SSA_KEEP_UNSTASH = 8,
	SSA_KEEP_LOAD_TICKET = 9,
	SSA_KEEP_HANDOVER_KEY = 10,
};

/** The last op. */
#define SSA_KEEP_OP_MAX SSA_KEEP_HANDOVER_KEY
/** Bytes of the hand-over key (HANDOVER_KEY): key_seal.h's. */
#define SSA_KEEP_HANDOVER_KEY_LEN 32u
/** Bytes of a key file's ticket (STASH, UNSTASH, LOAD_TICKET). */
#define SSA_KEEP_TICKET_LEN 16u
/** Key files stashed at most, all users together (the supervisor bounds
 * each user's far lower: key_intake.h). */
#define SSA_KEEP_MAX_STASHED 1024u

/** Set in the op of every reply. */
#define SSA_KEEP_REPLY 0x80u
/** Header bytes before the payload. */
#define SSA_KEEP_HDR 16u
/** Largest payload: a PEM key of LOAD_BYTES (RSA-8192 PEM is about 6.5 KiB). */
#define SSA_KEEP_MAX_PAYLOAD 16384u
/** Largest datagram. */
#define SSA_KEEP_MAX (SSA_KEEP_HDR + SSA_KEEP_MAX_PAYLOAD)
/** Largest RSA modulus, in bytes, of RSA_PRIVATE (8192 bits). */
#define SSA_KEEP_MAX_RSA 1024u
/** Largest digest of ECDSA_SIGN (SHA-512). */
#define SSA_KEEP_MAX_DIGEST 64u
/** Keys one keeper holds at most, all users together (the per-user bound,
 * max-keys-per-user, is what binds in practice: engine/key_slots.h). */
#define SSA_KEEP_MAX_KEYS 65536u
/** The same, for messages. */
#define SSA_KEEP_MAX_KEYS_STR "65536"

/** One decoded message; data points into the decoded buffer. */
struct ssa_keepmsg {
	uint8_t op;          /**< enum ssa_keepmsg_op, | SSA_KEEP_REPLY in replies */
	uint8_t status;      /**< replies: 0 or an errno value; requests: 0 */
	uint32_t id;         /**< request id, echoed by the reply */
	uint32_t key;        /**< key id (0: none) */
	uint32_t len;        /**< payload bytes */
	const uint8_t *data; /**< payload (NULL when len is 0) */
};

/**
 * Encode m into buf.
 * @retval 0 *out_len bytes written
 * @retval EINVAL m is not a valid message (see ssa_keepmsg_decode())
 * @retval ENOSPC cap is too small
 */
int ssa_keepmsg_encode(const struct ssa_keepmsg *m, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * Decode and check one datagram. A request must have a known op, status 0,
 * a key id exactly when the op works on a key, and a payload within the
 * op's bounds; a reply a known op with SSA_KEEP_REPLY, and with status 0
 * a payload within the op's bounds (none for RELEASE).
 * @retval 0 *m filled, m->data points into buf
 * @retval EBADMSG truncated, a length that disagrees with the datagram, an
 *         unknown op, or a value out of bounds
 */
int ssa_keepmsg_decode(const uint8_t *buf, size_t len, struct ssa_keepmsg *m);

/** The op's name ("load-fd", ...), "?" if unknown. */
const char *ssa_keepmsg_op_name(uint8_t op);

#endif
