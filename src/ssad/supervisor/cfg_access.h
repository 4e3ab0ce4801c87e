/* SPDX-License-Identifier: MIT */
/**
 * @file cfg_access.h
 * @brief What the supervisor opens for the worker: the configuration file,
 *        and the files it names, nothing else.
 *
 * The worker runs as an unprivileged user and cannot read root's files;
 * at every (re)load it asks the supervisor to open them (engine/cfg_files.h).
 * A hostile worker must not get any other file of root's this way: the
 * supervisor reads the configuration for the worker, parses those bytes
 * itself, hands the worker a sealed copy of them, and opens only the paths
 * they name (trust-store,
 * crl-file, certificate, private-key, in [global] and in profiles), the
 * files directly inside a trust-store directory, and it stat()s only the
 * match-exe executables and those files. What the last four versions read
 * so name stays allowed, and always what the version the worker says it
 * runs names (it still runs an older one when it refused a newer one); an
 * edit not yet read (reloaded) changes nothing. Files are
 * opened read-only, non-blocking (no FIFO can stall it), and must be
 * regular files or directories; the configuration a regular file.
 */
#ifndef SSAD_CFG_ACCESS_H
#define SSAD_CFG_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../engine/config.h"

/** The configuration the supervisor follows (ssad --config). */
void ssa_cfg_access_init(const char *config_path, bool explicit_path);

/**
 * The worker runs the version whose bytes have this SHA-256 (its
 * X_SSA_CONFIG notification, notify_msg.h): what it names stays allowed
 * until the worker says it runs another. An unknown digest marks none.
 */
void ssa_cfg_access_running(const uint8_t digest[SSA_CONFIG_DIGEST_LEN]);

/** A new worker: it has read no version yet; none stays allowed. */
void ssa_cfg_access_forget(void);

/**
 * Open path for the worker; the configuration's path gives a sealed copy of
 * its bytes (at most SSA_CONFIG_MAX_BYTES + 1), and what they name becomes
 * openable.
 * @retval 0 with *fd open read-only
 * @retval EACCES the configuration does not name path, or names it as a
 *         private-key (loaded into the keeper by the supervisor instead)
 * @retval EINVAL not a regular file or a directory (the configuration: not
 *         a regular file)
 * @retval errno of open() otherwise
 */
int ssa_cfg_access_open(const char *path, int *fd);

/**
 * Open a private-key file the configuration names, for the keeper (never
 * for the worker: ssa_cfg_access_open() refuses those paths).
 * @retval 0 with *fd, EACCES (not a configured private-key) or as
 *         ssa_cfg_access_open()
 */
int ssa_cfg_access_key(const char *path, int *fd);

/**
 * stat() for the worker a path it may open, or a match-exe executable.
 * @retval 0, EACCES (the configuration does not name it) or errno of stat()
 */
int ssa_cfg_access_stat(const char *path, struct stat *st);

#endif
