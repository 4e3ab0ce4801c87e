/* SPDX-License-Identifier: MIT */
/**
 * @file priv_msg.h
 * @brief The worker's requests to its supervisor for privileged operations,
 *        and the answers: records on a SOCK_SEQPACKET pair of the exact
 *        size their op needs (ssa_priv_req_len(), ssa_priv_rep_len()), with
 *        descriptors (SCM_RIGHTS). The check has no I/O (fuzzed:
 *        fuzz/fuzz_priv.c).
 *
 * The supervisor treats every request as hostile: the worker parses what
 * remote peers send. A request that fails ssa_priv_req_check() is answered
 * EINVAL and logged, and its descriptors are closed.
 */
#ifndef SSAD_PRIV_MSG_H
#define SSAD_PRIV_MSG_H

#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../engine/proc_links.h"
#include "../keeper/keeper_msg.h"

/** What the worker asks. */
enum ssa_priv_op {
	SSA_PRIV_LINKS = 1, /**< a caller's /proc links (proc_links.h); no descriptor */
	SSA_PRIV_SOCKET,    /**< a caller's TCP socket; its netns as descriptor, or none */
	SSA_PRIV_ACCEPT,    /**< accept on the listener sent, owned by uid/gid */
	SSA_PRIV_BIND,      /**< bind the socket sent to addr (a low port) */
	SSA_PRIV_OPEN,      /**< open a file the configuration names (cfg_access.h) */
	SSA_PRIV_STAT,      /**< stat() a match-exe executable */
	SSA_PRIV_LOADKEY,   /**< load a configured private key into the keeper
			     *   (keeper_loader.h): its id and public key back */
	SSA_PRIV_LINKS_SOCKET, /**< LINKS with want_netns, and in the same round
				*   trip SOCKET in the namespace just read (libssa's
				*   socket(): issue 15); no descriptor */
	SSA_PRIV_KERNEL_KEY, /**< take the key file ssa.ko holds for option
			      *   kindex of request (kid, kseq) and stash it in
			      *   the keeper (kernel_keys.h): a ticket and the
			      *   socket owner's uid back; no descriptor */
};

/** The highest op (the worker's counters are indexed by op). */
#define SSA_PRIV_OP_MAX SSA_PRIV_KERNEL_KEY

/** A request. */
struct ssa_priv_req {
	uint32_t op;       /**< enum ssa_priv_op */
	int32_t pid;       /**< LINKS, LINKS_SOCKET: the caller */
	uint32_t uid, gid; /**< the caller's ids (LINKS, SOCKET, ACCEPT, LINKS_SOCKET) */
	uint32_t want_netns; /**< LINKS: 0 or 1; LINKS_SOCKET: 1 */
	int32_t domain;    /**< SOCKET, LINKS_SOCKET: AF_INET or AF_INET6 */
	uint32_t addr_len; /**< BIND */
	struct sockaddr_storage addr;
	uint64_t kid;      /**< KERNEL_KEY: ssa.ko's request id */
	uint32_t kseq;     /**< KERNEL_KEY: its request number (not 0) */
	uint32_t kindex;   /**< KERNEL_KEY: the option's position (< SSA_OPTS_MAX) */
	char path[PATH_MAX]; /**< OPEN, STAT, LOADKEY: NUL-terminated; sent
			      *   only up to its NUL (nothing of it for the
			      *   other ops) */
};

/**
 * An answer (descriptor: SOCKET's and ACCEPT's socket, LINKS' netns;
 * LINKS_SOCKET's socket when links.sock_errno is 0, else its netns, as
 * LINKS would have sent it).
 */
struct ssa_priv_rep {
	int32_t err;                 /**< 0 or an errno */
	uint32_t addr_len;           /**< ACCEPT: the peer's address */
	struct sockaddr_storage addr;
	uint64_t st_dev, st_ino;     /**< STAT */
	uint32_t st_mode;
	uint32_t key_id;             /**< LOADKEY: the key's id in the keeper */
	uint32_t der_len;            /**< LOADKEY: its public key, DER */
	uint8_t ticket[SSA_KEEP_TICKET_LEN]; /**< KERNEL_KEY: the stash's ticket */
	uint32_t key_uid;            /**< KERNEL_KEY: the socket owner's uid (ssa.ko's) */
	/* Sent only for the ops that fill them (ssa_priv_rep_len()): */
	struct ssa_proc_links links; /**< LINKS, LINKS_SOCKET (its netns_fd and
				      *   sock_fd: the descriptor sent, or -1) */
	uint8_t der[SSA_KEEP_MAX_PAYLOAD]; /**< LOADKEY: der_len bytes */
};

/** How many bytes of r are sent: the fixed part, and the path up to its
 * NUL for the ops that take one. r's path must be NUL-terminated. */
size_t ssa_priv_req_len(const struct ssa_priv_req *r);

/** How many bytes of rp answer op: the fixed part, the links for LINKS
 * and LINKS_SOCKET, the links and der_len bytes of DER for LOADKEY
 * (der_len must be at most SSA_KEEP_MAX_PAYLOAD). */
size_t ssa_priv_rep_len(uint32_t op, const struct ssa_priv_rep *rp);

/**
 * Check len bytes received as the answer to op, in rp.
 * @retval 0 exactly ssa_priv_rep_len(op, rp) bytes, der_len in bounds
 * @retval EINVAL otherwise
 */
int ssa_priv_rep_check(uint32_t op, const struct ssa_priv_rep *rp, size_t len);

/**
 * Check len bytes received with nfds descriptors as a request, into out.
 * @retval 0 a well-formed request
 * @retval EINVAL not exactly ssa_priv_req_len() bytes, unknown op, a descriptor count the op does not
 *         take, a pid not above 0, the id -1, want_netns not 0 or 1 (not
 *         1 for LINKS_SOCKET), a domain not AF_INET/AF_INET6, a KERNEL_KEY
 *         with kseq 0 or kindex not below SSA_OPTS_MAX, an address that is not one of the
 *         socket's family at its exact size, or a path that is empty or
 *         not NUL-terminated
 */
int ssa_priv_req_check(const void *buf, size_t len, size_t nfds, struct ssa_priv_req *out);

#endif
