/* SPDX-License-Identifier: MIT */
/* The control socket: accepting front ends, reading their requests, sending
 * replies, and each client's life (requests.c decodes and answers them). */
#include "control.h"
#include "../supervisor/supervisor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../caller_fds.h"
#include "../../proto/wire_io.h"
#include "../daemon.h"
#include "../users.h"

static unsigned n_throttled; /* clients waiting for their user's share */

static void client_free(struct ssa_zombie *z)
{
	free(z);
}

/* Let go of the request's descriptors. The socket it named, when it is the
 * application end of one of ssad's proxied sockets that holds no unread
 * bytes (then no descriptor either), here and now: its release cannot wait,
 * and must precede the answer (ssa_ctl_send()). Anything else a caller sent
 * may be a lingering TCP socket, a unix socket with such sockets queued, or
 * a file on FUSE, whose release waits: off the loop (caller_fds.h). */
static void release_req_fds(struct ssa_ctl_client *cl)
{
	uid_t uid = cl->user ? cl->user->uid : cl->who.uid;

	for (int i = 0; i < cl->n_req_fds; i++) {
		if (i == 0 && cl->req_fd_conn)
			close(cl->req_fds[i]);
		else
			ssa_caller_fd_close(uid, cl->req_fds[i]);
	}
	cl->n_req_fds = 0;
	cl->req_fd_conn = false;
}

/* Close a control connection: requests it still holds unread may carry
 * descriptors, released with it, so always off the loop (no count of a
 * SOCK_SEQPACKET queue tells: an empty message can carry descriptors).
 * Shut down first: the client sees the end now. */
static void close_ctl(int fd, uid_t uid)
{
	shutdown(fd, SHUT_RDWR);
	ssa_caller_fd_close(uid, fd);
}

static void client_drop(struct ssa_ctl_client *cl)
{
	if (!cl->w.handler)
		return; /* already dropped in this batch */
	ssa_requests_client_gone(cl);
	ssa_watch_del(&cl->d->loop, &cl->w);
	if (cl->req_cred.pidfd >= 0)
		close(cl->req_cred.pidfd);
	cl->req_cred.pidfd = -1;
	release_req_fds(cl);
	close_ctl(cl->w.fd, cl->user ? cl->user->uid : cl->who.uid);
	cl->w.fd = -1;
	cl->w.handler = NULL;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		cl->d->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	cl->d->stats.clients_live--;
	if (cl->user && cl->user->clients)
		cl->user->clients--;
	if (cl->throttled) {
		cl->throttled = false;
		n_throttled--;
	}
	cl->user = NULL;
	ssa_loop_bury(&cl->d->loop, &cl->zombie);
}

int ssa_ctl_send(struct ssa_ctl_client *cl, uint16_t type, int status,
		 const void *payload, size_t len, int fd)
{
	int rc;

	/* Let go of the request's descriptors before answering: once the
	 * front end has the answer, ssad must hold no copy of its socket
	 * (an extra reference would keep, e.g., epoll registrations of a
	 * descriptor the application closes right after). */
	release_req_fds(cl);
	if (!cl->w.handler)
		return ECONNRESET;
	rc = ssa_wire_send(cl->w.fd, type, status, payload, len, fd);
	if (rc) {
		/* A client that does not read its replies is dropped, never waited for. */
		log_debug("dropping control client pid %d: reply failed: %s", (int)cl->who.pid,
			  strerror(rc));
		client_drop(cl);
	}
	return rc;
}

void ssa_ctl_reply(struct ssa_ctl_client *cl, uint16_t type, int status,
		   const void *payload, size_t len, int fd)
{
	(void)ssa_ctl_send(cl, type, status, payload, len, fd);
}

/* Clients of users over their share of the loop's time are not read
 * until the share has come back; checked every THROTTLE_MS. */
#define THROTTLE_MS 10
static struct ssa_deadline unthrottle_timer;

static struct ssad *throttle_d;

/* CPU time of this thread: what a request cost the loop, whatever else
 * the machine is doing. */
static uint64_t cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void on_unthrottle(struct ssa_deadline *dl)
{
	(void)dl;
	for (struct ssa_ctl_client *cl = throttle_d->clients; cl; cl = cl->next) {
		if (!cl->throttled || !cl->w.handler || ssa_user_busy(cl->d, cl->user) ||
		    ssa_caller_fds_over(cl->user->uid))
			continue;
		cl->throttled = false;
		n_throttled--;
		ssa_watch_set(&cl->d->loop, &cl->w, cl->waiting || cl->file_job ? 0 : EPOLLIN);
	}
	if (n_throttled)
		ssa_deadline_arm(&throttle_d->loop, &unthrottle_timer, THROTTLE_MS);
}

/* Stop reading cl for now (a user at limit, which is named in the log)
 * and look again every THROTTLE_MS. */
static void throttle(struct ssa_ctl_client *cl, const char *limit, unsigned value)
{
	if (!cl->throttled) {
		cl->throttled = true;
		n_throttled++;
		ssa_user_refused(cl->user, limit, value, (int)cl->who.pid);
	}
	ssa_watch_set(&cl->d->loop, &cl->w, 0);
	throttle_d = cl->d;
	unthrottle_timer.expired = on_unthrottle;
	if (!unthrottle_timer.at_ms)
		ssa_deadline_arm(&cl->d->loop, &unthrottle_timer, THROTTLE_MS);
}

static void on_client(struct ssa_watch *w, uint32_t ev)
{
	struct ssa_ctl_client *cl = (struct ssa_ctl_client *)((char *)w -
				     offsetof(struct ssa_ctl_client, w));
	/* A larger datagram shows as MSG_TRUNC and is refused with EMSGSIZE. */
	uint8_t buf[SSA_WIRE_MAX_REQUEST];
	struct ssa_wire_hdr h;
	int fds[SSA_WIRE_MAX_FDS], nfds, rc;

	if (!(ev & EPOLLIN) || cl->waiting || cl->file_job) {
		if (ev & (EPOLLHUP | EPOLLERR))
			client_drop(cl);
		return;
	}
	/* A user whose descriptors wait to be closed (a closer stuck on one
	 * of them) sends no more until they are: her requests wait unread. */
	if (cl->user && ssa_caller_fds_over(cl->user->uid)) {
		throttle(cl, "descriptors-waiting-to-close", CALLER_FDS_PER_USER);
		return;
	}
	ssa_caller_fds_charge(cl->user ? cl->user->uid : cl->who.uid);
	rc = ssa_wire_recv_cred(cl->w.fd, &h, buf, sizeof buf, fds, SSA_WIRE_MAX_FDS, &nfds,
				&cl->req_cred);
	if (rc == EAGAIN)
		return;
	if (rc == ECONNRESET || rc == ENOTCONN || rc == EPIPE) {
		client_drop(cl);
		return;
	}
	if (rc) {
		cl->d->stats.bad_requests++;
		log_debug("bad request from pid %d: %s", (int)cl->who.pid, strerror(rc));
		if (rc == EMFILE) /* one line a second */
			log_limited(SSA_LOG_WARN, 0, 1, 1,
				    "requests refused: ssad is out of descriptors (pid %d)",
				    (int)cl->who.pid);
		ssa_ctl_reply(cl, SSA_MSG_ERROR, rc == EMSGSIZE || rc == EMFILE ? rc : EINVAL,
			      NULL, 0, -1);
		return;
	}
	memcpy(cl->req_fds, fds, (size_t)nfds * sizeof fds[0]);
	cl->n_req_fds = nfds;
	cl->req_fd_conn = false;
	if (h.status != 0) {
		cl->d->stats.bad_requests++;
		ssa_ctl_reply(cl, h.type, EINVAL, NULL, 0, -1);
	} else {
		uint64_t t0 = cpu_us();

		if (cl->user)
			cl->user->active_ms = ssa_now_ms();

		ssa_handle_request(cl, h.type, buf, h.len, cl->req_fds, nfds);
		/* The loop's time is shared between users (max-request-ms-per-user):
		 * a user who has used her share waits, her requests unread. */
		/* Administrative requests (a reload reads the whole policy) are
		 * the administrator's, not charged to a user's share. */
		if (cl->user && h.type != SSA_MSG_RELOAD && h.type != SSA_MSG_STATUS &&
		    h.type != SSA_MSG_CONNECTIONS)
			ssa_user_charge(cl->user, (double)(cpu_us() - t0) / 1000.0);
	}
	/* ssad keeps none of the descriptors a request brought. */
	release_req_fds(cl);
	if (cl->req_cred.pidfd >= 0)
		close(cl->req_cred.pidfd);
	cl->req_cred.pidfd = -1;
	/* While a connect or a file is pending, the client gets no other answer. */
	if (cl->w.handler && cl->user && !cl->waiting && !cl->file_job &&
	    ssa_user_busy(cl->d, cl->user)) {
		throttle(cl, "max-request-ms-per-user",
			 (unsigned)cl->d->policy->cfg.limits.request_ms_per_user);
		return;
	}
	if (cl->w.handler)
		ssa_watch_set(&cl->d->loop, &cl->w, cl->waiting || cl->file_job ? 0 : EPOLLIN);
}

#define PAUSE_MS 200

/* A control connection over its user's limit: what it sent already is read
 * and dropped (closing with unread data would reset the connection, and the
 * answer with it), its first request is answered with EMFILE, and it goes. */
static void refuse(int fd)
{
	uint8_t buf[SSA_WIRE_MAX_REQUEST];
	struct ssa_wire_hdr h;
	int fds[SSA_WIRE_MAX_FDS], nfds;
	struct ucred cr = { .uid = 0 };
	socklen_t crlen = sizeof cr;

	(void)getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen);
	ssa_caller_fds_charge(cr.uid);
	/* A user whose descriptors wait to be closed gets none read. */
	for (int i = 0; i < 8 && !ssa_caller_fds_over(cr.uid); i++) {
		int rc = ssa_wire_recv_fds(fd, &h, buf, sizeof buf, fds, SSA_WIRE_MAX_FDS, &nfds);

		if (rc)
			break; /* EAGAIN: nothing more (its descriptors are closed) */
		for (int k = 0; k < nfds; k++)
			ssa_caller_fd_close(cr.uid, fds[k]);
	}
	(void)ssa_wire_send(fd, SSA_MSG_ERROR, EMFILE, NULL, 0, -1);
	close_ctl(fd, cr.uid);
}

static void resume_listener(struct ssa_deadline *dl)
{
	struct ssad *d = (struct ssad *)((char *)dl - offsetof(struct ssad, listener_pause));

	ssa_watch_set(&d->loop, &d->listener, EPOLLIN);
}

static void on_listener(struct ssa_watch *w, uint32_t ev)
{
	struct ssad *d = (struct ssad *)((char *)w - offsetof(struct ssad, listener));

	(void)ev;
	for (int i = 0; i < 64; i++) {
		struct ssa_ctl_client *cl;
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS) {
				/* Out of descriptors: stop listening for a moment
				 * instead of spinning on a readable listener. */
				log_warn("control socket: %s; pausing for %d ms", strerror(errno),
					 PAUSE_MS);
				ssa_watch_set(&d->loop, w, 0);
				ssa_deadline_arm(&d->loop, &d->listener_pause, PAUSE_MS);
			}
			return;
		}
		ssad_supervisor_check();
		cl = calloc(1, sizeof *cl);
		if (!cl) {
			close(fd);
			return;
		}
		cl->d = d;
		cl->w.fd = fd;
		cl->req_cred.pidfd = -1;
		/* Every request carries its sender's credentials (and pidfd,
		 * where the kernel can): identities are the sender's at the
		 * time of the request, not the connecting process's. */
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int));
		setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &(int){ 1 }, sizeof(int));
		cl->w.handler = on_client;
		cl->zombie.destroy = client_free;
		if (ssa_peer_identify(fd, &cl->who) != 0 ||
		    !(cl->user = ssa_user_of(cl->who.uid))) {
			close(fd);
			free(cl);
			continue;
		}
		if (cl->user->clients >= (unsigned)d->policy->cfg.limits.ctl_per_user ||
		    ssa_fd_in_reserve(fd)) {
			/* Over her limit (or ssad near its own): the answer to her
			 * first request is EMFILE, and the connection goes. */
			if (ssa_fd_in_reserve(fd)) {
				static uint64_t last_log;

				if (ssa_now_ms() - last_log >= 1000) {
					last_log = ssa_now_ms();
					log_warn("ssad is down to its reserve of descriptors: control "
						 "connection of uid %u pid %d refused",
						 (unsigned)cl->who.uid, (int)cl->who.pid);
				}
			} else {
				ssa_user_refused(cl->user, "max-control-connections-per-user",
						 (unsigned)d->policy->cfg.limits.ctl_per_user,
						 (int)cl->who.pid);
			}
			refuse(fd);
			free(cl);
			continue;
		}
		if (ssa_watch_set(&d->loop, &cl->w, EPOLLIN) != 0) {
			close(fd);
			free(cl);
			continue;
		}
		cl->user->clients++;
		cl->next = d->clients;
		if (d->clients)
			d->clients->prev = cl;
		d->clients = cl;
		d->stats.clients_live++;
	}
}

/* ssa_ctl_requester(), with the sender's TCP socket of sock_domain (0: none). */
static int requester(struct ssa_ctl_client *cl, bool want_netns, int sock_domain,
		     struct ssa_peer_id *who)
{
	const struct ssa_wire_cred *cr = &cl->req_cred;

	if (!cr->has) {
		*who = cl->who;
		who->exe_ok = false;
		who->own_netns = false;
		who->netns_fd = -1;
		who->has_tcp = false;
		who->tcp_fd = -1;
		/* Without the sender's pid, its namespace is unknown. */
		return want_netns ? ESRCH : 0;
	}
	if (sock_domain)
		return ssa_peer_identify_socket(cr->pid, cr->uid, cr->gid, cr->pidfd, sock_domain,
						who);
	return ssa_peer_identify_pid(cr->pid, cr->uid, cr->gid, cr->pidfd, true, want_netns, who);
}

int ssa_ctl_requester(struct ssa_ctl_client *cl, bool want_netns, struct ssa_peer_id *who)
{
	return requester(cl, want_netns, 0, who);
}

int ssa_ctl_requester_socket(struct ssa_ctl_client *cl, int domain, struct ssa_peer_id *who)
{
	return requester(cl, true, domain, who);
}

void ssa_ctl_read_again(struct ssa_ctl_client *cl, bool share)
{
	if (!cl->w.handler)
		return;
	if (share && cl->user && !cl->waiting && ssa_user_busy(cl->d, cl->user))
		throttle(cl, "max-request-ms-per-user",
			 (unsigned)cl->d->policy->cfg.limits.request_ms_per_user);
	else
		ssa_watch_set(&cl->d->loop, &cl->w, cl->waiting ? 0 : EPOLLIN);
}

/*
 * The socket's directory must be one where nobody else can put or swap
 * files: in a directory anyone may write to (and not sticky), another user
 * could replace ssad's socket with one of theirs between our bind and a
 * client's connect. (libssa also checks who listens: root or itself.)
 */
static int check_dir(const char *path)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 0 : errno; /* made below, 0755 */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		log_err("control socket directory %s is writable by others and not sticky", dir);
		return EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		log_err("control socket directory %s belongs to uid %u, not root", dir,
			(unsigned)st.st_uid);
		return EPERM;
	}
	return 0;
}

int ssa_ctl_bind(const char *path, int *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof sun.sun_path)
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1); /* length checked above */
	if ((err = check_dir(path)) != 0)
		return err;
	/* ssad's own namespaces, noted before any request can change them. */
	if (ssa_self_netns_fd() < 0)
		return errno ? errno : EIO;
	/* Replace a stale socket, never another kind of file, and never the
	 * socket of a daemon that is still running. */
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return EEXIST;
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(probe);
			return EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	} else {
		/* The default /run/ssa may not exist yet. */
		char dir[sizeof sun.sun_path];
		char *slash;

		memcpy(dir, path, strlen(path) + 1); /* as long as sun_path */
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				return errno;
		}
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* Set on the listener too, so that a request sent before ssad
	 * accepted the connection carries credentials as well. */
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int));
	setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 512) != 0) {
		err = errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

int ssa_ctl_listen(struct ssad *d, const char *path, int fd)
{
	d->listener.fd = fd;
	d->listener.handler = on_listener;
	d->listener_pause.expired = resume_listener;
	d->socket_path = path;
	return ssa_watch_set(&d->loop, &d->listener, EPOLLIN);
}

void ssa_ctl_shutdown(struct ssad *d)
{
	ssa_deadline_cancel(&d->listener_pause);
	if (d->listener.fd >= 0) {
		ssa_watch_del(&d->loop, &d->listener);
		close(d->listener.fd);
		d->listener.fd = -1;
		unlink(d->socket_path);
	}
}

void ssa_ctl_free_clients(struct ssad *d)
{
	ssa_deadline_cancel(&unthrottle_timer);
	while (d->clients)
		client_drop(d->clients);
	ssa_loop_reap(&d->loop);
}
