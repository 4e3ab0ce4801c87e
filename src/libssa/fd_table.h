/* SPDX-License-Identifier: MIT */
/**
 * @file fd_table.h
 * @brief Which descriptors of this process are TLS sockets.
 *
 * A cache indexed by descriptor number. An entry records the socket's
 * kernel identity, so a stale entry (the number closed by other means and
 * reused) is detected and dropped instead of being trusted. Looking up a
 * descriptor without an entry costs one atomic load: other sockets keep
 * the C library's behaviour at almost no cost.
 */
#ifndef LIBSSA_FD_TABLE_H
#define LIBSSA_FD_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../proto/wire.h"

struct ssa_fd_info {
	dev_t dev;
	ino_t ino;
	int domain;
	uint64_t id;
	uint64_t instance;      /**< the ssad that made it (0: unknown) */
	bool connected;
	bool listening;
	bool bound;
	bool connecting;        /**< a non-blocking connect was started */
	char local_error[160];  /**< a failure found here, before asking ssad */
	/** TLS_REMOTE_HOSTNAME set, checked here and not yet sent: it goes
	 * with the CONNECT (wire.h, SSA_CONNECT_HOSTNAME), or as a SETOPT
	 * before any other request on the socket. Length with the NUL, 0 for
	 * none. */
	uint16_t pending_host_len;
	char pending_host[SSA_WIRE_HOSTNAME_MAX + 1];
	/** TCP_NODELAY set before connect(), held likewise (SSA_CONNECT_NODELAY):
	 * 0 none held, SSA_NODELAY_HELD_OFF or SSA_NODELAY_HELD_ON. */
	uint8_t pending_nodelay;
	/** The handshake's results as the CONNECT reply carried them (wire.h,
	 * SSA_REPLY_RESULTS), a well-formed blob; 0 bytes when this process
	 * has none for the socket (then getsockopt() asks ssad). */
	uint16_t results_len;
	uint8_t results[SSA_WIRE_RESULTS_MAX];
	/* kernel-TLS mode: the descriptor is the TCP socket itself, TLS_TX and
	 * TLS_RX installed by ssad (see ktls_sock.c, "Kernel TLS") */
	bool ktls;
	bool ktls_eof;          /**< close_notify (or the end) was read */
	bool ktls_notified;     /**< our close_notify went out */
	bool ktls_shared;       /**< a fork shares it: close() sends no close_notify */
	/** Made by this process's socket() and never copied since (dup, fork):
	 * the state above is then the socket's, and options may be held for
	 * its CONNECT. Once false, it stays false (ssa_fd_put()). */
	bool sole;
	int ktls_err;           /**< an error to report at the next read */
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
};

/** True if fd may be a TLS socket (fast, no validation). */
bool ssa_fd_maybe(int fd);

/**
 * Copy the entry of fd into *out after checking the descriptor still is
 * the same socket. With discover, a descriptor without an entry (inherited
 * over exec, duplicated) is looked up in ssad.
 * @retval true fd is a TLS socket
 */
bool ssa_fd_get(int fd, struct ssa_fd_info *out, bool discover);

/**
 * Ask ssad about fd (no caching). @retval 0 info filled, or an errno
 */
int ssa_fd_lookup(int fd, struct ssa_fd_info *out);

/** Record or replace the entry of fd. @retval 0 or ENOMEM/EBADF */
int ssa_fd_put(int fd, const struct ssa_fd_info *info);

/**
 * A read on fd returned end-of-stream: was it a clean close_notify?
 * @retval 0 clean end (or not a TLS socket)
 * @retval errno the error the connection ended with (ECONNRESET for a
 *         reset or truncation, EPROTO for a TLS failure, ECONNRESET when
 *         the daemon is gone)
 */
int ssa_fd_eof_error(int fd);

/** Remember a failure libssa itself found on fd, for TLS_ERROR. */
void ssa_fd_set_error(int fd, const char *why);
/** Take (and clear) such a failure. @retval true if there was one */
bool ssa_fd_take_error(int fd, char *out, size_t len);

/** pending_nodelay: TCP_NODELAY held off or on. */
#define SSA_NODELAY_HELD_OFF 1
#define SSA_NODELAY_HELD_ON 2

/**
 * Hold a checked TLS_REMOTE_HOSTNAME value of len bytes (NUL counted, at
 * most SSA_WIRE_HOSTNAME_MAX + 1) for fd's next request.
 * @retval 0 held
 * @retval EBADF fd has no entry
 */
int ssa_fd_set_pending_host(int fd, const void *val, size_t len);
/**
 * Hold TCP_NODELAY's value (on or off) for fd's next request.
 * @retval 0 held
 * @retval EBADF fd has no entry
 */
int ssa_fd_set_pending_nodelay(int fd, bool on);
/**
 * Take (and clear) what fd's socket holds: its TLS_REMOTE_HOSTNAME into out
 * (cap bytes, at least SSA_WIRE_HOSTNAME_MAX + 1), and its TCP_NODELAY.
 * @param nodelay out: 0 none held, SSA_NODELAY_HELD_OFF or _ON
 * @return the host name's length with the NUL, or 0 when none is held
 */
size_t ssa_fd_take_pending(int fd, char *out, size_t cap, int *nodelay);
/** Up to max descriptors holding something. @retval how many */
int ssa_fd_pending_list(int *fds, int max);

/**
 * Answer getsockopt(IPPROTO_TLS, name) from the results the CONNECT reply
 * carried, as ssad would: only while fd's entry holds them and ssad still
 * holds the connection (the application's end shows no hang-up: a released
 * socket answers with an error, so it asks ssad).
 * @param len in: the room in val; out: the value's size
 * @retval 0 answered (the value in val)
 * @retval ERANGE answered: the value needs *len bytes
 * @retval ENOENT not answerable here: ask ssad
 */
int ssa_fd_result(int fd, int name, void *val, socklen_t *len);

/** True if fd may be a kernel-TLS socket (fast, no validation). */
bool ssa_fd_ktls_maybe(int fd);

/** How many descriptors other than fd hold the socket (dev, ino). */
int ssa_fd_ktls_others(int fd, dev_t dev, ino_t ino);

/** Up to max descriptors in kernel-TLS mode. @retval how many */
int ssa_fd_ktls_list(int *fds, int max);

/** Before fork: every socket is now shared with another process (no entry
 * is sole; kernel-TLS sockets are ktls_shared). */
void ssa_fd_forked(void);

/** Whether fd may hide a TLS socket this process never saw made (passed
 * with SCM_RIGHTS, inherited over exec): only an unnamed AF_UNIX socket
 * is worth asking ssad about. */
bool ssa_fd_worth_discovery(int fd);

/** Forget fd (it is being closed). */
void ssa_fd_forget(int fd);

#endif
