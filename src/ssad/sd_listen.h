/* SPDX-License-Identifier: MIT */
/**
 * @file sd_listen.h
 * @brief Descriptors a service manager passed at start: systemd's
 *        $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES (sd_listen_fds(3)),
 *        written out without libsystemd.
 */
#ifndef SSAD_SD_LISTEN_H
#define SSAD_SD_LISTEN_H

#include <stddef.h>

/** The first passed descriptor (SD_LISTEN_FDS_START). */
#define SSA_SD_LISTEN_START 3
/** Most descriptors taken (more are closed, unused). */
#define SSA_SD_LISTEN_MAX 65536

/** One passed descriptor and its name ("unknown" when none was given). */
struct ssa_sd_fd {
	int fd;
	char name[256];
};

/**
 * Take the descriptors passed to this process: only when $LISTEN_PID is
 * our pid. The variables are removed from the environment, the
 * descriptors made close-on-exec. *out is malloc'ed (NULL when none).
 * @retval 0 *out holds *n descriptors (0: none passed)
 * @retval EINVAL the variables are malformed (why says; nothing taken,
 *         the descriptors 3..3+N-1 are closed if N could be read)
 * @retval ENOMEM no memory
 */
int ssa_sd_listen_fds(struct ssa_sd_fd **out, size_t *n, char *why, size_t wlen);

/**
 * Descriptors this process inherited from its supervisor (a fork of it:
 * supervisor/supervisor.h): the next ssa_sd_listen_fds() returns them
 * (it takes fds, a malloc'ed array, and n) instead of reading $LISTEN_FDS.
 */
void ssa_sd_listen_inherit(struct ssa_sd_fd *fds, size_t n);

#endif
