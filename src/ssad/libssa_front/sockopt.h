/* SPDX-License-Identifier: MIT */
/**
 * @file sockopt.h
 * @brief IPPROTO_TLS socket options: validation, policy, values.
 */
#ifndef SSAD_SOCKOPT_H
#define SSAD_SOCKOPT_H

#include <stddef.h>
#include <stdint.h>

struct ssa_conn;
struct ssa_ctl_client;
struct file_job;

/** ssa_sockopt_set_file_async(): the answer comes later. */
#define SSA_SOCKOPT_PENDING (-1)

/**
 * A file option (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES) from a control client: checked here, its
 * files read on the jobs thread (jobs.h), the answer sent to cl with
 * ssa_ctl_file_done() when done. Until then c->file_job and cl->file_job
 * are set.
 * @retval SSA_SOCKOPT_PENDING started
 * @retval errno refused at once (answer it)
 */
int ssa_sockopt_set_file_async(struct ssa_conn *c, struct ssa_ctl_client *cl, int name,
			       const void *val, size_t len, const int *fds, int nfds);
/** The socket of a pending file job is gone (its answer: EBADF). */
void ssa_sockopt_forget_conn(struct file_job *j);
/** The client of a pending file job is gone (no answer). */
void ssa_sockopt_forget_client(struct file_job *j);

/**
 * Set an option on a connection. Options naming files
 * (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY, TLS_TRUSTED_PEER_CERTIFICATES)
 * come with the files opened by the front end in fds; val is the path,
 * for messages only. On failure c->error says why.
 * @retval 0 set
 * @retval ENOPROTOOPT unknown option, or not provided by this version
 * @retval EINVAL bad size or value
 * @retval EOPNOTSUPP not settable in the connection's state
 * @retval EPERM would weaken the policy
 */
int ssa_sockopt_set(struct ssa_conn *c, int level, int name, const void *val, size_t len,
		    const int *fds, int nfds);

/**
 * Get an option into out (at most cap bytes); *len receives its size.
 * @retval 0 value in out
 * @retval ERANGE the value needs *len bytes, more than cap
 * @retval ENOPROTOOPT unknown option, or not provided by this version
 * @retval ENOTCONN the value exists only once connected
 */
int ssa_sockopt_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		    size_t *len);

#endif
