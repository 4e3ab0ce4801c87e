/* SPDX-License-Identifier: MIT */
/**
 * @file sockopt.h
 * @brief Socket options of a libssa connection: the engine's option table
 *        (engine/opt_table.h) with the connection's stage (sockopt_conn.c),
 *        its file options (sockopt_file.c, reading with engine/opt_files.h)
 *        and its network options (sockopt_net.c).
 *
 * The IPPROTO_TLS options are one table in the engine, working on (policy,
 * options) alone so that both front ends share it; ssa_sockopt_set() and
 * ssa_sockopt_get() add what a libssa connection brings (its state, its
 * files and their per-user accounting, its network socket).
 */
#ifndef SSAD_SOCKOPT_H
#define SSAD_SOCKOPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../engine/opt_files.h"
#include "../engine/opt_table.h"

struct ssa_conn;
struct ssa_ctl_client;
struct file_job;

/** ssa_sockopt_set_file_async(): the answer comes later. */
#define SSA_SOCKOPT_PENDING (-1)

/* --- a libssa connection (sockopt_conn.c) ------------------------------------ */

/** The stage of a libssa connection (ssa_sockopt_set_tls()). */
enum ssa_opt_stage ssa_sockopt_stage(const struct ssa_conn *c);

/**
 * Set an option on a connection. Options naming files
 * (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY, TLS_TRUSTED_PEER_CERTIFICATES)
 * come with the files opened by the front end in fds; val is the path,
 * for messages only. On failure c->opts.error says why.
 * @retval 0 set
 * @retval ENOPROTOOPT unknown option, or not provided by this version
 * @retval EINVAL bad size or value
 * @retval EOPNOTSUPP not settable in the connection's state
 * @retval EPERM would weaken the policy
 * @retval other as ssa_sockopt_set_file() and setsockopt(2)
 */
int ssa_sockopt_set(struct ssa_conn *c, int level, int name, const void *val, size_t len,
		    const int *fds, int nfds);

/**
 * Get an option into out (at most cap bytes); *len receives its size.
 * @retval 0 value in out
 * @retval ERANGE the value needs *len bytes, more than cap
 * @retval ENOPROTOOPT unknown option, or not provided by this version
 * @retval ENOTCONN the value exists only once connected
 * @retval other getsockopt(2)'s errno (network options)
 */
int ssa_sockopt_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		    size_t *len);

/* --- file options of a libssa connection (sockopt_file.c) ------------------- */

/**
 * A file option, here and now (ssa_sockopt_set()): checked, bounded per
 * user, its files read, kept in c->opts. path is the option's value.
 * @retval 0 set
 * @retval EINVAL, EOPNOTSUPP, EPERM as ssa_sockopt_file_allowed()
 * @retval EAGAIN another file of the socket is being read, or the user's
 *         requests used their share of ssad's time
 * @retval EFBIG more than max-pem-size bytes or max-trusted-certificates
 * @retval ENOBUFS the user's sockets would hold too many trusted certificates
 * @retval EIO, ENOMEM reading failed
 */
int ssa_sockopt_set_file(struct ssa_conn *c, int name, const char *path, const int *fds,
			 int nfds);

/**
 * A file option (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES) from a control client: checked here, its
 * files read on the jobs thread (jobs.h), the answer sent to cl with
 * ssa_ctl_file_done() when done. Until then c->file_job and cl->file_job
 * are set. With a ticket (TLS_PRIVATE_KEY only, and no descriptor), the
 * key is the file the application handed to the key intake
 * (supervisor/key_intake.h), loaded by the keeper for sender, the uid that
 * sent the request (ssa_remote_key_load_ticket()).
 * @retval SSA_SOCKOPT_PENDING started
 * @retval errno refused at once (answer it); EINVAL for a ticket with
 *         another option or with descriptors, or neither
 */
int ssa_sockopt_set_file_async(struct ssa_conn *c, struct ssa_ctl_client *cl, int name,
			       const void *val, size_t len, const int *fds, int nfds,
			       const uint8_t *ticket, uid_t sender);
/** The socket of a pending file job is gone (its answer: EBADF). */
void ssa_sockopt_forget_conn(struct file_job *j);
/** The client of a pending file job is gone (no answer). */
void ssa_sockopt_forget_client(struct file_job *j);

/* --- network options (sockopt_net.c) --------------------------------------- */

/**
 * Set a SOL_SOCKET/IPPROTO_TCP/IP/IPV6 option on the connection's network
 * socket (created on demand): only those on the whitelist.
 * @retval 0 set
 * @retval ENOPROTOOPT not on the whitelist
 * @retval EINVAL bad size
 * @retval EPERM a priority that needs CAP_NET_ADMIN
 * @retval ENOTCONN no network socket can be made yet
 * @retval other setsockopt(2)'s errno
 */
int ssa_sockopt_net_set(struct ssa_conn *c, int level, int name, const void *val, size_t len);

/**
 * Get a network option (SO_ERROR: the failed connect's error, once).
 * @retval 0, ERANGE, ENOPROTOOPT, ENOTCONN as ssa_sockopt_get(); other
 *         getsockopt(2)'s errno
 */
int ssa_sockopt_net_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
			size_t *len);

#endif
