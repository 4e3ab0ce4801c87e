/* SPDX-License-Identifier: MIT */
/**
 * @file conn.h
 * @brief One TLS socket of an application, as ssad holds it.
 *
 * The application holds one end of an AF_UNIX stream pair (its "TLS
 * socket"); ssad holds the other end and, once connected, the TCP socket
 * and the TLS session, and moves plaintext between them (proxy path).
 */
#ifndef SSAD_CONN_H
#define SSAD_CONN_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../../proto/wire.h"
#include "../event_loop.h"
#include "../engine/hs_pool.h"
#include "../engine/identity.h"
#include "../engine/ktls_keys.h"
#include "../engine/policy.h"
#include "../engine/tls_context.h"
#include "../engine/tls_opts.h"
#include "registry.h"
#include "../users.h"

struct ssad;
struct ssa_conn;

/**
 * The completion of a connect, as net/handshake's hp_done: called once when
 * the connect ends, by whoever finished it (handshake, failure, timeout,
 * teardown), never by the one that started it. c->state says how it ended:
 * SSA_STATE_ESTABLISHED (c->local and c->peer hold the addresses) or not
 * (c->error_errno, c->opts.error say why). fd >= 0: the handshake succeeded
 * and the TCP socket itself, with kernel TLS installed, goes to the
 * application (ktls.h); fd is still the connection's, the callee passes it on.
 * @retval 0 the result was delivered
 * @retval errno it could not be (only heeded with fd >= 0: the connection
 *         then fails)
 */
typedef int ssa_conn_done_fn(struct ssa_conn *c, void *arg, int fd);

enum ssa_role {
	SSA_ROLE_NEW = 0,   /**< not yet connected or listening */
	SSA_ROLE_CLIENT,    /**< connect() */
	SSA_ROLE_LISTENER,  /**< listen(): hands out accepted connections */
	SSA_ROLE_SERVER,    /**< accepted by a listener */
};

struct ssa_conn {
	struct ssa_zombie zombie;
	enum ssa_role role;
	bool registered;              /**< key is in the registry */
	struct ssad *d;
	struct ssa_conn *prev, *next; /**< in d->conns */
	uint64_t id;                  /**< TLS_ID: random, never reused */
	struct ssa_sock_key key;      /**< identity of the application's end */
	int domain;
	enum ssa_conn_state state;
	struct ssa_watch app;         /**< ssad's end of the application stream */
	struct ssa_watch net;         /**< the TCP socket to the peer */
	struct ssa_deadline timer;    /**< handshake deadline */
	SSL *ssl;
	struct ssa_hs_job hs;         /**< a handshake step off the loop */
	bool hs_doomed;               /**< destroy when the step comes back */
	bool hs_timed_out;            /**< the deadline passed during the step */
	ssa_conn_done_fn *done;       /**< completion of a blocking connect, or NULL */
	void *done_arg;               /**< its argument (the waiting client) */

	struct ssa_tls_opts opts;     /**< the application's TLS options */

	/* listener */
	SSL_CTX *server_ctx;          /**< built once at listen() */
	int backlog;
	unsigned handshaking;         /**< accepted, handshake in progress */
	int rec_cost;                 /**< SIOCOUTQ bytes one queued record costs */
	struct ssa_deadline retry;    /**< re-check a full backlog */
	struct ssa_conn *listener;    /**< server: its listener during the handshake */
	int spare[2];                 /**< server: its application stream pair, made at
				       *   accept so that a finished handshake always
				       *   has its descriptors (valid if has_spare) */
	bool has_spare;
	struct ssa_conn *hs_prev, *hs_next; /**< in the listener's handshake list */
	struct ssa_conn *hs_head, *hs_tail; /**< listener: handshakes, oldest first */

	/* the connect gate: while a non-blocking connect runs, the application's
	 * end is kept unwritable by gate bytes queued towards us, so that
	 * poll/select/epoll report the connect done only when it is */
	size_t gate_left;             /**< gate bytes still to discard */
	bool bound;                   /**< bind() done */
	int nodelay;                  /**< TCP_NODELAY as the application set it */
	int app_sndbuf0;              /**< SO_SNDBUF of the application's end when made
				       *  (-1: unknown), to tell whether it set its own */
	bool nodelay_on;              /**< TCP_NODELAY is on on net.fd (set for the handshake) */
	bool soerr_taken;             /**< SO_ERROR already read */

	/* results */
	int error_errno;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;

	/* proxy state; buffers are allocated only while they hold data */
	uint8_t *up, *down;           /**< app->net and net->app */
	size_t up_off, up_len, down_off, down_len;
	int read_want, write_want;    /**< SSL_ERROR_WANT_* of the last call */
	bool net_ready, app_ready;    /**< may have input: set by an event, cleared
				       *   when a read found nothing, so a side that
				       *   just said EAGAIN is not asked again
				       *   before epoll reports it */
	bool app_eof;                 /**< the application shut down writing */
	bool app_gone;                /**< the application closed its socket */
	bool app_noread;              /**< the application stopped reading */
	bool net_eof;                 /**< close_notify received */
	bool notify_sent;             /**< our close_notify is out */
	bool app_shut;                /**< we shut down writing to the application */
	bool net_dead;                /**< the network side failed; see error */
	uint64_t bytes_up, bytes_down;
	/** The blocking CONNECT asked for the handshake's results with its
	 *  answer (SSA_CONNECT_RESULTS, requests.c). */
	bool want_results;

	/* kernel-TLS hand-off (handoff.c) */
	bool ktls_want;               /**< the session may go to the application
				       *   as a kernel-TLS socket (listener: its
				       *   connections may) */
	bool ktls;                    /**< handed off: the application holds the
				       *   TCP socket; this record serves getsockopt */
	uint64_t ktls_cookie;         /**< SO_COOKIE of the handed-off socket */
	struct ssa_ktls_secret ktls_secret; /**< TLS 1.3 peer traffic secret */

	/* the policy it was made under, and its creator (logs, status) */
	struct ssa_policy *pol;
	char *program;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	/* the creator's network namespace when it is not ssad's: the TCP
	 * socket is made there (an open /proc/PID/ns/net, until then) */
	bool own_netns;
	int netns_fd;
	bool net_in_own_ns;           /**< the TCP socket was made there */
	struct ssa_ns_id net_owner;   /**< the user namespace owning it (a
				       *   privileged bind(), listener.c) */
	struct ssa_user *user;        /**< whom it is charged to (users.h) */
	bool hs_charged;              /**< counted in user->handshakes */
	unsigned n_trusted;           /**< certificates in trusted, counted in user->trusted */
	struct file_job *file_job;    /**< its files being read (sockopt.h) */
	uint64_t created_ms;
	uint64_t hs_start_us;         /**< connect() or TCP accept: the handshake's start (metrics) */
};

/** SO_PASSRIGHTS (Linux 6.16), older headers lack it. */
#ifndef SO_PASSRIGHTS
#define SSA_SO_PASSRIGHTS 83
#else
#define SSA_SO_PASSRIGHTS SO_PASSRIGHTS
#endif

/** A new application stream (AF_UNIX socket pair, close-on-exec; sv[0]
 * the application's end) with room for bulk transfers: ssad's end always,
 * the application's end if app_room (ssa_conn_app_room()). ssad's end
 * refuses descriptors (SO_PASSRIGHTS 0) where the kernel can.
 * @retval 0, or -1 with errno set */
int ssa_conn_stream_pair(int sv[2], bool app_room);

/** Close c's end of its application stream (c->app.fd; -1: nothing).
 * Where the kernel lets applications send descriptors on it (before Linux
 * 6.16), descriptors unread would be released with it, which can wait:
 * then it is shut down first (not a listener's, which the next ssad may
 * take over) and, unless nothing is unread, closed off the loop, charged to
 * c->uid (caller_fds.h). */
void ssa_conn_close_stream(const struct ssa_conn *c);

/** Room for bulk uploads on the application's end app_fd (best effort). */
void ssa_conn_app_room(int app_fd);

/** Read ahead on a proxied session: several records per read() of the TCP
 * socket, not two system calls per record. */
void ssa_conn_read_ahead(SSL *ssl);

/**
 * Create a TLS socket: a new stream pair whose application end is
 * returned in *app_fd (ssad must close it after sending it). If who has
 * the caller's TCP socket (who->has_tcp: ssa_peer_identify_socket()), the
 * connection takes it on success (the caller then forgets who->tcp_fd), and
 * connect, bind and network options ask the supervisor for none; on
 * failure it stays the caller's.
 * @retval NULL with *err set (EAFNOSUPPORT, ENOMEM, EMFILE: the user holds
 *         max-sockets-per-user sockets or ssad is down to its reserve of
 *         descriptors, ...)
 */
struct ssa_conn *ssa_conn_new(struct ssad *d, int domain, const struct ssa_peer_id *who,
			      int *app_fd, int *err);

/** Find the connection of a presented descriptor; NULL: *err = EBADF. */
struct ssa_conn *ssa_conn_of_fd(int fd, int *err);

/**
 * Start TCP connect + handshake. On 0 the result is delivered later through
 * done(c, done_arg, fd) (no done: a non-blocking connect, whose end shows
 * through the gate on app_fd, the application's end); otherwise nothing was
 * started and done is never called.
 * @retval 0 started
 * @retval EISCONN already connected
 * @retval EALREADY a connect is in progress
 * @retval EAFNOSUPPORT address family differs from the socket's
 * @retval EAGAIN the user has max-handshakes-per-user connects under way
 * @retval other errno from socket()/connect()
 */
int ssa_conn_connect(struct ssa_conn *c, const struct sockaddr *sa, socklen_t len,
		     ssa_conn_done_fn *done, void *done_arg, int app_fd);

/** Whoever waits for c's connect is gone: its completion is not called. */
void ssa_conn_forget_done(struct ssa_conn *c);

/**
 * The network socket, created on demand before connect/bind so that socket
 * options can be set on it. It is the creator's as a TCP socket it made
 * itself would be: owned by its uid (the kernel's SO_REUSEPORT and
 * sk_uid rules look at that; made with the thread's fsuid) and in its
 * network namespace. @retval 0 or errno
 */
int ssa_conn_net_socket(struct ssa_conn *c);

/**
 * Bind the socket's network side (creating it). A port below
 * ip_unprivileged_port_start needs what TCP would ask of the caller: root
 * or CAP_NET_BIND_SERVICE (caller NULL: port 0 only).
 * @retval 0 bound; c->local holds the address (real port)
 * @retval EINVAL already bound or connected; EAFNOSUPPORT; EACCES for a
 *         privileged port and an unprivileged caller; bind()'s errno
 */
int ssa_conn_bind(struct ssa_conn *c, const struct sockaddr *sa, socklen_t len,
		  const struct ssa_peer_id *caller);

/**
 * Start listening: needs at least one identity (chain and key).
 * @retval 0 listening
 * @retval EINVAL no identity, or not in a state to listen (c->error says)
 */
int ssa_conn_listen(struct ssa_conn *c, int backlog);

/** Give the network socket the application's TCP_NODELAY (after the
 * handshake, which always runs with it on). */
void ssa_conn_apply_nodelay(struct ssa_conn *c);

/**
 * Close a network socket without waiting. An SO_LINGER with a timeout (an
 * application's, set through a TLS socket or inherited from its listener)
 * would make close() wait, up to that timeout, until queued data and the
 * FIN are acknowledged: on the loop that serves every user, for as long as
 * one user chose or a peer withholds its ACKs. Such a linger is turned off
 * first: the kernel still sends what is queued, then the FIN, in the
 * background, as it does once a linger times out. {1, 0} (a reset) stays.
 * On this (proxy) path the application's own close() never waited for it
 * either: it closes its end of the stream pair.
 */
void ssa_net_close(int fd);

/** A connection record with no descriptors yet, not linked (handover.c
 * rebuilds listeners on it). NULL: no memory. */
struct ssa_conn *ssa_conn_alloc(struct ssad *d, int domain);

/* Used between conn.c and listener.c */
struct ssa_conn *ssa_conn_new_server(struct ssa_conn *listener, int net_fd);
void ssa_conn_link(struct ssa_conn *c);
void ssa_conn_start_handshake(struct ssa_conn *c);
/* Start the proxy of a server connection whose application end was just
 * delivered: the client's first records may be waiting, the application
 * cannot have written yet (epoll, level-triggered, says when it has). */
void ssa_conn_pump(struct ssa_conn *c);
/** Watch each side for what the connection's state waits for. */
void ssa_conn_update_interest(struct ssa_conn *c);
/** The peer's address as text ("host:port", "[v6]:port" or "-"), in buf. */
const char *ssa_conn_peer_str(const struct ssa_conn *c, char *buf, size_t len);
void ssa_listener_handshake_done(struct ssa_conn *c);
void ssa_listener_on_net(struct ssa_conn *l);
void ssa_listener_child_gone(struct ssa_conn *c);

/** Tear down at once; while a handshake step runs on a worker, as soon as
 * it comes back. */
void ssa_conn_destroy(struct ssa_conn *c);

#endif
