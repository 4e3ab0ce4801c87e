/* SPDX-License-Identifier: MIT */
/* One request to the key keeper and its answer (keeper_call.h). */
#include "keeper_call.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/** Send the encoded request (len bytes of buf) with fd if fd >= 0.
 * @retval 0 or EPIPE */
static int send_request(int chan, const uint8_t *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof cm.b;
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	return sendmsg(chan, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : EPIPE;
}

int ssa_keeper_call(int chan, const struct ssa_keepmsg *q, int fd, uint8_t *buf, int timeout_ms,
		    struct ssa_keepmsg *r)
{
	size_t len;
	int rc = ssa_keepmsg_encode(q, buf, SSA_KEEP_MAX, &len);

	if (rc)
		return rc;
	rc = send_request(chan, buf, len, fd);
	OPENSSL_cleanse(buf, len);
	while (rc == 0) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return ETIMEDOUT;
		n = recv(chan, buf, SSA_KEEP_MAX, 0);
		if (n <= 0)
			return EPIPE;
		if (ssa_keepmsg_decode(buf, (size_t)n, r) != 0)
			return EBADMSG;
		/* a late reply to a request that timed out (of any op): skip it */
		if (r->id != q->id)
			continue;
		return r->op == (q->op | SSA_KEEP_REPLY) ? 0 : EBADMSG;
	}
	return rc;
}
