/* SPDX-License-Identifier: MIT */
/**
 * @file kernel_msg.h
 * @brief Parsing and building the generic netlink messages of the kernel
 *        front end (include/ssa/ssa_genl.h). No I/O here: fuzzed by
 *        fuzz/fuzz_genl.c.
 */
#ifndef SSAD_KERNEL_MSG_H
#define SSAD_KERNEL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ssa/ssa_genl.h"

struct ssa_kopt {
	uint32_t name;
	const uint8_t *val;   /**< points into the message */
	uint32_t len;
	int fd;               /**< -1 if none */
	bool held;            /**< SSA_OPT_HELD: a key file the key taker
			       *   fetches (TAKE_KEY), not sent here */
};

/** One message from the kernel, checked. */
struct ssa_kmsg {
	uint16_t type;        /**< nlmsg_type */
	uint32_t nlseq;       /**< nlmsg_seq */
	int error;            /**< NLMSG_ERROR: 0 (ack) or a positive errno */
	uint8_t cmd;          /**< genl command, 0 if not a family message */
	bool has_id, has_seq, has_fd, has_uid;
	uint64_t id;
	uint32_t seq;
	int fd;
	uint8_t role;
	uint16_t family;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint32_t pid, uid, gid;
	const char *exe;      /**< points into the message, "" if absent */
	struct ssa_kopt opts[SSA_OPTS_MAX];
	int n_opts;
	uint16_t ctrl_family_id; /**< CTRL_CMD_NEWFAMILY: the id, else 0 */
	uint32_t ctrl_version;   /**< CTRL_CMD_NEWFAMILY: the family's version, else 0 */
};

/**
 * Check and decode one netlink message of len bytes (nlmsg_len may be
 * smaller than len; the rest is not looked at).
 * @param family_id the ssa family's id (0 before it is known)
 * @retval 0 decoded into m
 * @retval EINVAL malformed (m is partly filled; m->fd and option fds that
 *         were seen are still reported so that they can be closed)
 */
int ssa_kmsg_parse(const void *buf, size_t len, uint16_t family_id, struct ssa_kmsg *m);

/** Length of the first message in buf, or 0 if buf holds no whole message. */
size_t ssa_kmsg_next(const void *buf, size_t len);

/** A request under construction (fixed buffer). */
struct ssa_kreq {
	uint8_t buf[131072] __attribute__((aligned(4))); /**< heap-allocate it */
	size_t len;
	bool overflow;
};

void ssa_kreq_init(struct ssa_kreq *r, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd,
		   uint8_t version);
void ssa_kreq_put(struct ssa_kreq *r, uint16_t type, const void *data, size_t len);
void ssa_kreq_put_u32(struct ssa_kreq *r, uint16_t type, uint32_t v);
void ssa_kreq_put_u64(struct ssa_kreq *r, uint16_t type, uint64_t v);
void ssa_kreq_put_str(struct ssa_kreq *r, uint16_t type, const char *s);
/** Open and close a nested attribute; returns its offset for nest_end. */
size_t ssa_kreq_nest(struct ssa_kreq *r, uint16_t type);
void ssa_kreq_nest_end(struct ssa_kreq *r, size_t off);
/** The controller's GETFAMILY for the ssa family (SSA_GENL_NAME), with an
 * acknowledgement asked, as request seq. */
void ssa_kreq_get_family(struct ssa_kreq *r, uint32_t seq);
/** Finish: set nlmsg_len. @retval 0 or EMSGSIZE */
int ssa_kreq_end(struct ssa_kreq *r);

#endif
