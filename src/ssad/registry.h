/* SPDX-License-Identifier: MIT */
/**
 * @file registry.h
 * @brief Map from a presented descriptor's kernel identity to its connection.
 *
 * A front end acts on a TLS socket by passing its descriptor; ssad looks up
 * the socket's (device, inode) pair, which the kernel guarantees unique
 * while the socket exists. Nothing here is chosen by the caller.
 */
#ifndef SSAD_REGISTRY_H
#define SSAD_REGISTRY_H

#include <sys/types.h>

struct ssa_conn;

struct ssa_sock_key {
	dev_t dev;
	ino_t ino;
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
 * Remember that the socket key ended with an error although its owner may
 * still read from it (a bounded ring: the oldest are forgotten first).
 */
void ssa_registry_bury(const struct ssa_sock_key *key, int err);
/** The error a buried socket ended with, or 0. */
int ssa_registry_buried(const struct ssa_sock_key *key);

#endif
