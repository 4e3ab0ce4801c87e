/* SPDX-License-Identifier: MIT */
/**
 * @file cfg_files.h
 * @brief Reading the files the configuration names (the configuration
 *        itself, trust stores, CRLs, granted certificates and keys, the
 *        executables of match-exe profiles).
 *
 * In the worker, which runs as an unprivileged user, they are opened by
 * the supervisor, which opens only the files the configuration names
 * (supervisor/cfg_access.h); everywhere else (ssad --test-config, tests)
 * they are opened directly.
 */
#ifndef SSAD_CFG_FILES_H
#define SSAD_CFG_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <openssl/x509.h>

/**
 * Open path read-only, close-on-exec (a directory too).
 * @retval fd, or -1 with errno (EACCES: the supervisor refused a path the
 *         configuration does not name; EIO: no answer)
 */
int ssa_cfg_open(const char *path);

/** stat() path. @retval 0, or -1 with errno as ssa_cfg_open() */
int ssa_cfg_stat(const char *path, struct stat *st);

/**
 * Send ssa_cfg_open() and ssa_cfg_stat() to open_fn and stat_fn (each
 * returning 0 or an errno).
 */
void ssa_cfg_files_remote(int (*open_fn)(const char *path, int *fd),
			  int (*stat_fn)(const char *path, struct stat *st));

/**
 * Add every certificate (want_certs) and CRL (want_crls) of a PEM file, or
 * of each file of a directory, to store, as OpenSSL's file lookup would
 * (files of a directory that hold neither are skipped).
 * @retval 0 at least one was added
 * @retval -1 none, or the path cannot be read: why says (no OpenSSL error
 *         left queued)
 */
int ssa_cfg_load_pem(X509_STORE *store, const char *path, bool want_certs, bool want_crls,
		     char *why, size_t wlen);

#endif
