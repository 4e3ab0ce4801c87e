/* SPDX-License-Identifier: MIT */
/*
 * ctl_abuse: send malformed and hostile input to ssad's control socket and
 * check every answer.
 *
 *   ctl_abuse          run against $SSA_SOCKET, print TAP (plan first)
 *   ctl_abuse --plan   print the number of checks and exit
 *
 * Every check is one entry of the table at the bottom and prints exactly one
 * TAP line, so the plan is the size of the table. After each bad message the
 * same control connection must still answer a STATUS request, except where
 * ssad legitimately closes the connection (an empty datagram, which a
 * SOCK_SEQPACKET reader cannot tell from end-of-file, and a client that does
 * not read its replies); those checks use connections of their own.
 *
 * Exit status: 0 all checks passed, 1 otherwise, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#include "../../src/proto/wire_io.h"
#include "../../src/ssad/supervisor/key_intake.h"

#define REPLY_TIMEOUT_MS 3000
#define MANY_CLIENTS 200

/* ---- state shared by the checks ----------------------------------------- */

static const char *sock_path;
static int g_ctl = -1;       /* the control connection most checks use */
static int g_ssa = -1;       /* a TLS socket made by a proper SOCKET request */
static uint64_t g_id;        /* its id from the SOCKET reply */
static char why[512];        /* reason of the current check's failure */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return 0;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EMSGSIZE: return "EMSGSIZE";
	case ERANGE: return "ERANGE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPIPE: return "EPIPE";
	case EALREADY: return "EALREADY";
	case EAGAIN: return "EAGAIN";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case ENOBUFS: return "ENOBUFS";
	case EFBIG: return "EFBIG";
	default:
		snprintf(buf, sizeof buf, "errno %d", e);
		return buf;
	}
}

/* ---- transport ---------------------------------------------------------- */

/* A SOCK_SEQPACKET connection to the control socket's path with suffix
 * ("" for the control socket, SSA_KEY_INTAKE_SUFFIX for the key intake),
 * or -1. */
static int unix_open(const char *suffix)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s%s", sock_path, suffix) >=
	    sizeof sun.sun_path)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ctl_open(void)
{
	return unix_open("");
}

/* One datagram with nfds descriptors; 0 or errno. */
static int send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(64 * sizeof(int))];
	} ctl;
	ssize_t n;

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EMSGSIZE;
}

/* Header + payload, with every header field chosen by the caller. */
static size_t build(uint8_t *out, size_t cap, uint32_t magic, uint16_t type, uint16_t flags,
		    int32_t status, uint32_t len, const void *payload, size_t plen)
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, cap);
	ssa_put_u32(&w, magic);
	ssa_put_bytes(&w, &type, sizeof type);
	ssa_put_bytes(&w, &flags, sizeof flags);
	ssa_put_i32(&w, status);
	ssa_put_u32(&w, len);
	ssa_put_bytes(&w, payload, plen);
	return w.err ? 0 : w.len;
}

/* A well-formed request. */
static int send_req(int sock, uint16_t type, const void *payload, size_t plen, const int *fds,
		    int nfds)
{
	uint8_t buf[SSA_WIRE_MAX_REQUEST];
	size_t n = build(buf, sizeof buf, SSA_WIRE_MAGIC, type, 0, 0, (uint32_t)plen, payload,
			 plen);

	if (!n)
		return EMSGSIZE;
	return send_raw(sock, buf, n, fds, nfds);
}

struct reply {
	struct ssa_wire_hdr h;
	int fd;
	uint8_t buf[SSA_WIRE_MAX_REPLY];
};

static struct reply rep; /* the last reply */

/* Wait for one reply: 0, ETIMEDOUT, ECONNRESET (closed) or another errno. */
static int recv_reply_on(int sock, struct reply *r, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int rc;

	r->fd = -1;
	memset(&r->h, 0, sizeof r->h);
	rc = poll(&p, 1, timeout_ms);
	if (rc < 0)
		return errno;
	if (rc == 0)
		return ETIMEDOUT;
	return ssa_wire_recv(sock, &r->h, r->buf, sizeof r->buf, &r->fd);
}

static int recv_reply(int sock)
{
	return recv_reply_on(sock, &rep, REPLY_TIMEOUT_MS);
}

/* Expect a reply of type/status with no descriptor; on mismatch set why. */
static int expect(int sock, uint16_t type, int status)
{
	int rc = recv_reply(sock);

	if (rc)
		return fail("no reply: %s", ename(rc));
	if (rep.fd >= 0) {
		close(rep.fd);
		rep.fd = -1;
		if (status != 0)
			return fail("an error reply carried a descriptor");
	}
	if (rep.h.type != type || rep.h.status != status)
		return fail("reply type %u status %s, want type %u status %s", rep.h.type,
			    ename(rep.h.status), type, ename(status));
	return 1;
}

/* The connection still answers a STATUS request with JSON. */
static int usable(int sock)
{
	int rc = send_req(sock, SSA_MSG_STATUS, NULL, 0, NULL, 0);

	if (rc)
		return fail("STATUS request after it could not be sent: %s", ename(rc));
	if (!expect(sock, SSA_MSG_STATUS, 0)) {
		char w[sizeof why];

		snprintf(w, sizeof w, "%s", why);
		return fail("connection no longer usable: %s", w);
	}
	if (rep.h.len < 2 || rep.buf[0] != '{' || rep.buf[rep.h.len - 1] != '\0')
		return fail("STATUS reply is not a JSON string");
	return 1;
}

/* Send raw bytes (+fds) on g_ctl, expect (type, status), then usability. */
static int bad(const void *buf, size_t len, const int *fds, int nfds, uint16_t type, int status)
{
	int rc = send_raw(g_ctl, buf, len, fds, nfds);

	if (rc)
		return fail("send: %s", ename(rc));
	return expect(g_ctl, type, status) && usable(g_ctl);
}

/* A well-formed request on g_ctl that must fail with status, then usability. */
static int bad_req(uint16_t type, const void *payload, size_t plen, const int *fds, int nfds,
		   int status)
{
	int rc = send_req(g_ctl, type, payload, plen, fds, nfds);

	if (rc)
		return fail("send: %s", ename(rc));
	return expect(g_ctl, type, status) && usable(g_ctl);
}

/* Header-level garbage: answered with SSA_MSG_ERROR. */
static int bad_hdr(uint32_t magic, uint16_t type, uint16_t flags, int32_t status, uint32_t len,
		   const void *payload, size_t plen, int want)
{
	uint8_t buf[SSA_WIRE_MAX_REQUEST];
	size_t n = build(buf, sizeof buf, magic, type, flags, status, len, payload, plen);

	return bad(buf, n, NULL, 0, SSA_MSG_ERROR, want);
}

static int need_ssa(void)
{
	if (g_ssa < 0)
		return fail("no TLS socket (the SOCKET check failed)");
	return 1;
}

/* ---- payload builders --------------------------------------------------- */

static size_t p_setopt(uint8_t *out, size_t cap, int32_t level, int32_t name, const void *val,
		       size_t n)
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, cap);
	ssa_put_i32(&w, level);
	ssa_put_i32(&w, name);
	ssa_put_blob(&w, val, n);
	return w.len;
}

static size_t p_getopt(uint8_t *out, int32_t level, int32_t name, uint32_t max)
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, 12);
	ssa_put_i32(&w, level);
	ssa_put_i32(&w, name);
	ssa_put_u32(&w, max);
	return w.len;
}

static int setopt_str(int fd, const void *val, size_t n, int want)
{
	uint8_t p[SSA_WIRE_MAX_REQUEST];
	size_t len = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, val, n);

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, p, len, &fd, fd >= 0, want);
}

static int getopt_req(int32_t name, uint32_t max, int want)
{
	uint8_t p[12];
	size_t len = p_getopt(p, IPPROTO_TLS, name, max);
	int rc;

	if (!need_ssa())
		return 0;
	rc = send_req(g_ctl, SSA_MSG_GETOPT, p, len, &g_ssa, 1);
	if (rc)
		return fail("send: %s", ename(rc));
	return expect(g_ctl, SSA_MSG_GETOPT, want);
}

static size_t p_addr(uint8_t *out, size_t cap, const void *sa, size_t n)
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, cap);
	ssa_put_blob(&w, sa, n);
	return w.len;
}

static struct sockaddr_in loopback4(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* A new TLS socket on ctl: 0 with fd and id filled, or -1 with why set. */
static int new_tls_socket(int ctl, int domain, int *fd, uint64_t *id)
{
	int32_t p[2] = { domain, SOCK_STREAM };
	int rc = send_req(ctl, SSA_MSG_SOCKET, p, sizeof p, NULL, 0);
	struct ssa_rbuf r;

	*fd = -1;
	if (rc)
		return fail("send: %s", ename(rc)), -1;
	rc = recv_reply(ctl);
	if (rc)
		return fail("no reply: %s", ename(rc)), -1;
	if (rep.h.type != SSA_MSG_SOCKET || rep.h.status != 0 || rep.fd < 0 || rep.h.len != 16) {
		fail("SOCKET reply type %u status %s len %u fd %d", rep.h.type,
		     ename(rep.h.status), rep.h.len, rep.fd);
		if (rep.fd >= 0)
			close(rep.fd);
		return -1;
	}
	ssa_rbuf_init(&r, rep.buf, rep.h.len);
	*id = ssa_get_u64(&r);
	*fd = rep.fd;
	return 0;
}

/* ---- the checks: header level ------------------------------------------ */

static const uint8_t zeros[8192];

static int t_trunc1(void)
{
	uint8_t b = 'S';

	return bad(&b, 1, NULL, 0, SSA_MSG_ERROR, EINVAL);
}

static int t_trunc15(void)
{
	uint8_t buf[32];
	size_t n = build(buf, sizeof buf, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0, NULL, 0);

	return n == 16 && bad(buf, 15, NULL, 0, SSA_MSG_ERROR, EINVAL);
}

static int t_zero_hdr(void) { return bad(zeros, 16, NULL, 0, SSA_MSG_ERROR, EINVAL); }
static int t_magic(void) { return bad_hdr(0x53534132u, SSA_MSG_STATUS, 0, 0, 0, NULL, 0, EINVAL); }
static int t_magic_swapped(void)
{
	return bad_hdr(0x31415353u, SSA_MSG_STATUS, 0, 0, 0, NULL, 0, EINVAL);
}
static int t_flags1(void) { return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 1, 0, 0, NULL, 0, EINVAL); }
static int t_flags8000(void)
{
	return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0x8000, 0, 0, NULL, 0, EINVAL);
}
static int t_len_long(void) { return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 4, NULL, 0, EINVAL); }
static int t_len_short(void)
{
	return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0, zeros, 4, EINVAL);
}
static int t_len_huge(void)
{
	return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0xffffffffu, zeros, 4, EINVAL);
}
static int t_type0(void) { return bad_hdr(SSA_WIRE_MAGIC, 0, 0, 0, 0, NULL, 0, EINVAL); }
static int t_type99(void) { return bad_hdr(SSA_WIRE_MAGIC, 99, 0, 0, 0, NULL, 0, EINVAL); }
static int t_typeffff(void) { return bad_hdr(SSA_WIRE_MAGIC, 0xffff, 0, 0, 0, NULL, 0, EINVAL); }
static int t_type_error(void)
{
	return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_ERROR, 0, 0, 0, NULL, 0, EINVAL);
}

/* A status the header parser accepts (0..4095) is refused by ssad, in kind. */
static int t_status5(void)
{
	uint8_t buf[32];
	size_t n = build(buf, sizeof buf, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 5, 0, NULL, 0);

	return bad(buf, n, NULL, 0, SSA_MSG_STATUS, EINVAL);
}

static int t_status_neg(void) { return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, -1, 0, NULL, 0, EINVAL); }
static int t_status_big(void)
{
	return bad_hdr(SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 5000, 0, NULL, 0, EINVAL);
}

static int oversized(size_t total, int with_fd)
{
	uint8_t *buf = calloc(1, total);
	int fds[1], rc;

	if (!buf)
		return fail("out of memory");
	build(buf, total, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, (uint32_t)(total - 16), NULL, 0);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rc = bad(buf, total, fds, with_fd ? 1 : 0, SSA_MSG_ERROR, EMSGSIZE);
	close(fds[0]);
	free(buf);
	return rc;
}

static int t_over8193(void) { return oversized(8193, 0); }
static int t_over65536(void) { return oversized(65536, 0); }
static int t_over_fd(void) { return oversized(20000, 1); }

/* Exactly SSA_WIRE_MAX_REQUEST: accepted by the transport, refused by STATUS. */
static int t_exact_max(void)
{
	return bad_req(SSA_MSG_STATUS, zeros, SSA_WIRE_MAX_REQUEST - SSA_WIRE_HDR_LEN, NULL, 0,
		       EINVAL);
}

static int t_status_payload(void) { return bad_req(SSA_MSG_STATUS, zeros, 1, NULL, 0, EINVAL); }

static int t_status_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), rc;

	rc = bad_req(SSA_MSG_STATUS, NULL, 0, &fd, 1, EINVAL);
	close(fd);
	return rc;
}

/* Several descriptors on one request: EINVAL, answered either by the
 * transport (type ERROR) or by the request's own decoder (in kind), as the
 * protocol allows some requests several descriptors. */
static int expect_einval_any(int sock, uint16_t type)
{
	int rc = recv_reply(sock);

	if (rc)
		return fail("no reply: %s", ename(rc));
	if (rep.fd >= 0) {
		close(rep.fd);
		rep.fd = -1;
		return fail("an error reply carried a descriptor");
	}
	if ((rep.h.type != SSA_MSG_ERROR && rep.h.type != type) || rep.h.status != EINVAL)
		return fail("reply type %u status %s, want EINVAL", rep.h.type, ename(rep.h.status));
	return 1;
}

static int nfds_garbage(int nfds, int valid_header)
{
	int fds[64], rc;
	uint8_t buf[32];
	size_t n = valid_header ?
		build(buf, sizeof buf, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0, NULL, 0) :
		build(buf, sizeof buf, 0xdeadbeefu, 42, 7, 0, 0, NULL, 0);

	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rc = send_raw(g_ctl, buf, n, fds, nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc)
		return fail("send: %s", ename(rc));
	return expect_einval_any(g_ctl, SSA_MSG_STATUS) && usable(g_ctl);
}

static int t_two_fds(void) { return nfds_garbage(2, 1); }
static int t_two_fds_garbage(void) { return nfds_garbage(2, 0); }
static int t_nine_fds(void) { return nfds_garbage(9, 1); }
static int t_sixteen_fds(void) { return nfds_garbage(16, 1); }
static int t_sixty_four_fds(void) { return nfds_garbage(64, 1); }

/* An empty datagram with a descriptor is not end-of-file: EINVAL. */
static int t_empty_with_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), rc;

	rc = bad(NULL, 0, &fd, 1, SSA_MSG_ERROR, EINVAL);
	close(fd);
	return rc;
}

/* An empty datagram reads as end-of-file: ssad closes (documented). */
static int t_empty_drops(void)
{
	int s = ctl_open(), rc;

	if (s < 0)
		return fail("cannot connect: %s", strerror(errno));
	rc = send_raw(s, NULL, 0, NULL, 0);
	if (rc) {
		close(s);
		return fail("send: %s", ename(rc));
	}
	rc = recv_reply(s);
	close(s);
	if (rc != ECONNRESET)
		return fail("want the connection closed, got %s (reply type %u status %s)",
			    ename(rc), rep.h.type, ename(rep.h.status));
	return 1;
}

/* ---- SOCKET -------------------------------------------------------------- */

static int t_socket_empty(void) { return bad_req(SSA_MSG_SOCKET, NULL, 0, NULL, 0, EINVAL); }
static int t_socket_short(void)
{
	int32_t d = AF_INET;

	return bad_req(SSA_MSG_SOCKET, &d, sizeof d, NULL, 0, EINVAL);
}
static int t_socket_long(void)
{
	int32_t p[3] = { AF_INET, SOCK_STREAM, 0 };

	return bad_req(SSA_MSG_SOCKET, p, sizeof p, NULL, 0, EINVAL);
}
static int t_socket_fd(void)
{
	int32_t p[2] = { AF_INET, SOCK_STREAM };
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), rc;

	rc = bad_req(SSA_MSG_SOCKET, p, sizeof p, &fd, 1, EINVAL);
	close(fd);
	return rc;
}
static int t_socket_dgram(void)
{
	int32_t p[2] = { AF_INET, SOCK_DGRAM };

	return bad_req(SSA_MSG_SOCKET, p, sizeof p, NULL, 0, EPROTONOSUPPORT);
}
static int t_socket_unix(void)
{
	int32_t p[2] = { AF_UNIX, SOCK_STREAM };

	return bad_req(SSA_MSG_SOCKET, p, sizeof p, NULL, 0, EAFNOSUPPORT);
}

static int t_socket_ok(void)
{
	struct stat st;
	int type = 0;
	socklen_t sl = sizeof type;

	if (new_tls_socket(g_ctl, AF_INET, &g_ssa, &g_id) != 0)
		return 0;
	if (fstat(g_ssa, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(g_ssa, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 || type != SOCK_STREAM)
		return fail("the descriptor received is not a stream socket");
	if (fcntl(g_ssa, F_GETFD) != FD_CLOEXEC)
		return fail("the descriptor received lacks close-on-exec");
	return usable(g_ctl);
}

/* ---- SETOPT --------------------------------------------------------------- */

static int setopt_with_fds(const int *fds, int nfds, int want)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);

	return bad_req(SSA_MSG_SETOPT, p, n, fds, nfds, want);
}

static int t_setopt_nofd(void) { return setopt_with_fds(NULL, 0, EBADF); }
static int t_setopt_pipe(void)
{
	int pp[2], rc;

	if (pipe2(pp, O_CLOEXEC) != 0)
		return fail("pipe: %s", strerror(errno));
	rc = setopt_with_fds(&pp[0], 1, EBADF) && setopt_with_fds(&pp[1], 1, EBADF);
	close(pp[0]);
	close(pp[1]);
	return rc;
}
static int t_setopt_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), rc;

	rc = setopt_with_fds(&fd, 1, EBADF);
	close(fd);
	return rc;
}
static int t_setopt_tcp(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	rc = setopt_with_fds(&fd, 1, EBADF);
	close(fd);
	return rc;
}
static int t_setopt_unixpair(void)
{
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return fail("socketpair: %s", strerror(errno));
	rc = setopt_with_fds(&sv[0], 1, EBADF) && setopt_with_fds(&sv[1], 1, EBADF);
	close(sv[0]);
	close(sv[1]);
	return rc;
}
/* The control connection itself is a socket ssad knows, but not a TLS socket. */
static int t_setopt_ctlfd(void) { return setopt_with_fds(&g_ctl, 1, EBADF); }
/* TLS_REMOTE_HOSTNAME takes one descriptor, the socket. */
static int setopt_two_fds(const int *fds)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);
	int rc = send_req(g_ctl, SSA_MSG_SETOPT, p, n, fds, 2);

	if (rc)
		return fail("send: %s", ename(rc));
	return expect_einval_any(g_ctl, SSA_MSG_SETOPT) && usable(g_ctl);
}
/* An O_PATH descriptor of the control socket's file: a socket inode, but
 * not one of ssad's TLS sockets. */
static int t_setopt_opath(void)
{
	int fd = open(sock_path, O_PATH | O_CLOEXEC), rc;

	if (fd < 0)
		return fail("open O_PATH: %s", strerror(errno));
	rc = setopt_with_fds(&fd, 1, EBADF);
	close(fd);
	return rc;
}
static int t_setopt_two_fds(void)
{
	int fds[2] = { g_ssa, open("/dev/null", O_RDONLY | O_CLOEXEC) }, rc;

	if (!need_ssa())
		return 0;
	rc = setopt_two_fds(fds);
	close(fds[1]);
	return rc;
}
static int t_setopt_same_fd_twice(void)
{
	int fds[2] = { g_ssa, g_ssa };

	if (!need_ssa())
		return 0;
	return setopt_two_fds(fds);
}

static int t_setopt_trunc(void)
{
	int32_t level = IPPROTO_TLS;

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, &level, sizeof level, &g_ssa, 1, EINVAL);
}
static int t_setopt_noblob(void)
{
	int32_t p[2] = { IPPROTO_TLS, TLS_REMOTE_HOSTNAME };

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, p, sizeof p, &g_ssa, 1, EINVAL);
}
static int t_setopt_bloblen_over(void)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);
	uint32_t lie = 100;

	if (!need_ssa())
		return 0;
	memcpy(p + 8, &lie, sizeof lie);
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, EINVAL);
}
static int t_setopt_bloblen_max(void)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);
	uint32_t lie = 0xffffffffu;

	if (!need_ssa())
		return 0;
	memcpy(p + 8, &lie, sizeof lie);
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, EINVAL);
}
static int t_setopt_optval_4097(void)
{
	static uint8_t val[SSA_WIRE_MAX_OPTVAL + 1];
	uint8_t p[SSA_WIRE_MAX_REQUEST];
	size_t n;

	if (!need_ssa())
		return 0;
	memset(val, 'a', sizeof val - 1);
	n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, val, sizeof val);
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, EINVAL);
}
static int t_setopt_trailing(void)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);

	if (!need_ssa())
		return 0;
	p[n++] = 0;
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, EINVAL);
}

static int t_host_nonul(void) { return setopt_str(g_ssa, "example.org", 11, EINVAL); }
static int t_host_embedded(void) { return setopt_str(g_ssa, "exam\0ple.org", 13, EINVAL); }
static int t_host_300(void)
{
	char h[300];

	memset(h, 'a', sizeof h - 1);
	for (int i = 50; i < 299; i += 50)
		h[i] = '.';
	h[299] = '\0';
	return setopt_str(g_ssa, h, sizeof h, EINVAL);
}
static int t_host_empty(void) { return setopt_str(g_ssa, "", 1, EINVAL); }
static int t_host_zero_len(void) { return setopt_str(g_ssa, "", 0, EINVAL); }
static int t_host_space(void) { return setopt_str(g_ssa, "exa mple.org", 13, EINVAL); }
static int t_host_longlabel(void)
{
	char h[70];

	memset(h, 'a', 64);
	strcpy(h + 64, ".org");
	return setopt_str(g_ssa, h, strlen(h) + 1, EINVAL);
}
/* 255 bytes (four labels of 63) is the longest valid name; 256 is too long. */
static int t_host_255(void)
{
	char h[257];

	memset(h, 'a', 255);
	h[63] = h[127] = h[191] = '.';
	h[255] = '\0';
	return setopt_str(g_ssa, h, 256, 0);
}
static int t_host_256(void)
{
	char h[258];

	memset(h, 'a', 256);
	h[63] = h[127] = h[191] = '.';
	h[256] = '\0';
	return setopt_str(g_ssa, h, 257, EINVAL);
}
static int t_setopt_level(void)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, SOL_SOCKET, TLS_REMOTE_HOSTNAME, "example.org", 12);

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, ENOPROTOOPT);
}
static int t_setopt_unknown(void)
{
	uint8_t p[64];
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, 9999, "x", 2);

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, ENOPROTOOPT);
}
static int t_setopt_readonly(void)
{
	uint8_t p[64];
	uint64_t v = 1;
	size_t n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_ID, &v, sizeof v);

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_SETOPT, p, n, &g_ssa, 1, EOPNOTSUPP);
}
static int t_host_ok(void) { return setopt_str(g_ssa, "example.org", 12, 0); }

/* ---- GETOPT ----------------------------------------------------------------- */

static int t_getopt_host(void)
{
	if (!getopt_req(TLS_REMOTE_HOSTNAME, 256, 0))
		return 0;
	if (rep.h.len != 12 || memcmp(rep.buf, "example.org", 12) != 0)
		return fail("value of %u bytes, want \"example.org\\0\"", rep.h.len);
	return usable(g_ctl);
}
static int erange(uint32_t max)
{
	uint32_t need = 0;

	if (!getopt_req(TLS_REMOTE_HOSTNAME, max, ERANGE))
		return 0;
	if (rep.h.len != 4)
		return fail("ERANGE payload of %u bytes, want 4", rep.h.len);
	memcpy(&need, rep.buf, 4);
	if (need != 12)
		return fail("ERANGE says %u bytes needed, want 12", need);
	return usable(g_ctl);
}
static int t_getopt_erange(void) { return erange(11); }
static int t_getopt_erange0(void) { return erange(0); }
static int t_getopt_hugemax(void)
{
	if (!getopt_req(TLS_REMOTE_HOSTNAME, 0xffffffffu, 0))
		return 0;
	if (rep.h.len != 12)
		return fail("value of %u bytes, want 12", rep.h.len);
	return usable(g_ctl);
}
static int t_getopt_trunc(void)
{
	uint8_t p[12];

	if (!need_ssa())
		return 0;
	p_getopt(p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, 256);
	return bad_req(SSA_MSG_GETOPT, p, 8, &g_ssa, 1, EINVAL) &&
	       bad_req(SSA_MSG_GETOPT, p, 11, &g_ssa, 1, EINVAL) &&
	       bad_req(SSA_MSG_GETOPT, NULL, 0, &g_ssa, 1, EINVAL);
}
static int t_getopt_trailing(void)
{
	uint8_t p[13] = { 0 };

	if (!need_ssa())
		return 0;
	p_getopt(p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, 256);
	return bad_req(SSA_MSG_GETOPT, p, 13, &g_ssa, 1, EINVAL);
}
static int t_getopt_nofd(void)
{
	uint8_t p[12];
	size_t n = p_getopt(p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, 256);

	return bad_req(SSA_MSG_GETOPT, p, n, NULL, 0, EBADF);
}
static int t_getopt_foreign(void)
{
	uint8_t p[12];
	size_t n = p_getopt(p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, 256);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = bad_req(SSA_MSG_GETOPT, p, n, &fd, 1, EBADF);
	close(fd);
	return rc;
}
static int t_getopt_id(void)
{
	uint64_t id = 0;

	if (!getopt_req(TLS_ID, 8, 0))
		return 0;
	if (rep.h.len != 8)
		return fail("TLS_ID of %u bytes", rep.h.len);
	memcpy(&id, rep.buf, 8);
	if (id != g_id)
		return fail("TLS_ID %016llx, SOCKET said %016llx", (unsigned long long)id,
			    (unsigned long long)g_id);
	return 1;
}
static int t_getopt_notconn(void) { return getopt_req(TLS_CHOSEN_VERSION, 4, ENOTCONN); }
static int t_getopt_unknown(void) { return getopt_req(9999, 4, ENOPROTOOPT); }

/* ---- INFO ----------------------------------------------------------------- */

/* INFO reply: u64 id, i32 domain, i32 state, i32 error, local and peer
 * address blobs. */
static int check_info(int want_state, int want_error)
{
	struct ssa_rbuf r;
	uint64_t id;
	int32_t domain, state, error;
	struct sockaddr_storage a, b;
	socklen_t al, bl;
	int rc;

	if (!need_ssa())
		return 0;
	rc = send_req(g_ctl, SSA_MSG_INFO, NULL, 0, &g_ssa, 1);
	if (rc)
		return fail("send: %s", ename(rc));
	if (!expect(g_ctl, SSA_MSG_INFO, 0))
		return 0;
	ssa_rbuf_init(&r, rep.buf, rep.h.len);
	id = ssa_get_u64(&r);
	domain = ssa_get_i32(&r);
	state = ssa_get_i32(&r);
	error = ssa_get_i32(&r);
	ssa_get_addr(&r, &a, &al);
	ssa_get_addr(&r, &b, &bl);
	if (!ssa_rbuf_done(&r))
		return fail("INFO reply of %u bytes does not decode", rep.h.len);
	if (id != g_id || domain != AF_INET || state != want_state || error != want_error)
		return fail("INFO id %016llx domain %d state %d error %s", (unsigned long long)id,
			    domain, state, ename(error));
	return 1;
}
static int t_info(void) { return check_info(SSA_STATE_NEW, 0); }
static int t_info_payload(void)
{
	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_INFO, zeros, 4, &g_ssa, 1, EINVAL);
}
static int t_info_nofd(void) { return bad_req(SSA_MSG_INFO, NULL, 0, NULL, 0, EBADF); }

/* ---- CONNECT ------------------------------------------------------------- */

static int connect_blob(const void *sa, size_t n, int want)
{
	uint8_t p[512];
	size_t len = p_addr(p, sizeof p, sa, n);

	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_CONNECT, p, len, &g_ssa, 1, want);
}
static int t_conn_empty(void) { return connect_blob(NULL, 0, EINVAL); }
static int t_conn_nopayload(void)
{
	if (!need_ssa())
		return 0;
	return bad_req(SSA_MSG_CONNECT, NULL, 0, &g_ssa, 1, EINVAL);
}
static int t_conn_short_in(void)
{
	struct sockaddr_in sin = loopback4(443);

	return connect_blob(&sin, 8, EINVAL);
}
static int t_conn_long_in(void)
{
	uint8_t sa[sizeof(struct sockaddr_in) + 4] = { 0 };
	struct sockaddr_in sin = loopback4(443);

	memcpy(sa, &sin, sizeof sin);
	return connect_blob(sa, sizeof sa, EINVAL);
}
static int t_conn_in6_size_in(void)
{
	uint8_t sa[sizeof(struct sockaddr_in6)] = { 0 };
	sa_family_t f = AF_INET;

	memcpy(sa, &f, sizeof f);
	return connect_blob(sa, sizeof sa, EINVAL);
}
static int t_conn_unix16(void)
{
	uint8_t sa[16] = { 0 };
	sa_family_t f = AF_UNIX;

	memcpy(sa, &f, sizeof f);
	memcpy(sa + 2, "/tmp/x", 6);
	return connect_blob(sa, sizeof sa, EINVAL);
}
static int t_conn_unix_full(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	strcpy(sun.sun_path, "/tmp/ssa-abuse");
	return connect_blob(&sun, sizeof sun, EINVAL);
}
static int t_conn_one_byte(void) { return connect_blob("\x02", 1, EINVAL); }
static int t_conn_storage_plus(void)
{
	uint8_t sa[sizeof(struct sockaddr_storage) + 1] = { AF_INET };

	return connect_blob(sa, sizeof sa, EINVAL);
}
static int t_conn_bloblen_over(void)
{
	uint8_t p[64];
	struct sockaddr_in sin = loopback4(443);
	size_t n = p_addr(p, sizeof p, &sin, sizeof sin);
	uint32_t lie = sizeof sin + 8;

	if (!need_ssa())
		return 0;
	memcpy(p, &lie, 4);
	return bad_req(SSA_MSG_CONNECT, p, n, &g_ssa, 1, EINVAL);
}
static int t_conn_trailing(void)
{
	uint8_t p[64];
	struct sockaddr_in sin = loopback4(443);
	size_t n = p_addr(p, sizeof p, &sin, sizeof sin);

	if (!need_ssa())
		return 0;
	p[n++] = 0;
	return bad_req(SSA_MSG_CONNECT, p, n, &g_ssa, 1, EINVAL);
}
static int t_conn_nofd(void)
{
	uint8_t p[64];
	struct sockaddr_in sin = loopback4(443);
	size_t n = p_addr(p, sizeof p, &sin, sizeof sin);

	return bad_req(SSA_MSG_CONNECT, p, n, NULL, 0, EBADF);
}
static int t_conn_pipe(void)
{
	uint8_t p[64];
	struct sockaddr_in sin = loopback4(443);
	size_t n = p_addr(p, sizeof p, &sin, sizeof sin);
	int pp[2], rc;

	if (pipe2(pp, O_CLOEXEC) != 0)
		return fail("pipe: %s", strerror(errno));
	rc = bad_req(SSA_MSG_CONNECT, p, n, &pp[1], 1, EBADF);
	close(pp[0]);
	close(pp[1]);
	return rc;
}
static int t_conn_family_mismatch(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };

	s6.sin6_addr = in6addr_loopback;
	return connect_blob(&s6, sizeof s6, EAFNOSUPPORT);
}

/* A loopback port on which a bound, non-listening socket answers RST. */
static int closed_port(int *holder, uint16_t *port)
{
	struct sockaddr_in sin = loopback4(0);
	socklen_t sl = sizeof sin;

	*holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*holder < 0 || bind(*holder, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(*holder, (struct sockaddr *)&sin, &sl) != 0)
		return fail("cannot reserve a port: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return 1;
}

static int t_conn_refused(void)
{
	uint8_t p[64];
	struct sockaddr_in sin;
	uint16_t port = 0;
	size_t n;
	int holder = -1, rc;

	if (!need_ssa() || !closed_port(&holder, &port)) {
		if (holder >= 0)
			close(holder);
		return 0;
	}
	sin = loopback4(port);
	n = p_addr(p, sizeof p, &sin, sizeof sin);
	rc = bad_req(SSA_MSG_CONNECT, p, n, &g_ssa, 1, ECONNREFUSED);
	close(holder);
	return rc;
}
static int t_conn_again(void)
{
	struct sockaddr_in sin = loopback4(9);

	return connect_blob(&sin, sizeof sin, ECONNABORTED);
}
/* A failed socket is released at once; INFO then answers ENOTCONN with
 * the failure's errno (the socket's tomb). */
static int t_info_failed(void)
{
	int32_t err;
	int rc;

	if (!need_ssa())
		return 0;
	rc = send_req(g_ctl, SSA_MSG_INFO, NULL, 0, &g_ssa, 1);
	if (rc)
		return fail("send: %s", ename(rc));
	if (!expect(g_ctl, SSA_MSG_INFO, ENOTCONN))
		return 0;
	if (rep.h.len != sizeof err)
		return fail("INFO of a released socket: %u bytes, want 4", rep.h.len);
	memcpy(&err, rep.buf, sizeof err);
	if (err != ECONNREFUSED)
		return fail("INFO of a released socket: error %s, want ECONNREFUSED", ename(err));
	return 1;
}
static int t_getopt_error(void)
{
	if (!getopt_req(TLS_ERROR, 256, 0))
		return 0;
	if (rep.h.len < 2 || rep.buf[rep.h.len - 1] != '\0' || strlen((char *)rep.buf) + 1 != rep.h.len)
		return fail("TLS_ERROR is not a non-empty string");
	printf("# TLS_ERROR after the refused connect: %s\n", (char *)rep.buf);
	return 1;
}
static int t_host_after_fail(void) { return setopt_str(g_ssa, "example.net", 12, ENOTCONN); }

/* A listener that never accepts and never speaks: the TCP connect succeeds
 * and the TLS handshake hangs until the handshake timeout. */
static int silent_listener(int *fd, uint16_t *port)
{
	struct sockaddr_in sin = loopback4(0);
	socklen_t sl = sizeof sin;

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(*fd, 16) != 0 || getsockname(*fd, (struct sockaddr *)&sin, &sl) != 0)
		return fail("listener: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return 1;
}

static int start_connect(int ctl, int tls, uint16_t port)
{
	uint8_t p[64];
	struct sockaddr_in sin = loopback4(port);
	size_t n = p_addr(p, sizeof p, &sin, sizeof sin);

	return send_req(ctl, SSA_MSG_CONNECT, p, n, &tls, 1);
}

/* While a CONNECT is pending, the same client's next request waits for the
 * connect result; another client is served meanwhile. */
static int t_pending_connect(void)
{
	int lst = -1, ctl = -1, other = -1, tls = -1, rc, ok = 0;
	uint16_t port = 0;
	uint64_t id;
	double t0;

	if (!silent_listener(&lst, &port))
		goto out;
	if ((ctl = ctl_open()) < 0 || (other = ctl_open()) < 0) {
		fail("cannot connect: %s", strerror(errno));
		goto out;
	}
	if (new_tls_socket(ctl, AF_INET, &tls, &id) != 0)
		goto out;
	t0 = now_ms();
	if ((rc = start_connect(ctl, tls, port)) != 0 ||
	    (rc = send_req(ctl, SSA_MSG_STATUS, NULL, 0, NULL, 0)) != 0) {
		fail("send: %s", ename(rc));
		goto out;
	}
	if (!usable(other))
		goto out;
	/* handshake-timeout is 2 s in the test configuration */
	rc = recv_reply_on(ctl, &rep, 6000);
	if (rc) {
		fail("no CONNECT reply: %s", ename(rc));
		goto out;
	}
	if (rep.h.type != SSA_MSG_CONNECT || rep.h.status != ETIMEDOUT) {
		fail("first reply type %u status %s, want CONNECT ETIMEDOUT", rep.h.type,
		     ename(rep.h.status));
		goto out;
	}
	printf("# CONNECT to a silent server failed after %.0f ms\n", now_ms() - t0);
	if (!expect(ctl, SSA_MSG_STATUS, 0))
		goto out;
	ok = usable(ctl);
out:
	if (tls >= 0)
		close(tls);
	if (ctl >= 0)
		close(ctl);
	if (other >= 0)
		close(other);
	if (lst >= 0)
		close(lst);
	return ok;
}

/* Closing the TLS socket while its CONNECT is pending: ECONNABORTED. */
static int t_close_while_connecting(void)
{
	int lst = -1, ctl = -1, tls = -1, rc, ok = 0;
	uint16_t port = 0;
	uint64_t id;

	if (!silent_listener(&lst, &port))
		goto out;
	if ((ctl = ctl_open()) < 0) {
		fail("cannot connect: %s", strerror(errno));
		goto out;
	}
	if (new_tls_socket(ctl, AF_INET, &tls, &id) != 0)
		goto out;
	if ((rc = start_connect(ctl, tls, port)) != 0) {
		fail("send: %s", ename(rc));
		goto out;
	}
	usleep(200 * 1000);
	close(tls);
	tls = -1;
	ok = expect(ctl, SSA_MSG_CONNECT, ECONNABORTED) && usable(ctl);
out:
	if (tls >= 0)
		close(tls);
	if (ctl >= 0)
		close(ctl);
	if (lst >= 0)
		close(lst);
	return ok;
}

/* While one client's CONNECT is pending, another client holding the same
 * TLS socket sees it CONNECTING and cannot connect or reconfigure it. */
static int t_pending_seen_by_other(void)
{
	int lst = -1, ctl = -1, other = -1, tls = -1, rc, ok = 0;
	uint16_t port = 0;
	uint64_t id;
	uint8_t p[64];
	size_t n;
	struct ssa_rbuf r;

	if (!silent_listener(&lst, &port))
		goto out;
	if ((ctl = ctl_open()) < 0 || (other = ctl_open()) < 0) {
		fail("cannot connect: %s", strerror(errno));
		goto out;
	}
	if (new_tls_socket(ctl, AF_INET, &tls, &id) != 0)
		goto out;
	if ((rc = start_connect(ctl, tls, port)) != 0) {
		fail("send: %s", ename(rc));
		goto out;
	}
	usleep(100 * 1000);
	if ((rc = send_req(other, SSA_MSG_INFO, NULL, 0, &tls, 1)) != 0 ||
	    !expect(other, SSA_MSG_INFO, 0))
		goto out;
	ssa_rbuf_init(&r, rep.buf, rep.h.len);
	ssa_get_u64(&r);
	ssa_get_i32(&r);
	if (ssa_get_i32(&r) != SSA_STATE_CONNECTING) {
		fail("INFO state is not CONNECTING");
		goto out;
	}
	if ((rc = start_connect(other, tls, port)) != 0 || !expect(other, SSA_MSG_CONNECT, EALREADY))
		goto out;
	n = p_setopt(p, sizeof p, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "example.org", 12);
	if ((rc = send_req(other, SSA_MSG_SETOPT, p, n, &tls, 1)) != 0 ||
	    !expect(other, SSA_MSG_SETOPT, EOPNOTSUPP))
		goto out;
	close(tls);
	tls = -1;
	ok = expect(ctl, SSA_MSG_CONNECT, ECONNABORTED) && usable(ctl) && usable(other);
out:
	if (tls >= 0)
		close(tls);
	if (ctl >= 0)
		close(ctl);
	if (other >= 0)
		close(other);
	if (lst >= 0)
		close(lst);
	return ok;
}

/* The control client goes away while its CONNECT is pending; the handshake
 * then times out with nobody to tell. ssad must survive both events. */
static int t_client_gone_while_connecting(void)
{
	int lst = -1, ctl = -1, tls = -1, rc, ok = 0;
	uint16_t port = 0;
	uint64_t id;

	if (!silent_listener(&lst, &port))
		goto out;
	if ((ctl = ctl_open()) < 0) {
		fail("cannot connect: %s", strerror(errno));
		goto out;
	}
	if (new_tls_socket(ctl, AF_INET, &tls, &id) != 0)
		goto out;
	if ((rc = start_connect(ctl, tls, port)) != 0) {
		fail("send: %s", ename(rc));
		goto out;
	}
	usleep(100 * 1000);
	close(ctl);
	ctl = -1;
	usleep(2600 * 1000); /* past the 2 s handshake timeout */
	if (!usable(g_ctl))
		goto out;
	/* The record stays until the application closes: TLS_ERROR is readable. */
	{
		uint8_t p[12];
		size_t n = p_getopt(p, IPPROTO_TLS, TLS_ERROR, 256);

		if ((rc = send_req(g_ctl, SSA_MSG_GETOPT, p, n, &tls, 1)) != 0) {
			fail("send: %s", ename(rc));
			goto out;
		}
		if (!expect(g_ctl, SSA_MSG_GETOPT, 0))
			goto out;
		printf("# TLS_ERROR after the timeout: %s\n", (char *)rep.buf);
	}
	ok = 1;
out:
	if (tls >= 0)
		close(tls);
	if (ctl >= 0)
		close(ctl);
	if (lst >= 0)
		close(lst);
	return ok;
}

/* SOCKET requested, reply never read, connection closed: the in-flight
 * descriptor is released and the TLS socket goes away. */
static int t_socket_unread(void)
{
	int32_t p[2] = { AF_INET, SOCK_STREAM };
	int ctl = ctl_open(), rc;

	if (ctl < 0)
		return fail("cannot connect: %s", strerror(errno));
	for (int i = 0; i < 5; i++) {
		rc = send_req(ctl, SSA_MSG_SOCKET, p, sizeof p, NULL, 0);
		if (rc) {
			close(ctl);
			return fail("send: %s", ename(rc));
		}
	}
	usleep(100 * 1000);
	close(ctl);
	return usable(g_ctl);
}

/* ---- volume ----------------------------------------------------------------- */

/* 1000 garbage messages in bursts of 50 (replies read after each burst:
 * a client that never reads is dropped, see t_flood), then STATUS. */
static int t_rapid_garbage(void)
{
	uint8_t buf[64];
	unsigned seed = 12345;
	int rc;

	for (int burst = 0; burst < 20; burst++) {
		for (int i = 0; i < 50; i++) {
			size_t n = 1 + (size_t)(rand_r(&seed) % 40);

			for (size_t k = 0; k < n; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			if (n >= 4 && (i & 1)) /* half of them with the right magic */
				memcpy(buf, &(uint32_t){ SSA_WIRE_MAGIC }, 4);
			if (n >= 8 && (i & 1))
				buf[4] = 99; /* type 99 or more: never valid */
			rc = send_raw(g_ctl, buf, n, NULL, 0);
			if (rc)
				return fail("send %d: %s", burst * 50 + i, ename(rc));
		}
		for (int i = 0; i < 50; i++)
			if (!expect(g_ctl, SSA_MSG_ERROR, EINVAL)) {
				char w[sizeof why];

				snprintf(w, sizeof w, "%s", why);
				return fail("garbage message %d: %s", burst * 50 + i, w);
			}
	}
	return usable(g_ctl);
}

struct flood {
	pthread_t th;
	atomic_int stop;
	long sent;
	long drops; /* times ssad dropped this flooder (it then reconnects) */
	int err;    /* an unexpected send error, or 0 */
};

/* Send requests and never read: alternately a STATUS request (a JSON reply)
 * and a datagram of the largest size (decoded, refused). When ssad drops the
 * connection, reconnect and go on until told to stop. */
static void *flood_main(void *arg)
{
	struct flood *f = arg;
	uint8_t big[SSA_WIRE_MAX_REQUEST];
	uint8_t small[16];
	size_t ns = build(small, sizeof small, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0, NULL, 0);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50 * 1000 };
	int sock = -1;

	build(big, sizeof big, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0,
	      sizeof big - SSA_WIRE_HDR_LEN, NULL, 0);
	while (!atomic_load(&f->stop)) {
		int rc;

		if (sock < 0) {
			sock = ctl_open();
			if (sock < 0) {
				f->err = errno;
				break;
			}
			setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		}
		rc = (f->sent & 1) ? send_raw(sock, big, sizeof big, NULL, 0) :
				     send_raw(sock, small, ns, NULL, 0);
		if (rc == 0) {
			f->sent++;
		} else if (rc == EPIPE || rc == ECONNRESET) {
			f->drops++;
			close(sock);
			sock = -1;
		} else if (rc != EAGAIN && rc != EWOULDBLOCK) {
			f->err = rc;
			break;
		}
	}
	if (sock >= 0)
		close(sock);
	return NULL;
}

/* Clients that flood requests and never read must not slow the others:
 * every probe by another client is answered within 1 s. */
static int t_flood(void)
{
	struct flood f[2];
	int probe = ctl_open(), ok = 1, answered = 0, started = 0;
	double worst = 0;
	long sent = 0, drops = 0;

	memset(f, 0, sizeof f);
	if (probe < 0)
		return fail("cannot connect: %s", strerror(errno));
	for (; started < 2; started++)
		if (pthread_create(&f[started].th, NULL, flood_main, &f[started]) != 0) {
			ok = fail("pthread_create failed");
			break;
		}
	usleep(100 * 1000);
	for (int i = 0; i < 30 && ok; i++) {
		double t0 = now_ms(), dt;
		int rc = send_req(probe, SSA_MSG_STATUS, NULL, 0, NULL, 0);

		if (!rc)
			rc = recv_reply_on(probe, &rep, 1000);
		dt = now_ms() - t0;
		if (dt > worst)
			worst = dt;
		if (rc || rep.h.status != 0 || dt > 1000)
			ok = fail("probe %d: %s after %.0f ms", i, ename(rc), dt);
		else
			answered++;
		usleep(50 * 1000);
	}
	for (int i = 0; i < started; i++) {
		atomic_store(&f[i].stop, 1);
		pthread_join(f[i].th, NULL);
		sent += f[i].sent;
		drops += f[i].drops;
		if (f[i].err && ok)
			ok = fail("flooder: unexpected %s", ename(f[i].err));
	}
	printf("# flood: 2 flooders sent %ld requests and were dropped %ld times; "
	       "%d probes answered, slowest %.1f ms\n", sent, drops, answered, worst);
	close(probe);
	return ok;
}

/* ... and ssad drops it (documented: a client that does not read its replies
 * is dropped, never waited for): its replies end with end-of-file. */
static int t_flood_dropped(void)
{
	int s = ctl_open(), rc = 0;
	uint8_t buf[16];
	size_t n = build(buf, sizeof buf, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0, NULL, 0);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	long sent = 0, replies = 0;
	double t0 = now_ms();

	if (s < 0)
		return fail("cannot connect: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while (now_ms() - t0 < 10000) {
		rc = send_raw(s, buf, n, NULL, 0);
		if (rc == 0)
			sent++;
		else if (rc != EAGAIN && rc != EWOULDBLOCK)
			break;
	}
	for (;;) {
		static struct reply r;

		rc = recv_reply_on(s, &r, 2000);
		if (rc)
			break;
		replies++;
	}
	close(s);
	printf("# non-reading client: %ld requests sent, %ld replies queued before the drop\n",
	       sent, replies);
	if (rc != ECONNRESET)
		return fail("the client was not dropped (last read: %s)", ename(rc));
	return usable(g_ctl);
}

static long json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static long status_num(int sock, const char *key)
{
	if (!usable(sock))
		return -1;
	return json_num((char *)rep.buf, key);
}

/* Many control connections at once, all served, then all gone. */
static int t_many_clients(void)
{
	int s[MANY_CLIENTS], n = 0, ok = 0;
	long live;

	for (; n < MANY_CLIENTS; n++) {
		s[n] = ctl_open();
		if (s[n] < 0) {
			fail("connection %d: %s", n, strerror(errno));
			goto out;
		}
	}
	for (int i = 0; i < n; i++)
		if (send_req(s[i], SSA_MSG_STATUS, NULL, 0, NULL, 0) != 0) {
			fail("send on connection %d failed", i);
			goto out;
		}
	for (int i = 0; i < n; i++)
		if (!expect(s[i], SSA_MSG_STATUS, 0)) {
			char w[sizeof why];

			snprintf(w, sizeof w, "%s", why);
			fail("connection %d: %s", i, w);
			goto out;
		}
	live = status_num(g_ctl, "control_clients");
	if (live < MANY_CLIENTS + 1) {
		fail("control_clients %ld with %d connections open", live, MANY_CLIENTS + 1);
		goto out;
	}
	ok = 1;
out:
	for (int i = 0; i < n; i++)
		close(s[i]);
	return ok;
}

static int t_clients_back(void)
{
	long live = -1;

	for (int i = 0; i < 50; i++) {
		live = status_num(g_ctl, "control_clients");
		if (live == 1)
			return 1;
		usleep(100 * 1000);
	}
	return fail("control_clients still %ld after 5 s, want 1", live);
}

static int t_bad_requests_counted(void)
{
	long bad_n = status_num(g_ctl, "bad_requests");

	if (bad_n < 1000)
		return fail("bad_requests %ld, want at least 1000", bad_n);
	printf("# bad_requests: %ld\n", bad_n);
	return 1;
}

/* Closing the TLS socket removes it from ssad: it can no longer be named. */
static int t_close_ssa(void)
{
	long conns;

	if (!need_ssa())
		return 0;
	close(g_ssa);
	g_ssa = -1;
	for (int i = 0; i < 50; i++) {
		conns = status_num(g_ctl, "connections");
		if (conns == 0)
			return 1;
		usleep(100 * 1000);
	}
	return fail("connections still %ld after every TLS socket was closed", conns);
}


/* ---- the key intake (supervisor/key_intake.h) ---------------------------- */

/* A connection to the key intake, or -1. */
static int intake_open(void)
{
	return unix_open(SSA_KEY_INTAKE_SUFFIX);
}

/* Send buf (+fds) on an intake connection and read its answer: the status,
 * or -1 with why set (no answer: closed or timed out). */
static int intake_ask_on(int c, const void *buf, size_t len, const int *fds, int nfds,
			 uint8_t ticket[SSA_KEY_TICKET_LEN])
{
	uint8_t r[SSA_KEY_INTAKE_REP_LEN + 1], t[SSA_KEY_TICKET_LEN];
	struct pollfd p = { .fd = c, .events = POLLIN };
	int rc = send_raw(c, buf, len, fds, nfds), status;
	ssize_t n;

	/* a refusal may have come before the request could be sent */
	if (rc && rc != EPIPE && rc != ECONNRESET)
		return fail("intake: send: %s", ename(rc)), -1;
	if (poll(&p, 1, REPLY_TIMEOUT_MS) != 1)
		return fail("intake: no answer"), -1;
	n = recv(c, r, sizeof r, 0);
	if (n < 0 || ssa_key_intake_rep_decode(r, (size_t)n, &status, ticket ? ticket : t) != 0)
		return fail("intake: a malformed answer (%zd bytes)", n), -1;
	return status;
}

/* One request on a fresh connection; expect want, and (for an error) the
 * connection closed after the answer. */
static int intake_bad(const void *buf, size_t len, const int *fds, int nfds, int want)
{
	int c = intake_open(), st;
	char b;

	if (c < 0)
		return fail("cannot connect to the key intake: %s", strerror(errno));
	st = intake_ask_on(c, buf, len, fds, nfds, NULL);
	if (st >= 0 && st != want) {
		close(c);
		return fail("intake answered %s, want %s", ename(st), ename(want));
	}
	if (st == want && want != 0) {
		struct pollfd p = { .fd = c, .events = POLLIN };

		if (poll(&p, 1, REPLY_TIMEOUT_MS) != 1 || recv(c, &b, 1, MSG_DONTWAIT) != 0) {
			close(c);
			return fail("the intake connection stays open after refusing");
		}
	}
	close(c);
	return st == want;
}

static uint8_t intake_req[SSA_KEY_INTAKE_REQ_LEN];

/* The key file the test gives (CTL_ABUSE_KEY), open for reading, or -1. */
static int key_fd(void)
{
	const char *k = getenv("CTL_ABUSE_KEY");
	int fd = k ? open(k, O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0)
		fail("CTL_ABUSE_KEY (a PEM private key) cannot be opened");
	return fd;
}

static int t_intake_no_fd(void)
{
	ssa_key_intake_req_encode(intake_req);
	return intake_bad(intake_req, sizeof intake_req, NULL, 0, EINVAL);
}

static int t_intake_magic(void)
{
	uint8_t b[SSA_KEY_INTAKE_REQ_LEN];
	int fd = key_fd(), ok;

	if (fd < 0)
		return 0;
	memcpy(b, intake_req, sizeof b);
	b[0] ^= 0xff;
	ok = intake_bad(b, sizeof b, &fd, 1, EINVAL);
	close(fd);
	return ok;
}

static int t_intake_version(void)
{
	uint8_t b[SSA_KEY_INTAKE_REQ_LEN];
	uint32_t v = 2;
	int fd = key_fd(), ok;

	if (fd < 0)
		return 0;
	memcpy(b, intake_req, sizeof b);
	memcpy(b + 4, &v, 4);
	ok = intake_bad(b, sizeof b, &fd, 1, EPROTONOSUPPORT);
	close(fd);
	return ok;
}

static int t_intake_long(void)
{
	uint8_t b[SSA_KEY_INTAKE_REQ_LEN + 1] = { 0 };
	int fd = key_fd(), ok;

	if (fd < 0)
		return 0;
	memcpy(b, intake_req, sizeof intake_req);
	ok = intake_bad(b, sizeof b, &fd, 1, EINVAL);
	close(fd);
	return ok;
}

static int t_intake_pipe(void)
{
	int pv[2], ok;

	if (pipe2(pv, O_CLOEXEC) != 0)
		return fail("pipe: %s", strerror(errno));
	ok = intake_bad(intake_req, sizeof intake_req, pv, 1, EINVAL);
	close(pv[0]);
	close(pv[1]);
	return ok;
}

static int t_intake_opath(void)
{
	const char *k = getenv("CTL_ABUSE_KEY");
	int fd = k ? open(k, O_PATH | O_CLOEXEC) : -1, ok;

	if (fd < 0)
		return fail("CTL_ABUSE_KEY cannot be opened O_PATH");
	ok = intake_bad(intake_req, sizeof intake_req, &fd, 1, EBADF);
	close(fd);
	return ok;
}

static int t_intake_wronly(void)
{
	char path[] = "/tmp/ctl_abuse_wo.XXXXXX";
	int fd = mkstemp(path), wo, ok;

	if (fd < 0)
		return fail("mkstemp: %s", strerror(errno));
	(void)!write(fd, "x", 1);
	wo = open(path, O_WRONLY | O_CLOEXEC);
	unlink(path);
	close(fd);
	if (wo < 0)
		return fail("open O_WRONLY: %s", strerror(errno));
	ok = intake_bad(intake_req, sizeof intake_req, &wo, 1, EBADF);
	close(wo);
	return ok;
}

static int t_intake_empty(void)
{
	char path[] = "/tmp/ctl_abuse_empty.XXXXXX";
	int fd = mkstemp(path), ok;

	if (fd < 0)
		return fail("mkstemp: %s", strerror(errno));
	unlink(path);
	ok = intake_bad(intake_req, sizeof intake_req, &fd, 1, EINVAL);
	close(fd);
	return ok;
}

static int t_intake_two_fds(void)
{
	int fds[2] = { key_fd(), -1 }, ok;

	if (fds[0] < 0)
		return 0;
	fds[1] = dup(fds[0]);
	ok = intake_bad(intake_req, sizeof intake_req, fds, 2, EINVAL);
	close(fds[0]);
	close(fds[1]);
	return ok;
}

/* Take a ticket for the test's key: the open intake connection, or -1. */
static int intake_ticket_of(int fd, uint8_t ticket[SSA_KEY_TICKET_LEN])
{
	int c = intake_open(), st;

	if (c < 0)
		return fail("cannot connect to the key intake"), -1;
	st = intake_ask_on(c, intake_req, sizeof intake_req, &fd, 1, ticket);
	if (st != 0) {
		close(c);
		if (st > 0)
			fail("the intake refused the key: %s", ename(st));
		return -1;
	}
	return c;
}

static int intake_ticket(uint8_t ticket[SSA_KEY_TICKET_LEN])
{
	int fd = key_fd(), c;

	if (fd < 0)
		return -1;
	c = intake_ticket_of(fd, ticket);
	close(fd);
	return c;
}

static int t_intake_second_request(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int c = intake_ticket(t), fd, st;

	if (c < 0)
		return 0;
	fd = key_fd();
	st = intake_ask_on(c, intake_req, sizeof intake_req, &fd, 1, NULL);
	close(fd);
	close(c);
	return st < 0 ? 0 : st == EINVAL ? 1 : fail("a second request: %s, want EINVAL", ename(st));
}

/* SETOPT TLS_PRIVATE_KEY (or name) with a ticket after the value, and
 * nfds descriptors besides the TLS socket; expect want. */
static int setopt_ticket(int32_t name, const uint8_t *ticket, int extra_fd, int want)
{
	uint8_t p[SSA_WIRE_MAX_REQUEST];
	size_t len = p_setopt(p, sizeof p, IPPROTO_TLS, name, "key.pem", 8);
	int fds[2] = { -1, extra_fd }, ok;
	uint64_t id;

	if (new_tls_socket(g_ctl, AF_INET, &fds[0], &id) != 0)
		return 0;
	{
		/* a key follows a certificate chain */
		const char *chain = getenv("CTL_ABUSE_CHAIN");
		uint8_t q[64];
		size_t qlen = p_setopt(q, sizeof q, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, "c.pem", 6);
		int cf[2] = { fds[0], chain ? open(chain, O_RDONLY | O_CLOEXEC) : -1 };

		if (cf[1] < 0) {
			close(fds[0]);
			return fail("CTL_ABUSE_CHAIN (a PEM certificate chain) cannot be opened");
		}
		ok = bad_req(SSA_MSG_SETOPT, q, qlen, cf, 2, 0);
		close(cf[1]);
		if (!ok) {
			close(fds[0]);
			return 0;
		}
	}
	memcpy(p + len, ticket, SSA_KEY_TICKET_LEN);
	ok = bad_req(SSA_MSG_SETOPT, p, len + SSA_KEY_TICKET_LEN, fds, extra_fd >= 0 ? 2 : 1, want);
	close(fds[0]);
	return ok;
}

static int t_ticket_unknown(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];

	for (size_t i = 0; i < sizeof t; i++)
		t[i] = (uint8_t)(0xa5 ^ i);
	return setopt_ticket(TLS_PRIVATE_KEY, t, -1, ENOENT);
}

static int t_ticket_used_once(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int c = intake_ticket(t), ok;

	if (c < 0)
		return 0;
	ok = setopt_ticket(TLS_PRIVATE_KEY, t, -1, 0) &&
	     setopt_ticket(TLS_PRIVATE_KEY, t, -1, ENOENT);
	close(c);
	return ok;
}

static int t_ticket_other_option(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int c = intake_ticket(t), ok;

	if (c < 0)
		return 0;
	ok = setopt_ticket(TLS_CERTIFICATE_CHAIN, t, -1, EINVAL);
	close(c);
	return ok;
}

static int t_ticket_and_fd(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int c = intake_ticket(t), fd = key_fd(), ok;

	if (c < 0 || fd < 0)
		return 0;
	ok = setopt_ticket(TLS_PRIVATE_KEY, t, fd, EINVAL);
	close(fd);
	close(c);
	return ok;
}

static int t_ticket_dropped_at_close(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int c = intake_ticket(t);

	if (c < 0)
		return 0;
	close(c);
	usleep(200 * 1000); /* the supervisor drops it when it sees the close */
	return setopt_ticket(TLS_PRIVATE_KEY, t, -1, ENOENT);
}

/* A ticket taken by another uid (nobody, 65534) is refused to us. */
static int t_ticket_other_uid(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int pv[2], go[2], fd = key_fd(), ok;
	pid_t pid;

	if (fd < 0)
		return 0;
	if (pipe(pv) != 0 || pipe(go) != 0)
		return fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int c = intake_open(), st;
		char b;

		close(pv[0]);
		close(go[1]);
		/* connected as root (the test's directory may be closed to
		 * others); the request is sent as uid 65534, which its
		 * credentials say */
		if (c < 0 || setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(3);
		st = intake_ask_on(c, intake_req, sizeof intake_req, &fd, 1, t);
		if (st != 0)
			_exit(4);
		(void)!write(pv[1], t, sizeof t);
		(void)!read(go[0], &b, 1); /* hold the connection until the parent tried */
		_exit(0);
	}
	close(pv[1]);
	close(go[0]);
	close(fd);
	if (pid < 0 || read(pv[0], t, sizeof t) != (ssize_t)sizeof t) {
		close(pv[0]);
		close(go[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return fail("the child (uid 65534) got no ticket");
	}
	ok = setopt_ticket(TLS_PRIVATE_KEY, t, -1, EACCES) &&
	     /* used up by the refusal, as any ticket once presented */
	     setopt_ticket(TLS_PRIVATE_KEY, t, -1, ENOENT);
	close(pv[0]);
	close(go[1]);
	waitpid(pid, NULL, 0);
	return ok;
}

/* A temporary regular file of size bytes, open for reading, or -1. */
static int big_file(off_t size)
{
	char path[] = "/tmp/ctl_abuse_big.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return fail("mkstemp: %s", strerror(errno)), -1;
	unlink(path);
	if (ftruncate(fd, size) != 0) {
		close(fd);
		return fail("ftruncate: %s", strerror(errno)), -1;
	}
	return fd;
}

static int t_intake_too_big(void)
{
	int fd = big_file(SSA_KEY_INTAKE_MAX_FILE + 1), ok;

	if (fd < 0)
		return 0;
	ok = intake_bad(intake_req, sizeof intake_req, &fd, 1, EFBIG);
	close(fd);
	return ok;
}

/* A file taken in (under 1 MiB) but over max-pem-size (256 KiB by
 * default) is refused when the ticket is used, unread. */
static int t_ticket_over_pem_size(void)
{
	uint8_t t[SSA_KEY_TICKET_LEN];
	int fd = big_file(300 << 10), c, ok;

	if (fd < 0)
		return 0;
	c = intake_ticket_of(fd, t);
	close(fd);
	if (c < 0)
		return 0;
	ok = setopt_ticket(TLS_PRIVATE_KEY, t, -1, EFBIG);
	close(c);
	return ok;
}

/* One user's open intake connections are bounded: the next is ENOBUFS,
 * and after they close a new one is served. */
static int t_intake_per_user(void)
{
	int c[SSA_KEY_INTAKE_PER_USER], n = 0, ok = 1, fd = key_fd(), st, last;
	uint8_t t[SSA_KEY_TICKET_LEN];

	if (fd < 0)
		return 0;
	for (n = 0; n < (int)SSA_KEY_INTAKE_PER_USER; n++)
		if ((c[n] = intake_open()) < 0)
			break;
	usleep(200 * 1000); /* accepted by now */
	last = intake_open();
	st = last >= 0 ? intake_ask_on(last, intake_req, sizeof intake_req, &fd, 1, NULL) : -1;
	if (last >= 0)
		close(last);
	if (st != ENOBUFS)
		ok = st < 0 ? 0 : fail("connection %d of one user: %s, want ENOBUFS", n + 1, ename(st));
	while (n > 0)
		close(c[--n]);
	usleep(200 * 1000);
	if (ok) {
		last = intake_ticket(t);
		ok = last >= 0 ? 1 : 0;
		if (last >= 0)
			close(last);
	}
	close(fd);
	return ok;
}

/* ---- the table ---------------------------------------------------------- */

static const struct check {
	const char *name;
	int (*fn)(void);
} checks[] = {
	{ "truncated message (1 byte) -> EINVAL", t_trunc1 },
	{ "truncated message (15 bytes) -> EINVAL", t_trunc15 },
	{ "all-zero header -> EINVAL", t_zero_hdr },
	{ "wrong magic -> EINVAL", t_magic },
	{ "byte-swapped magic -> EINVAL", t_magic_swapped },
	{ "flags 1 -> EINVAL", t_flags1 },
	{ "flags 0x8000 -> EINVAL", t_flags8000 },
	{ "len field larger than the payload -> EINVAL", t_len_long },
	{ "len field smaller than the payload -> EINVAL", t_len_short },
	{ "len field 0xffffffff -> EINVAL", t_len_huge },
	{ "type 0 -> EINVAL", t_type0 },
	{ "type 99 -> EINVAL", t_type99 },
	{ "type 0xffff -> EINVAL", t_typeffff },
	{ "type ERROR (7) as a request -> EINVAL", t_type_error },
	{ "request status 5 -> EINVAL (reply of the request's type)", t_status5 },
	{ "request status -1 -> EINVAL", t_status_neg },
	{ "request status 5000 -> EINVAL", t_status_big },
	{ "datagram of 8193 bytes -> EMSGSIZE", t_over8193 },
	{ "datagram of 65536 bytes -> EMSGSIZE", t_over65536 },
	{ "oversized datagram with a descriptor -> EMSGSIZE", t_over_fd },
	{ "datagram of exactly 8192 bytes reaches the decoder (STATUS payload -> EINVAL)", t_exact_max },
	{ "STATUS with a payload -> EINVAL", t_status_payload },
	{ "STATUS with a descriptor -> EINVAL", t_status_fd },
	{ "two descriptors attached -> EINVAL", t_two_fds },
	{ "two descriptors on a garbage header -> EINVAL", t_two_fds_garbage },
	{ "nine descriptors -> EINVAL", t_nine_fds },
	{ "sixteen descriptors -> EINVAL", t_sixteen_fds },
	{ "sixty-four descriptors -> EINVAL", t_sixty_four_fds },
	{ "empty datagram with a descriptor -> EINVAL", t_empty_with_fd },
	{ "empty datagram: ssad closes the connection (reads as EOF)", t_empty_drops },
	{ "SOCKET without payload -> EINVAL", t_socket_empty },
	{ "SOCKET with 4-byte payload -> EINVAL", t_socket_short },
	{ "SOCKET with 12-byte payload -> EINVAL", t_socket_long },
	{ "SOCKET with a descriptor attached -> EINVAL", t_socket_fd },
	{ "SOCKET SOCK_DGRAM -> EPROTONOSUPPORT", t_socket_dgram },
	{ "SOCKET AF_UNIX -> EAFNOSUPPORT", t_socket_unix },
	{ "SOCKET AF_INET SOCK_STREAM -> 0, a stream socket and an id", t_socket_ok },
	{ "SETOPT without descriptor -> EBADF", t_setopt_nofd },
	{ "SETOPT with a pipe -> EBADF", t_setopt_pipe },
	{ "SETOPT with /dev/null -> EBADF", t_setopt_devnull },
	{ "SETOPT with a plain TCP socket -> EBADF", t_setopt_tcp },
	{ "SETOPT with a foreign AF_UNIX socket -> EBADF", t_setopt_unixpair },
	{ "SETOPT with the control connection's own socket -> EBADF", t_setopt_ctlfd },
	{ "SETOPT with an O_PATH descriptor of the socket file -> EBADF", t_setopt_opath },
	{ "SETOPT with two descriptors -> EINVAL", t_setopt_two_fds },
	{ "SETOPT with the same descriptor twice -> EINVAL", t_setopt_same_fd_twice },
	{ "SETOPT payload truncated after level -> EINVAL", t_setopt_trunc },
	{ "SETOPT payload without the value blob -> EINVAL", t_setopt_noblob },
	{ "SETOPT blob length larger than the payload -> EINVAL", t_setopt_bloblen_over },
	{ "SETOPT blob length 0xffffffff -> EINVAL", t_setopt_bloblen_max },
	{ "SETOPT value of 4097 bytes -> EINVAL", t_setopt_optval_4097 },
	{ "SETOPT trailing byte after the blob -> EINVAL", t_setopt_trailing },
	{ "TLS_REMOTE_HOSTNAME without NUL -> EINVAL", t_host_nonul },
	{ "TLS_REMOTE_HOSTNAME with an embedded NUL -> EINVAL", t_host_embedded },
	{ "TLS_REMOTE_HOSTNAME of 300 bytes -> EINVAL", t_host_300 },
	{ "TLS_REMOTE_HOSTNAME \"\" -> EINVAL", t_host_empty },
	{ "TLS_REMOTE_HOSTNAME optlen 0 -> EINVAL", t_host_zero_len },
	{ "TLS_REMOTE_HOSTNAME with a space -> EINVAL", t_host_space },
	{ "TLS_REMOTE_HOSTNAME with a 64-byte label -> EINVAL", t_host_longlabel },
	{ "TLS_REMOTE_HOSTNAME of 255 bytes -> 0", t_host_255 },
	{ "TLS_REMOTE_HOSTNAME of 256 bytes -> EINVAL", t_host_256 },
	{ "SETOPT level SOL_SOCKET -> ENOPROTOOPT", t_setopt_level },
	{ "SETOPT unknown option -> ENOPROTOOPT", t_setopt_unknown },
	{ "SETOPT read-only TLS_ID -> EOPNOTSUPP", t_setopt_readonly },
	{ "TLS_REMOTE_HOSTNAME \"example.org\" -> 0", t_host_ok },
	{ "GETOPT TLS_REMOTE_HOSTNAME -> \"example.org\\0\"", t_getopt_host },
	{ "GETOPT maxlen 11 -> ERANGE, needs 12", t_getopt_erange },
	{ "GETOPT maxlen 0 -> ERANGE, needs 12", t_getopt_erange0 },
	{ "GETOPT maxlen 0xffffffff -> value", t_getopt_hugemax },
	{ "GETOPT truncated payloads -> EINVAL", t_getopt_trunc },
	{ "GETOPT trailing byte -> EINVAL", t_getopt_trailing },
	{ "GETOPT without descriptor -> EBADF", t_getopt_nofd },
	{ "GETOPT with a foreign socket -> EBADF", t_getopt_foreign },
	{ "GETOPT TLS_ID matches the SOCKET reply", t_getopt_id },
	{ "GETOPT TLS_CHOSEN_VERSION before connect -> ENOTCONN", t_getopt_notconn },
	{ "GETOPT unknown option -> ENOPROTOOPT", t_getopt_unknown },
	{ "INFO -> id, AF_INET, state NEW, no error", t_info },
	{ "INFO with a payload -> EINVAL", t_info_payload },
	{ "INFO without descriptor -> EBADF", t_info_nofd },
	{ "CONNECT empty address -> EINVAL", t_conn_empty },
	{ "CONNECT without payload -> EINVAL", t_conn_nopayload },
	{ "CONNECT AF_INET address of 8 bytes -> EINVAL", t_conn_short_in },
	{ "CONNECT AF_INET address of 20 bytes -> EINVAL", t_conn_long_in },
	{ "CONNECT AF_INET family with AF_INET6 size -> EINVAL", t_conn_in6_size_in },
	{ "CONNECT AF_UNIX family, 16 bytes -> EINVAL", t_conn_unix16 },
	{ "CONNECT full sockaddr_un -> EINVAL", t_conn_unix_full },
	{ "CONNECT address of 1 byte -> EINVAL", t_conn_one_byte },
	{ "CONNECT address larger than sockaddr_storage -> EINVAL", t_conn_storage_plus },
	{ "CONNECT blob length larger than the payload -> EINVAL", t_conn_bloblen_over },
	{ "CONNECT trailing byte -> EINVAL", t_conn_trailing },
	{ "CONNECT without descriptor -> EBADF", t_conn_nofd },
	{ "CONNECT with a pipe -> EBADF", t_conn_pipe },
	{ "CONNECT AF_INET6 address on an AF_INET socket -> EAFNOSUPPORT", t_conn_family_mismatch },
	{ "CONNECT to a closed port -> ECONNREFUSED", t_conn_refused },
	{ "CONNECT again after a failure -> ECONNABORTED", t_conn_again },
	{ "INFO after the failure -> ENOTCONN with ECONNREFUSED (released socket)", t_info_failed },
	{ "GETOPT TLS_ERROR after the failure -> reason", t_getopt_error },
	{ "SETOPT TLS_REMOTE_HOSTNAME after the failure -> ENOTCONN", t_host_after_fail },
	{ "pending CONNECT: the client's next request waits, others are served", t_pending_connect },
	{ "TLS socket closed during CONNECT -> ECONNABORTED", t_close_while_connecting },
	{ "pending CONNECT seen by another client: CONNECTING, EALREADY, EOPNOTSUPP", t_pending_seen_by_other },
	{ "control client gone during CONNECT, then the handshake times out", t_client_gone_while_connecting },
	{ "SOCKET replies never read, connection closed", t_socket_unread },
	{ "1000 rapid garbage messages, then STATUS", t_rapid_garbage },
	{ "flooding clients do not delay others (probes within 1 s)", t_flood },
	{ "a client that never reads is dropped", t_flood_dropped },
	{ "200 control connections at once, all answered", t_many_clients },
	{ "control_clients back to 1 after they closed", t_clients_back },
	{ "bad requests are counted", t_bad_requests_counted },
	{ "key intake: no descriptor -> EINVAL, closed", t_intake_no_fd },
	{ "key intake: wrong magic -> EINVAL", t_intake_magic },
	{ "key intake: version 2 -> EPROTONOSUPPORT", t_intake_version },
	{ "key intake: a request one byte long -> EINVAL", t_intake_long },
	{ "key intake: a pipe -> EINVAL", t_intake_pipe },
	{ "key intake: an O_PATH descriptor -> EBADF", t_intake_opath },
	{ "key intake: a write-only descriptor -> EBADF", t_intake_wronly },
	{ "key intake: an empty file -> EINVAL", t_intake_empty },
	{ "key intake: two descriptors -> EINVAL", t_intake_two_fds },
	{ "key intake: a file over 1 MiB -> EFBIG", t_intake_too_big },
	{ "SETOPT with a ticket of a file over max-pem-size -> EFBIG", t_ticket_over_pem_size },
	{ "key intake: a second request on a connection -> EINVAL", t_intake_second_request },
	{ "SETOPT TLS_PRIVATE_KEY with an unknown ticket -> ENOENT", t_ticket_unknown },
	{ "SETOPT with a ticket: the key is set; the same ticket again -> ENOENT", t_ticket_used_once },
	{ "SETOPT TLS_CERTIFICATE_CHAIN with a ticket -> EINVAL", t_ticket_other_option },
	{ "SETOPT with a ticket and a key descriptor -> EINVAL", t_ticket_and_fd },
	{ "a ticket is dropped when its intake connection closes -> ENOENT", t_ticket_dropped_at_close },
	{ "a ticket of another uid -> EACCES, then used up", t_ticket_other_uid },
	{ "key intake: one user's 17th open connection -> ENOBUFS; served again after", t_intake_per_user },
	{ "closing the TLS socket: connections back to 0", t_close_ssa },
};

int main(int argc, char **argv)
{
	size_t n = sizeof checks / sizeof checks[0];
	int failed = 0;

	if (argc == 2 && strcmp(argv[1], "--plan") == 0) {
		printf("%zu\n", n);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: ctl_abuse [--plan]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock_path = getenv("SSA_SOCKET");
	if (!sock_path || !*sock_path)
		sock_path = SSA_DEFAULT_SOCKET;
	printf("1..%zu\n", n);
	g_ctl = ctl_open();
	if (g_ctl < 0)
		printf("# cannot connect to %s: %s\n", sock_path, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		int ok;

		why[0] = '\0';
		ok = g_ctl >= 0 && checks[i].fn();
		if (g_ctl < 0)
			snprintf(why, sizeof why, "no control connection");
		printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1, checks[i].name);
		if (!ok) {
			printf("#   %s\n", why[0] ? why : "failed");
			failed++;
		}
		if (rep.fd >= 0) {
			close(rep.fd);
			rep.fd = -1;
		}
	}
	if (g_ssa >= 0)
		close(g_ssa);
	if (g_ctl >= 0)
		close(g_ctl);
	return failed ? 1 : 0;
}

#include "../../src/proto/wire_codec.c"
#include "../../src/proto/wire_io.c"
#include "../../src/proto/wire_io_libc.c"
