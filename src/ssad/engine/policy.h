/* SPDX-License-Identifier: MIT */
/**
 * @file policy.h
 * @brief Effective policies: one per profile and configuration generation,
 *        each with its shared client context and granted identity, and the
 *        matching of a program to its profile.
 *
 * A policy is reference-counted: connections keep the one they were made
 * with across reloads; the set of policies is swapped atomically.
 */
#ifndef SSAD_POLICY_H
#define SSAD_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "proc_links.h"
#include "identity.h"

/**
 * Who is asking: taken from the kernel for each request (the sender's
 * SCM_CREDENTIALS and, where the kernel has it, SCM_PIDFD), or when a front
 * end connects (SO_PEERCRED, SO_PEERPIDFD).
 */
struct ssa_peer_id {
	pid_t pid;
	uid_t uid;             /**< effective uid when the request was sent */
	gid_t gid;
	gid_t groups[64];      /**< supplementary groups */
	int n_groups;
	char exe[PATH_MAX];    /**< "" if unknown (the process is gone); for logs */
	bool exe_ok;           /**< exe_dev/exe_ino may match match-exe profiles:
				*   the executable was read from a live process
				*   in ssad's mount and user namespaces */
	const char *exe_why;   /**< NULL, or why the kernel let ssad not read
				*   the executable (a static string, for the
				*   log line of a match-exe profile not applied) */
	dev_t exe_dev;         /**< the executable file's identity */
	ino_t exe_ino;
	bool init_userns;      /**< in ssad's user namespace */
	struct ssa_ns_id userns; /**< its user namespace (ino 0: unread) */
	struct ssa_ns_id net_owner; /**< own_netns: the user namespace owning
				     *   its network namespace (ino 0: unread) */
	uint64_t cap_eff;      /**< effective capabilities in its user namespace,
				*   held both before and after the links were
				*   read; 0 unless identified with the links and
				*   without want_netns */
	bool own_netns;        /**< in another network namespace than ssad: */
	int netns_fd;          /**< ... an open /proc/PID/ns/net (only if own_netns
				*   and no tcp_fd) */
	bool has_tcp;          /**< tcp_fd is the caller's TCP socket ... */
	int tcp_fd;            /**< ... made with the identification
				*   (ssa_peer_identify_socket()) */
};

struct ssa_policy {
	int refs;
	uint64_t generation;
	char *name;                /**< "global" or the profile's name */
	struct ssa_config cfg;     /**< effective values */
	SSL_CTX *client_ctx;       /**< built once, shared by all clients */
	struct ssa_identity granted; /**< from certificate/private-key, if any */
};

/** A composed policy, for one set of matching profiles (built on demand). */
struct ssa_policy_combo {
	unsigned char *matched;    /**< one byte per profile: 1 matched */
	struct ssa_policy *policy;
};

struct ssa_policy_set {
	uint64_t generation;
	struct ssa_config cfg;     /**< the parsed file ([global] + profiles) */
	struct ssa_policy *global;
	struct ssa_policy **apps;  /**< parallel to cfg.profiles */
	struct ssa_policy_combo *combos; /**< where several profiles match */
	int n_combos;
};

/**
 * Load a configuration and build every policy (contexts, trust stores and
 * granted identities are loaded here, once).
 * @retval NULL on error; err holds "file:line: reason" or "file: reason"
 */
struct ssa_policy_set *ssa_policy_set_load(const char *path, bool explicit_path,
					   uint64_t generation, char *err, size_t errlen);
void ssa_policy_set_free(struct ssa_policy_set *set);

/**
 * The policy for a program (a new reference). Profiles compose: when
 * several match, the most specific one (exe 4, user 2, group 1; the first
 * in the file on a tie) is the base, and every other matching profile's
 * own settings tighten it (the tighter value of each). NULL when the
 * composition leaves nothing usable (no common cipher, min above max) or
 * is out of memory: the caller refuses the socket.
 */
struct ssa_policy *ssa_policy_match(struct ssa_policy_set *set,
				    const struct ssa_peer_id *who);
struct ssa_policy *ssa_policy_get(struct ssa_policy *p);
void ssa_policy_put(struct ssa_policy *p);

/**
 * Identify the process behind a connected unix socket: SO_PEERCRED, and
 * the executable through a pidfd so that a recycled pid is detected.
 * @retval 0 filled (exe may be "" if it cannot be known)
 */
int ssa_peer_identify(int sock, struct ssa_peer_id *who);

/**
 * Identify a process the kernel named (pid, effective uid and gid as it
 * sent them; pidfd from SCM_PIDFD or -1). Reads /proc/PID and then checks,
 * through a pidfd, that the process is still alive (so the pid was not
 * reused meanwhile). check_ids: the process's effective ids must still be
 * uid and gid (else ESRCH), so that a process that sends a request and
 * then execs a setuid program is not taken for that program, nor, without
 * SCM_PIDFD, another process that got a dead sender's pid.
 * want_netns: open its network namespace if not ssad's.
 * The ptrace-checked files (exe, ns/...) are read with the process's own
 * filesystem ids (caller_fsids.h), so ssad needs no CAP_SYS_PTRACE for a
 * dumpable process of the same uid and gid. What the kernel still refuses
 * (a non-dumpable process, one that changed ids, one with capabilities
 * ssad lacks, one in another user namespace) fails closed: exe_ok false
 * (exe_why says why), and with want_netns no network (own_netns with no
 * descriptor, logged).
 * @retval 0 filled
 * @retval ESRCH the process is gone or changed ids (who holds only pid,
 *         uid, gid)
 */
int ssa_peer_identify_pid(pid_t pid, uid_t uid, gid_t gid, int pidfd, bool check_ids,
			  bool want_netns, struct ssa_peer_id *who);

/**
 * ssa_peer_identify_pid() with check_ids and want_netns for a process that
 * asked for a TLS socket of domain (AF_INET or AF_INET6), and, in the same
 * request to the reader of its links (the supervisor: one round trip, not
 * two), its TCP socket: made in the network namespace just read (the one
 * it is in now, as the kernel makes TCP sockets at socket() time), owned
 * by uid/gid (supervisor/caller_ops.h). Then who->has_tcp and tcp_fd, and
 * no netns_fd (own_netns still says where the socket is). When it could
 * not be made (no supervisor, no CAP_SETUID, the namespace not entered,
 * socket() failed), who is as ssa_peer_identify_pid() leaves it, netns_fd
 * included, and the socket is made when needed, as without this call.
 * @retval 0 filled; ESRCH as ssa_peer_identify_pid() (the socket closed)
 */
int ssa_peer_identify_socket(pid_t pid, uid_t uid, gid_t gid, int pidfd, int domain,
			     struct ssa_peer_id *who);

/** Close what ssa_peer_identify_pid() opened (the netns descriptor, the
 * TCP socket of ssa_peer_identify_socket() not taken). */
void ssa_peer_id_release(struct ssa_peer_id *who);


/** Root, or a member of the configured admin group. */
bool ssa_peer_is_admin(const struct ssa_peer_id *who, const struct ssa_config *cfg);

#endif
