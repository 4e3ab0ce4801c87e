/* SPDX-License-Identifier: MIT */
/* The generic netlink channel to ssa.ko (include/ssa/ssa_genl.h). */
#include "kernel_chan.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../capabilities.h"
#include "../daemon.h"

/*
 * The receive buffer grows to the size of the next message (peeked with
 * MSG_TRUNC), up to KBUF_MAX: the module's largest message (an ACCEPT with
 * SSA_OPTS_MAX options of SSA_OPT_VALUE_MAX bytes and an executable path of
 * SSA_EXE_MAX) is about 140 KiB. A message that is larger still, or that
 * arrives truncated all the same, is dropped and said so; it never stops
 * the loop.
 */
#define KBUF_INIT (1u << 17)
#define KBUF_MAX (1u << 20)
/* Every wait for the kernel's answer is bounded (it answers at once). */
#define KREPLY_TIMEOUT_MS 5000

static struct {
	struct ssad *d;
	struct ssa_watch w;
	uint16_t family;
	uint32_t version;          /* the family's (CTRL_ATTR_VERSION), 0 unknown */
	uint32_t nlseq;
	uint8_t *buf;
	size_t buf_cap;
	uint8_t *reply;            /* a copy of the reply being waited for */
	size_t reply_cap;
	/* HANDSHAKE notifications not yet taken (grows as needed) */
	struct kq { uint64_t id; uint32_t seq; } *queue;
	size_t n_queued, cap;
	/* requests queued while waiting for a reply (outside on_readable)
	 * are taken on the loop's next turn: nothing else would wake it */
	struct ssa_deadline drain;
} K = { .w = { .fd = -1 } };

static void drain_queue(void);

static void drain_expired(struct ssa_deadline *dl)
{
	(void)dl;
	drain_queue();
}

void ssa_kmsg_close_fds(const struct ssa_kmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	for (int i = 0; i < m->n_opts; i++)
		if (m->opts[i].fd >= 0)
			close(m->opts[i].fd);
}

static int send_req(struct ssa_kreq *r)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (ssa_kreq_end(r) != 0)
		return EMSGSIZE;
	do
		n = sendto(K.w.fd, r->buf, r->len, 0, (struct sockaddr *)&to, sizeof to);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)r->len ? 0 : n < 0 ? errno : EIO;
}

/* CHECK: answered at once, without waiting for an acknowledgement (this
 * may run while a reply is awaited, and receives nothing). */
static void answer_check(const struct ssa_kmsg *m)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	char reason[SSA_REASON_MAX] = "";
	int status = ssa_khs_check(K.d, m, reason, sizeof reason);

	if (!r)
		return; /* the kernel gives up waiting after 5 s */
	ssa_kreq_init(r, K.family, NLM_F_REQUEST, ++K.nlseq, SSA_CMD_CHECKED, SSA_GENL_VERSION);
	ssa_kreq_put_u64(r, SSA_A_ID, m->id);
	ssa_kreq_put_u32(r, SSA_A_SEQ, m->seq);
	ssa_kreq_put_u32(r, SSA_A_STATUS, (uint32_t)status);
	if (status && reason[0])
		ssa_kreq_put_str(r, SSA_A_REASON, reason);
	if (send_req(r) != 0)
		log_warn("kernel channel: cannot answer an option check");
	free(r);
}

static void queue_handshake(const struct ssa_kmsg *m)
{
	if (K.n_queued == K.cap) {
		size_t cap = K.cap ? 2 * K.cap : 64;
		struct kq *q = realloc(K.queue, cap * sizeof *q);

		if (!q) {
			/* The socket then waits for its own timeout; say so. */
			log_warn("kernel channel: out of memory, handshake request dropped");
			return;
		}
		K.queue = q;
		K.cap = cap;
	}
	K.queue[K.n_queued].id = m->id;
	K.queue[K.n_queued].seq = m->seq;
	K.n_queued++;
	if (K.d && !K.drain.at_ms) {
		K.drain.expired = drain_expired;
		ssa_deadline_arm(&K.d->loop, &K.drain, 0);
	}
}

/*
 * Receive one netlink message into K.buf, grown to fit. Returns its length,
 * 0 when nothing is queued, or -errno (-EMSGSIZE: a message was dropped,
 * -ENOBUFS: the kernel dropped some).
 */
static ssize_t recv_one(void)
{
	for (;;) {
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t want, n;

		want = recv(K.w.fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		if (want < 0 && errno == EINTR)
			continue;
		if (want < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if ((size_t)want > K.buf_cap && (size_t)want <= KBUF_MAX) {
			uint8_t *nb = realloc(K.buf, (size_t)want);

			if (nb) {
				K.buf = nb;
				K.buf_cap = (size_t)want;
			}
		}
		iov.iov_base = K.buf;
		iov.iov_len = K.buf_cap;
		do
			n = recvmsg(K.w.fd, &mh, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (mh.msg_flags & MSG_TRUNC) {
			log_warn("kernel channel: a %zd-byte message does not fit (%zu), dropped",
				 want, K.buf_cap);
			return -EMSGSIZE;
		}
		return n;
	}
}

/* Keep a copy of the reply message at buf (len bytes) and parse it. */
static int keep_reply(const uint8_t *buf, size_t len, struct ssa_kmsg *reply)
{
	if (len > K.reply_cap) {
		uint8_t *nb = realloc(K.reply, len);

		if (!nb)
			return ENOMEM;
		K.reply = nb;
		K.reply_cap = len;
	}
	memcpy(K.reply, buf, len);
	return ssa_kmsg_parse(K.reply, len, K.family, reply);
}

/*
 * The next message that fits (recv_one), past a receive buffer overrun
 * (notifications were lost: those sockets time out) and past messages
 * too large to hold (recv_one logged them).
 * @retval >0 its length in K.buf, 0 nothing waiting, <0 -errno
 */
static ssize_t recv_next(void)
{
	for (;;) {
		ssize_t n = recv_one();

		if (n == -ENOBUFS) {
			log_warn("kernel channel: receive buffer overrun");
			continue;
		}
		if (n != -EMSGSIZE)
			return n;
	}
}

/*
 * Wait for the answer to request nlseq, sent with NLM_F_ACK: a reply
 * message (if reply is not NULL) goes to *reply, parsed from a copy that
 * stays valid until the next request; the acknowledgement ends the wait
 * and gives the return value. Notifications met on the way are queued
 * (HANDSHAKE) or answered (CHECK). Never longer than KREPLY_TIMEOUT_MS:
 * ETIMEDOUT then, and only this request fails.
 */
static int wait_reply(uint32_t nlseq, struct ssa_kmsg *reply, bool *got_reply)
{
	uint64_t end = ssa_now_ms() + KREPLY_TIMEOUT_MS;

	for (;;) {
		ssize_t n = recv_next();
		size_t off = 0;

		if (n < 0)
			return (int)-n;
		if (n == 0) {
			struct pollfd p = { .fd = K.w.fd, .events = POLLIN };
			uint64_t now = ssa_now_ms();
			int r;

			if (now >= end)
				return ETIMEDOUT;
			r = poll(&p, 1, (int)(end - now));
			if (r < 0 && errno != EINTR)
				return errno;
			continue;
		}
		while (off < (size_t)n) {
			size_t len = ssa_kmsg_next(K.buf + off, (size_t)n - off);
			struct ssa_kmsg m;
			int perr;

			if (!len)
				break;
			perr = ssa_kmsg_parse(K.buf + off, len, K.family, &m);
			if (perr) {
				ssa_kmsg_close_fds(&m);
				log_warn("kernel channel: malformed message ignored");
				off += len;
				continue;
			}
			if (m.type == NLMSG_ERROR && m.nlseq == nlseq)
				return m.error;
			if (m.cmd == SSA_CMD_HANDSHAKE && m.type == K.family) {
				queue_handshake(&m);
			} else if (m.cmd == SSA_CMD_CHECK && m.type == K.family) {
				answer_check(&m);
			} else if (m.nlseq == nlseq && m.type != NLMSG_ERROR && reply && got_reply &&
				   !*got_reply) {
				if (keep_reply(K.buf + off, len, reply) == 0) {
					*got_reply = true;
				} else {
					ssa_kmsg_close_fds(&m);
					log_warn("kernel channel: reply to request %u lost", nlseq);
				}
			} else {
				ssa_kmsg_close_fds(&m);
			}
			off += len;
		}
	}
}

static int resolve_family(void)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	struct ssa_kmsg m;
	bool got = false;
	int err;

	if (!r)
		return ENOMEM;
	ssa_kreq_get_family(r, ++K.nlseq);
	err = send_req(r);
	free(r);
	if (err)
		return err;
	err = wait_reply(K.nlseq, &m, &got);
	if (!err && (!got || !m.ctrl_family_id))
		err = ENOENT;
	if (!err) {
		K.family = m.ctrl_family_id;
		K.version = m.ctrl_version;
	}
	return err;
}

static int simple_cmd(uint8_t cmd, uint64_t id, uint32_t seq, struct ssa_kmsg *reply, bool *got)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	int err;

	if (!r)
		return ENOMEM;
	ssa_kreq_init(r, K.family, NLM_F_REQUEST | NLM_F_ACK, ++K.nlseq, cmd, SSA_GENL_VERSION);
	if (cmd != SSA_CMD_REGISTER) {
		ssa_kreq_put_u64(r, SSA_A_ID, id);
		ssa_kreq_put_u32(r, SSA_A_SEQ, seq);
	}
	err = send_req(r);
	free(r);
	return err ? err : wait_reply(K.nlseq, reply, got);
}

int ssa_kernel_done(uint64_t id, uint32_t seq, int status, const char *reason,
		    const struct ssa_kopt *results, int n_results)
{
	struct ssa_kreq *r;
	int err;

	if (K.w.fd < 0)
		return ENOTCONN;
	r = malloc(sizeof *r);
	if (!r)
		return ENOMEM;
	ssa_kreq_init(r, K.family, NLM_F_REQUEST | NLM_F_ACK, ++K.nlseq, SSA_CMD_DONE,
		      SSA_GENL_VERSION);
	ssa_kreq_put_u64(r, SSA_A_ID, id);
	ssa_kreq_put_u32(r, SSA_A_SEQ, seq);
	ssa_kreq_put_u32(r, SSA_A_STATUS, (uint32_t)status);
	if (reason && *reason) {
		char text[SSA_REASON_MAX];

		snprintf(text, sizeof text, "%s", reason);
		ssa_kreq_put_str(r, SSA_A_REASON, text);
	}
	for (int i = 0; i < n_results && !status; i++) {
		size_t off;

		if (results[i].len > SSA_RESULT_MAX)
			continue;
		off = ssa_kreq_nest(r, SSA_A_RESULT);
		ssa_kreq_put_u32(r, SSA_OPT_NAME, results[i].name);
		ssa_kreq_put(r, SSA_OPT_VALUE, results[i].val, results[i].len);
		ssa_kreq_nest_end(r, off);
	}
	err = send_req(r);
	free(r);
	return err ? err : wait_reply(K.nlseq, NULL, NULL);
}

static void take_request(uint64_t id, uint32_t seq)
{
	struct ssa_kmsg m;
	bool got = false;
	int err = simple_cmd(SSA_CMD_ACCEPT, id, seq, &m, &got);

	if (err) {
		if (got)
			ssa_kmsg_close_fds(&m);
		/* ENOENT: the socket was closed meanwhile */
		if (err != ENOENT)
			log_warn("kernel channel: ACCEPT of request %u failed: %s", seq,
				 strerror(err));
		return;
	}
	if (!got || m.cmd != SSA_CMD_ACCEPT || m.id != id || m.seq != seq) {
		if (got)
			ssa_kmsg_close_fds(&m);
		log_warn("kernel channel: ACCEPT of request %u: no usable reply", seq);
		return;
	}
	ssa_khs_start(K.d, &m);
}

static void drain_queue(void)
{
	while (K.n_queued > 0) {
		uint64_t id = K.queue[0].id;
		uint32_t seq = K.queue[0].seq;

		K.n_queued--;
		memmove(&K.queue[0], &K.queue[1], K.n_queued * sizeof K.queue[0]);
		take_request(id, seq);
	}
}

static void on_readable(struct ssa_watch *w, uint32_t events)
{
	(void)events;
	(void)w;
	for (;;) {
		ssize_t n = recv_next();
		size_t off = 0;

		if (n <= 0)
			break;
		while (off < (size_t)n) {
			size_t len = ssa_kmsg_next(K.buf + off, (size_t)n - off);
			struct ssa_kmsg m;

			if (!len)
				break;
			int perr = ssa_kmsg_parse(K.buf + off, len, K.family, &m);

			if (!perr && m.type == K.family && m.cmd == SSA_CMD_HANDSHAKE)
				queue_handshake(&m);
			else if (!perr && m.type == K.family && m.cmd == SSA_CMD_CHECK)
				answer_check(&m);
			else
				ssa_kmsg_close_fds(&m);
			off += len;
		}
	}
	drain_queue();
}

/*
 * Registered: CAP_NET_ADMIN is needed no more if the module obeys
 * ACCEPT/DONE/CHECKED from the registered socket without it (family
 * version SSA_GENL_VERSION_UNPRIV). An older module checks it on every
 * message: ssad keeps it then. ssad registers once, at start; a module
 * unloaded and loaded again is served by a restarted ssad (a new process,
 * with the capabilities it is started with).
 */
static void drop_net_admin(void)
{
	bool bounding = false;
	int err;

	if (K.version < SSA_GENL_VERSION_UNPRIV) {
		log_info("kernel front end: ssa.ko's netlink family is version %u, which asks "
			 "CAP_NET_ADMIN of every message: ssad keeps it (a module of version %d "
			 "or later lets it go)", K.version, SSA_GENL_VERSION_UNPRIV);
		return;
	}
	err = ssa_cap_drop(12 /* CAP_NET_ADMIN */, &bounding);
	if (err)
		log_warn("kernel front end: cannot drop CAP_NET_ADMIN after registering: %s%s",
			 strerror(err), err == EBUSY ? " (threads already started)" : "");
	else
		log_info("kernel front end: CAP_NET_ADMIN dropped (effective and permitted%s)",
			 bounding ? ", bounding" : "");
}

int ssa_kernel_start(struct ssad *d)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, rcvbuf = 1 << 20, err;

	K.d = d;
	K.w.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (K.w.fd < 0)
		return 0;
	K.buf = malloc(KBUF_INIT);
	K.buf_cap = K.buf ? KBUF_INIT : 0;
	if (!K.buf || bind(K.w.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto off;
	/* Connected to the kernel: messages from any other netlink socket
	 * (a root process's) are refused by the kernel, so every message
	 * read here, and every descriptor it names, comes from ssa.ko. */
	if (connect(K.w.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto off;
	/* room for several of the largest messages (CAP_NET_ADMIN: past rmem_max) */
	if (setsockopt(K.w.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
		setsockopt(K.w.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	setsockopt(K.w.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	if (resolve_family() != 0) {
		log_debug("kernel front end: no ssa.ko (generic netlink family \"%s\")",
			  SSA_GENL_NAME);
		goto off;
	}
	err = simple_cmd(SSA_CMD_REGISTER, 0, 0, NULL, NULL);
	if (err) {
		log_warn("kernel front end: ssa.ko is loaded but registering failed: %s%s",
			 strerror(err), err == EBUSY ? " (another ssad serves it)" :
					err == EPERM ? " (CAP_NET_ADMIN is needed)" : "");
		goto off;
	}
	K.w.handler = on_readable;
	if (ssa_watch_set(&d->loop, &K.w, EPOLLIN) != 0)
		goto off;
	log_info("kernel front end: registered with ssa.ko (IPPROTO_TLS sockets served)");
	drop_net_admin();
	/* Requests that came with the registration's answer were queued and
	 * are taken on the loop's first turn (queue_handshake), once the
	 * handshake workers run. */
	return 0;
off:
	close(K.w.fd);
	K.w.fd = -1;
	free(K.buf);
	K.buf = NULL;
	K.buf_cap = 0;
	return 0;
}

void ssa_kernel_stop(struct ssad *d)
{
	ssa_deadline_cancel(&K.drain);
	ssa_khs_release_all(d);
	if (K.w.fd < 0)
		return;
	ssa_watch_del(&d->loop, &K.w);
	close(K.w.fd);
	K.w.fd = -1;
	free(K.buf);
	K.buf = NULL;
	K.buf_cap = 0;
	free(K.reply);
	K.reply = NULL;
	K.reply_cap = 0;
	free(K.queue);
	K.queue = NULL;
	K.n_queued = K.cap = 0;
}
