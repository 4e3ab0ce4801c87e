/* SPDX-License-Identifier: MIT */
/* The supervisor serves the worker's privileged requests (priv_server.h). */
#include "priv_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/log.h"
#include "caller_ops.h"
#include "cfg_access.h"
#include "keeper_loader.h"
#include "kernel_keys.h"
#include "priv_io.h"
#include "priv_msg.h"

static int keeper_chan = -1;

void ssa_priv_server_keeper(int chan)
{
	keeper_chan = chan;
}

/* LOADKEY: the configured key at path, into the keeper. */
static void load_key(const char *path, struct ssa_priv_rep *rp)
{
	size_t len = sizeof rp->der;
	int fd;

	if ((rp->err = ssa_cfg_access_key(path, &fd)) != 0)
		return;
	rp->err = ssa_keeper_load(keeper_chan, fd, &rp->key_id, rp->der, &len);
	close(fd);
	rp->der_len = rp->err ? 0 : (uint32_t)len;
}

/* LINKS (want_netns) and SOCKET in one: the caller's links, then its TCP
 * socket in the namespace just read (the one it is in now, as the kernel
 * makes a TCP socket at socket() time), owned by its ids. The descriptor
 * sent is the socket, and the namespace's is closed; if no socket could be
 * made, the namespace's, as LINKS sends it, and the errno in sock_errno
 * (the worker then asks SOCKET when it needs the socket, and gets that
 * errno with its message there, as before the merge). */
static void links_socket(const struct ssa_priv_req *r, struct ssa_priv_rep *rp, int *out_fd)
{
	struct ssa_proc_links *l = &rp->links;
	int fd = -1;

	l->pid = r->pid;
	l->uid = r->uid;
	l->gid = r->gid;
	l->want_netns = true;
	ssa_proc_links_read_socket(l, r->domain == AF_INET || r->domain == AF_INET6 ? r->domain : 0);
	if (l->sock_made)
		fd = l->sock_fd; /* made with the links, sock_errno set */
	else if (l->own_netns && l->netns_fd < 0)
		/* Unreadable: the worker decides (ssad's own namespace or none). */
		l->sock_errno = ENETUNREACH;
	else
		l->sock_errno = ssa_caller_socket(l->own_netns ? l->netns_fd : -1, r->uid, r->gid,
						  r->domain, &fd);
	if (l->sock_errno == 0) {
		if (l->netns_fd >= 0)
			close(l->netns_fd);
		*out_fd = fd;
	} else {
		*out_fd = l->netns_fd;
	}
	l->netns_fd = -1;
	l->sock_fd = -1;
}

/* A TCP socket of ours to bind or accept on (not a UDP one: no port 53). */
static bool is_tcp(int fd)
{
	int type = 0, proto = 0;
	socklen_t l1 = sizeof type, l2 = sizeof proto;

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 &&
	       getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l2) == 0 &&
	       type == SOCK_STREAM && proto == IPPROTO_TCP;
}

/* Do r (its descriptor in_fd, or -1); the answer's descriptor in *out_fd. */
static void perform(const struct ssa_priv_req *r, int in_fd, struct ssa_priv_rep *rp,
		    int *out_fd)
{
	socklen_t sl;

	switch (r->op) {
	case SSA_PRIV_LINKS:
		rp->links.pid = r->pid;
		rp->links.uid = r->uid;
		rp->links.gid = r->gid;
		rp->links.want_netns = r->want_netns;
		ssa_proc_links_read(&rp->links);
		*out_fd = rp->links.netns_fd;
		rp->links.netns_fd = -1;
		break;
	case SSA_PRIV_LINKS_SOCKET:
		links_socket(r, rp, out_fd);
		break;
	case SSA_PRIV_SOCKET:
		rp->err = ssa_caller_socket(in_fd, r->uid, r->gid, r->domain, out_fd);
		break;
	case SSA_PRIV_ACCEPT:
		if (!is_tcp(in_fd)) {
			rp->err = ENOTSOCK;
			break;
		}
		rp->err = ssa_caller_accept(in_fd, r->uid, r->gid, &rp->addr, &sl, out_fd);
		rp->addr_len = rp->err ? 0 : sl;
		break;
	case SSA_PRIV_BIND:
		if (!is_tcp(in_fd)) {
			rp->err = ENOTSOCK;
			break;
		}
		rp->err = bind(in_fd, (const struct sockaddr *)&r->addr, r->addr_len) == 0 ? 0 :
			  errno;
		break;
	case SSA_PRIV_OPEN:
		rp->err = ssa_cfg_access_open(r->path, out_fd);
		break;
	case SSA_PRIV_LOADKEY:
		load_key(r->path, rp);
		break;
	case SSA_PRIV_KERNEL_KEY:
		rp->err = ssa_kernel_keys_take(r->kid, r->kseq, r->kindex, keeper_chan, rp->ticket,
					       &rp->key_uid);
		break;
	case SSA_PRIV_STAT: {
		struct stat st;

		if ((rp->err = ssa_cfg_access_stat(r->path, &st)) == 0) {
			rp->st_dev = st.st_dev;
			rp->st_ino = st.st_ino;
			rp->st_mode = st.st_mode;
		}
		break;
	}
	default:
		rp->err = EINVAL;
	}
}

int ssa_priv_serve(int chan)
{
	static struct ssa_priv_req raw, r; /* 4 kB each; one thread */
	static struct ssa_priv_rep rp;
	int fds[4], out_fd = -1, err;
	size_t nfds = 0;
	ssize_t n;

	n = ssa_priv_recv(chan, &raw, sizeof raw, fds, 4, &nfds, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return EAGAIN;
	if (n == 0 || (n < 0 && errno != EMSGSIZE))
		return EPIPE;
	memset(&rp, 0, offsetof(struct ssa_priv_rep, der)); /* der: LOADKEY's, der_len bytes */
	rp.links.netns_fd = -1;
	rp.links.sock_fd = -1;
	if (n < 0 || ssa_priv_req_check(&raw, (size_t)n, nfds, &r) != 0) {
		log_limited(SSA_LOG_ERR, 0, 1, 1, "supervisor: malformed request from the worker "
			    "(%zd bytes, %zu descriptors); refused", n, nfds);
		rp.err = EINVAL;
	} else {
		perform(&r, nfds ? fds[0] : -1, &rp, &out_fd);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	/* Only what the op answers: the worker checks the exact size. */
	err = ssa_priv_send(chan, &rp, ssa_priv_rep_len(n >= (ssize_t)sizeof raw.op ? raw.op : 0, &rp),
			    out_fd);
	if (out_fd >= 0)
		close(out_fd);
	OPENSSL_cleanse(rp.ticket, sizeof rp.ticket);
	return err == EPIPE ? EPIPE : 0;
}
