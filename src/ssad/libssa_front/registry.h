/* SPDX-License-Identifier: MIT */
/**
 * @file registry.h
 * @brief Map from a presented descriptor's kernel identity to its connection.
 *
 * A front end acts on a TLS socket by passing its descriptor; ssad looks up
 * the socket's (device, inode) pair, which the kernel guarantees unique
 * while the socket exists, and its SO_COOKIE, which is never reused (an
 * inode number could come back after the counter wraps). Nothing here is chosen by the caller.
 */
#ifndef SSAD_REGISTRY_H
#define SSAD_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ssa_conn;

struct ssa_sock_key {
	dev_t dev;
	ino_t ino;
	uint64_t cookie; /**< SO_COOKIE: never reused while the system runs */
};

/**
 * The identity of a descriptor, which must be a socket.
 * @retval 0 key filled
 * @retval EBADF fd is not a socket (or fstat failed)
 */
int ssa_sock_key_of(int fd, struct ssa_sock_key *key);

int ssa_registry_add(const struct ssa_sock_key *key, struct ssa_conn *c);
void ssa_registry_del(const struct ssa_sock_key *key);
struct ssa_conn *ssa_registry_find(const struct ssa_sock_key *key);

/**
 * A socket whose connection failed or broke is released at once (its
 * application end then sees the peer gone: reads end, writes fail with
 * EPIPE); what the application may still ask is kept in its tomb for as
 * long as the application's socket exists (see registry.c), charged to
 * its owner as one of her sockets.
 */
struct ssa_tomb {
	struct ssa_sock_key key;
	int err;                /**< the failure's errno */
	bool soerr_taken;       /**< reported once already (SO_ERROR or a read) */
	char reason[160];       /**< TLS_ERROR */
};

void ssa_registry_bury(const struct ssa_sock_key *key, uid_t uid, int err, const char *reason);
/** The tomb of a released socket, or NULL. */
struct ssa_tomb *ssa_registry_tomb(const struct ssa_sock_key *key);
/** Forget the tomb of key (its inode now belongs to a new socket). */
void ssa_registry_unbury(const struct ssa_sock_key *key);
/** Tombs held. */
size_t ssa_registry_tombs(void);
/**
 * Forget the tombs of sockets that no longer exist.
 * @retval number forgotten, or -1 when the system's sockets cannot be
 *         listed (no sock_diag)
 */
int ssa_registry_gc(void);
/** Forget the n oldest tombs of uid (when ssa_registry_gc cannot tell). */
void ssa_registry_evict(uid_t uid, unsigned n);
/** Free everything (daemon exit). */
void ssa_registry_fini(void);

#endif
