/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * the generic netlink channel between ssa.ko and ssad.
 *
 * Shared by the kernel module (kernel/) and the daemon (src/ssad/kernel_*.c).
 *
 * Family SSA_GENL_NAME, version SSA_GENL_VERSION, init_net only.
 * SSA_CMD_REGISTER needs CAP_NET_ADMIN; every other command must come from
 * the netlink socket that registered as the daemon and, from version 2 on,
 * needs no capability (version 1 modules ask CAP_NET_ADMIN of every
 * command). The daemon learns the version from CTRL_CMD_GETFAMILY
 * (CTRL_ATTR_VERSION).
 *
 *   daemon -> kernel  SSA_CMD_REGISTER   become the TLS service (EBUSY while
 *                                        another registered daemon lives)
 *   kernel -> daemon  SSA_CMD_HANDSHAKE  notification: socket ID needs a
 *                                        handshake; request number SEQ
 *   daemon -> kernel  SSA_CMD_ACCEPT     take request (ID, SEQ); the reply
 *                                        (SSA_CMD_ACCEPT) installs the TCP
 *                                        socket as SSA_A_FD in the daemon and
 *                                        carries role, peer, caller, options
 *   daemon -> kernel  SSA_CMD_DONE       result of request (ID, SEQ):
 *                                        STATUS (errno, 0 = kernel TLS is
 *                                        installed), REASON, RESULT options
 *   kernel -> daemon  SSA_CMD_CHECK      setsockopt(IPPROTO_TLS) waits: may
 *                                        the caller (PID, UID, GID, EXE)
 *                                        have these OPTs (the last is new;
 *                                        file options carry no FD)?
 *   daemon -> kernel  SSA_CMD_CHECKED    answer to CHECK (ID, SEQ): STATUS
 *                                        (0, EPERM, EINVAL, ...), REASON
 *
 * From version 3, a second socket may register as the key taker (ssad's
 * privileged supervisor, which reads no network byte): while one is
 * registered, an ACCEPT does not install the file of a TLS_PRIVATE_KEY
 * option in the daemon; the option comes with SSA_OPT_HELD instead, and
 * the key taker fetches the file:
 *
 *   taker  -> kernel  SSA_CMD_REGISTER_KEYS  become the key taker (needs
 *                                        CAP_NET_ADMIN; EBUSY while another
 *                                        registered taker lives)
 *   taker  -> kernel  SSA_CMD_TAKE_KEY   (ID, SEQ, INDEX: the option's
 *                                        position in the ACCEPT) of an
 *                                        accepted request; the reply
 *                                        (SSA_CMD_TAKE_KEY) installs the key
 *                                        file as SSA_A_FD in the taker and
 *                                        carries UID; once per option
 *                                        (ENOENT then, as for a wrong INDEX
 *                                        or an option not held)
 *
 * IDs are random 64-bit numbers; a request is accepted once and finished
 * once; a wrong ID or SEQ gives ENOENT, a second ACCEPT or a DONE before
 * ACCEPT gives EALREADY / EINVAL.
 */
#ifndef SSA_GENL_H
#define SSA_GENL_H

#define SSA_GENL_NAME "ssa"
#define SSA_GENL_VERSION 3
/* The first version whose ACCEPT/DONE/CHECKED need no CAP_NET_ADMIN. */
#define SSA_GENL_VERSION_UNPRIV 2
/* The first version with a key taker (REGISTER_KEYS, TAKE_KEY). */
#define SSA_GENL_VERSION_KEYS 3

/* Bounds the kernel enforces (nla_policy) and the daemon relies on. */
#define SSA_OPT_VALUE_MAX 4096   /* one option value */
#define SSA_OPTS_MAX 32          /* options a socket may hold */
#define SSA_REASON_MAX 256       /* TLS_ERROR text, with its NUL */
#define SSA_RESULT_MAX 60000     /* one result value (peer chain PEM); nla_len is 16 bits */
#define SSA_EXE_MAX 4096

enum ssa_genl_cmd {
	SSA_CMD_UNSPEC,
	SSA_CMD_REGISTER,
	SSA_CMD_HANDSHAKE,
	SSA_CMD_ACCEPT,
	SSA_CMD_DONE,
	SSA_CMD_CHECK,
	SSA_CMD_CHECKED,
	SSA_CMD_REGISTER_KEYS,
	SSA_CMD_TAKE_KEY,
	__SSA_CMD_MAX,
};

#define SSA_CMD_MAX (__SSA_CMD_MAX - 1)

enum ssa_genl_role {
	SSA_ROLE_CLIENT_K = 1, /* connect(): the daemon connects SSA_A_ADDR */
	SSA_ROLE_SERVER_K = 2, /* accepted by a listener: already connected */
};

enum ssa_genl_attr {
	SSA_A_UNSPEC,
	SSA_A_PAD,
	SSA_A_ID,        /* u64: the socket's request id (TLS_ID) */
	SSA_A_SEQ,       /* u32: request number */
	SSA_A_FD,        /* s32: the TCP socket, now in the daemon's fd table */
	SSA_A_ROLE,      /* u8: enum ssa_genl_role */
	SSA_A_FAMILY,    /* u16: AF_INET or AF_INET6 */
	SSA_A_ADDR,      /* binary sockaddr: client: where to connect; server: peer */
	SSA_A_PID,       /* u32: the socket's creator (thread group id) */
	SSA_A_UID,       /* u32: its effective uid (init user namespace) */
	SSA_A_GID,       /* u32: its effective gid */
	SSA_A_EXE,       /* string: its executable, "" if unknown */
	SSA_A_OPT,       /* nested ssa_genl_opt_attr: one option, in order set */
	SSA_A_STATUS,    /* u32: 0 or a positive errno */
	SSA_A_REASON,    /* string: TLS_ERROR text */
	SSA_A_RESULT,    /* nested ssa_genl_opt_attr: a value getsockopt returns */
	SSA_A_INDEX,     /* u32: TAKE_KEY: the option's position in the ACCEPT */
	__SSA_A_MAX,
};

#define SSA_A_MAX (__SSA_A_MAX - 1)

enum ssa_genl_opt_attr {
	SSA_OPT_UNSPEC,
	SSA_OPT_NAME,    /* u32: IPPROTO_TLS option name */
	SSA_OPT_VALUE,   /* binary: the value as setsockopt() got it */
	SSA_OPT_FD,      /* s32: the file it names, opened by the caller */
	SSA_OPT_HELD,    /* flag: its file is kept for the key taker (TAKE_KEY) */
	__SSA_OPT_MAX,
};

#define SSA_OPT_MAX (__SSA_OPT_MAX - 1)

#endif /* SSA_GENL_H */
