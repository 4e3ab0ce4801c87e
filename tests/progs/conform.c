/* SPDX-License-Identifier: MIT */
/*
 * conform: the differential POSIX conformance suite (issue 4, item 8).
 *
 *   conform -p 0|205 -P PEER_PORT [-c CHAIN.pem -k KEY.pem] [-s LIST]
 *   conform -l                         list the scenarios
 *
 * -s runs only the scenarios in LIST (comma-separated names, S numbers or
 * numbers), e.g. -s S06,peer_reset_read.
 *
 * One program, run twice: with -p 0 its sockets are socket(..., 0) (plain
 * TCP) and the peer is `conform_peer -m plain`; with -p 205 they are
 * socket(..., IPPROTO_TLS) under libssa, client sockets get
 * TLS_REMOTE_HOSTNAME "localhost", listeners get TLS_CERTIFICATE_CHAIN and
 * TLS_PRIVATE_KEY from -c/-k, and the peer is `conform_peer -m tls`.
 * Applications must not be able to tell the two apart except by the TLS
 * they get, so the two outputs must be identical.
 *
 * Output: one line per scenario on stdout,
 *
 *   S06 nb_connect_poll: connect=-1 EINPROGRESS | poll=1 revents=OUT | ...
 *
 * every observable step (return value, errno name, readiness bits, bytes)
 * in order. Nothing that legitimately differs between runs (ports, fd
 * numbers above the fixed ones, timings, addresses of the peer's side) is
 * printed: ports are compared and printed as port_match=1, times as
 * in_bounds=1. Deliberate differences are normalised:
 *   - SO_PROTOCOL prints "proto" when it is the mode's protocol (6 for
 *     plain TCP, 205 for IPPROTO_TLS); anything else prints the number.
 *   - established=1 means "connected" (getpeername works) and, in TLS
 *     mode, the handshake is done (TLS_CHOSEN_VERSION can be read).
 *
 * Every scenario runs in its own process group with a deadline; a hang
 * prints "TIMEOUT" and a crash "CRASH:SIGNAME" at the end of its line,
 * and the next scenario runs. stderr gets "# time S06 12 ms" lines.
 *
 * Server-side scenarios: this program listens and a forked client (plain
 * TCP, or TLS with OpenSSL in this process, no verification) connects.
 *
 * Internal modes: -E FD -e MODE is the helper run by the exec scenarios.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <ssa/in_tls.h>

/* ---- global state -------------------------------------------------------- */
static int mode;               /* 0 or IPPROTO_TLS */
static int peer_port;          /* conform_peer */
static int closed_port;        /* bound, never listening: connections are refused */
static const char *chain_path, *key_path;
static int trace_fd = -1;      /* where T() writes this process's steps */
static char self_exe[PATH_MAX];
static unsigned tag_seq;

/* ---- trace ------------------------------------------------------------- */
__attribute__((format(printf, 1, 2))) static void T(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = (int)sizeof buf - 2;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '|')
			buf[i] = '/';
	buf[n++] = '\n';
	if (write(trace_fd, buf, (size_t)n) < 0) {
		/* nothing to do: the runner reports a short trace */
	}
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* "n" or "-1 ENAME"; call it right after the call whose result it shows. */
static const char *R(long r)
{
	static char bufs[16][48];
	static unsigned i;
	int e = errno;
	char *b = bufs[i++ % 16];

	if (r < 0)
		snprintf(b, 48, "-1 %s", ename(e));
	else
		snprintf(b, 48, "%ld", r);
	errno = e;
	return b;
}

/* A quoted, escaped copy of bytes (at most 40 shown). */
static const char *Q(const void *p, long n)
{
	static char bufs[8][200];
	static unsigned i;
	char *b = bufs[i++ % 8], *o = b;
	const unsigned char *s = p;

	if (n < 0)
		n = 0;
	*o++ = '"';
	for (long k = 0; k < n && k < 40; k++) {
		if (s[k] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (s[k] >= 0x20 && s[k] < 0x7f && s[k] != '"' && s[k] != '|') {
			*o++ = (char)s[k];
		} else {
			o += sprintf(o, "\\x%02x", s[k]);
		}
	}
	if (n > 40)
		o += sprintf(o, "...");
	*o++ = '"';
	*o = 0;
	return b;
}

static const char *pbits(int ev)
{
	static char bufs[8][96];
	static unsigned i;
	static const struct {
		int bit;
		const char *name;
	} names[] = { { POLLIN, "IN" },	  { POLLPRI, "PRI" }, { POLLOUT, "OUT" }, { POLLERR, "ERR" },
		      { POLLHUP, "HUP" }, { POLLRDHUP, "RDHUP" }, { POLLNVAL, "NVAL" } };
	char *b = bufs[i++ % 8];

	b[0] = 0;
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
		if (ev & names[k].bit) {
			if (b[0])
				strcat(b, "|");
			strcat(b, names[k].name);
			ev &= ~names[k].bit;
		}
	if (ev)
		sprintf(b + strlen(b), "%s0x%x", b[0] ? "|" : "", (unsigned)ev);
	if (!b[0])
		strcpy(b, "0");
	return b;
}

/* epoll's bits have the values of poll's for these. */
static const char *ebits(uint32_t ev)
{
	return pbits((int)(ev & ~(uint32_t)EPOLLET));
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void msleep(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* ---- addresses ----------------------------------------------------------- */
static socklen_t loop_addr(int dom, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (dom == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons((uint16_t)port);
		return sizeof *a;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons((uint16_t)port);
	return sizeof *a;
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return -1;
}

static const char *fam(int f)
{
	static char b[32];

	switch (f) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_UNIX: return "AF_UNIX";
	case AF_UNSPEC: return "AF_UNSPEC";
	default: snprintf(b, sizeof b, "family%d", f); return b;
	}
}

/* "AF_INET 127.0.0.1" (no port) */
static const char *ahost(const struct sockaddr_storage *ss)
{
	static char bufs[4][80];
	static unsigned i;
	char *b = bufs[i++ % 4], h[INET6_ADDRSTRLEN] = "";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, h, sizeof h);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, h, sizeof h);
	snprintf(b, 80, "%s%s%s", fam(ss->ss_family), h[0] ? " " : "", h);
	return b;
}

/* getpeername: "peer=AF_INET 127.0.0.1 port_match=1" against want_port */
static void show_peer(int fd, const char *label, int want_port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int r = getpeername(fd, (struct sockaddr *)&ss, &sl);

	if (r != 0)
		T("%s=%s", label, R(r));
	else
		T("%s=%s port_match=%d", label, ahost(&ss), port_of(&ss) == want_port);
}

/* getsockname: "local=AF_INET 127.0.0.1 port_nonzero=1" */
static int show_local(int fd, const char *label)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int r = getsockname(fd, (struct sockaddr *)&ss, &sl);

	if (r != 0) {
		T("%s=%s", label, R(r));
		return -1;
	}
	T("%s=%s port_nonzero=%d", label, ahost(&ss), port_of(&ss) > 0);
	return port_of(&ss);
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	return port_of(&ss);
}

/* ---- socket options --------------------------------------------------- */
static void gi(int fd, int level, int name, const char *label)
{
	int v = -7;
	socklen_t l = sizeof v;
	int r = getsockopt(fd, level, name, &v, &l);

	if (r != 0) {
		T("%s=%s", label, R(r));
		return;
	}
	if (level == SOL_SOCKET && name == SO_PROTOCOL && v == (mode ? IPPROTO_TLS : IPPROTO_TCP))
		T("%s=proto", label);
	else if (level == SOL_SOCKET && name == SO_TYPE && v == SOCK_STREAM)
		T("%s=SOCK_STREAM", label);
	else if (level == SOL_SOCKET && name == SO_DOMAIN)
		T("%s=%s", label, fam(v));
	else if (level == SOL_SOCKET && name == SO_ERROR)
		T("%s=%s", label, v ? ename(v) : "0");
	else
		T("%s=%d", label, v);
}

static void si(int fd, int level, int name, int v, const char *label)
{
	T("set %s=%d: %s", label, v, R(setsockopt(fd, level, name, &v, sizeof v)));
}

static int soerror(int fd)
{
	int v = -1;
	socklen_t l = sizeof v;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l) != 0)
		return -errno;
	return v;
}

static void show_flags(int fd, const char *label)
{
	int fl = fcntl(fd, F_GETFL), fd_fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fd_fl < 0)
		T("%s flags=%s", label, R(-1));
	else
		T("%s nonblock=%d cloexec=%d", label, !!(fl & O_NONBLOCK), !!(fd_fl & FD_CLOEXEC));
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Connected and, for TLS, past the handshake. */
static int established(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (mode) {
		int v = 0;
		socklen_t l = sizeof v;

		if (getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &v, &l) != 0 || v < 0x0303)
			return 0;
	}
	return 1;
}

/* ---- sockets of the mode under test ------------------------------------ */
static int mksock(int dom, int flags)
{
	int fd = socket(dom, SOCK_STREAM | flags, mode);

	if (fd < 0) {
		T("socket=%s", R(fd));
		return -1;
	}
	if (mode && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost",
			       sizeof "localhost") != 0)
		T("TLS_REMOTE_HOSTNAME=%s", R(-1));
	return fd;
}

static void newtag(char *tag, size_t cap)
{
	snprintf(tag, cap, "t%d-%u", (int)getpid(), ++tag_seq);
}

static bool send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (poll(&pf, 1, 5000) <= 0)
				return false;
			continue;
		}
		if (k <= 0)
			return false;
		c += k;
		n -= (size_t)k;
	}
	return true;
}

static bool send_cmd(int fd, const char *cmd, const char *arg, const char *tag)
{
	char line[200];

	snprintf(line, sizeof line, "%s %s %s\n", cmd, arg ? arg : "-", tag ? tag : "-");
	if (!send_all(fd, line, strlen(line))) {
		T("cmd=%s", R(-1));
		return false;
	}
	return true;
}

/* Blocking connect to the peer (traced as connect=...) and its command. */
static int open_peer_dom(int dom, const char *cmd, const char *arg, const char *tag)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, peer_port, &ss);
	int fd = mksock(dom, 0), r;

	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&ss, sl);
	T("connect=%s", R(r));
	if (r != 0) {
		close(fd);
		return -1;
	}
	if (cmd && !send_cmd(fd, cmd, arg, tag)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int open_peer(const char *cmd, const char *arg, const char *tag)
{
	return open_peer_dom(AF_INET, cmd, arg, tag);
}

/* Untraced, for threads and helpers: -1 on failure. */
static int quiet_peer(const char *cmd, const char *arg, const char *tag)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, peer_port, &ss);
	int fd = socket(AF_INET, SOCK_STREAM, mode);
	char line[200];

	if (fd < 0)
		return -1;
	if ((mode && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost",
				sizeof "localhost") != 0) ||
	    connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	snprintf(line, sizeof line, "%s %s %s\n", cmd, arg ? arg : "-", tag ? tag : "-");
	if (!send_all(fd, line, strlen(line))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* poll for events within ms; traced as "LABEL=n revents=BITS". */
static int tpoll(int fd, short events, int ms, const char *label)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = poll(&p, 1, ms);

	if (r < 0)
		T("%s=%s", label, R(r));
	else if (r == 0)
		T("%s=0", label);
	else
		T("%s=%d revents=%s", label, r, pbits(p.revents));
	return r > 0 ? p.revents : 0;
}

#define ALLEV (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

/* Read exactly n bytes (or until end/error/timeout), tolerant of how the
 * stream is cut into pieces. Returns the count; *err the errno of a final
 * error (0 at end of stream or when complete, ETIME on timeout). */
static long read_n(int fd, void *buf, size_t n, int ms, int *err)
{
	size_t got = 0;
	long deadline = now_ms() + ms;

	*err = 0;
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t k;

		if (left < 0 || poll(&p, 1, (int)left) == 0) {
			*err = ETIME;
			break;
		}
		k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			*err = errno;
			break;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (long)got;
}

/* Traced: "read=5 "hello"" (+ " then=-1 ECONNRESET"/" then=EOF"/" then=TIMEOUT"). */
static long tread_n(int fd, size_t n, const char *label)
{
	char buf[4096];
	int err;
	long got;

	if (n > sizeof buf)
		n = sizeof buf;
	got = read_n(fd, buf, n, 3000, &err);
	if ((size_t)got == n)
		T("%s=%ld %s", label, got, Q(buf, got));
	else if (err == ETIME)
		T("%s=%ld %s then=TIMEOUT", label, got, Q(buf, got));
	else if (err)
		T("%s=%ld %s then=-1 %s", label, got, Q(buf, got), ename(err));
	else
		T("%s=%ld %s then=EOF", label, got, Q(buf, got));
	return got;
}

/* write s, then read its echo. */
static void rt(int fd, const char *s)
{
	T("write=%s", R(write(fd, s, strlen(s))));
	tread_n(fd, strlen(s), "read");
}

/* One read, after waiting up to 3 s for readability: "LABEL=n ..." */
static long tread1(int fd, size_t cap, const char *label)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (cap > sizeof buf)
		cap = sizeof buf;
	if (poll(&p, 1, 3000) == 0) {
		T("%s=TIMEOUT(no readiness in 3 s)", label);
		return -2;
	}
	r = read(fd, buf, cap);
	if (r > 0)
		T("%s=%zd %s", label, r, Q(buf, r));
	else
		T("%s=%s", label, R(r));
	return r;
}

/* Ask the peer how the connection with tag ended: "peer_saw=end=eof bytes=5". */
static void query(const char *tag)
{
	int fd = quiet_peer("QUERY", tag, NULL), err;
	char buf[200];
	long n;

	if (fd < 0) {
		T("peer_saw=QUERY-FAILED %s", ename(errno));
		return;
	}
	n = read_n(fd, buf, sizeof buf - 1, 5000, &err);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n < 0 ? 0 : n] = 0;
	T("peer_saw=%s", buf);
}

/* ---- child processes of a scenario ------------------------------------- */
struct kid {
	pid_t pid;
	int rfd;
};

/* fork; in the child (return 0) T() goes to a pipe the parent reads with
 * kid_reap(). */
static pid_t kid_fork(struct kid *k)
{
	int p[2];

	k->pid = -1;
	k->rfd = -1;
	if (pipe2(p, O_CLOEXEC) != 0) {
		T("pipe=%s", R(-1));
		return -1;
	}
	k->pid = fork();
	if (k->pid < 0) {
		T("fork=%s", R(-1));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (k->pid == 0) {
		close(p[0]);
		close(trace_fd);
		trace_fd = p[1];
		return 0;
	}
	close(p[1]);
	k->rfd = p[0];
	return k->pid;
}

/* Wait (up to ms) for the child; its steps become one step
 * "LABEL{a; b; c}" plus its exit status when not 0. */
static void kid_reap(struct kid *k, int ms, const char *label)
{
	char out[8192];
	size_t len = 0;
	long deadline = now_ms() + ms;
	int st = 0;
	bool timeout = false;

	if (k->pid <= 0)
		return;
	for (;;) {
		struct pollfd p = { .fd = k->rfd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			timeout = true;
			break;
		}
		n = read(k->rfd, out + len, sizeof out - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len >= sizeof out - 1)
			break;
	}
	close(k->rfd);
	if (timeout)
		kill(k->pid, SIGKILL);
	waitpid(k->pid, &st, 0);
	out[len] = 0;
	while (len && out[len - 1] == '\n')
		out[--len] = 0;
	for (size_t i = 0; i < len; i++)
		if (out[i] == '\n')
			out[i] = ';';
	if (timeout)
		T("%s{%s} TIMEOUT", label, out);
	else if (WIFSIGNALED(st))
		T("%s{%s} CRASH:%s", label, out, sigabbrev_np(WTERMSIG(st)));
	else if (WEXITSTATUS(st))
		T("%s{%s} exit=%d", label, out, WEXITSTATUS(st));
	else
		T("%s{%s}", label, out);
}

/* A byte-sized pipe between processes, for "go on" signals. */
static void sync_send(int fd)
{
	if (write(fd, "g", 1) != 1) {
		/* the reader times out and says so */
	}
}

static bool sync_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

/* ---- the plain-or-TLS client used against our own listeners ------------ */
struct pc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int pc_connect(struct pc *c, int dom, int port, int ms)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, port, &ss);
	struct pollfd p;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int e;

	memset(c, 0, sizeof *c);
	c->fd = socket(dom, SOCK_STREAM | SOCK_NONBLOCK, 0); /* never IPPROTO_TLS */
	if (c->fd < 0)
		return errno;
	if (connect(c->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			goto fail;
		}
		p = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		if (poll(&p, 1, ms) != 1) {
			e = ETIMEDOUT;
			goto fail;
		}
		if ((e = soerror(c->fd)) != 0)
			goto fail;
	}
	set_nonblock(c->fd, false);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (mode) {
		c->ctx = SSL_CTX_new(TLS_client_method());
		if (!c->ctx) {
			e = ENOMEM;
			goto fail;
		}
		SSL_CTX_set_mode(c->ctx, SSL_MODE_AUTO_RETRY);
		c->ssl = SSL_new(c->ctx);
		if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
		    !SSL_set_tlsext_host_name(c->ssl, "localhost") || SSL_connect(c->ssl) != 1) {
			e = EPROTO;
			goto fail;
		}
	}
	tv = (struct timeval){ 5, 0 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return 0;
fail:
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	close(c->fd);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	ERR_clear_error();
	return e;
}

static long pc_write(struct pc *c, const void *p, size_t n)
{
	if (c->ssl) {
		int r = SSL_write(c->ssl, p, (int)n);

		return r > 0 ? r : -1;
	}
	return send(c->fd, p, n, MSG_NOSIGNAL);
}

/* > 0 bytes; 0 clean end (TLS: close_notify); -1 with *how. */
static long pc_read(struct pc *c, void *p, size_t n, const char **how)
{
	*how = "";
	if (c->ssl) {
		ERR_clear_error();
		errno = 0;
		int r = SSL_read(c->ssl, p, (int)n);

		if (r > 0)
			return r;
		int e = SSL_get_error(c->ssl, r), se = errno;
		unsigned long l = ERR_peek_error();

		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && se == ECONNRESET)
			*how = "ECONNRESET";
		else if (e == SSL_ERROR_SYSCALL && (se == EAGAIN || se == EWOULDBLOCK))
			*how = "TIMEOUT";
		else if ((e == SSL_ERROR_SSL &&
			  ERR_GET_REASON(l) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
			 (e == SSL_ERROR_SYSCALL && se == 0))
			*how = "TRUNCATED";
		else
			*how = "TLS-ERROR";
		ERR_clear_error();
		return -1;
	}
	ssize_t r = read(c->fd, p, n);

	if (r < 0)
		*how = errno == EAGAIN ? "TIMEOUT" : ename(errno);
	return r;
}

/* Traced read of up to n bytes, collecting pieces: "LABEL=n "..."". */
static void pc_tread(struct pc *c, size_t n, const char *label)
{
	char buf[512];
	size_t got = 0;
	const char *how = "";
	long r = 1;

	if (n > sizeof buf)
		n = sizeof buf;
	while (got < n && (r = pc_read(c, buf + got, n - got, &how)) > 0)
		got += (size_t)r;
	if (got == n)
		T("%s=%zu %s", label, got, Q(buf, (long)got));
	else
		T("%s=%zu %s then=%s", label, got, Q(buf, (long)got), r == 0 ? "EOF" : how);
}

/* Traced: the next read gives end of stream? "LABEL=EOF" or what else. */
static void pc_teof(struct pc *c, const char *label)
{
	char buf[64];
	const char *how;
	long r = pc_read(c, buf, sizeof buf, &how);

	if (r == 0)
		T("%s=EOF", label);
	else if (r > 0)
		T("%s=%ld %s", label, r, Q(buf, r));
	else
		T("%s=%s", label, how);
}

static void pc_close(struct pc *c, bool reset)
{
	if (c->fd < 0)
		return;
	if (reset) {
		struct linger lg = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	} else if (c->ssl) {
		SSL_shutdown(c->ssl);
	}
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

/* A listener of the mode under test on ADDR:0 (traced: socket, identity,
 * bind, listen). Returns the fd, *port its port. */
static int mklistener(int dom, int flags, int backlog, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, 0, &ss);
	int fd = socket(dom, SOCK_STREAM | flags, mode), r;

	*port = -1;
	if (fd < 0) {
		T("socket=%s", R(fd));
		return -1;
	}
	if (mode && (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain_path,
				(socklen_t)strlen(chain_path) + 1) != 0 ||
		     setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, key_path,
				(socklen_t)strlen(key_path) + 1) != 0))
		T("tls_identity=%s", R(-1));
	r = bind(fd, (struct sockaddr *)&ss, sl);
	if (r != 0) {
		T("bind=%s", R(r));
		close(fd);
		return -1;
	}
	if (backlog >= 0) {
		r = listen(fd, backlog);
		if (r != 0) {
			T("listen=%s", R(r));
			close(fd);
			return -1;
		}
	}
	*port = local_port(fd);
	return fd;
}

static void tls_identity(int fd)
{
	if (mode && (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain_path,
				(socklen_t)strlen(chain_path) + 1) != 0 ||
		     setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, key_path,
				(socklen_t)strlen(key_path) + 1) != 0))
		T("tls_identity=%s", R(-1));
}

/* accept with a deadline (the listener may be blocking). */
static int accept_wait(int lfd, struct sockaddr_storage *ss, socklen_t *sl, int flags, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1) {
		errno = ETIME;
		return -1;
	}
	return accept4(lfd, (struct sockaddr *)ss, sl, flags);
}

/* The pattern 'a' + i % 26 */
static void fill_pattern(char *p, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (off + i) % 26);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ull

/* Read the peer's one-line SINK answer and compare it with ours. */
static void sink_reply(int fd, unsigned long long n, uint64_t h)
{
	char buf[128], want[128];
	int err;
	long k = read_n(fd, buf, sizeof buf - 1, 20000, &err);

	while (k > 0 && buf[k - 1] == '\n')
		k--;
	buf[k < 0 ? 0 : k] = 0;
	snprintf(want, sizeof want, "n=%llu h=%016llx", n, (unsigned long long)h);
	T("reply=%s match=%d", k > 0 ? buf : "NONE", strcmp(buf, want) == 0);
}


/* ======================================================================
 * Scenarios. Item numbers refer to issue 4.
 * ====================================================================== */

/* ---- item 1 and 5: sockets, connect, readiness --------------------------- */
static void s_socket_basics(void)
{
	int fd = mksock(AF_INET, 0), fd6;

	if (fd < 0)
		return;
	T("socket=ok");
	gi(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE");
	gi(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
	gi(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
	gi(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	show_flags(fd, "fd");
	close(fd);
	fd6 = mksock(AF_INET6, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd6 < 0)
		return;
	T("socket6=ok");
	gi(fd6, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
	gi(fd6, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
	show_flags(fd6, "fd6");
	T("close=%s", R(close(fd6)));
}

static void s_unconnected_ops(void)
{
	int fd = mksock(AF_INET, SOCK_NONBLOCK), b;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char c;
	struct timeval tv = { 1, 0 };

	if (fd < 0)
		return;
	int r = getsockname(fd, (struct sockaddr *)&ss, &sl);

	T("getsockname=%s %s port=%d", R(r), r ? "" : ahost(&ss), r ? -1 : port_of(&ss));
	show_peer(fd, "getpeername", 0);
	tpoll(fd, ALLEV, 0, "poll");
	T("read=%s", R(read(fd, &c, 1)));
	T("send=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	T("shutdown=%s", R(shutdown(fd, SHUT_WR)));
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	close(fd);
	/* a blocking read on an unconnected socket fails at once (bounded by
	 * SO_RCVTIMEO in case it does not) */
	b = mksock(AF_INET, 0);
	if (b < 0)
		return;
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	T("blocking_read=%s", R(read(b, &c, 1)));
	close(b);
}

static void s_connect_blocking_dom(int dom)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, peer_port, &ss);
	int fd = mksock(dom, 0), r;

	if (fd < 0)
		return;
	r = connect(fd, (struct sockaddr *)&ss, sl);
	T("connect=%s", R(r));
	if (r)
		return;
	T("established=%d", established(fd));
	show_peer(fd, "peer", peer_port);
	show_local(fd, "local");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	send_cmd(fd, "ECHO", NULL, NULL);
	rt(fd, "hello");
	T("connect_again=%s", R(connect(fd, (struct sockaddr *)&ss, sl)));
	T("close=%s", R(close(fd)));
}

static void s_connect_blocking(void)
{
	s_connect_blocking_dom(AF_INET);
}

static void s_connect_blocking_ipv6(void)
{
	s_connect_blocking_dom(AF_INET6);
}

static void s_connect_refused_blocking(void)
{
	struct sockaddr_storage ss, ps;
	socklen_t sl = loop_addr(AF_INET, closed_port, &ss), psl = loop_addr(AF_INET, peer_port, &ps);
	int fd = mksock(AF_INET, 0), r;

	if (fd < 0)
		return;
	T("connect=%s", R(connect(fd, (struct sockaddr *)&ss, sl)));
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	show_peer(fd, "getpeername", peer_port);
	/* Linux lets a socket whose connect failed connect again */
	r = connect(fd, (struct sockaddr *)&ps, psl);
	T("connect_peer=%s", R(r));
	if (r)
		return;
	T("established=%d", established(fd));
	send_cmd(fd, "ECHO", NULL, NULL);
	rt(fd, "again");
	close(fd);
}

/* Non-blocking connect to the peer; returns fd after connect's result. */
static int nb_connect(int dom, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, port, &ss);
	int fd = mksock(dom, SOCK_NONBLOCK);

	if (fd < 0)
		return -1;
	T("connect=%s", R(connect(fd, (struct sockaddr *)&ss, sl)));
	return fd;
}

static void s_nb_connect_poll_dom(int dom)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(dom, peer_port, &ss);
	int fd = nb_connect(dom, peer_port);

	if (fd < 0)
		return;
	tpoll(fd, ALLEV, 3000, "poll");
	T("established=%d", established(fd));
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	T("connect2=%s", R(connect(fd, (struct sockaddr *)&ss, sl)));
	T("connect3=%s", R(connect(fd, (struct sockaddr *)&ss, sl)));
	show_peer(fd, "peer", peer_port);
	send_cmd(fd, "ECHO", NULL, NULL);
	T("write=%s", R(write(fd, "hello", 5)));
	tpoll(fd, POLLIN, 3000, "poll_echo");
	tread_n(fd, 5, "read");
	close(fd);
}

static void s_nb_connect_poll(void)
{
	s_nb_connect_poll_dom(AF_INET);
}

static void s_nb_connect_ipv6_poll(void)
{
	s_nb_connect_poll_dom(AF_INET6);
}

static void tselect(int fd, int ms, const char *label)
{
	fd_set r, w, e;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int n;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	FD_SET(fd, &e);
	n = select(fd + 1, &r, &w, &e, &tv);
	if (n < 0)
		T("%s=%s", label, R(n));
	else
		T("%s=%d r=%d w=%d e=%d", label, n, FD_ISSET(fd, &r), FD_ISSET(fd, &w),
		  FD_ISSET(fd, &e));
}

/* select() with only the write set, as event loops wait for a connect. */
static void tselect_w(int fd, int ms, const char *label)
{
	fd_set w;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int n;

	FD_ZERO(&w);
	FD_SET(fd, &w);
	n = select(fd + 1, NULL, &w, NULL, &tv);
	if (n < 0)
		T("%s=%s", label, R(n));
	else
		T("%s=%d w=%d", label, n, FD_ISSET(fd, &w));
}

static void s_nb_connect_select(void)
{
	int fd = nb_connect(AF_INET, peer_port);

	if (fd < 0)
		return;
	tselect_w(fd, 3000, "select_w");
	tselect(fd, 0, "select_rwe");
	T("established=%d", established(fd));
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	send_cmd(fd, "ECHO", NULL, NULL);
	T("write=%s", R(write(fd, "sel", 3)));
	{
		fd_set r;
		struct timeval tv = { 3, 0 };

		FD_ZERO(&r);
		FD_SET(fd, &r);
		T("select_r=%d", select(fd + 1, &r, NULL, NULL, &tv));
	}
	tread_n(fd, 3, "read");
	close(fd);
}

static int tepoll(int ep, int ms, const char *label)
{
	struct epoll_event ev[8];
	int n = epoll_wait(ep, ev, 8, ms);

	if (n < 0)
		T("%s=%s", label, R(n));
	else if (n == 0)
		T("%s=0", label);
	else if (n == 1)
		T("%s=1 events=%s", label, ebits(ev[0].events));
	else
		T("%s=%d events=%s,%s", label, n, ebits(ev[0].events), ebits(ev[1].events));
	return n > 0 ? (int)ev[0].events : 0;
}

static int epoll_for(int fd, uint32_t events)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		T("epoll_ctl=%s", R(-1));
	return ep;
}

static void s_nb_connect_epoll(bool et)
{
	int fd = nb_connect(AF_INET, peer_port), ep;

	if (fd < 0)
		return;
	ep = epoll_for(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | (et ? EPOLLET : 0));
	tepoll(ep, 3000, "epoll");
	T("established=%d", established(fd));
	tepoll(ep, et ? 200 : 0, "epoll_again");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	send_cmd(fd, "ECHO", NULL, NULL);
	T("write=%s", R(write(fd, "ping", 4)));
	msleep(300);
	tepoll(ep, 3000, "epoll_echo");
	tread_n(fd, 4, "read");
	close(ep);
	close(fd);
}

static void s_nb_connect_epoll_lt(void)
{
	s_nb_connect_epoll(false);
}

static void s_nb_connect_epoll_et(void)
{
	s_nb_connect_epoll(true);
}

static void s_nb_refused_poll(void)
{
	int fd = nb_connect(AF_INET, closed_port);

	if (fd < 0)
		return;
	tpoll(fd, ALLEV, 3000, "poll");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR_again");
	show_peer(fd, "getpeername", closed_port);
	T("send=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	tpoll(fd, ALLEV, 0, "poll_after");
	close(fd);
}

static void s_nb_refused_select(void)
{
	int fd = nb_connect(AF_INET, closed_port);

	if (fd < 0)
		return;
	tselect_w(fd, 3000, "select_w");
	tselect(fd, 0, "select_rwe");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	close(fd);
}

static void s_nb_refused_epoll(bool et)
{
	int fd = nb_connect(AF_INET, closed_port), ep;

	if (fd < 0)
		return;
	ep = epoll_for(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | (et ? EPOLLET : 0));
	tepoll(ep, 3000, "epoll");
	tepoll(ep, et ? 200 : 0, "epoll_again");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	tepoll(ep, et ? 200 : 0, "epoll_after_SO_ERROR");
	close(ep);
	close(fd);
}

static void s_nb_refused_epoll_lt(void)
{
	s_nb_refused_epoll(false);
}

static void s_nb_refused_epoll_et(void)
{
	s_nb_refused_epoll(true);
}

static void s_epoll_lt_data(void)
{
	int fd = open_peer("ECHO", NULL, NULL), ep;

	if (fd < 0)
		return;
	set_nonblock(fd, true);
	ep = epoll_for(fd, EPOLLIN);
	tepoll(ep, 100, "epoll_idle");
	T("write=%s", R(write(fd, "abc", 3)));
	msleep(100);
	tepoll(ep, 3000, "epoll");
	tepoll(ep, 0, "epoll_unread");
	tread_n(fd, 3, "read");
	tepoll(ep, 100, "epoll_drained");
	close(ep);
	close(fd);
}

static void s_epoll_et_data(void)
{
	int fd = open_peer("ECHO", NULL, NULL), ep;

	if (fd < 0)
		return;
	set_nonblock(fd, true);
	ep = epoll_for(fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
	tepoll(ep, 100, "epoll_idle");
	T("write=%s", R(write(fd, "abc", 3)));
	msleep(100);
	tepoll(ep, 3000, "epoll");
	tepoll(ep, 100, "epoll_no_new_edge");
	T("write=%s", R(write(fd, "d", 1)));
	tepoll(ep, 3000, "epoll_new_data");
	tread_n(fd, 4, "read");
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	tepoll(ep, 3000, "epoll_peer_eof");
	close(ep);
	close(fd);
}

/* With EPOLLET, a write that the peer never answers must not produce an
 * event: TCP raises EPOLLOUT again only after the send buffer was full. */
static void s_epoll_et_no_spurious(void)
{
	int fd = open_peer("SILENT", NULL, NULL), ep;

	if (fd < 0)
		return;
	set_nonblock(fd, true);
	ep = epoll_for(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
	tepoll(ep, 3000, "epoll_initial");
	tepoll(ep, 100, "epoll_again");
	T("write=%s", R(write(fd, "x", 1)));
	msleep(200);
	tepoll(ep, 300, "epoll_after_write");
	T("write=%s", R(write(fd, "y", 1)));
	msleep(200);
	tepoll(ep, 300, "epoll_after_write2");
	close(ep);
	close(fd);
}

static void s_poll_idle_connected(void)
{
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	tpoll(fd, ALLEV, 0, "poll");
	tpoll(fd, POLLIN, 100, "poll_in");
	tselect(fd, 0, "select");
	close(fd);
}

/* 1000 concurrent non-blocking connects driven by one epoll loop. */
static void s_connect_1000_epoll(void)
{
	enum { N = 1000 };
	static int fds[N], state[N]; /* 0 connecting, 1 waiting echo, 2 done, 3 failed */
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, peer_port, &ss);
	int ep = epoll_create1(EPOLL_CLOEXEC), inprog = 0, immediate = 0, failed = 0;
	int writable = 0, soerr0 = 0, echoed = 0, errors = 0, left = N;
	long deadline;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * N) {
		rl.rlim_cur = rl.rlim_max < 4 * N ? rl.rlim_max : 4 * N;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < N; i++) {
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, mode);

		fds[i] = fd;
		state[i] = 0;
		if (fd < 0) {
			failed++;
			state[i] = 3;
			left--;
			continue;
		}
		if (mode)
			setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost", sizeof "localhost");
		if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
			immediate++;
		else if (errno == EINPROGRESS)
			inprog++;
		else {
			failed++;
			state[i] = 3;
			left--;
			close(fd);
			fds[i] = -1;
			continue;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	T("connect: inprogress=%d immediate=%d failed=%d", inprog, immediate, failed);
	deadline = now_ms() + 20000;
	while (left > 0 && now_ms() < deadline) {
		struct epoll_event ev[128];
		int n = epoll_wait(ep, ev, 128, 500);

		for (int k = 0; k < n; k++) {
			int i = (int)ev[k].data.u32, fd = fds[i];

			if (state[i] == 0 && (ev[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
				static const char line[] = "ECHO - -\nx";

				writable++;
				if (soerror(fd) != 0 ||
				    send(fd, line, sizeof line - 1, MSG_NOSIGNAL) != (ssize_t)sizeof line - 1) {
					errors++;
					state[i] = 3;
					left--;
					close(fd);
					continue;
				}
				soerr0++;
				state[i] = 1;
			}
			if (state[i] == 1 && (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
				char c;
				ssize_t r = read(fd, &c, 1);

				if (r == 1 && c == 'x') {
					echoed++;
					state[i] = 2;
					left--;
					close(fd);
				} else if (!(r < 0 && errno == EAGAIN)) {
					errors++;
					state[i] = 3;
					left--;
					close(fd);
				}
			}
		}
	}
	T("writable=%d so_error0=%d echoed=%d errors=%d unfinished=%d", writable, soerr0, echoed,
	  errors, left);
	for (int i = 0; i < N; i++)
		if (state[i] < 2 && fds[i] >= 0)
			close(fds[i]);
	close(ep);
}

/* ---- item 2: fork, exec, dup, fd passing ------------------------------- */
static void s_fork_both_use(void)
{
	char tag[64];
	struct kid k;
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	if (kid_fork(&k) == 0) {
		T("write=%s", R(write(fd, "child\n", 6)));
		_exit(0); /* without close: the parent's copy keeps the connection */
	}
	kid_reap(&k, 5000, "child");
	tread_n(fd, 6, "read_child_echo");
	rt(fd, "parent\n");
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_fork_parent_closes(void)
{
	char tag[64];
	struct kid k;
	int fd, sp[2];

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0 || pipe2(sp, O_CLOEXEC) != 0)
		return;
	if (kid_fork(&k) == 0) {
		if (!sync_wait(sp[0], 3000))
			T("sync=TIMEOUT");
		T("established=%d", established(fd));
		rt(fd, "kid");
		T("close=%s", R(close(fd)));
		_exit(0);
	}
	T("parent_close=%s", R(close(fd)));
	sync_send(sp[1]);
	kid_reap(&k, 5000, "child");
	query(tag);
}

static int fd_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f < 0 ? -1 : !!(f & FD_CLOEXEC);
}

/* Use copy after closing orig. */
static void dup_check(int orig, int copy, const char *tag)
{
	T("cloexec=%d", fd_cloexec(copy));
	show_peer(copy, "copy_peer", peer_port);
	gi(copy, SOL_SOCKET, SO_PROTOCOL, "copy_SO_PROTOCOL");
	T("close_orig=%s", R(close(orig)));
	T("copy_established=%d", established(copy));
	rt(copy, "dup");
	T("close_copy=%s", R(close(copy)));
	query(tag);
}

static void s_dup(void)
{
	char tag[64];
	int fd, d;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	d = dup(fd);
	T("dup=%s", d >= 0 ? "ok" : R(d));
	if (d >= 0)
		dup_check(fd, d, tag);
}

static void s_dup2(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	int d = dup2(fd, 200);

	T("dup2=%s", R(d));
	if (d >= 0)
		dup_check(fd, d, tag);
}

static void s_dup3_cloexec(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	int d = dup3(fd, 201, O_CLOEXEC);

	T("dup3=%s", R(d));
	if (d >= 0)
		dup_check(fd, d, tag);
}

static void s_fdupfd_cloexec(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 300);

	T("F_DUPFD_CLOEXEC>=300: %s", d >= 300 ? "ok" : R(d));
	if (d >= 0)
		dup_check(fd, d, tag);
}

/* Truncation seen through a copy: the copy was never the fd socket() gave. */
/* shutdown acts on the socket, not on one descriptor */
static void s_dup_shutdown_shared(void)
{
	char tag[64];
	int fd, d;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	d = dup(fd);
	T("write=%s", R(write(fd, "sh", 2)));
	T("shutdown_copy_wr=%s", R(shutdown(d, SHUT_WR)));
	T("close_copy=%s", R(close(d)));
	tread_n(fd, 2, "read_echo");
	tread1(fd, 8, "read_eof");
	T("write_orig=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	query(tag);
	close(fd);
}

static void s_dup_reset_read(void)
{
	int fd = open_peer("RESET", NULL, NULL), d;

	if (fd < 0)
		return;
	d = dup(fd);
	T("close_orig=%s", R(close(fd)));
	tpoll(d, POLLIN, 3000, "poll");
	show_peer(d, "peer_after_reset", peer_port);
	T("read=%s", R(read(d, (char[8]){ 0 }, 8)));
	close(d);
}

static void s_dup_peer_close_read(void)
{
	int fd = open_peer("SEND", "3", NULL), d;

	if (fd < 0)
		return;
	d = fcntl(fd, F_DUPFD, 400);
	T("F_DUPFD>=400: %s", d >= 400 ? "ok" : R(d));
	T("close_orig=%s", R(close(fd)));
	tread_n(d, 3, "read");
	tread1(d, 8, "read_eof");
	close(d);
}

static int send_fd(int us, int fd)
{
	char c = 'F';
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof u.b };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(&u, 0, sizeof u);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return (int)sendmsg(us, &m, 0);
}

static int recv_fd(int us)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof u.b };
	struct pollfd p = { .fd = us, .events = POLLIN };
	struct cmsghdr *cm;
	int fd = -1;

	if (poll(&p, 1, 3000) != 1 || recvmsg(us, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

static void scm_scenario(const char *cmd, bool reset)
{
	char tag[64];
	struct kid k;
	int sp[2], fd;

	newtag(tag, sizeof tag);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		T("socketpair=%s", R(-1));
		return;
	}
	if (kid_fork(&k) == 0) {
		int r;

		close(sp[0]);
		r = recv_fd(sp[1]);
		T("recv_fd=%s", r >= 0 ? "ok" : "FAILED");
		if (r < 0)
			_exit(1);
		gi(r, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
		if (reset) {
			tpoll(r, POLLIN, 3000, "poll");
			show_peer(r, "peer_after_reset", peer_port);
			T("read=%s", R(read(r, (char[8]){ 0 }, 8)));
		} else {
			show_peer(r, "peer", peer_port);
			T("established=%d", established(r));
			rt(r, "passed");
			T("close=%s", R(close(r)));
		}
		_exit(0);
	}
	close(sp[1]);
	fd = open_peer(cmd, NULL, tag);
	if (fd < 0) {
		kill(k.pid, SIGKILL);
		kid_reap(&k, 1000, "child");
		return;
	}
	T("sendmsg=%s", R(send_fd(sp[0], fd)));
	T("close=%s", R(close(fd)));
	kid_reap(&k, 6000, "child");
	close(sp[0]);
	if (!reset)
		query(tag);
}

static void s_scm_rights(void)
{
	scm_scenario("ECHO", false);
}

static void s_scm_rights_reset(void)
{
	scm_scenario("RESET", true);
}

/* Exec this program as a helper that looks at fd (see exec_helper()). */
static void exec_scenario(const char *cmd, int sock_flags, const char *what, bool parent_rt)
{
	char tag[64], fdarg[16], parg[16], modearg[16];
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, peer_port, &ss);
	struct kid k;
	int fd = mksock(AF_INET, sock_flags), r;

	newtag(tag, sizeof tag);
	if (fd < 0)
		return;
	r = connect(fd, (struct sockaddr *)&ss, sl);
	T("connect=%s", R(r));
	if (r || !send_cmd(fd, cmd, NULL, tag))
		return;
	T("cloexec=%d", fd_cloexec(fd));
	snprintf(fdarg, sizeof fdarg, "%d", fd);
	snprintf(parg, sizeof parg, "%d", peer_port);
	snprintf(modearg, sizeof modearg, "%d", mode);
	if (kid_fork(&k) == 0) {
		if (dup2(trace_fd, 1) != 1)
			_exit(3);
		execl(self_exe, self_exe, "-p", modearg, "-P", parg, "-E", fdarg, "-e", what,
		      (char *)NULL);
		T("exec=%s", R(-1));
		_exit(4);
	}
	kid_reap(&k, 6000, "exec");
	if (parent_rt)
		rt(fd, "parent");
	T("close=%s", R(close(fd)));
	if (strcmp(cmd, "ECHO") == 0)
		query(tag);
}

static void s_exec_inherit(void)
{
	exec_scenario("ECHO", 0, "use", true);
}

static void s_exec_cloexec(void)
{
	exec_scenario("ECHO", SOCK_CLOEXEC, "use", true);
}

static void s_exec_reset(void)
{
	exec_scenario("RESET", 0, "reset", false);
}

/* The exec'd helper: steps on stdout. */
static int exec_helper(int fd, const char *what)
{
	int f = fcntl(fd, F_GETFD);

	trace_fd = 1;
	T("open=%d", f >= 0);
	if (f < 0)
		return 0;
	gi(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
	if (strcmp(what, "reset") == 0) {
		tpoll(fd, POLLIN, 3000, "poll");
		show_peer(fd, "peer_after_reset", peer_port);
		T("read=%s", R(read(fd, (char[8]){ 0 }, 8)));
		return 0;
	}
	show_peer(fd, "peer", peer_port);
	T("established=%d", established(fd));
	rt(fd, "exec");
	return 0; /* exits without closing: the parent still holds it */
}

static void s_exit_without_close(void)
{
	char tag[64];
	struct kid k;

	newtag(tag, sizeof tag);
	if (kid_fork(&k) == 0) {
		int fd = open_peer("ECHO", NULL, tag);

		if (fd >= 0)
			rt(fd, "bye");
		_exit(0);
	}
	kid_reap(&k, 5000, "child");
	query(tag);
}

static void s_close_is_clean(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	rt(fd, "abc");
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_linger0_close_resets(void)
{
	char tag[64];
	struct linger lg = { 1, 0 };
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	rt(fd, "abc");
	T("SO_LINGER{1,0}=%s", R(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
	T("close=%s", R(close(fd)));
	query(tag);
}

/* ---- item 3: threads ------------------------------------------------------ */
static atomic_int th_ok, th_err;

static void *th_sockets(void *arg)
{
	int fd = quiet_peer("ECHO", NULL, NULL);
	char msg[32], buf[32];

	(void)arg;
	if (fd < 0) {
		th_err++;
		return NULL;
	}
	for (int i = 0; i < 50; i++) {
		int n = snprintf(msg, sizeof msg, "m%d-%d", (int)(intptr_t)arg, i), err;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		if (write(fd, msg, (size_t)n) != n || read_n(fd, buf, (size_t)n, 5000, &err) != n ||
		    memcmp(buf, msg, (size_t)n) != 0 || soerror(fd) != 0 ||
		    getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 || !established(fd))
			th_err++;
		else
			th_ok++;
	}
	close(fd);
	return NULL;
}

static void s_threads_sockets(void)
{
	pthread_t t[8];

	for (intptr_t i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, th_sockets, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	T("threads=8 roundtrips_ok=%d errors=%d", (int)th_ok, (int)th_err);
}

#define SAME_BYTES (4u << 20)
static atomic_int same_done, opt_fail;
static long same_written, same_read;
static bool same_pattern_ok;

static void *th_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char buf[65536];

	for (size_t off = 0; off < SAME_BYTES; off += sizeof buf) {
		fill_pattern(buf, sizeof buf, off);
		if (!send_all(fd, buf, sizeof buf))
			break;
		same_written += (long)sizeof buf;
	}
	return NULL;
}

static void *th_reader(void *arg)
{
	int fd = (int)(intptr_t)arg, err;
	static char buf[65536], want[65536];

	same_pattern_ok = true;
	while (same_read < (long)SAME_BYTES) {
		long n = read_n(fd, buf, sizeof buf, 10000, &err);

		if (n <= 0)
			break;
		fill_pattern(want, (size_t)n, (size_t)same_read);
		if (memcmp(buf, want, (size_t)n) != 0)
			same_pattern_ok = false;
		same_read += n;
	}
	same_done = 1;
	return NULL;
}

static void *th_options(void *arg)
{
	int fd = (int)(intptr_t)arg;

	while (!same_done) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int v;
		socklen_t l = sizeof v;

		if (soerror(fd) != 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) != 0 || !established(fd))
			opt_fail++;
		usleep(1000);
	}
	return NULL;
}

static void s_threads_same_socket(void)
{
	int fd = open_peer("ECHO", NULL, NULL);
	pthread_t w, r, o;

	if (fd < 0)
		return;
	pthread_create(&r, NULL, th_reader, (void *)(intptr_t)fd);
	pthread_create(&o, NULL, th_options, (void *)(intptr_t)fd);
	pthread_create(&w, NULL, th_writer, (void *)(intptr_t)fd);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	pthread_join(o, NULL);
	T("written=%ld read=%ld pattern_ok=%d option_call_failures=%d", same_written, same_read,
	  same_pattern_ok, (int)opt_fail);
	close(fd);
}

/* ---- item 4: shutdown, end of stream, truncation -------------------------- */
static void s_shut_wr_halfclose(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	T("write=%s", R(write(fd, "hello", 5)));
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	tread_n(fd, 5, "read_echo");
	tread1(fd, 16, "read_eof");
	msleep(100);
	tpoll(fd, ALLEV, 0, "poll");
	T("send=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_shut_rd(void)
{
	char tag[64], c[8];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	T("shutdown_rd=%s", R(shutdown(fd, SHUT_RD)));
	T("read=%s", R(read(fd, c, sizeof c)));
	tpoll(fd, ALLEV, 0, "poll");
	T("write=%s", R(write(fd, "x", 1)));
	msleep(200);
	/* Linux TCP still queues data that arrives after SHUT_RD */
	T("read_after_echo=%s", R(recv(fd, c, sizeof c, MSG_DONTWAIT)));
	T("write2=%s", R(send(fd, "y", 1, MSG_NOSIGNAL)));
	msleep(100);
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_shut_rdwr(void)
{
	char tag[64], c[8];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	T("shutdown_rdwr=%s", R(shutdown(fd, SHUT_RDWR)));
	T("read=%s", R(read(fd, c, sizeof c)));
	T("send=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	msleep(100);
	tpoll(fd, ALLEV, 0, "poll");
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_shutdown_misc(void)
{
	int u = mksock(AF_INET, 0), fd;

	if (u < 0)
		return;
	T("shutdown_unconnected=%s", R(shutdown(u, SHUT_RDWR)));
	close(u);
	fd = open_peer("ECHO", NULL, NULL);
	if (fd < 0)
		return;
	T("shutdown_bad_how=%s", R(shutdown(fd, 7)));
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	tread1(fd, 8, "read_eof");
	msleep(50);
	/* both directions have ended: TCP says the socket is not connected */
	T("shutdown_wr_after_eof=%s", R(shutdown(fd, SHUT_WR)));
	T("shutdown_rd_after_eof=%s", R(shutdown(fd, SHUT_RD)));
	close(fd);
}

static void s_peer_close_read_eof(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("SEND", "5", tag);
	if (fd < 0)
		return;
	tread_n(fd, 5, "read");
	tpoll(fd, POLLIN | POLLRDHUP, 3000, "poll_eof");
	msleep(50);
	tpoll(fd, ALLEV, 0, "poll");
	T("read_eof=%s", R(read(fd, (char[8]){ 0 }, 8)));
	T("read_eof_again=%s", R(read(fd, (char[8]){ 0 }, 8)));
	T("write_after_peer_eof=%s", R(write(fd, "x", 1)));
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_peer_reset_read(void)
{
	int fd = open_peer("RESET", NULL, NULL);

	if (fd < 0)
		return;
	tpoll(fd, POLLIN | POLLRDHUP, 3000, "poll_reset");
	msleep(50);
	tpoll(fd, ALLEV, 0, "poll");
	T("read=%s", R(read(fd, (char[8]){ 0 }, 8)));
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	show_peer(fd, "getpeername", peer_port);
	tpoll(fd, ALLEV, 0, "poll_after");
	T("read_again=%s", R(read(fd, (char[8]){ 0 }, 8)));
	T("send=%s", R(send(fd, "x", 1, MSG_NOSIGNAL)));
	close(fd);
}

/* The pending error of a reset is reported once: by SO_ERROR here, and
 * the read after it sees the end of the stream. */
static void s_peer_reset_so_error(void)
{
	int fd = open_peer("RESET", NULL, NULL);

	if (fd < 0)
		return;
	tpoll(fd, POLLIN | POLLRDHUP, 3000, "poll_reset");
	msleep(50);
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR_again");
	T("read=%s", R(read(fd, (char[8]){ 0 }, 8)));
	close(fd);
}

static void s_peer_reset_recv(void)
{
	int fd = open_peer("RESET", NULL, NULL);

	if (fd < 0)
		return;
	tpoll(fd, POLLIN | POLLRDHUP, 3000, "poll_reset");
	msleep(50);
	T("recv=%s", R(recv(fd, (char[8]){ 0 }, 8, 0)));
	close(fd);
}

static void s_peer_halfclose(void)
{
	char tag[64];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("HALFCLOSE", NULL, tag);
	if (fd < 0)
		return;
	tread_n(fd, 9, "read");
	tpoll(fd, POLLIN | POLLRDHUP, 3000, "poll_eof");
	msleep(50);
	tpoll(fd, ALLEV, 0, "poll");
	T("read_eof=%s", R(read(fd, (char[8]){ 0 }, 8)));
	T("write=%s", R(write(fd, "more", 4)));
	T("write2=%s", R(write(fd, "!", 1)));
	msleep(100);
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	query(tag);
	T("close=%s", R(close(fd)));
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int s)
{
	(void)s;
	sigpipes++;
}

static void epipe_scenario(bool nosignal)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	ssize_t r = 0;
	int fd, tries;

	sigaction(SIGPIPE, &sa, NULL);
	fd = open_peer("CLOSE", NULL, NULL);
	if (fd < 0)
		return;
	tread1(fd, 8, "read_eof");
	/* The first write may still succeed (TCP answers it with a reset); keep
	 * writing until the error, as an application would. */
	for (tries = 0; tries < 30; tries++) {
		r = nosignal ? send(fd, "x", 1, MSG_NOSIGNAL) : write(fd, "x", 1);
		if (r < 0)
			break;
		msleep(50);
	}
	T("%s_until_error=%s", nosignal ? "send_nosignal" : "write", R(r));
	T("sigpipe=%d", sigpipes > 0);
	close(fd);
}

static void s_epipe_msg_nosignal(void)
{
	epipe_scenario(true);
}

static void s_sigpipe(void)
{
	epipe_scenario(false);
}

/* ---- item 5: options ------------------------------------------------------ */
static void s_tcp_nodelay(void)
{
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	gi(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY");
	si(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	gi(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY");
	rt(fd, "nd");
	close(fd);
}

static void s_keepalive(void)
{
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	gi(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
	si(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	gi(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
	si(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30, "TCP_KEEPIDLE");
	gi(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
	si(fd, IPPROTO_TCP, TCP_KEEPINTVL, 5, "TCP_KEEPINTVL");
	gi(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL");
	si(fd, IPPROTO_TCP, TCP_KEEPCNT, 3, "TCP_KEEPCNT");
	gi(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
	si(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 10000, "TCP_USER_TIMEOUT");
	gi(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT");
	close(fd);
}

static void s_buffer_sizes(void)
{
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	si(fd, SOL_SOCKET, SO_SNDBUF, 65536, "SO_SNDBUF");
	gi(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
	si(fd, SOL_SOCKET, SO_RCVBUF, 65536, "SO_RCVBUF");
	gi(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
	si(fd, SOL_SOCKET, SO_RCVLOWAT, 1, "SO_RCVLOWAT");
	gi(fd, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT");
	rt(fd, "buf");
	close(fd);
}

static void s_rcvtimeo(void)
{
	struct timeval tv = { 0, 300000 }, got = { 0, 0 };
	socklen_t l = sizeof got;
	int fd = open_peer("SILENT", NULL, NULL);
	long t0, dt;
	ssize_t r;

	if (fd < 0)
		return;
	T("set SO_RCVTIMEO=%s", R(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
	r = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &l);
	T("get SO_RCVTIMEO=%s %ld.%06ld", R(r), (long)got.tv_sec, (long)got.tv_usec);
	t0 = now_ms();
	r = read(fd, (char[8]){ 0 }, 8);
	dt = now_ms() - t0;
	T("read=%s in_bounds=%d", R(r), dt >= 250 && dt < 2000);
	close(fd);
}

static void s_sndtimeo(void)
{
	struct timeval tv = { 0, 300000 };
	int fd = open_peer("STALL", NULL, NULL);
	static char buf[1 << 20];
	long total = 0, t0 = 0, dt = -1;
	ssize_t r = 0;

	if (fd < 0)
		return;
	T("set SO_SNDTIMEO=%s", R(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv)));
	while (total < (128L << 20)) {
		t0 = now_ms();
		r = write(fd, buf, sizeof buf);
		dt = now_ms() - t0;
		if (r < (ssize_t)sizeof buf)
			break;
		total += r;
	}
	/* the last write returns a short count or EAGAIN, depending on how
	 * full the buffers were when it began: not printed */
	T("write_stopped=%d in_bounds=%d", total < (128L << 20) && r < (ssize_t)sizeof buf,
	  dt >= 250 && dt < 3000);
	close(fd);
}

static void s_so_linger(void)
{
	struct linger lg = { 1, 7 }, got = { -1, -1 };
	socklen_t l = sizeof got;
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	T("set SO_LINGER{1,7}=%s", R(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
	int r = getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &l);

	T("get SO_LINGER=%s {%d,%d}", R(r), got.l_onoff, got.l_linger);
	rt(fd, "lg");
	T("close=%s", R(close(fd)));
}

static void s_tcp_info(void)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;
	int fd = open_peer("ECHO", NULL, NULL), r;

	if (fd < 0)
		return;
	memset(&ti, 0, sizeof ti);
	r = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
	T("TCP_INFO=%s state_established=%d", R(r), r == 0 && ti.tcpi_state == 1);
	int mss = 0;

	l = sizeof mss;
	r = getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &l);
	T("TCP_MAXSEG=%s positive=%d", R(r), mss > 0);
	close(fd);
}

static void s_options_connected(void)
{
	int fd = open_peer("ECHO", NULL, NULL);

	if (fd < 0)
		return;
	gi(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE");
	gi(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
	gi(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
	gi(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
	gi(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
	gi(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	gi(fd, SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE");
	/* TCP has no peer credentials; a local transport must not show the
	 * service's (pid and uid are not printed, only whether they are set) */
	struct ucred cr = { -1, (uid_t)-1, (gid_t)-1 };
	socklen_t cl = sizeof cr;
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl);

	T("SO_PEERCRED=%s pid_set=%d uid_set=%d", R(r), cr.pid > 0, cr.uid != (uid_t)-1);
	close(fd);
}

static void s_nonblock_toggle(void)
{
	int fd = open_peer("ECHO", NULL, NULL), on = 1, off = 0;
	char c;

	if (fd < 0)
		return;
	set_nonblock(fd, true);
	show_flags(fd, "fcntl_on");
	T("read=%s", R(read(fd, &c, 1)));
	set_nonblock(fd, false);
	show_flags(fd, "fcntl_off");
	T("FIONBIO_1=%s", R(ioctl(fd, FIONBIO, &on)));
	show_flags(fd, "fionbio_on");
	T("recv=%s", R(recv(fd, &c, 1, 0)));
	T("FIONBIO_0=%s", R(ioctl(fd, FIONBIO, &off)));
	show_flags(fd, "fionbio_off");
	rt(fd, "nb");
	close(fd);
}

/* ---- item 6: I/O edge cases ----------------------------------------------- */
static void s_zero_length(void)
{
	char tag[64], c[4];
	int fd;

	newtag(tag, sizeof tag);
	fd = open_peer("ECHO", NULL, tag);
	if (fd < 0)
		return;
	T("write0=%s", R(write(fd, "", 0)));
	T("send0=%s", R(send(fd, "", 0, MSG_NOSIGNAL)));
	T("writev0=%s", R(writev(fd, &(struct iovec){ c, 0 }, 1)));
	T("read0=%s", R(read(fd, c, 0)));
	T("recv0=%s", R(recv(fd, c, 0, MSG_DONTWAIT)));
	rt(fd, "x");
	T("recv_after=%s", R(recv(fd, c, sizeof c, MSG_DONTWAIT)));
	T("close=%s", R(close(fd)));
	query(tag);
}

static void s_msg_peek(void)
{
	int fd = open_peer("ECHO", NULL, NULL);
	char b[16];
	ssize_t r;

	if (fd < 0)
		return;
	T("write=%s", R(write(fd, "hello", 5)));
	tpoll(fd, POLLIN, 3000, "poll");
	msleep(50);
	r = recv(fd, b, sizeof b, MSG_PEEK);
	T("peek=%s %s", R(r), Q(b, r));
	r = recv(fd, b, 2, MSG_PEEK);
	T("peek2=%s %s", R(r), Q(b, r));
	r = read(fd, b, sizeof b);
	T("read=%s %s", R(r), Q(b, r));
	T("peek_empty=%s", R(recv(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT)));
	close(fd);
}

static void s_msg_dontwait(void)
{
	int fd = open_peer("SILENT", NULL, NULL), n = -1;
	char b[8];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (fd < 0)
		return;
	T("recv_dontwait=%s", R(recv(fd, b, sizeof b, MSG_DONTWAIT)));
	T("recvfrom_dontwait=%s", R(recvfrom(fd, b, sizeof b, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl)));
	int r = ioctl(fd, FIONREAD, &n);

	T("FIONREAD=%s n=%d", R(r), n);
	show_flags(fd, "still_blocking");
	T("send_dontwait=%s", R(send(fd, "x", 1, MSG_DONTWAIT)));
	close(fd);
}

static void s_msg_waitall(void)
{
	struct timeval tv = { 3, 0 };
	int fd = open_peer("SPLIT", NULL, NULL);
	char b[16];
	ssize_t r;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	r = recv(fd, b, 8, MSG_WAITALL);
	T("recv_waitall=%s %s", R(r), Q(b, r));
	T("write=%s", R(write(fd, "tail", 4)));
	r = recv(fd, b, 4, MSG_WAITALL);
	T("recv_waitall2=%s %s", R(r), Q(b, r));
	close(fd);
}

static void s_readv_writev(void)
{
	int fd = open_peer("ECHO", NULL, NULL);
	char a[3], b[10];
	struct iovec wv[3] = { { "ab", 2 }, { "cde", 3 }, { "fgh", 3 } };
	struct iovec rv[2] = { { a, sizeof a }, { b, sizeof b } };
	ssize_t r;

	if (fd < 0)
		return;
	T("writev=%s", R(writev(fd, wv, 3)));
	tpoll(fd, POLLIN, 3000, "poll");
	msleep(100);
	r = readv(fd, rv, 2);
	T("readv=%s iov0=%s iov1=%s", R(r), Q(a, r < 3 ? r : 3), Q(b, r > 3 ? r - 3 : 0));
	close(fd);
}

static void s_sendmsg_recvmsg(void)
{
	int fd = open_peer("ECHO", NULL, NULL);
	char b[16];
	struct iovec wv[2] = { { "sm", 2 }, { "sg", 2 } };
	struct msghdr wm = { .msg_iov = wv, .msg_iovlen = 2 };
	struct iovec rv = { b, sizeof b };
	struct sockaddr_storage name, ss;
	char ctl[64];
	struct msghdr rm = { .msg_name = &name, .msg_namelen = sizeof name, .msg_iov = &rv,
			     .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	socklen_t sl = sizeof ss;
	ssize_t r;

	if (fd < 0)
		return;
	T("sendmsg=%s", R(sendmsg(fd, &wm, MSG_NOSIGNAL)));
	tpoll(fd, POLLIN, 3000, "poll");
	msleep(100);
	r = recvmsg(fd, &rm, 0);
	T("recvmsg=%s %s flags=%d namelen=%u controllen=%zu", R(r), Q(b, r), rm.msg_flags,
	  (unsigned)rm.msg_namelen, (size_t)rm.msg_controllen);
	T("sendto=%s", R(sendto(fd, "rf", 2, MSG_NOSIGNAL, NULL, 0)));
	tpoll(fd, POLLIN, 3000, "poll2");
	msleep(50);
	r = recvfrom(fd, b, sizeof b, 0, (struct sockaddr *)&ss, &sl);
	T("recvfrom=%s %s addrlen=%u", R(r), Q(b, r), (unsigned)sl);
	close(fd);
}

/* Control messages mean nothing on TCP: SCM_RIGHTS is refused. */
static void s_sendmsg_scm_rights(void)
{
	int fd = open_peer("ECHO", NULL, NULL), pfd[2];

	if (fd < 0 || pipe2(pfd, O_CLOEXEC) != 0)
		return;
	T("sendmsg_SCM_RIGHTS=%s", R(send_fd(fd, pfd[0])));
	rt(fd, "after");
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

/* stdio on a socket: glibc reads with its own internal calls */
static void s_stdio_echo(void)
{
	int fd = open_peer("ECHO", NULL, NULL);
	char line[64];
	FILE *f;

	if (fd < 0)
		return;
	f = fdopen(fd, "r+");
	if (!f) {
		T("fdopen=%s", R(-1));
		return;
	}
	T("fprintf=%d", fprintf(f, "line one\n"));
	T("fflush=%d", fflush(f));
	T("fgets=%s", fgets(line, sizeof line, f) ? Q(line, (long)strlen(line)) : "NULL");
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	errno = 0;
	char *g = fgets(line, sizeof line, f);

	T("fgets_end=%s feof=%d ferror=%d errno=%s", g ? "data" : "NULL", feof(f), ferror(f),
	  errno ? ename(errno) : "0");
	T("fclose=%d", fclose(f));
}

static void s_stdio_reset(void)
{
	int fd = open_peer("RESET", NULL, NULL);
	char line[64];
	FILE *f;

	if (fd < 0)
		return;
	tpoll(fd, POLLIN, 3000, "poll");
	f = fdopen(fd, "r");
	if (!f) {
		T("fdopen=%s", R(-1));
		return;
	}
	errno = 0;
	char *g = fgets(line, sizeof line, f);

	T("fgets=%s feof=%d ferror=%d errno=%s", g ? "data" : "NULL", feof(f), ferror(f),
	  errno ? ename(errno) : "0");
	fclose(f);
}

static void s_fionread(void)
{
	int fd = open_peer("ECHO", NULL, NULL), n = -1;

	if (fd < 0)
		return;
	int r = ioctl(fd, FIONREAD, &n);

	T("FIONREAD_empty=%s n=%d", R(r), n);
	T("write=%s", R(write(fd, "hello", 5)));
	tpoll(fd, POLLIN, 3000, "poll");
	msleep(100);
	n = -1;
	r = ioctl(fd, FIONREAD, &n);
	T("FIONREAD=%s n=%d", R(r), n);
	tread_n(fd, 5, "read");
	n = -1;
	r = ioctl(fd, FIONREAD, &n);
	T("FIONREAD_after=%s n=%d", R(r), n);
	close(fd);
}

static void s_sendfile(void)
{
	enum { N = 200000 };
	char path[] = "/tmp/conform-sendfile.XXXXXX", tag[64];
	static char buf[N];
	int f = mkstemp(path), fd;
	off_t off = 0;
	long total = 0;

	if (f < 0) {
		T("mkstemp=%s", R(-1));
		return;
	}
	unlink(path);
	fill_pattern(buf, N, 0);
	if (write(f, buf, N) != N) {
		T("file_write=%s", R(-1));
		return;
	}
	newtag(tag, sizeof tag);
	fd = open_peer("SINK", NULL, tag);
	if (fd < 0)
		return;
	while (total < N) {
		ssize_t r = sendfile(fd, f, &off, (size_t)(N - total));

		if (r <= 0) {
			T("sendfile=%s", R(r));
			break;
		}
		total += r;
	}
	T("sendfile_total=%ld", total);
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	sink_reply(fd, N, fnv1a(FNV0, buf, N));
	close(fd);
	close(f);
}

static void s_splice_to_pipe(void)
{
	enum { N = 100000 };
	int fd = open_peer("SEND", "100000", NULL), p[2];
	static char buf[N], want[N];
	long total = 0;
	ssize_t r = -1;

	if (fd < 0 || pipe(p) != 0)
		return;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (poll(&pf, 1, 3000) != 1) {
			T("splice=TIMEOUT");
			break;
		}
		r = splice(fd, NULL, p[1], NULL, 65536, 0);
		if (r <= 0)
			break;
		for (ssize_t k = 0; k < r;) {
			ssize_t n = read(p[0], buf + total + k, (size_t)(r - k));

			if (n <= 0)
				break;
			k += n;
		}
		total += r;
		if (total > N)
			break;
	}
	fill_pattern(want, N, 0);
	T("splice_total=%ld last=%s pattern_ok=%d", total, R(r),
	  total == N && memcmp(buf, want, N) == 0);
	close(fd);
}

static void s_splice_from_pipe(void)
{
	enum { N = 50000 };
	char tag[64];
	static char buf[N];
	int fd, p[2];
	long total = 0;

	newtag(tag, sizeof tag);
	fd = open_peer("SINK", NULL, tag);
	if (fd < 0 || pipe(p) != 0)
		return;
	fill_pattern(buf, N, 7);
	if (write(p[1], buf, N) != N) {
		T("pipe_write=%s", R(-1));
		return;
	}
	close(p[1]);
	while (total < N) {
		ssize_t r = splice(p[0], NULL, fd, NULL, (size_t)(N - total), 0);

		if (r <= 0) {
			T("splice=%s", R(r));
			break;
		}
		total += r;
	}
	T("splice_total=%ld", total);
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	sink_reply(fd, N, fnv1a(FNV0, buf, N));
	close(fd);
}

static void s_write_32mib(void)
{
	const size_t N = 32u << 20;
	char tag[64];
	char *buf = malloc(N);
	int fd;
	long t0;

	if (!buf)
		return;
	fill_pattern(buf, N, 3);
	newtag(tag, sizeof tag);
	fd = open_peer("SLOWSINK", NULL, tag);
	if (fd < 0)
		return;
	t0 = now_ms();
	T("write=%s", R(write(fd, buf, N)));
	fprintf(stderr, "# 32 MiB write returned after %ld ms\n", now_ms() - t0);
	T("shutdown_wr=%s", R(shutdown(fd, SHUT_WR)));
	sink_reply(fd, N, fnv1a(FNV0, buf, N));
	close(fd);
	free(buf);
}

static void s_nonblock_write_eagain(void)
{
	int fd = open_peer("STALL", NULL, NULL);
	static char buf[65536];
	long total = 0;
	ssize_t r = 0;

	if (fd < 0)
		return;
	set_nonblock(fd, true);
	while (total < (128L << 20)) {
		r = write(fd, buf, sizeof buf);
		if (r < 0)
			break;
		total += r;
	}
	T("write_until=%s", R(r));
	tpoll(fd, POLLOUT, 0, "poll_out");
	msleep(200);
	tpoll(fd, POLLOUT, 0, "poll_out_later");
	close(fd);
}

/* ---- server side: this program listens ------------------------------------ */
static void s_listen_bind0(void)
{
	struct sockaddr_storage ss, ps;
	socklen_t sl = loop_addr(AF_INET, 0, &ss), psl = sizeof ps;
	int fd = mksock(AF_INET, 0), port, port2, pp[2], a;
	unsigned short kport = 0;
	struct kid k;

	if (fd < 0 || pipe2(pp, O_CLOEXEC) != 0)
		return;
	tls_identity(fd);
	T("bind=%s", R(bind(fd, (struct sockaddr *)&ss, sl)));
	port = show_local(fd, "local_bound");
	T("listen=%s", R(listen(fd, 16)));
	port2 = local_port(fd);
	T("port_same_after_listen=%d", port2 == port);
	gi(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
	show_peer(fd, "listener_getpeername", 0);
	if (kid_fork(&k) == 0) {
		struct pc c;
		int e = pc_connect(&c, AF_INET, port, 3000);

		T("connect=%s", e ? ename(e) : "0");
		if (e)
			_exit(1);
		kport = (unsigned short)local_port(c.fd);
		if (write(pp[1], &kport, sizeof kport) != sizeof kport)
			_exit(2);
		T("write=%ld", pc_write(&c, "hi", 2));
		pc_tread(&c, 2, "read");
		pc_teof(&c, "read_end");
		pc_close(&c, false);
		_exit(0);
	}
	close(pp[1]);
	a = accept_wait(fd, &ps, &psl, 0, 3000);
	T("accept=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0) {
		struct pollfd p = { .fd = pp[0], .events = POLLIN };

		if (poll(&p, 1, 3000) != 1 || read(pp[0], &kport, sizeof kport) != sizeof kport)
			kport = 0;
		T("accept_addr=%s port_match=%d addrlen=%u", ahost(&ps), port_of(&ps) == kport,
		  (unsigned)psl);
		show_peer(a, "peer", kport);
		show_local(a, "local");
		T("local_port_is_listener=%d", local_port(a) == port);
		gi(a, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
		gi(a, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
		show_flags(a, "accepted");
		tread_n(a, 2, "read");
		T("write=%s", R(write(a, "yo", 2)));
		T("close=%s", R(close(a)));
	}
	kid_reap(&k, 5000, "client");
	close(fd);
}

/* A client child holding n connections to port until the parent says so
 * (sync pipe), then closing them cleanly. Steps: "connected=n". */
static void hold_clients(struct kid *k, int dom, int port, int n, int conn_ms, int go_fd,
			 int ready_fd)
{
	if (kid_fork(k) != 0)
		return;
	struct pc c[16];
	int ok = 0;

	for (int i = 0; i < n && i < 16; i++)
		if (pc_connect(&c[i], dom, port, conn_ms) == 0)
			ok++;
	T("connected=%d", ok);
	if (ready_fd >= 0)
		sync_send(ready_fd);
	if (!sync_wait(go_fd, 8000))
		T("go=TIMEOUT");
	for (int i = 0; i < n && i < 16; i++)
		pc_close(&c[i], false);
	_exit(0);
}

static void s_accept4_flags(void)
{
	int port, l = mklistener(AF_INET, 0, 16, &port), go[2], a;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct kid k;

	if (l < 0 || pipe2(go, O_CLOEXEC) != 0)
		return;
	hold_clients(&k, AF_INET, port, 3, 3000, go[0], -1);
	sl = sizeof ss;
	a = accept_wait(l, &ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC, 3000);
	T("accept4(NONBLOCK|CLOEXEC)=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0) {
		show_flags(a, "a1");
		T("read_nonblock=%s", R(read(a, (char[4]){ 0 }, 4)));
		close(a);
	}
	sl = sizeof ss;
	a = accept_wait(l, &ss, &sl, 0, 3000);
	T("accept4(0)=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0) {
		show_flags(a, "a2");
		close(a);
	}
	sl = 4; /* too short: truncated, and the real length returned */
	a = accept_wait(l, &ss, &sl, SOCK_CLOEXEC, 3000);
	T("accept4(CLOEXEC, short addrlen)=%s addrlen=%u", a >= 0 ? "ok" : R(a), (unsigned)sl);
	if (a >= 0) {
		show_flags(a, "a3");
		close(a);
	}
	T("accept4(bad flags)=%s", R(accept4(l, NULL, NULL, 0x40000000)));
	sync_send(go[1]);
	kid_reap(&k, 5000, "client");
	close(l);
}

static void accept_epoll(bool et)
{
	int port, l = mklistener(AF_INET, SOCK_NONBLOCK, 16, &port), go[2], rdy[2], ep, a;
	struct kid k;

	if (l < 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(rdy, O_CLOEXEC) != 0)
		return;
	T("accept_empty=%s", R(accept(l, NULL, NULL)));
	ep = epoll_for(l, EPOLLIN | (et ? EPOLLET : 0));
	tepoll(ep, 100, "epoll_idle");
	hold_clients(&k, AF_INET, port, 2, 3000, go[0], rdy[1]);
	if (!sync_wait(rdy[0], 5000))
		T("clients=TIMEOUT");
	msleep(200);
	tepoll(ep, 3000, "epoll");
	tepoll(ep, et ? 100 : 0, "epoll_again");
	int n = 0;

	while ((a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		n++;
		close(a);
	}
	T("accepted=%d then=%s", n, R(a));
	tepoll(ep, 100, "epoll_drained");
	sync_send(go[1]);
	kid_reap(&k, 5000, "client");
	close(ep);
	close(l);
}

static void s_accept_nb_epoll_lt(void)
{
	accept_epoll(false);
}

static void s_accept_nb_epoll_et(void)
{
	accept_epoll(true);
}

static void s_listen_backlog(void)
{
	int port, l = mklistener(AF_INET, SOCK_NONBLOCK, 2, &port), go[2], rdy[2], a, n = 0;
	struct kid k;

	if (l < 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(rdy, O_CLOEXEC) != 0)
		return;
	/* backlog 2: Linux completes 3 connections; the others wait (their
	 * SYN is dropped, connect times out here after 300 ms) */
	hold_clients(&k, AF_INET, port, 8, 300, go[0], rdy[1]);
	if (!sync_wait(rdy[0], 8000))
		T("clients=TIMEOUT");
	msleep(100);
	while ((a = accept(l, NULL, NULL)) >= 0) {
		n++;
		close(a);
	}
	T("accepted=%d then=%s", n, R(a));
	sync_send(go[1]);
	kid_reap(&k, 5000, "client");
	close(l);
}

static void s_bind_in_use(void)
{
	int port, l = mklistener(AF_INET, 0, 16, &port), b, t, tport;
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, port, &ss);

	if (l < 0)
		return;
	b = mksock(AF_INET, 0);
	tls_identity(b);
	T("bind_same_port=%s", R(bind(b, (struct sockaddr *)&ss, sl)));
	close(b);
	/* a port held by a plain TCP listener of someone else */
	t = socket(AF_INET, SOCK_STREAM, 0);
	sl = loop_addr(AF_INET, 0, &ss);
	if (t < 0 || bind(t, (struct sockaddr *)&ss, sl) != 0 || listen(t, 1) != 0)
		return;
	tport = local_port(t);
	sl = loop_addr(AF_INET, tport, &ss);
	b = mksock(AF_INET, 0);
	tls_identity(b);
	T("bind_tcp_port=%s", R(bind(b, (struct sockaddr *)&ss, sl)));
	close(b);
	close(t);
	close(l);
}

static void s_reuseaddr(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, 0, &ss);
	int l = mksock(AF_INET, 0), port, a, b;
	struct kid k;

	if (l < 0)
		return;
	tls_identity(l);
	si(l, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	gi(l, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	T("bind=%s", R(bind(l, (struct sockaddr *)&ss, sl)));
	T("listen=%s", R(listen(l, 4)));
	port = local_port(l);
	if (kid_fork(&k) == 0) {
		struct pc c;
		int e = pc_connect(&c, AF_INET, port, 3000);

		T("connect=%s", e ? ename(e) : "0");
		if (!e) {
			pc_teof(&c, "read_end");
			pc_close(&c, false);
		}
		_exit(0);
	}
	a = accept_wait(l, NULL, NULL, 0, 3000);
	T("accept=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0)
		close(a); /* we close first: our side goes to TIME_WAIT */
	kid_reap(&k, 5000, "client");
	T("close_listener=%s", R(close(l)));
	msleep(100);
	sl = loop_addr(AF_INET, port, &ss);
	b = mksock(AF_INET, 0);
	tls_identity(b);
	T("rebind_without_REUSEADDR=%s", R(bind(b, (struct sockaddr *)&ss, sl)));
	close(b);
	b = mksock(AF_INET, 0);
	tls_identity(b);
	si(b, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	T("rebind_with_REUSEADDR=%s", R(bind(b, (struct sockaddr *)&ss, sl)));
	T("listen=%s", R(listen(b, 4)));
	close(b);
}

static void s_reuseport(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, 0, &ss);
	int l1 = mksock(AF_INET, SOCK_NONBLOCK), l2, l3, port, go[2], rdy[2], n1 = 0, n2 = 0;
	struct kid k;

	if (l1 < 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(rdy, O_CLOEXEC) != 0)
		return;
	tls_identity(l1);
	si(l1, SOL_SOCKET, SO_REUSEPORT, 1, "l1 SO_REUSEPORT");
	T("l1 bind=%s", R(bind(l1, (struct sockaddr *)&ss, sl)));
	T("l1 listen=%s", R(listen(l1, 16)));
	port = local_port(l1);
	sl = loop_addr(AF_INET, port, &ss);
	l2 = mksock(AF_INET, SOCK_NONBLOCK);
	tls_identity(l2);
	si(l2, SOL_SOCKET, SO_REUSEPORT, 1, "l2 SO_REUSEPORT");
	gi(l2, SOL_SOCKET, SO_REUSEPORT, "l2 SO_REUSEPORT");
	T("l2 bind=%s", R(bind(l2, (struct sockaddr *)&ss, sl)));
	T("l2 listen=%s", R(listen(l2, 16)));
	l3 = mksock(AF_INET, 0);
	tls_identity(l3);
	T("l3 bind_without_REUSEPORT=%s", R(bind(l3, (struct sockaddr *)&ss, sl)));
	close(l3);
	hold_clients(&k, AF_INET, port, 8, 3000, go[0], rdy[1]);
	if (!sync_wait(rdy[0], 8000))
		T("clients=TIMEOUT");
	msleep(200);
	for (int a; (a = accept(l1, NULL, NULL)) >= 0; n1++)
		close(a);
	for (int a; (a = accept(l2, NULL, NULL)) >= 0; n2++)
		close(a);
	T("accepted_total=%d", n1 + n2);
	sync_send(go[1]);
	kid_reap(&k, 5000, "client");
	close(l1);
	close(l2);
}

static void s_accept_dualstack_v6(void)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_storage ss;
	socklen_t sl;
	int l = mksock(AF_INET6, 0), port, a, go[2];
	struct kid k;

	if (l < 0 || pipe2(go, O_CLOEXEC) != 0)
		return;
	tls_identity(l);
	si(l, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY");
	gi(l, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
	T("bind=%s", R(bind(l, (struct sockaddr *)&a6, sizeof a6)));
	T("listen=%s", R(listen(l, 16)));
	sl = sizeof ss;
	getsockname(l, (struct sockaddr *)&ss, &sl);
	T("local=%s", ahost(&ss));
	port = port_of(&ss);
	if (kid_fork(&k) == 0) {
		struct pc c4, c6;
		int e4 = pc_connect(&c4, AF_INET, port, 3000), e6 = pc_connect(&c6, AF_INET6, port, 3000);

		T("connect4=%s connect6=%s", e4 ? ename(e4) : "0", e6 ? ename(e6) : "0");
		sync_wait(go[0], 5000);
		pc_close(&c4, false);
		pc_close(&c6, false);
		_exit(0);
	}
	/* Traced in a fixed order (IPv4-mapped first): over SSA the two
	 * connections are accepted in the order their handshakes end, which
	 * may differ from the order of their TCP connects. */
	char got[2][160] = { "", "" };
	int n_got = 0;

	for (int i = 0; i < 2; i++) {
		struct sockaddr_storage ls;
		socklen_t lsl = sizeof ls;

		sl = sizeof ss;
		a = accept_wait(l, &ss, &sl, 0, 3000);
		if (a < 0) {
			T("accept=%s", R(a));
			break;
		}
		getsockname(a, (struct sockaddr *)&ls, &lsl);
		snprintf(got[n_got], sizeof got[n_got], "%s addrlen=%u local=%s", ahost(&ss),
			 (unsigned)sl, ahost(&ls));
		n_got++;
		close(a);
	}
	if (n_got == 2 && strstr(got[1], "::ffff:") && !strstr(got[0], "::ffff:")) {
		char t[160];

		memcpy(t, got[0], sizeof t);
		memcpy(got[0], got[1], sizeof t);
		memcpy(got[1], t, sizeof t);
	}
	for (int i = 0; i < n_got; i++)
		T("accepted=%s", got[i]);
	sync_send(go[1]);
	kid_reap(&k, 5000, "client");
	close(l);
}

static void s_server_shut_wr(void)
{
	int port, l = mklistener(AF_INET, 0, 16, &port), a;
	struct kid k;

	if (l < 0)
		return;
	if (kid_fork(&k) == 0) {
		struct pc c;
		int e = pc_connect(&c, AF_INET, port, 3000);

		T("connect=%s", e ? ename(e) : "0");
		if (e)
			_exit(1);
		pc_tread(&c, 4, "read");
		pc_teof(&c, "read_end");
		T("write=%ld", pc_write(&c, "reply", 5));
		pc_close(&c, false);
		_exit(0);
	}
	a = accept_wait(l, NULL, NULL, 0, 3000);
	T("accept=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0) {
		T("write=%s", R(write(a, "data", 4)));
		T("shutdown_wr=%s", R(shutdown(a, SHUT_WR)));
		tread_n(a, 5, "read");
		tread1(a, 8, "read_eof");
		close(a);
	}
	kid_reap(&k, 5000, "client");
	close(l);
}

static void s_server_client_reset(void)
{
	int port, l = mklistener(AF_INET, 0, 16, &port), a, go[2];
	struct kid k;

	if (l < 0 || pipe2(go, O_CLOEXEC) != 0)
		return;
	if (kid_fork(&k) == 0) {
		struct pc c;
		int e = pc_connect(&c, AF_INET, port, 3000);

		T("connect=%s", e ? ename(e) : "0");
		if (e)
			_exit(1);
		T("write=%ld", pc_write(&c, "x", 1));
		sync_wait(go[0], 5000);
		pc_close(&c, true);
		_exit(0);
	}
	a = accept_wait(l, NULL, NULL, 0, 3000);
	T("accept=%s", a >= 0 ? "ok" : R(a));
	if (a >= 0) {
		tread_n(a, 1, "read");
		sync_send(go[1]);
		tpoll(a, POLLIN | POLLRDHUP, 3000, "poll_reset");
		msleep(50);
		T("read=%s", R(read(a, (char[8]){ 0 }, 8)));
		close(a);
	}
	kid_reap(&k, 5000, "client");
	close(l);
}

static void s_accept_not_listening(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(AF_INET, 0, &ss);
	int b = mksock(AF_INET, SOCK_NONBLOCK), u;

	if (b < 0)
		return;
	tls_identity(b);
	T("bind=%s", R(bind(b, (struct sockaddr *)&ss, sl)));
	T("accept_bound_not_listening=%s", R(accept(b, NULL, NULL)));
	close(b);
	u = mksock(AF_INET, SOCK_NONBLOCK);
	if (u < 0)
		return;
	tls_identity(u);
	T("listen_unbound=%s", R(listen(u, 4)));
	show_local(u, "local");
	gi(u, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
	T("accept_empty=%s", R(accept(u, NULL, NULL)));
	close(u);
}

static void s_accept_then_echo_many(void)
{
	/* 20 sequential clients, each echoed by an accepted socket */
	int port, l = mklistener(AF_INET, 0, 64, &port), ok = 0, bad = 0;
	struct kid k;

	if (l < 0)
		return;
	if (kid_fork(&k) == 0) {
		int good = 0;

		for (int i = 0; i < 20; i++) {
			struct pc c;
			char b[8];
			const char *how;

			if (pc_connect(&c, AF_INET, port, 3000) != 0)
				continue;
			if (pc_write(&c, "ping", 4) == 4 && pc_read(&c, b, 4, &how) == 4 &&
			    memcmp(b, "ping", 4) == 0 && pc_read(&c, b, 4, &how) == 0)
				good++;
			pc_close(&c, false);
		}
		T("clients_ok=%d", good);
		_exit(0);
	}
	for (int i = 0; i < 20; i++) {
		int a = accept_wait(l, NULL, NULL, 0, 3000), err;
		char b[4];

		if (a < 0) {
			bad++;
			break;
		}
		if (read_n(a, b, 4, 3000, &err) == 4 && write(a, b, 4) == 4)
			ok++;
		else
			bad++;
		close(a);
	}
	T("served=%d failed=%d", ok, bad);
	kid_reap(&k, 10000, "client");
	close(l);
}

/* ======================================================================
 * The list. Keep the order: the S numbers are how reports name them.
 * ====================================================================== */
struct scenario {
	const char *name;
	void (*fn)(void);
	int timeout_s;
};

static const struct scenario scenarios[] = {
	/* item 1/5: sockets, connect, readiness */
	{ "socket_basics", s_socket_basics, 5 },
	{ "unconnected_ops", s_unconnected_ops, 5 },
	{ "connect_blocking", s_connect_blocking, 5 },
	{ "connect_blocking_ipv6", s_connect_blocking_ipv6, 5 },
	{ "connect_refused_blocking", s_connect_refused_blocking, 5 },
	{ "nb_connect_poll", s_nb_connect_poll, 5 },
	{ "nb_connect_ipv6_poll", s_nb_connect_ipv6_poll, 5 },
	{ "nb_connect_select", s_nb_connect_select, 5 },
	{ "nb_connect_epoll_lt", s_nb_connect_epoll_lt, 5 },
	{ "nb_connect_epoll_et", s_nb_connect_epoll_et, 5 },
	{ "nb_refused_poll", s_nb_refused_poll, 5 },
	{ "nb_refused_select", s_nb_refused_select, 5 },
	{ "nb_refused_epoll_lt", s_nb_refused_epoll_lt, 5 },
	{ "nb_refused_epoll_et", s_nb_refused_epoll_et, 5 },
	{ "epoll_lt_data", s_epoll_lt_data, 5 },
	{ "epoll_et_data", s_epoll_et_data, 5 },
	{ "epoll_et_no_spurious", s_epoll_et_no_spurious, 5 },
	{ "poll_idle_connected", s_poll_idle_connected, 5 },
	{ "connect_1000_epoll", s_connect_1000_epoll, 25 },
	/* item 2: processes and descriptors */
	{ "fork_both_use", s_fork_both_use, 8 },
	{ "fork_parent_closes", s_fork_parent_closes, 8 },
	{ "dup", s_dup, 6 },
	{ "dup2", s_dup2, 6 },
	{ "dup3_cloexec", s_dup3_cloexec, 6 },
	{ "fdupfd_cloexec", s_fdupfd_cloexec, 6 },
	{ "dup_shutdown_shared", s_dup_shutdown_shared, 6 },
	{ "dup_reset_read", s_dup_reset_read, 5 },
	{ "dup_peer_close_read", s_dup_peer_close_read, 5 },
	{ "scm_rights", s_scm_rights, 8 },
	{ "scm_rights_reset", s_scm_rights_reset, 8 },
	{ "exec_inherit", s_exec_inherit, 8 },
	{ "exec_cloexec", s_exec_cloexec, 8 },
	{ "exec_reset", s_exec_reset, 8 },
	{ "exit_without_close", s_exit_without_close, 8 },
	{ "close_is_clean", s_close_is_clean, 6 },
	{ "linger0_close_resets", s_linger0_close_resets, 6 },
	/* item 3: threads */
	{ "threads_sockets", s_threads_sockets, 15 },
	{ "threads_same_socket", s_threads_same_socket, 15 },
	/* item 4: shutdown and truncation */
	{ "shut_wr_halfclose", s_shut_wr_halfclose, 8 },
	{ "shut_rd", s_shut_rd, 8 },
	{ "shut_rdwr", s_shut_rdwr, 8 },
	{ "shutdown_misc", s_shutdown_misc, 5 },
	{ "peer_close_read_eof", s_peer_close_read_eof, 8 },
	{ "peer_reset_read", s_peer_reset_read, 5 },
	{ "peer_reset_recv", s_peer_reset_recv, 5 },
	{ "peer_reset_so_error", s_peer_reset_so_error, 5 },
	{ "peer_halfclose", s_peer_halfclose, 8 },
	{ "epipe_msg_nosignal", s_epipe_msg_nosignal, 8 },
	{ "sigpipe", s_sigpipe, 8 },
	/* item 5: options */
	{ "tcp_nodelay", s_tcp_nodelay, 5 },
	{ "keepalive", s_keepalive, 5 },
	{ "buffer_sizes", s_buffer_sizes, 5 },
	{ "rcvtimeo", s_rcvtimeo, 5 },
	{ "sndtimeo", s_sndtimeo, 15 },
	{ "so_linger", s_so_linger, 5 },
	{ "tcp_info", s_tcp_info, 5 },
	{ "options_connected", s_options_connected, 5 },
	{ "nonblock_toggle", s_nonblock_toggle, 5 },
	/* item 6: I/O */
	{ "zero_length", s_zero_length, 6 },
	{ "msg_peek", s_msg_peek, 5 },
	{ "msg_dontwait", s_msg_dontwait, 5 },
	{ "msg_waitall", s_msg_waitall, 6 },
	{ "readv_writev", s_readv_writev, 5 },
	{ "sendmsg_recvmsg", s_sendmsg_recvmsg, 5 },
	{ "sendmsg_scm_rights", s_sendmsg_scm_rights, 5 },
	{ "stdio_echo", s_stdio_echo, 5 },
	{ "stdio_reset", s_stdio_reset, 5 },
	{ "fionread", s_fionread, 5 },
	{ "sendfile", s_sendfile, 10 },
	{ "splice_to_pipe", s_splice_to_pipe, 10 },
	{ "splice_from_pipe", s_splice_from_pipe, 10 },
	{ "write_32mib", s_write_32mib, 30 },
	{ "nonblock_write_eagain", s_nonblock_write_eagain, 15 },
	/* server side */
	{ "listen_bind0", s_listen_bind0, 8 },
	{ "accept4_flags", s_accept4_flags, 8 },
	{ "accept_nb_epoll_lt", s_accept_nb_epoll_lt, 8 },
	{ "accept_nb_epoll_et", s_accept_nb_epoll_et, 8 },
	{ "listen_backlog", s_listen_backlog, 10 },
	{ "bind_in_use", s_bind_in_use, 5 },
	{ "reuseaddr", s_reuseaddr, 8 },
	{ "reuseport", s_reuseport, 8 },
	{ "accept_dualstack_v6", s_accept_dualstack_v6, 8 },
	{ "server_shut_wr", s_server_shut_wr, 8 },
	{ "server_client_reset", s_server_client_reset, 8 },
	{ "accept_not_listening", s_accept_not_listening, 5 },
	{ "accept_then_echo_many", s_accept_then_echo_many, 15 },
};
#define NSCEN ((int)(sizeof scenarios / sizeof scenarios[0]))

static bool selected(const char *list, int id, const char *name)
{
	char buf[1024], *save = NULL;

	if (!list)
		return true;
	snprintf(buf, sizeof buf, "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, name) == 0)
			return true;
		if ((t[0] == 'S' || t[0] == 's') && atoi(t + 1) == id)
			return true;
		if (t[0] >= '0' && t[0] <= '9' && atoi(t) == id)
			return true;
	}
	return false;
}

static volatile pid_t running; /* the scenario's process group */

/* timeout(1) or the test harness gave up: take the scenario with us. */
static void on_term(int sig)
{
	if (running > 0)
		kill(-running, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run one scenario in its own process group; print its line. */
static void run(int id, const struct scenario *s)
{
	char out[65536];
	size_t len = 0;
	int p[2], st = 0;
	long t0 = now_ms(), deadline = t0 + s->timeout_s * 1000L;
	bool timeout = false;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC) != 0) {
		printf("S%02d %s: pipe failed\n", id, s->name);
		return;
	}
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(p[0]);
		trace_fd = p[1];
		s->fn();
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		printf("S%02d %s: fork failed\n", id, s->name);
		return;
	}
	setpgid(pid, pid);
	running = pid;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			timeout = true;
			break;
		}
		n = read(p[0], out + len, sizeof out - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len >= sizeof out - 1)
			break;
	}
	/* the scenario's own process must end too (its children may hold
	 * the pipe, or it may be stuck after closing it) */
	while (!timeout && waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			timeout = true;
			break;
		}
		msleep(5);
	}
	kill(-pid, SIGKILL);
	if (timeout)
		waitpid(pid, &st, 0);
	running = 0;
	close(p[0]);
	out[len] = 0;
	while (len && out[len - 1] == '\n')
		out[--len] = 0;
	printf("S%02d %s:", id, s->name);
	for (char *line = out, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		printf("%s %s", line == out ? "" : " |", line);
	}
	if (timeout)
		printf(" | TIMEOUT");
	else if (WIFSIGNALED(st))
		printf(" | CRASH:%s", sigabbrev_np(WTERMSIG(st)));
	else if (WEXITSTATUS(st))
		printf(" | exit=%d", WEXITSTATUS(st));
	printf("\n");
	fflush(stdout);
	fprintf(stderr, "# time S%02d %s %ld ms\n", id, s->name, now_ms() - t0);
}

static void usage(void)
{
	fprintf(stderr, "usage: conform -p 0|205 -P PEER_PORT [-c CHAIN -k KEY] [-s LIST]\n"
			"       conform -l\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *list = NULL, *exec_what = NULL;
	int opt, exec_fd = -1;
	bool do_list = false;
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t n;

	while ((opt = getopt(argc, argv, "p:P:c:k:s:lE:e:")) != -1) {
		switch (opt) {
		case 'p': mode = atoi(optarg); break;
		case 'P': peer_port = atoi(optarg); break;
		case 'c': chain_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 's': list = optarg; break;
		case 'l': do_list = true; break;
		case 'E': exec_fd = atoi(optarg); break;
		case 'e': exec_what = optarg; break;
		default: usage();
		}
	}
	if (do_list) {
		for (int i = 0; i < NSCEN; i++)
			printf("S%02d %s\n", i + 1, scenarios[i].name);
		return 0;
	}
	if ((mode != 0 && mode != IPPROTO_TLS) || peer_port <= 0)
		usage();
	if (exec_fd >= 0)
		return exec_helper(exec_fd, exec_what ? exec_what : "use");
	if (mode && (!chain_path || !key_path))
		usage();
	n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (n <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self_exe[n] = 0;
	/* A port where connections are refused, and stays so: bound, never
	 * listening (a plain TCP socket; IPPROTO 0 is never the TLS service). */
	{
		int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		sl = loop_addr(AF_INET, 0, &ss);
		if (cfd < 0 || bind(cfd, (struct sockaddr *)&ss, sl) != 0) {
			perror("conform: closed port");
			return 1;
		}
		closed_port = local_port(cfd);
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (int i = 0; i < NSCEN; i++)
		if (selected(list, i + 1, scenarios[i].name))
			run(i + 1, &scenarios[i]);
	return 0;
}
