/* SPDX-License-Identifier: MIT */
/**
 * @file proc_links.h
 * @brief What ssad reads of a caller's ptrace-checked /proc links: its
 *        executable and its namespaces, with the caller's filesystem ids
 *        (caller_fsids.h), and ssad's own namespaces to compare them with.
 *
 * Reading them needs CAP_SETUID and CAP_SETGID (the fsids). The worker has
 * no capability: it asks its supervisor, which reads them the same way
 * (ssa_proc_links_remote(), supervisor/priv_client.h). Everything else of
 * caller identification (policy.c) reads files anyone may read.
 */
#ifndef SSAD_PROC_LINKS_H
#define SSAD_PROC_LINKS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/** A namespace's identity: its nsfs inode (ino 0: unknown). */
struct ssa_ns_id {
	dev_t dev;
	ino_t ino;
};

/** Whether a and b are known and the same namespace. */
static inline bool ssa_ns_id_same(struct ssa_ns_id a, struct ssa_ns_id b)
{
	return a.ino && a.dev == b.dev && a.ino == b.ino;
}

/** One read: the question (pid, ids, want_netns) and the answers. */
struct ssa_proc_links {
	pid_t pid;
	uid_t uid;             /**< the fsuid to read with */
	gid_t gid;
	bool want_netns;       /**< open its network namespace if not ssad's */
	char exe[PATH_MAX];    /**< readlink of /proc/PID/exe, "" if unreadable */
	bool exe_stat;         /**< exe_dev/exe_ino are valid */
	int exe_errno;         /**< why exe could not be read or stat()ed */
	dev_t exe_dev;
	ino_t exe_ino;
	bool mnt_same, user_same; /**< in ssad's mount / user namespace */
	struct ssa_ns_id userns;  /**< its user namespace */
	bool own_netns;        /**< in another network namespace (even if unreadable) */
	int netns_fd;          /**< -1, or /proc/PID/ns/net (own_netns only) */
	int net_errno;         /**< why the network namespace could not be read */
	struct ssa_ns_id net_owner; /**< the user namespace owning that network
				     *   namespace (NS_GET_USERNS; own_netns only) */
	int sock_domain;       /**< 0, or (with want_netns) also make the caller's
				*   TCP socket of this domain in the namespace
				*   just read, owned by uid/gid, in the same
				*   request: what the worker asks the remote
				*   reader (LINKS_SOCKET carries it as its
				*   domain); the reader itself uses
				*   ssa_proc_links_read_socket() */
	int sock_fd;           /**< -1, or that socket (then netns_fd is -1:
				*   nothing of the namespace is kept) */
	int sock_errno;        /**< why no socket was made: 0 not asked or not
				*   made by this reader (a local read), else
				*   the errno ssa_caller_socket() would give */
	bool sock_made;        /**< ssa_proc_links_read_socket() tried to make it
				*   (sock_fd or sock_errno are its result) */
};

/**
 * Fill the answers of l for l->pid, read with l->uid/l->gid as fsids, in
 * this process (needs CAP_SETUID and CAP_SETGID; without them it reads
 * with the process's own ids, which can read less, never more). Makes no
 * socket (sock_fd -1, sock_errno 0): sock_domain is for the supervisor.
 */
void ssa_proc_links_read(struct ssa_proc_links *l);

/**
 * ssa_proc_links_read(), and when the caller turns out to be in ssad's
 * network namespace and the ids could be taken, its TCP socket of @p domain
 * made with them in the same window (sock_made set; sock_fd, or the errno
 * in sock_errno): one switch of ids and signal mask instead of two. In
 * another namespace, or without the ids, nothing is made (sock_made false)
 * and the caller makes it with ssa_caller_socket(), which enters that
 * namespace. For the supervisor.
 */
void ssa_proc_links_read_socket(struct ssa_proc_links *l, int domain);

/**
 * Fill l: through the function set by ssa_proc_links_remote() if any,
 * else ssa_proc_links_read().
 * @retval 0, or the errno of the remote read (the answers are then "unreadable")
 */
int ssa_proc_links_get(struct ssa_proc_links *l);

/**
 * Route ssa_proc_links_get() through fn (the worker: its supervisor, the
 * process reader, whose credentials the kernel checks).
 */
void ssa_proc_links_remote(int (*fn)(struct ssa_proc_links *l), pid_t reader);

/** The process whose credentials read the links: this one or the remote. */
pid_t ssa_proc_links_reader(void);

/**
 * Whether pid is in ssad's network namespace, for a process whose
 * /proc/PID/ns/net ssad may not read (/proc/PID/net is not ptrace-checked).
 */
bool ssa_proc_in_own_netns(pid_t pid);

/** ssad's own network namespace, opened once. @retval fd or -1 */
int ssa_self_netns_fd(void);

#endif
