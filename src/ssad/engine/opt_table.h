/* SPDX-License-Identifier: MIT */
/**
 * @file opt_table.h
 * @brief The IPPROTO_TLS option table and its core over (policy, options):
 *        what both front ends share of setsockopt() and getsockopt().
 *
 * The IPPROTO_TLS options are one table (opt_table.c): per option its
 * value kind, when it may be set, and a set and a get handler, the set
 * handlers being the tighten-only rules of the engine (tls_opts.h). It
 * works on (policy, options) alone, with no connection and no I/O: the
 * libssa front end adds what a connection brings (libssa_front/sockopt.h),
 * the kernel front end calls it directly. The files of file options are
 * read by opt_files.h.
 */
#ifndef SSAD_OPT_TABLE_H
#define SSAD_OPT_TABLE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssa_policy;
struct ssa_tls_opts;

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

/**
 * The path a file option's value names: a NUL-terminated string no longer
 * than the table allows for it.
 * @param path receives val as a string
 * @retval 0 *path set
 * @retval EINVAL not a file option, or not such a string
 */
int ssa_sockopt_file_path(int name, const void *val, size_t len, const char **path);

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

#endif
