/* SPDX-License-Identifier: MIT */
/* Control protocol encoding, decoding and descriptor passing. */
#include "wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

void ssa_wbuf_init(struct ssa_wbuf *w, void *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->err = false;
}

void ssa_put_bytes(struct ssa_wbuf *w, const void *data, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

void ssa_put_u32(struct ssa_wbuf *w, uint32_t v) { ssa_put_bytes(w, &v, sizeof v); }
void ssa_put_i32(struct ssa_wbuf *w, int32_t v) { ssa_put_bytes(w, &v, sizeof v); }
void ssa_put_u64(struct ssa_wbuf *w, uint64_t v) { ssa_put_bytes(w, &v, sizeof v); }

void ssa_put_blob(struct ssa_wbuf *w, const void *data, size_t n)
{
	if (n > UINT32_MAX) {
		w->err = true;
		return;
	}
	ssa_put_u32(w, (uint32_t)n);
	ssa_put_bytes(w, data, n);
}

void ssa_put_addr(struct ssa_wbuf *w, const struct sockaddr *sa, socklen_t len)
{
	ssa_put_blob(w, sa, sa ? len : 0);
}

void ssa_rbuf_init(struct ssa_rbuf *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	r->err = false;
}

const void *ssa_get_bytes(struct ssa_rbuf *r, size_t n)
{
	const void *q;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

uint32_t ssa_get_u32(struct ssa_rbuf *r)
{
	uint32_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

int32_t ssa_get_i32(struct ssa_rbuf *r)
{
	int32_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

uint64_t ssa_get_u64(struct ssa_rbuf *r)
{
	uint64_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

const void *ssa_get_blob(struct ssa_rbuf *r, size_t max, size_t *n)
{
	uint32_t len = ssa_get_u32(r);

	*n = 0;
	if (r->err)
		return NULL;
	if (len > max) {
		r->err = true;
		return NULL;
	}
	*n = len;
	return ssa_get_bytes(r, len);
}

void ssa_get_addr(struct ssa_rbuf *r, struct sockaddr_storage *ss, socklen_t *len)
{
	size_t n;
	const void *q = ssa_get_blob(r, sizeof *ss, &n);
	sa_family_t fam;

	*len = 0;
	memset(ss, 0, sizeof *ss);
	if (!q || n == 0)
		return;
	if (n < sizeof fam) {
		r->err = true;
		return;
	}
	memcpy(&fam, q, sizeof fam);
	if (!((fam == AF_INET && n == sizeof(struct sockaddr_in)) ||
	      (fam == AF_INET6 && n == sizeof(struct sockaddr_in6)))) {
		r->err = true;
		return;
	}
	memcpy(ss, q, n);
	*len = (socklen_t)n;
}

bool ssa_rbuf_done(const struct ssa_rbuf *r)
{
	return !r->err && r->off == r->len;
}

int ssa_check_string(const void *val, size_t optlen, size_t max)
{
	const char *s = val;

	if (!val || optlen == 0 || optlen - 1 > max)
		return EINVAL;
	if (s[optlen - 1] != '\0' || memchr(s, '\0', optlen - 1))
		return EINVAL;
	return 0;
}

int ssa_wire_parse_hdr(const void *buf, size_t len, struct ssa_wire_hdr *hdr)
{
	struct ssa_rbuf r;

	if (len < SSA_WIRE_HDR_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	hdr->magic = ssa_get_u32(&r);
	{
		const uint8_t *t = ssa_get_bytes(&r, 4);

		memcpy(&hdr->type, t, 2);
		memcpy(&hdr->flags, t + 2, 2);
	}
	hdr->status = ssa_get_i32(&r);
	hdr->len = ssa_get_u32(&r);
	if (hdr->magic != SSA_WIRE_MAGIC || hdr->flags != 0 || hdr->type == 0 ||
	    hdr->type > SSA_MSG_TYPE_MAX || hdr->status < 0 || hdr->status > 4095 ||
	    hdr->len != len - SSA_WIRE_HDR_LEN)
		return EINVAL;
	return 0;
}

static int send_msg(int sock, uint16_t type, int32_t status, const void *payload,
		    size_t len, const int *fds, int nfd, bool creds)
{
	uint8_t head[SSA_WIRE_HDR_LEN];
	struct ssa_wbuf w;
	struct iovec iov[2];
	struct msghdr msg = { 0 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(SSA_WIRE_MAX_FDS * sizeof(int)) +
			 CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	uint16_t flags = 0;
	ssize_t n;

	if (len > SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN || nfd < 0 || nfd > SSA_WIRE_MAX_FDS)
		return EMSGSIZE;
	ssa_wbuf_init(&w, head, sizeof head);
	ssa_put_u32(&w, SSA_WIRE_MAGIC);
	ssa_put_bytes(&w, &type, sizeof type);
	ssa_put_bytes(&w, &flags, sizeof flags);
	ssa_put_i32(&w, status);
	ssa_put_u32(&w, (uint32_t)len);
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof head;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = len ? 2 : 1;
	memset(&ctl, 0, sizeof ctl);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = (nfd > 0 ? CMSG_SPACE((size_t)nfd * sizeof(int)) : 0) +
			     (creds ? CMSG_SPACE(sizeof(struct ucred)) : 0);
	if (msg.msg_controllen) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		if (nfd > 0) {
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
			memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
			c = CMSG_NXTHDR(&msg, c);
		}
		if (creds) {
			/* Who we are now, with the effective ids (the kernel
			 * checks them; by default it would send the real ones). */
			struct ucred uc = { .pid = getpid(), .uid = geteuid(), .gid = getegid() };

			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof uc);
			memcpy(CMSG_DATA(c), &uc, sizeof uc);
		}
	} else {
		msg.msg_control = NULL;
	}
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

/* Collect the descriptors carried by the ancillary data: the first max are
 * stored in fds, the rest closed. Returns how many there were. */
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
		/* room for more than allowed, so that extras are seen and closed */
		char buf[CMSG_SPACE((SSA_WIRE_MAX_FDS + 8) * sizeof(int)) +
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

static void put_fixed_addr(struct ssa_wbuf *w, const struct sockaddr_storage *ss, socklen_t len)
{
	uint8_t zero[sizeof(struct sockaddr_in6)] = { 0 };

	if (len > sizeof zero)
		len = 0;
	ssa_put_u32(w, len);
	ssa_put_bytes(w, ss, len);
	ssa_put_bytes(w, zero, sizeof zero - len);
}

void ssa_accept_rec_encode(const struct ssa_accept_rec *rec, uint8_t out[SSA_ACCEPT_REC_LEN])
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, SSA_ACCEPT_REC_LEN);
	ssa_put_u32(&w, SSA_ACCEPT_MAGIC);
	ssa_put_u32(&w, rec->flags);
	ssa_put_u64(&w, rec->id);
	put_fixed_addr(&w, &rec->local, rec->local_len);
	put_fixed_addr(&w, &rec->peer, rec->peer_len);
	ssa_put_u64(&w, rec->instance);
}

static int get_fixed_addr(struct ssa_rbuf *r, struct sockaddr_storage *ss, socklen_t *len)
{
	uint32_t n = ssa_get_u32(r);
	const uint8_t *p = ssa_get_bytes(r, sizeof(struct sockaddr_in6));
	sa_family_t fam;

	if (!p || !(n == sizeof(struct sockaddr_in) || n == sizeof(struct sockaddr_in6)))
		return EINVAL;
	memcpy(&fam, p, sizeof fam);
	if ((fam == AF_INET && n != sizeof(struct sockaddr_in)) ||
	    (fam == AF_INET6 && n != sizeof(struct sockaddr_in6)) ||
	    (fam != AF_INET && fam != AF_INET6))
		return EINVAL;
	memset(ss, 0, sizeof *ss);
	memcpy(ss, p, n);
	*len = n;
	return 0;
}

int ssa_accept_rec_decode(const void *buf, size_t len, struct ssa_accept_rec *rec)
{
	struct ssa_rbuf r;

	if (len != SSA_ACCEPT_REC_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	if (ssa_get_u32(&r) != SSA_ACCEPT_MAGIC)
		return EINVAL;
	rec->flags = ssa_get_u32(&r);
	if (rec->flags & ~SSA_ACCEPT_KTLS)
		return EINVAL;
	rec->id = ssa_get_u64(&r);
	if (get_fixed_addr(&r, &rec->local, &rec->local_len) ||
	    get_fixed_addr(&r, &rec->peer, &rec->peer_len))
		return EINVAL;
	rec->instance = ssa_get_u64(&r);
	return r.err ? EINVAL : 0;
}
