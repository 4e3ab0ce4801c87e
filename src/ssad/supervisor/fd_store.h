/* SPDX-License-Identifier: MIT */
/**
 * @file fd_store.h
 * @brief The supervisor's descriptor store: what the worker stores with
 *        "FDSTORE=1" (its listeners, their settings), kept while the worker
 *        is replaced and handed to the next one, as systemd's store is to
 *        the next ssad (libssa_front/handover.h).
 */
#ifndef SSAD_FD_STORE_H
#define SSAD_FD_STORE_H

#include <stddef.h>
#include <sys/types.h>

#include "../sd_listen.h"

/** One stored descriptor. */
struct ssa_fd_entry {
	struct ssa_sd_fd sd; /**< descriptor and FDNAME */
	dev_t dev;           /**< fstat() identity: the same open file is kept once */
	ino_t ino;
};

/** The store; zero-initialised is empty. */
struct ssa_fd_store {
	struct ssa_fd_entry *e;
	size_t n, cap;
};

/**
 * Keep fd (the store owns it from now on, whatever the result) under name.
 * The same open file under the same name is kept once.
 * @retval 0 kept (or already there: fd closed)
 * @retval ENOSPC SSA_SD_LISTEN_MAX descriptors are stored already (fd closed)
 * @retval ENOMEM no memory (fd closed)
 * @retval EBADF fd is not open
 */
int ssa_fd_store_add(struct ssa_fd_store *s, const char *name, int fd);

/** Close and forget every descriptor stored under name. @return how many */
size_t ssa_fd_store_remove(struct ssa_fd_store *s, const char *name);

/**
 * A malloc'ed copy of the entries (descriptor numbers valid in this process
 * and in a child forked from it), for ssa_sd_listen_inherit().
 * @retval NULL with *n = 0 when the store is empty, or no memory
 */
struct ssa_sd_fd *ssa_fd_store_list(const struct ssa_fd_store *s, size_t *n);

/** Close everything and free the store. */
void ssa_fd_store_clear(struct ssa_fd_store *s);

#endif
