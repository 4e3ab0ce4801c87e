/* SPDX-License-Identifier: MIT */
/*
 * tls_server: a configurable SSA test server (run it under libssa).
 *
 *   tls_server -c CHAIN -k KEY [-c CHAIN2 -k KEY2 ...] [-a ALPN] [-A 0|1|2]
 *              [-C CLIENT_CA] [-6 | -b ADDRESS] [-n] [-q] -p PORT MODE
 *
 *   -c/-k   an identity (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY), in order;
 *           the first one is the default for clients without a known SNI
 *   -a      TLS_ALPN, e.g. "h2,http/1.1"
 *   -A      TLS_REQUEST_PEER_AUTH: 0 none, 1 request, 2 require
 *   -C      TLS_TRUSTED_PEER_CERTIFICATES (client CAs), set after -A
 *   -6      listen on :: (IPv6 and IPv4-mapped); default 127.0.0.1
 *   -b      listen on this numeric address instead
 *   -n      non-blocking listener and connections driven by epoll
 *           (edge-triggered, accept4 SOCK_NONBLOCK|SOCK_CLOEXEC); default
 *           blocking accept() with one thread per connection
 *   -q      no ACCEPT/INFO lines on stdout
 *   -p      port; 0 binds an ephemeral port
 *
 * MODE: echo  echo the bytes back until EOF, then close
 *       info  write one info line, then close
 *       http  read a request (up to the blank line), answer HTTP/1.1 200
 *             with the info line as body, then close
 *
 * The info line:
 *   sni=NAME alpn=PROTO version=0x0304 cipher=NAME peer=ADDR PORT identity=ID
 * with "-" for an empty SNI, ALPN or peer identity.
 *
 * stdout: "READY <port>" once listening (port from getsockname after bind;
 * it must equal the one after listen), then per accepted connection
 * "ACCEPT <n> <addr> <port>" (address returned by accept) and, in info and
 * http modes, "INFO <n> <info line>". stderr: errors only, with errno names
 * and TLS_ERROR. A successful run leaves stderr empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#define MAX_IDS 8
#define INFO_MAX 8192

enum mode { MODE_ECHO, MODE_INFO, MODE_HTTP };

static enum mode mode;
static bool quiet;
static atomic_ulong n_accepted;

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* Print "tls_server: WHAT: ENAME (strerror) [TLS_ERROR: reason]" for errno e
 * on TLS socket fd (fd < 0: no TLS_ERROR). */
__attribute__((format(printf, 3, 4)))
static void report(int fd, int e, const char *fmt, ...)
{
	char what[512], why[512] = "";
	socklen_t len = sizeof why;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (fd >= 0 && getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &len) != 0)
		snprintf(why, sizeof why, "(TLS_ERROR unavailable: %s)", errname(errno));
	fprintf(stderr, "tls_server: %s: %s (%s)%s%s\n", what, errname(e), strerror(e),
		why[0] ? " TLS_ERROR: " : "", why);
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
		port = ntohs(s->sin6_port);
	} else {
		snprintf(host, sizeof host, "family%d", ss->ss_family);
	}
	snprintf(out, len, "%s %u", host, port);
}

/* A string option into buf; "-" when empty, "ERR:ENAME" on failure. */
static void get_str(int fd, int name, const char *what, char *buf, size_t cap)
{
	socklen_t len = (socklen_t)cap;

	if (getsockopt(fd, IPPROTO_TLS, name, buf, &len) != 0) {
		int e = errno;

		report(fd, e, "getsockopt(%s)", what);
		snprintf(buf, cap, "ERR:%s", errname(e));
		return;
	}
	if (len == 0 || memchr(buf, '\0', len) == NULL) {
		fprintf(stderr, "tls_server: getsockopt(%s): not a NUL-terminated string (len %u)\n",
			what, (unsigned)len);
		snprintf(buf, cap, "ERR:NONUL");
		return;
	}
	if (!buf[0])
		snprintf(buf, cap, "-");
}

/* The info line (with '\n') of connection fd; accepted_from is the address
 * accept() returned, checked against getpeername(). */
static int info_line(int fd, const struct sockaddr_storage *accepted_from, char *out, size_t cap)
{
	char sni[300], alpn[300], cipher[128], peer[80], acc[80], *id;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int version = 0;
	socklen_t vl = sizeof version;
	int n;

	id = malloc(4096);
	if (!id)
		return -1;
	get_str(fd, TLS_HOSTNAME, "TLS_HOSTNAME", sni, sizeof sni);
	get_str(fd, TLS_ALPN, "TLS_ALPN", alpn, sizeof alpn);
	get_str(fd, TLS_CHOSEN_CIPHER, "TLS_CHOSEN_CIPHER", cipher, sizeof cipher);
	get_str(fd, TLS_PEER_IDENTITY, "TLS_PEER_IDENTITY", id, 4096);
	if (getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &version, &vl) != 0) {
		report(fd, errno, "getsockopt(TLS_CHOSEN_VERSION)");
		version = -1;
	} else if (vl != sizeof version) {
		fprintf(stderr, "tls_server: TLS_CHOSEN_VERSION: optlen %u\n", (unsigned)vl);
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
		int e = errno;

		report(fd, e, "getpeername");
		snprintf(peer, sizeof peer, "ERR:%s", errname(e));
	} else {
		addr_str(&ss, peer, sizeof peer);
		addr_str(accepted_from, acc, sizeof acc);
		if (strcmp(peer, acc) != 0)
			fprintf(stderr, "tls_server: getpeername gives %s but accept gave %s\n",
				peer, acc);
	}
	n = snprintf(out, cap, "sni=%s alpn=%s version=0x%04x cipher=%s peer=%s identity=%s\n",
		     sni, alpn, (unsigned)version, cipher, peer, id);
	free(id);
	return n > 0 && (size_t)n < cap ? n : -1;
}

static void log_accept(unsigned long n, const struct sockaddr_storage *ss)
{
	char a[80];

	if (quiet)
		return;
	addr_str(ss, a, sizeof a);
	printf("ACCEPT %lu %s\n", n, a);
	fflush(stdout);
}

static void log_info(unsigned long n, const char *line)
{
	if (quiet)
		return;
	printf("INFO %lu %s", n, line);
	fflush(stdout);
}

/* Write all of buf on a blocking socket. */
static int write_all(int fd, const char *buf, size_t len, unsigned long n)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			report(fd, w < 0 ? errno : EIO, "conn %lu: write", n);
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int http_head(char *out, size_t cap, size_t body_len)
{
	return snprintf(out, cap,
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			body_len);
}

/* Whether a failed accept ends the server. ECONNABORTED is a connection
 * that died in the queue (retried; given up when it repeats, so as never
 * to spin); an SSA listener whose ssad stopped gives EINVAL, which ends
 * the server like every other error. */
static unsigned aborted_in_row;

static bool accept_failed(int lfd, int e, const char *what)
{
	if (e == EINTR)
		return false;
	if (e == ECONNABORTED && ++aborted_in_row < 100)
		return false;
	report(lfd, e, "%s", what);
	return true;
}

/* ---- blocking mode: one thread per connection ------------------------- */

struct job {
	int fd;
	unsigned long n;
	struct sockaddr_storage peer;
};

static void serve_blocking(struct job *j)
{
	int fd = j->fd;

	if (mode == MODE_ECHO) {
		static _Thread_local char buf[65536];
		ssize_t r;

		while ((r = read(fd, buf, sizeof buf)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				report(fd, errno, "conn %lu: read", j->n);
				break;
			}
			if (write_all(fd, buf, (size_t)r, j->n))
				break;
		}
	} else {
		char line[INFO_MAX], head[256];
		int len;

		if (mode == MODE_HTTP) {
			char req[16384];
			size_t have = 0;

			for (;;) {
				ssize_t r = read(fd, req + have, sizeof req - 1 - have);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					if (r < 0)
						report(fd, errno, "conn %lu: read request", j->n);
					else
						fprintf(stderr, "tls_server: conn %lu: EOF before the end of the request\n",
							j->n);
					goto out;
				}
				have += (size_t)r;
				req[have] = '\0';
				if (strstr(req, "\r\n\r\n"))
					break;
				if (have == sizeof req - 1) {
					fprintf(stderr, "tls_server: conn %lu: request too long\n", j->n);
					goto out;
				}
			}
		}
		len = info_line(fd, &j->peer, line, sizeof line);
		if (len < 0) {
			fprintf(stderr, "tls_server: conn %lu: info line too long\n", j->n);
			goto out;
		}
		log_info(j->n, line);
		if (mode == MODE_HTTP) {
			int hl = http_head(head, sizeof head, (size_t)len);

			if (write_all(fd, head, (size_t)hl, j->n))
				goto out;
		}
		write_all(fd, line, (size_t)len, j->n);
	}
out:
	if (close(fd) != 0)
		report(-1, errno, "conn %lu: close", j->n);
}

static void *conn_thread(void *arg)
{
	struct job *j = arg;

	serve_blocking(j);
	free(j);
	return NULL;
}

static int run_blocking(int lfd)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct job *j = calloc(1, sizeof *j);
		socklen_t sl = sizeof j->peer;
		pthread_t t;
		int e;

		if (!j)
			return 1;
		j->fd = accept(lfd, (struct sockaddr *)&j->peer, &sl);
		if (j->fd < 0) {
			e = errno;
			free(j);
			if (accept_failed(lfd, e, "accept"))
				return 1;
			continue;
		}
		aborted_in_row = 0;
		if (sl > sizeof j->peer || (j->peer.ss_family != AF_INET && j->peer.ss_family != AF_INET6))
			fprintf(stderr, "tls_server: accept: odd peer address (family %d, len %u)\n",
				j->peer.ss_family, (unsigned)sl);
		j->n = ++n_accepted;
		log_accept(j->n, &j->peer);
		if ((e = pthread_create(&t, &attr, conn_thread, j)) != 0) {
			report(-1, e, "pthread_create");
			close(j->fd);
			free(j);
		}
	}
}

/* ---- non-blocking mode: epoll, edge-triggered ------------------------- */

struct conn {
	int fd;
	unsigned long n;
	struct sockaddr_storage peer;
	char *out;        /* pending output */
	size_t out_len, out_off;
	bool close_after; /* close once out is written */
	char req[16384];  /* http: request so far */
	size_t req_len;
};

/* Live connections by number: epoll carries the number, never a pointer,
 * so an event for a connection already closed is seen, not a use after
 * free. (After close(), epoll must not report the descriptor again.) */
static struct conn **live;
static size_t live_cap;

static int live_put(unsigned long n, struct conn *c)
{
	if (n >= live_cap) {
		size_t cap = live_cap ? live_cap * 2 : 1024;
		struct conn **p;

		while (cap <= n)
			cap *= 2;
		p = realloc(live, cap * sizeof *p);
		if (!p)
			return -1;
		memset(p + live_cap, 0, (cap - live_cap) * sizeof *p);
		live = p;
		live_cap = cap;
	}
	live[n] = c;
	return 0;
}

static void conn_free(struct conn *c)
{
	live[c->n] = NULL;
	if (close(c->fd) != 0)
		report(-1, errno, "conn %lu: close", c->n);
	free(c->out);
	free(c);
}

static int set_output(struct conn *c, const char *head, size_t hl, const char *body, size_t bl)
{
	free(c->out);
	c->out = malloc(hl + bl);
	if (!c->out)
		return -1;
	memcpy(c->out, head, hl);
	memcpy(c->out + hl, body, bl);
	c->out_len = hl + bl;
	c->out_off = 0;
	return 0;
}

/* Prepare the info line (info mode, or http once the request is in). */
static int prepare_info(struct conn *c)
{
	char line[INFO_MAX], head[256];
	int len = info_line(c->fd, &c->peer, line, sizeof line), hl = 0;

	if (len < 0)
		return -1;
	log_info(c->n, line);
	if (mode == MODE_HTTP)
		hl = http_head(head, sizeof head, (size_t)len);
	c->close_after = true;
	return set_output(c, head, (size_t)hl, line, (size_t)len);
}

/* Make as much progress as possible; returns false when c is finished
 * (and freed). Edge-triggered: every call goes until EAGAIN. */
static bool conn_progress(struct conn *c)
{
	static char buf[65536];

	for (;;) {
		if (c->out_off < c->out_len) {
			ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return true; /* wait for EPOLLOUT */
			if (w <= 0) {
				report(c->fd, w < 0 ? errno : EIO, "conn %lu: write", c->n);
				conn_free(c);
				return false;
			}
			c->out_off += (size_t)w;
			continue;
		}
		if (c->close_after) {
			conn_free(c);
			return false;
		}
		/* Nothing pending: read. */
		ssize_t r = read(c->fd, mode == MODE_HTTP ? c->req + c->req_len : buf,
				 mode == MODE_HTTP ? sizeof c->req - 1 - c->req_len : sizeof buf);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return true; /* wait for EPOLLIN */
		if (r < 0) {
			report(c->fd, errno, "conn %lu: read", c->n);
			conn_free(c);
			return false;
		}
		if (r == 0) {
			if (mode == MODE_HTTP)
				fprintf(stderr, "tls_server: conn %lu: EOF before the end of the request\n",
					c->n);
			conn_free(c);
			return false;
		}
		if (mode == MODE_ECHO) {
			if (set_output(c, "", 0, buf, (size_t)r) != 0) {
				conn_free(c);
				return false;
			}
			continue;
		}
		if (mode == MODE_HTTP) {
			c->req_len += (size_t)r;
			c->req[c->req_len] = '\0';
			if (strstr(c->req, "\r\n\r\n")) {
				if (prepare_info(c) != 0) {
					conn_free(c);
					return false;
				}
			} else if (c->req_len == sizeof c->req - 1) {
				fprintf(stderr, "tls_server: conn %lu: request too long\n", c->n);
				conn_free(c);
				return false;
			}
			continue;
		}
		/* info mode: input is ignored */
	}
}

static int run_epoll(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0 }, evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
		report(-1, errno, "epoll");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			report(-1, errno, "epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			unsigned long cn = (unsigned long)evs[i].data.u64;
			struct conn *c;

			if (cn) {
				c = cn < live_cap ? live[cn] : NULL;
				if (c)
					conn_progress(c);
				else
					fprintf(stderr, "tls_server: epoll reported events 0x%x for conn %lu after it was closed\n",
						evs[i].events, cn);
				continue;
			}
			/* The listener: accept until EAGAIN (edge-triggered). */
			for (;;) {
				struct sockaddr_storage ss;
				socklen_t sl = sizeof ss;
				int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				int fl;

				if (fd < 0) {
					if (errno == EAGAIN || errno == EWOULDBLOCK)
						break;
					if (accept_failed(lfd, errno, "accept4"))
						return 1;
					continue;
				}
				aborted_in_row = 0;
				fl = fcntl(fd, F_GETFL);
				if (fl < 0 || !(fl & O_NONBLOCK))
					fprintf(stderr, "tls_server: accept4(SOCK_NONBLOCK) gave a blocking fd\n");
				fl = fcntl(fd, F_GETFD);
				if (fl < 0 || !(fl & FD_CLOEXEC))
					fprintf(stderr, "tls_server: accept4(SOCK_CLOEXEC) gave an fd without FD_CLOEXEC\n");
				c = calloc(1, sizeof *c);
				if (!c) {
					close(fd);
					continue;
				}
				c->fd = fd;
				c->peer = ss;
				c->n = ++n_accepted;
				log_accept(c->n, &ss);
				if (live_put(c->n, c) != 0) {
					close(fd);
					free(c);
					continue;
				}
				if (mode == MODE_INFO && prepare_info(c) != 0) {
					conn_free(c);
					continue;
				}
				ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
				ev.data.u64 = c->n;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
					report(fd, errno, "epoll_ctl(ADD conn %lu)", c->n);
					conn_free(c);
					continue;
				}
				conn_progress(c);
			}
		}
	}
}

/* ---- setup ------------------------------------------------------------ */

static int set_str(int fd, int name, const char *what, const char *val)
{
	if (setsockopt(fd, IPPROTO_TLS, name, val, (socklen_t)strlen(val) + 1) != 0) {
		report(fd, errno, "setsockopt(%s, \"%s\")", what, val);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tls_server -c CHAIN -k KEY [-c CHAIN -k KEY ...] [-a ALPN] "
			"[-A 0|1|2] [-C CLIENT_CA] [-6 | -b ADDR] [-n] [-q] -p PORT echo|info|http\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *chains[MAX_IDS], *keys[MAX_IDS], *alpn = NULL, *client_ca = NULL;
	const char *bind_addr = "127.0.0.1", *port_s = NULL;
	int n_chains = 0, n_keys = 0, peer_auth = -1, nonblock = 0, o, lfd;
	struct sockaddr_storage ss = { 0 }, after;
	socklen_t sl, al;
	char a1[80], a2[80];

	while ((o = getopt(argc, argv, "c:k:a:A:C:6b:np:q")) != -1) {
		switch (o) {
		case 'c':
			if (n_chains == MAX_IDS || n_chains != n_keys)
				usage();
			chains[n_chains++] = optarg;
			break;
		case 'k':
			if (n_keys + 1 != n_chains)
				usage();
			keys[n_keys++] = optarg;
			break;
		case 'a': alpn = optarg; break;
		case 'A': peer_auth = atoi(optarg); break;
		case 'C': client_ca = optarg; break;
		case '6': bind_addr = "::"; break;
		case 'b': bind_addr = optarg; break;
		case 'n': nonblock = 1; break;
		case 'p': port_s = optarg; break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || !port_s || n_chains == 0 || n_chains != n_keys)
		usage();
	if (strcmp(argv[optind], "echo") == 0)
		mode = MODE_ECHO;
	else if (strcmp(argv[optind], "info") == 0)
		mode = MODE_INFO;
	else if (strcmp(argv[optind], "http") == 0)
		mode = MODE_HTTP;
	else
		usage();
	signal(SIGPIPE, SIG_IGN);

	if (inet_pton(AF_INET, bind_addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(port_s));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, bind_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(port_s));
		sl = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "tls_server: bad address %s\n", bind_addr);
		return 2;
	}

	lfd = socket(ss.ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC,
		     IPPROTO_TLS);
	if (lfd < 0) {
		report(-1, errno, "socket(IPPROTO_TLS)");
		return 1;
	}
	for (int i = 0; i < n_chains; i++)
		if (set_str(lfd, TLS_CERTIFICATE_CHAIN, "TLS_CERTIFICATE_CHAIN", chains[i]) ||
		    set_str(lfd, TLS_PRIVATE_KEY, "TLS_PRIVATE_KEY", keys[i]))
			return 1;
	if (alpn && set_str(lfd, TLS_ALPN, "TLS_ALPN", alpn))
		return 1;
	if (peer_auth >= 0 &&
	    setsockopt(lfd, IPPROTO_TLS, TLS_REQUEST_PEER_AUTH, &peer_auth, sizeof peer_auth) != 0) {
		report(lfd, errno, "setsockopt(TLS_REQUEST_PEER_AUTH, %d)", peer_auth);
		return 1;
	}
	if (client_ca && set_str(lfd, TLS_TRUSTED_PEER_CERTIFICATES,
				 "TLS_TRUSTED_PEER_CERTIFICATES", client_ca))
		return 1;
	if (bind(lfd, (struct sockaddr *)&ss, sl) != 0) {
		report(lfd, errno, "bind(%s)", bind_addr);
		return 1;
	}
	sl = sizeof ss;
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) != 0) {
		report(lfd, errno, "getsockname after bind");
		return 1;
	}
	if (listen(lfd, 1024) != 0) {
		report(lfd, errno, "listen");
		return 1;
	}
	al = sizeof after;
	if (getsockname(lfd, (struct sockaddr *)&after, &al) != 0) {
		report(lfd, errno, "getsockname after listen");
		return 1;
	}
	addr_str(&ss, a1, sizeof a1);
	addr_str(&after, a2, sizeof a2);
	if (strcmp(a1, a2) != 0)
		fprintf(stderr, "tls_server: getsockname after bind gives %s, after listen %s\n", a1,
			a2);
	{
		int acc = 0;
		socklen_t il = sizeof acc;

		if (getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &il) != 0 || acc != 1)
			fprintf(stderr, "tls_server: SO_ACCEPTCONN on the listener: %d\n", acc);
	}
	printf("READY %s\n", strrchr(a1, ' ') + 1);
	fflush(stdout);
	return nonblock ? run_epoll(lfd) : run_blocking(lfd);
}
