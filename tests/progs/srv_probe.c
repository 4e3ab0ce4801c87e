/* SPDX-License-Identifier: MIT */
/*
 * srv_probe: drive an SSA server socket step by step and report each step.
 *
 *   srv_probe OP...
 *
 * Operations, run in order on one "current" TLS socket; each prints one line
 * "NAME OK" or "NAME ERR ERRNO_NAME reason=TLS_ERROR" and the next one runs
 * whatever happened:
 *
 *   sock4 | sock6          a new TLS socket (AF_INET / AF_INET6)
 *   chain PATH             setsockopt TLS_CERTIFICATE_CHAIN
 *   key PATH               setsockopt TLS_PRIVATE_KEY
 *   bind ADDR PORT         bind (ADDR: IPv4 or IPv6 literal)
 *   connect ADDR PORT      connect, blocking (ADDR as for bind)
 *   listen                 listen(fd, 128)
 *   port                   print "port N" (getsockname)
 *   marker PATH            read PATH into a heap buffer kept until exit (a
 *                          known string in this process's memory)
 *   serve                  accept and echo until standard input ends;
 *                          prints "serving pid PID" first. Commands on
 *                          standard input, one per line: "count" prints
 *                          "count N" (connections accepted so far), "close"
 *                          closes the listening socket and prints
 *                          "closed OK", "quit" ends.
 *   close                  close the current socket
 *
 * Standard output is line-buffered. Exit status 0 unless usage is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#define MAX_CLIENTS 1024

static int fd = -1;

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ECONNABORTED: return "ECONNABORTED";
	case EISDIR: return "EISDIR";
	case EBADF: return "EBADF";
	default: return strerror(e);
	}
}

/* Print the result of step NAME: rc 0 is OK, else errno and TLS_ERROR. */
static void report(const char *name, int rc)
{
	char reason[512] = "";
	socklen_t len = sizeof reason;
	int e = errno;

	if (rc == 0) {
		printf("%s OK\n", name);
		return;
	}
	if (fd >= 0 && getsockopt(fd, IPPROTO_TLS, TLS_ERROR, reason, &len) != 0)
		snprintf(reason, sizeof reason, "(TLS_ERROR unreadable: %s)", errname(errno));
	printf("%s ERR %s reason=%s\n", name, errname(e), reason);
}

/* bind (connect: 0) or connect (1) the current socket to ADDR PORT */
static int do_address(const char *host, const char *port, int connect_it)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned short p = (unsigned short)atoi(port);
	socklen_t len;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		len = sizeof *s4;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		len = sizeof *s6;
	} else {
		errno = EINVAL;
		return -1;
	}
	return connect_it ? connect(fd, (struct sockaddr *)&ss, len) :
			    bind(fd, (struct sockaddr *)&ss, len);
}

static char *marker;

static int do_marker(const char *path)
{
	struct stat st;
	int f = open(path, O_RDONLY);
	ssize_t n;

	if (f < 0)
		return -1;
	if (fstat(f, &st) != 0 || !(marker = malloc((size_t)st.st_size + 1))) {
		close(f);
		return -1;
	}
	n = read(f, marker, (size_t)st.st_size);
	close(f);
	if (n < 0)
		return -1;
	marker[n] = '\0';
	return 0;
}

/* Accept and echo; standard input drives the rest. */
static void serve(void)
{
	struct pollfd p[MAX_CLIENTS + 2];
	int n = 2, accepted = 0, lfd = fd;
	char line[256], buf[16384];
	size_t ll = 0;

	printf("serving pid %d\n", (int)getpid());
	p[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return;
		}
		if (p[0].revents) {
			ssize_t r = read(STDIN_FILENO, line + ll, sizeof line - 1 - ll);

			if (r <= 0)
				return;
			ll += (size_t)r;
			line[ll] = '\0';
			for (char *nl; (nl = strchr(line, '\n'));) {
				*nl = '\0';
				if (!strcmp(line, "count")) {
					printf("count %d\n", accepted);
				} else if (!strcmp(line, "close")) {
					report("closed", lfd >= 0 ? close(lfd) : 0);
					lfd = fd = -1;
					p[1].fd = -1;
				} else if (!strcmp(line, "quit")) {
					return;
				}
				ll -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, ll + 1);
			}
			if (ll == sizeof line - 1)
				ll = 0;
		}
		if (p[1].fd >= 0 && p[1].revents) {
			int c = accept(lfd, NULL, NULL);

			if (c < 0) {
				printf("accept ERR %s\n", errname(errno));
				if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
					p[1].fd = -1;
			} else if (n == MAX_CLIENTS + 2) {
				close(c);
			} else {
				accepted++;
				p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
			}
		}
		for (int i = 2; i < n; i++) {
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof buf);
			if (r > 0 && write(p[i].fd, buf, (size_t)r) == r)
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		const char *op = argv[i];
		int need = !strcmp(op, "bind") || !strcmp(op, "connect") ? 2 :
			   (!strcmp(op, "chain") || !strcmp(op, "key") || !strcmp(op, "marker"));

		if (i + need >= argc) {
			fprintf(stderr, "srv_probe: %s needs %d argument(s)\n", op, need);
			return 2;
		}
		if (!strcmp(op, "sock4") || !strcmp(op, "sock6")) {
			fd = socket(op[4] == '4' ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TLS);
			report(op, fd < 0 ? -1 : 0);
		} else if (!strcmp(op, "chain") || !strcmp(op, "key")) {
			const char *v = argv[++i];

			report(op, setsockopt(fd, IPPROTO_TLS,
					      op[0] == 'c' ? TLS_CERTIFICATE_CHAIN : TLS_PRIVATE_KEY, v,
					      (socklen_t)strlen(v) + 1));
		} else if (!strcmp(op, "bind") || !strcmp(op, "connect")) {
			report(op, do_address(argv[i + 1], argv[i + 2], op[0] == 'c'));
			i += 2;
		} else if (!strcmp(op, "listen")) {
			report(op, listen(fd, 128));
		} else if (!strcmp(op, "port")) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;

			if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
				report(op, -1);
			else
				printf("port %u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
		} else if (!strcmp(op, "marker")) {
			report(op, do_marker(argv[++i]));
		} else if (!strcmp(op, "serve")) {
			serve();
		} else if (!strcmp(op, "close")) {
			report(op, close(fd));
			fd = -1;
		} else {
			fprintf(stderr, "srv_probe: unknown operation '%s'\n", op);
			return 2;
		}
	}
	return 0;
}
