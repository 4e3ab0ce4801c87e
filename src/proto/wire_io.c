/* SPDX-License-Identifier: MIT */
/* The control protocol's I/O: messages with their descriptors and the
 * sender's credentials over a control connection (wire_io.h). */
#include "wire_io.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/** Room for the ancillary data of a message sent: descriptors and credentials. */
union send_ctl {
	struct cmsghdr align;
	char buf[CMSG_SPACE(SSA_WIRE_MAX_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
};

/**
 * Fill msg's ancillary data: nfd descriptors (SCM_RIGHTS) and, with creds,
 * who we are now with the effective ids (SCM_CREDENTIALS: the kernel checks
 * them; by default it would send the real ones).
 */
static void put_ancillary(struct msghdr *msg, union send_ctl *ctl, const int *fds, int nfd,
			  bool creds)
{
	struct cmsghdr *c;

	memset(ctl, 0, sizeof *ctl);
	msg->msg_control = ctl->buf;
	msg->msg_controllen = (nfd > 0 ? CMSG_SPACE((size_t)nfd * sizeof(int)) : 0) +
			      (creds ? CMSG_SPACE(sizeof(struct ucred)) : 0);
	if (!msg->msg_controllen) {
		msg->msg_control = NULL;
		return;
	}
	c = CMSG_FIRSTHDR(msg);
	if (nfd > 0) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
		c = CMSG_NXTHDR(msg, c);
	}
	if (creds) {
		struct ucred uc = { .pid = getpid(), .uid = geteuid(), .gid = getegid() };

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof uc);
		memcpy(CMSG_DATA(c), &uc, sizeof uc);
	}
}

/**
 * Send one message: header, payload, descriptors, and with creds the
 * sender's credentials.
 * @retval 0 sent whole
 * @retval EMSGSIZE too large, too many descriptors, or sent in part
 * @retval errno of sendmsg (EPIPE, EAGAIN, ...)
 */
static int send_msg(int sock, uint16_t type, int32_t status, const void *payload,
		    size_t len, const int *fds, int nfd, bool creds)
{
	uint8_t head[SSA_WIRE_HDR_LEN];
	struct ssa_wbuf w;
	struct iovec iov[2];
	struct msghdr msg = { 0 };
	union send_ctl ctl;
	ssize_t n;

	if (len > SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN || nfd < 0 || nfd > SSA_WIRE_MAX_FDS)
		return EMSGSIZE;
	ssa_wbuf_init(&w, head, sizeof head);
	ssa_wire_put_hdr(&w, type, status, (uint32_t)len);
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof head;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = len ? 2 : 1;
	put_ancillary(&msg, &ctl, fds, nfd, creds);
	do {
		n = ssa_io_sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return (size_t)n == sizeof head + len ? 0 : EMSGSIZE;
}

int ssa_wire_send_fds(int sock, uint16_t type, int32_t status, const void *payload,
		      size_t len, const int *fds, int nfd)
{
	return send_msg(sock, type, status, payload, len, fds, nfd, false);
}

int ssa_wire_send_req(int sock, uint16_t type, const void *payload, size_t len,
		      const int *fds, int nfd)
{
	return send_msg(sock, type, 0, payload, len, fds, nfd, true);
}

int ssa_wire_send(int sock, uint16_t type, int32_t status, const void *payload,
		  size_t len, int fd)
{
	return ssa_wire_send_fds(sock, type, status, payload, len, &fd, fd >= 0 ? 1 : 0);
}

/**
 * Collect what the ancillary data carried: the sender's credentials and
 * pidfd into cred (when not NULL; otherwise the pidfd is closed), the first
 * max descriptors into fds, the rest closed.
 * @return how many descriptors there were
 */
static int take_passed_fds(struct msghdr *msg, int *fds, int max, struct ssa_wire_cred *cred)
{
	int count = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t nfd;

		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof uc);
			if (cred) {
				cred->has = true;
				cred->pid = uc.pid;
				cred->uid = uc.uid;
				cred->gid = uc.gid;
			}
			continue;
		}
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SSA_SCM_PIDFD &&
		    c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int pfd;

			memcpy(&pfd, CMSG_DATA(c), sizeof pfd);
			if (cred && cred->pidfd < 0)
				cred->pidfd = pfd;
			else
				ssa_io_close(pfd);
			continue;
		}
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		if (c->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (count < max)
				fds[count] = f;
			else
				ssa_io_close(f);
			count++;
		}
	}
	return count;
}

int ssa_wire_recv_fds(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap,
		      int *fds, int maxfds, int *nfds)
{
	return ssa_wire_recv_cred(sock, hdr, buf, cap, fds, maxfds, nfds, NULL);
}

int ssa_wire_recv_cred(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap,
		       int *fds, int maxfds, int *nfds, struct ssa_wire_cred *cred)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = { 0 };
	union {
		struct cmsghdr align;
		/* Room for as many as one message can carry (the kernel's
		 * SCM_MAX_FD), so that extras are seen and closed by
		 * ssa_io_close(): those the kernel finds no room for it
		 * releases inside recvmsg(), which can wait (a TCP socket's
		 * linger: ssad's caller_fds.h). */
		char buf[CMSG_SPACE(SSA_WIRE_SCM_MAX_FD * sizeof(int)) +
			 CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
	} ctl;
	ssize_t n;
	int got, rc;

	*nfds = 0;
	if (cred)
		*cred = (struct ssa_wire_cred){ .pidfd = -1 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	do {
		n = ssa_io_recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	got = take_passed_fds(&msg, fds, maxfds, cred);
	if (n == 0 && got == 0) {
		if (cred && cred->pidfd >= 0) {
			ssa_io_close(cred->pidfd);
			cred->pidfd = -1;
		}
		return ECONNRESET;
	}
	if (msg.msg_flags & MSG_TRUNC)
		rc = EMSGSIZE;
	else if (got > maxfds)
		rc = EINVAL;
	else if (msg.msg_flags & MSG_CTRUNC)
		/* Room was left for more descriptors than allowed, so a
		 * truncation within the limit means the kernel could not
		 * install them: our descriptor table is full. */
		rc = EMFILE;
	else
		rc = ssa_wire_parse_hdr(buf, (size_t)n, hdr);
	if (rc) {
		for (int i = 0; i < got && i < maxfds; i++)
			ssa_io_close(fds[i]);
		if (cred && cred->pidfd >= 0) {
			ssa_io_close(cred->pidfd);
			cred->pidfd = -1;
		}
		return rc;
	}
	*nfds = got;
	memmove(buf, (uint8_t *)buf + SSA_WIRE_HDR_LEN, hdr->len);
	return 0;
}

int ssa_wire_recv(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap, int *fd)
{
	int n, rc = ssa_wire_recv_fds(sock, hdr, buf, cap, fd, 1, &n);

	if (rc || n == 0)
		*fd = -1;
	return rc;
}

