/* SPDX-License-Identifier: MIT */
/* The supervisor as ssa.ko's key taker (kernel_keys.h). */
#include "kernel_keys.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../kernel_front/kernel_msg.h"
#include "keeper_loader.h"
#include "key_intake.h"

/* The module answers in the sender's sendmsg(): a bounded wait is plenty. */
#define REPLY_TIMEOUT_MS 2000

static struct {
	int fd;                 /* our netlink socket, -1 if none */
	bool registered;        /* the module's key taker */
	uint16_t family;
	uint32_t nlseq;
	bool outstanding;       /* a ticket given out, maybe not loaded yet */
	uint8_t last[SSA_KEEP_TICKET_LEN];
} K = { .fd = -1 };

/* Replies here are small (the family's description is the largest). */
static uint8_t rbuf[65536] __attribute__((aligned(4)));

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int send_req(int fd, struct ssa_kreq *r)
{
	ssize_t n;

	if (ssa_kreq_end(r) != 0)
		return EMSGSIZE;
	do
		n = send(fd, r->buf, r->len, 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)r->len ? 0 : n < 0 ? errno : EIO;
}

/* Every descriptor m names (the kernel installed them before sending). */
static void close_fds(const struct ssa_kmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	for (int i = 0; i < m->n_opts; i++)
		if (m->opts[i].fd >= 0)
			close(m->opts[i].fd);
}

/* Keep the first reply to nlseq in *reply (its descriptor, if any, stays
 * open for the caller); close the descriptors of anything else. */
static void take_msg(const uint8_t *p, size_t len, uint16_t family, uint32_t nlseq,
		     struct ssa_kmsg *reply, bool *got, int *err, bool *acked)
{
	struct ssa_kmsg m;
	int perr = ssa_kmsg_parse(p, len, family, &m);

	if (!perr && m.type == NLMSG_ERROR && m.nlseq == nlseq) {
		*err = m.error;
		*acked = true;
		return;
	}
	if (!perr && m.nlseq == nlseq && reply && !*got) {
		*reply = m;
		*got = true;
		return;
	}
	close_fds(&m);
}

/*
 * Wait for the acknowledgement of request nlseq on fd, its reply message
 * (parsed in rbuf, valid until the next request) into *reply if asked.
 * @retval the acknowledgement's errno, ETIMEDOUT, or recv()'s
 */
static int wait_ack(int fd, uint16_t family, uint32_t nlseq, struct ssa_kmsg *reply, bool *got)
{
	uint64_t end = mono_ms() + REPLY_TIMEOUT_MS;
	bool acked = false;
	int err = 0;

	while (!acked) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ms();
		ssize_t n;
		size_t off = 0;

		if (now >= end)
			return ETIMEDOUT;
		if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			return errno;
		n = recv(fd, rbuf, sizeof rbuf, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return errno;
		while (!acked && off < (size_t)n) {
			size_t len = ssa_kmsg_next(rbuf + off, (size_t)n - off);

			if (!len)
				break;
			take_msg(rbuf + off, len, family, nlseq, reply, got, &err, &acked);
			off += len;
		}
	}
	return err;
}

/* The ssa family's id and version. @retval 0 or errno (ENOENT: none) */
static int resolve(int fd, uint16_t *family, uint32_t *version)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	struct ssa_kmsg m = { .ctrl_family_id = 0 };
	bool got = false;
	int err;

	if (!r)
		return ENOMEM;
	ssa_kreq_get_family(r, ++K.nlseq);
	err = send_req(fd, r);
	free(r);
	if (!err)
		err = wait_ack(fd, GENL_ID_CTRL, K.nlseq, &m, &got);
	if (!err && (!got || !m.ctrl_family_id))
		err = ENOENT;
	if (!err) {
		*family = m.ctrl_family_id;
		*version = m.ctrl_version;
	}
	return err;
}

/* A generic netlink socket connected to the kernel, or -1. */
static int open_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -1;
	/* Connected: only the kernel's messages are read here. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &(int){ 1 }, sizeof(int));
	return fd;
}

/* REGISTER_KEYS on fd, for the family just resolved. @retval 0 or errno */
static int register_keys(int fd)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	int err;

	if (!r)
		return ENOMEM;
	ssa_kreq_init(r, K.family, NLM_F_REQUEST | NLM_F_ACK, ++K.nlseq, SSA_CMD_REGISTER_KEYS,
		      SSA_GENL_VERSION);
	err = send_req(fd, r);
	free(r);
	return err ? err : wait_ack(fd, K.family, K.nlseq, NULL, NULL);
}

/* Log what changed: registered (or not, and why) with this module. */
static void say(int err, uint32_t version)
{
	static int last = -1;

	if (err == last)
		return;
	last = err;
	if (!err)
		log_info("supervisor: ssa.ko's key files come to the supervisor (key taker), "
			 "not to the worker");
	else if (err == EPROTONOSUPPORT)
		log_warn("supervisor: ssa.ko's netlink family is version %u: key files set on "
			 "its sockets are installed in the worker (a module of version %d or "
			 "later gives them to the supervisor)", version, SSA_GENL_VERSION_KEYS);
	else if (err == EBUSY)
		log_err("supervisor: another process is ssa.ko's key taker: the key files set "
			"on its sockets go to it, and their handshakes fail here");
	else
		log_warn("supervisor: cannot register as ssa.ko's key taker: %s%s; key files "
			 "set on its sockets are installed in the worker", strerror(err),
			 err == EPERM ? " (CAP_NET_ADMIN is needed)" : "");
}

/*
 * Called before each worker is forked: the module may have been unloaded
 * and loaded again since (a new family id, no key taker), so resolve and
 * register every time (registering again from the taker's socket is
 * accepted).
 */
void ssa_kernel_keys_start(void)
{
	uint32_t version = 0;
	int err;

	if (K.fd < 0 && (K.fd = open_socket()) < 0)
		return;
	if (resolve(K.fd, &K.family, &version) != 0) {
		K.family = 0; /* no ssa.ko now: nothing to take */
		return;
	}
	err = version < SSA_GENL_VERSION_KEYS ? EPROTONOSUPPORT : register_keys(K.fd);
	K.registered = err == 0;
	say(err, version);
}

/* Ask the module for the file: installed here, with its owner's uid. */
static int take_file(uint64_t id, uint32_t seq, uint32_t index, int *fd, uint32_t *uid)
{
	struct ssa_kreq *r = malloc(sizeof *r);
	struct ssa_kmsg m = { .fd = -1 };
	bool got = false;
	int err;

	*fd = -1;
	if (!r)
		return ENOMEM;
	ssa_kreq_init(r, K.family, NLM_F_REQUEST | NLM_F_ACK, ++K.nlseq, SSA_CMD_TAKE_KEY,
		      SSA_GENL_VERSION);
	ssa_kreq_put_u64(r, SSA_A_ID, id);
	ssa_kreq_put_u32(r, SSA_A_SEQ, seq);
	ssa_kreq_put_u32(r, SSA_A_INDEX, index);
	err = send_req(K.fd, r);
	free(r);
	if (!err)
		err = wait_ack(K.fd, K.family, K.nlseq, &m, &got);
	if (got && (err || m.cmd != SSA_CMD_TAKE_KEY || m.id != id || m.seq != seq ||
		    !m.has_uid)) {
		close_fds(&m);
		return err ? err : EIO;
	}
	if (err)
		return err;
	if (!got)
		return EIO;
	*fd = m.fd;
	*uid = m.uid;
	return 0;
}

int ssa_kernel_keys_take(uint64_t id, uint32_t seq, uint32_t index, int keeper_chan,
			 uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t *uid)
{
	int fd, err;

	if (K.fd < 0 || !K.registered)
		return ENOENT;
	if (keeper_chan < 0)
		return EAGAIN; /* between a keeper and the next: leave the file held */
	if (K.outstanding)
		(void)ssa_keeper_unstash(keeper_chan, K.last); /* ENOENT: it was loaded */
	K.outstanding = false;
	OPENSSL_cleanse(K.last, sizeof K.last);
	if ((err = take_file(id, seq, index, &fd, uid)) != 0)
		return err;
	if ((err = ssa_key_intake_file_ok(fd)) == 0) {
		if (RAND_bytes(ticket, SSA_KEEP_TICKET_LEN) != 1)
			err = EAGAIN;
		else if ((err = ssa_keeper_stash(keeper_chan, fd, ticket, *uid)) != 0) {
			/* per uid and rate-limited: a user's sockets can repeat it */
			log_limited(SSA_LOG_WARN, *uid, 1, 1,
				    "supervisor: the key file of a kernel socket of uid %u was not "
				    "stashed: %s", (unsigned)*uid, strerror(err));
			err = err == EINVAL ? EINVAL : EAGAIN;
		}
	}
	close(fd);
	if (err) {
		OPENSSL_cleanse(ticket, SSA_KEEP_TICKET_LEN);
		return err;
	}
	memcpy(K.last, ticket, sizeof K.last);
	K.outstanding = true;
	return 0;
}

void ssa_kernel_keys_forget(void)
{
	if (K.fd >= 0)
		close(K.fd);
	K.fd = -1;
	K.registered = false;
	K.outstanding = false;
	OPENSSL_cleanse(K.last, sizeof K.last);
}
