/* SPDX-License-Identifier: MIT */
/* The worker asks its supervisor for privileged operations (priv_client.h). */
#include "priv_client.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "caller_ops.h"
#include "priv_io.h"
#include "../engine/cfg_files.h"
#include "../engine/identity.h"
#include "priv_msg.h"

static int chan = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Requests sent, by op (under lock). */
static uint64_t sent[SSA_PRIV_OP_MAX + 1];
/* The one answer being read (under lock): about 21 kB with a key's public
 * part, too large for the stacks of the threads that ask. */
static struct ssa_priv_rep reply;

/* What the callers read of an answer, copied out of reply under the lock. */
struct answer {
	int32_t err;
	uint32_t addr_len;
	struct sockaddr_storage addr;
	uint64_t st_dev, st_ino;
	uint32_t st_mode;
};

void ssa_priv_client_init(int fd, pid_t supervisor)
{
	chan = fd;
	ssa_proc_links_remote(ssa_priv_links, supervisor);
	ssa_cfg_files_remote(ssa_priv_open, ssa_priv_stat);
	ssa_cfg_keys_remote(ssa_priv_loadkey);
}

bool ssa_priv_active(void)
{
	return chan >= 0;
}

int ssa_priv_chan(void)
{
	return chan;
}

void ssa_priv_counts(uint64_t out[SSA_PRIV_OP_MAX + 1])
{
	pthread_mutex_lock(&lock);
	memcpy(out, sent, sizeof sent);
	pthread_mutex_unlock(&lock);
}

/* Under lock. */
static int send_req(const struct ssa_priv_req *rq, int fd)
{
	if (rq->op <= SSA_PRIV_OP_MAX)
		sent[rq->op]++;
	return ssa_priv_send(chan, rq, ssa_priv_req_len(rq), fd) == 0 ? 0 : EIO;
}

/* One answer to op and at most one descriptor (*fd, else -1). */
static int recv_rep(uint32_t op, struct ssa_priv_rep *rp, int *fd)
{
	size_t n_fds;
	ssize_t n = ssa_priv_recv(chan, rp, sizeof *rp, fd, 1, &n_fds, 0);

	if (n < 0 || n_fds == 0)
		*fd = -1;
	if (n < 0 || ssa_priv_rep_check(op, rp, (size_t)n) != 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return EIO;
	}
	return 0;
}

/* Under lock: reply's small fields into a. */
static void answer_of(struct answer *a)
{
	a->err = reply.err;
	a->addr_len = reply.addr_len;
	a->addr = reply.addr;
	a->st_dev = reply.st_dev;
	a->st_ino = reply.st_ino;
	a->st_mode = reply.st_mode;
}

/* One round trip. @retval 0 (the answer's own err in a->err) or EIO */
static int call(const struct ssa_priv_req *rq, int in_fd, struct answer *a, int *out_fd)
{
	int err;

	pthread_mutex_lock(&lock);
	err = send_req(rq, in_fd);
	if (!err)
		err = recv_rep(rq->op, &reply, out_fd);
	if (!err)
		answer_of(a);
	pthread_mutex_unlock(&lock);
	return err;
}

/* The descriptor of a LINKS or LINKS_SOCKET answer into l: the socket if
 * one was made (sock_errno 0), else the network namespace's. */
static void links_fd(struct ssa_proc_links *l, bool with_socket, int fd)
{
	l->netns_fd = -1;
	l->sock_fd = -1;
	if (!with_socket) {
		l->sock_errno = 0;
		l->netns_fd = fd;
	} else if (l->sock_errno == 0 && fd < 0) {
		l->sock_errno = EIO; /* cannot happen: the answer lost its socket */
	} else if (l->sock_errno == 0) {
		l->sock_fd = fd;
	} else {
		l->netns_fd = fd;
	}
}

int ssa_priv_links(struct ssa_proc_links *l)
{
	bool with_socket = l->want_netns && l->sock_domain;
	struct ssa_priv_req rq = { .op = with_socket ? SSA_PRIV_LINKS_SOCKET : SSA_PRIV_LINKS,
				   .pid = l->pid, .uid = l->uid, .gid = l->gid,
				   .want_netns = l->want_netns, .domain = l->sock_domain };
	struct ssa_proc_links q = *l;
	int fd, err;

	if (chan < 0) {
		ssa_proc_links_read(l);
		return 0;
	}
	pthread_mutex_lock(&lock);
	err = send_req(&rq, -1);
	if (!err)
		err = recv_rep(rq.op, &reply, &fd);
	if (!err) {
		*l = reply.links;
		l->pid = q.pid;
		l->uid = q.uid;
		l->gid = q.gid;
		l->want_netns = q.want_netns;
		l->sock_domain = q.sock_domain;
		l->exe[sizeof l->exe - 1] = '\0';
		links_fd(l, with_socket, fd);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int ssa_priv_socket(int netns_fd, uid_t uid, gid_t gid, int domain, int *out)
{
	struct ssa_priv_req rq = { .op = SSA_PRIV_SOCKET, .uid = uid, .gid = gid,
				   .domain = domain };
	struct answer rp;
	int err;

	if (chan < 0)
		return ssa_caller_socket(netns_fd, uid, gid, domain, out);
	if ((err = call(&rq, netns_fd, &rp, out)) != 0)
		return err;
	if (rp.err && *out >= 0) {
		close(*out);
		*out = -1;
	}
	return rp.err ? rp.err : *out >= 0 ? 0 : EIO;
}

int ssa_priv_accept(int lfd, uid_t uid, gid_t gid, struct sockaddr_storage *sa,
		    socklen_t *sl, int *out)
{
	struct ssa_priv_req rq = { .op = SSA_PRIV_ACCEPT, .uid = uid, .gid = gid };
	struct answer rp;
	int err;

	if (chan < 0)
		return ssa_caller_accept(lfd, uid, gid, sa, sl, out);
	if ((err = call(&rq, lfd, &rp, out)) != 0)
		return err;
	if (rp.err || *out < 0) {
		if (*out >= 0)
			close(*out);
		*out = -1;
		return rp.err ? rp.err : EIO;
	}
	*sa = rp.addr;
	*sl = rp.addr_len <= sizeof *sa ? rp.addr_len : sizeof *sa;
	return 0;
}

int ssa_priv_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ssa_priv_req rq = { .op = SSA_PRIV_BIND, .addr_len = len };
	struct answer rp;
	int out = -1, err;

	if (chan < 0 || len > sizeof rq.addr)
		return bind(fd, sa, len) == 0 ? 0 : errno;
	memcpy(&rq.addr, sa, len);
	if ((err = call(&rq, fd, &rp, &out)) != 0)
		return err;
	if (out >= 0)
		close(out);
	return rp.err;
}

/* OPEN, STAT and LOADKEY: the path in the request. For LOADKEY (der not
 * NULL) the key's id and public part too, if they fit *der_len. */
static int path_call(uint32_t op, const char *path, struct answer *a, int *out, uint8_t *der,
		     size_t *der_len, uint32_t *key_id)
{
	static struct ssa_priv_req rq; /* 4 kB: filled under the lock */
	int err;

	if (strlen(path) >= sizeof rq.path)
		return ENAMETOOLONG;
	pthread_mutex_lock(&lock);
	memset(&rq, 0, sizeof rq);
	rq.op = op;
	memcpy(rq.path, path, strlen(path) + 1); /* length checked above */
	err = send_req(&rq, -1);
	if (!err)
		err = recv_rep(op, &reply, out);
	if (!err)
		answer_of(a);
	if (!err && der && !a->err) {
		if (reply.der_len > *der_len || reply.der_len > sizeof reply.der) {
			a->err = EMSGSIZE;
		} else {
			memcpy(der, reply.der, reply.der_len);
			*der_len = reply.der_len;
			*key_id = reply.key_id;
		}
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int ssa_priv_open(const char *path, int *fd)
{
	struct answer rp;
	int err;

	*fd = -1;
	if ((err = path_call(SSA_PRIV_OPEN, path, &rp, fd, NULL, NULL, NULL)) != 0)
		return err;
	if (rp.err && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rp.err ? rp.err : *fd >= 0 ? 0 : EIO;
}

int ssa_priv_stat(const char *path, struct stat *st)
{
	struct answer rp;
	int fd = -1, err;

	if ((err = path_call(SSA_PRIV_STAT, path, &rp, &fd, NULL, NULL, NULL)) != 0)
		return err;
	if (fd >= 0)
		close(fd);
	if (rp.err)
		return rp.err;
	memset(st, 0, sizeof *st);
	st->st_dev = (dev_t)rp.st_dev;
	st->st_ino = (ino_t)rp.st_ino;
	st->st_mode = (mode_t)rp.st_mode;
	return 0;
}

int ssa_priv_loadkey(const char *path, uint32_t *key_id, uint8_t *der, size_t *der_len)
{
	struct answer rp;
	int fd = -1, err;

	err = path_call(SSA_PRIV_LOADKEY, path, &rp, &fd, der, der_len, key_id);
	if (!err)
		err = rp.err;
	if (fd >= 0)
		close(fd);
	return err;
}

int ssa_priv_kernel_key(uint64_t id, uint32_t seq, uint32_t index,
			uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t *uid)
{
	struct ssa_priv_req rq = { .op = SSA_PRIV_KERNEL_KEY, .kid = id, .kseq = seq,
				   .kindex = index };
	int fd = -1, err;

	if (chan < 0)
		return EOPNOTSUPP;
	pthread_mutex_lock(&lock);
	err = send_req(&rq, -1);
	if (!err)
		err = recv_rep(rq.op, &reply, &fd);
	if (!err && !(err = reply.err)) {
		memcpy(ticket, reply.ticket, SSA_KEEP_TICKET_LEN);
		*uid = reply.key_uid;
	}
	OPENSSL_cleanse(reply.ticket, sizeof reply.ticket);
	pthread_mutex_unlock(&lock);
	if (fd >= 0)
		close(fd);
	return err;
}
