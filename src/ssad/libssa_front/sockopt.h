/* SPDX-License-Identifier: MIT */
/**
 * @file sockopt.h
 * @brief Socket options of a TLS socket: the IPPROTO_TLS option table
 *        (sockopt.c), a libssa connection's options (sockopt_conn.c), file
 *        options (sockopt_load.c, and sockopt_file.c for a connection) and
 *        network options (sockopt_net.c).
 *
 * The IPPROTO_TLS options are one table (sockopt.c): per option its value
 * kind, when it may be set, and a set and a get handler, the set handlers
 * being the tighten-only rules of the engine (tls_opts.h). Its core works
 * on (policy, options) alone, so that both front ends share it
 * (ssa_sockopt_set_tls(), ssa_sockopt_get_tls(),
 * ssa_sockopt_file_allowed(), ssa_sockopt_load_file()); ssa_sockopt_set() and ssa_sockopt_get()
 * add what a libssa connection brings (its state, files, its network
 * socket).
 */
#ifndef SSAD_SOCKOPT_H
#define SSAD_SOCKOPT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssa_conn;
struct ssa_ctl_client;
struct ssa_policy;
struct ssa_tls_opts;
struct file_job;

/** ssa_sockopt_set_file_async(): the answer comes later. */
#define SSA_SOCKOPT_PENDING (-1)

/** Where a socket stands, as far as setting its TLS options goes. */
enum ssa_opt_stage {
	SSA_OPT_FRESH,       /**< not connected, listening nor accepted: all may be set */
	SSA_OPT_UNCONNECTED, /**< an accepted socket before its handshake is done */
	SSA_OPT_LATE,        /**< connecting, connected, listening, failed or closed */
};

/**
 * Set an IPPROTO_TLS option that names no file, on options under a policy:
 * the option core of both front ends. On failure o->error says why, where
 * there is more to say than the errno.
 * @param st the socket's stage (options not settable there: EOPNOTSUPP)
 * @retval 0 set
 * @retval ENOPROTOOPT unknown option, or not provided by this version
 * @retval EINVAL bad size or value; a file option (it needs its files)
 * @retval EOPNOTSUPP read-only, or not settable at this stage
 * @retval EPERM would weaken the policy
 * @retval ENOMEM no memory
 */
int ssa_sockopt_set_tls(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			enum ssa_opt_stage st, int name, const void *val, size_t len);

/**
 * May a file option (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES) with nfds files be set now? Judges the
 * stage, the order of chains and keys and the policy, not the files.
 * @param path the option's value, for messages
 * @retval 0 yes
 * @retval EINVAL not a file option, wrong number of files, or out of order
 * @retval EOPNOTSUPP not at this stage
 * @retval EPERM the policy forbids added trust anchors
 */
int ssa_sockopt_file_allowed(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			     enum ssa_opt_stage st, int name, const char *path, int nfds);

/** What an IPPROTO_TLS option is read from. */
struct ssa_opt_view {
	const struct ssa_policy *pol;  /**< the socket's policy */
	const struct ssa_tls_opts *o;  /**< its options */
	SSL *ssl;                      /**< its session once established, else NULL */
	uint64_t id;                   /**< TLS_ID */
};

/**
 * Get an IPPROTO_TLS option into out (at most cap bytes); *len receives
 * its size.
 * @retval 0 value in out
 * @retval ERANGE the value needs *len bytes, more than cap
 * @retval ENOPROTOOPT unknown option, set-only, or not provided by this version
 * @retval ENOTCONN the value exists only once connected (v->ssl NULL)
 * @retval ENOMEM no memory
 */
int ssa_sockopt_get_tls(const struct ssa_opt_view *v, int name, void *out, size_t cap,
			size_t *len);

/** Is this one of the options that name files (their kind in the table)? */
bool ssa_sockopt_is_file(int name);

/**
 * Copy an option value of n bytes out, or say how much room it needs.
 * @retval 0 copied, *len = n
 * @retval ERANGE n > cap (*len = n)
 */
int ssa_sockopt_put(void *out, size_t cap, size_t *len, const void *v, size_t n);

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

/* --- files of file options, with no connection (sockopt_load.c) ------------ */

struct ssa_limits;

/** The bytes of PEM that the regular files among fds hold (the others
 * count 0: they are refused when read). */
long long ssa_sockopt_pem_bytes(const int *fds, int nfds);

/**
 * Read a file option's files: the certificates of every file into *certs
 * (at most max_certs in all), or the key of the one file into *key.
 * Thread-safe; on failure why says what is wrong with the files.
 * @retval 0 read (the result is the caller's)
 * @retval EINVAL not a regular file, no certificate, a bad certificate or key
 * @retval EFBIG more than max_certs certificates
 * @retval EIO, ENOMEM reading failed
 */
int ssa_sockopt_read_files(int name, const int *fds, int nfds, int max_certs,
			   STACK_OF(X509) **certs, EVP_PKEY **key, char *why, size_t wlen);

/**
 * Keep what ssa_sockopt_read_files() read in o: a chain added, the key of
 * the last chain, or the trust anchors (replacing earlier ones). certs
 * and key are consumed either way.
 * @retval 0 kept
 * @retval EINVAL out of order, or a key that does not match its chain or
 *         is too weak (o->error says why)
 */
int ssa_sockopt_keep_files(struct ssa_tls_opts *o, int name, const char *path,
			   STACK_OF(X509) *certs, EVP_PKEY *key);

/**
 * A whole file option on options under a policy, here and now: judged
 * (ssa_sockopt_file_allowed()), bounded (max-pem-size and
 * max-trusted-certificates of lim), read and kept. For a front end with
 * no per-user accounting of its own (the kernel front end).
 * @param path the option's value, for messages
 * @retval 0 set
 * @retval EINVAL, EOPNOTSUPP, EPERM as ssa_sockopt_file_allowed(); EINVAL
 *         also for unreadable contents
 * @retval EFBIG more than max-pem-size bytes or max-trusted-certificates
 * @retval EIO, ENOMEM reading failed
 */
int ssa_sockopt_load_file(const struct ssa_policy *pol, const struct ssa_limits *lim,
			  struct ssa_tls_opts *o, enum ssa_opt_stage st, int name,
			  const char *path, const int *fds, int nfds);

/* --- file options of a libssa connection (sockopt_file.c) ------------------- */

/**
 * A file option, here and now (the kernel front end): checked, its files
 * read, kept in c->opts. path is the option's value.
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
