/* SPDX-License-Identifier: MIT */
/*
 * policy_probe: try socket options against the administrator's policy,
 * then connect (client) or listen and serve (server), and report.
 * Used by tests/t/70-policy.t; copies of the binary at different paths
 * get different [app] profiles (match-exe).
 *
 *   policy_probe [-n HOSTNAME] [-o NAME=VALUE]... [-g NAME]...
 *                [-e TEXT] [-w SECONDS] ADDRESS PORT        client
 *   policy_probe -l [-o NAME=VALUE]... [-g NAME]... [-m N]
 *                ADDRESS PORT                               server
 *
 * -D  first make the process non-dumpable (prctl(PR_SET_DUMPABLE, 0)):
 *     ssad without CAP_SYS_PTRACE cannot read its /proc/PID/exe.
 * -o  setsockopt(IPPROTO_TLS, NAME) in the order given; prints
 *       SET NAME=VALUE OK
 *       SET NAME=VALUE ERR ENAME reason=TLS_ERROR
 *     and goes on (a refused option does not stop the run).
 * -g  getsockopt(IPPROTO_TLS, NAME) after the -o options, before
 *     connect/listen; prints "GET NAME=VALUE" or "GET NAME ERR ENAME".
 * NAME (value type):
 *   vmin vmax (int, 0x0303...)  peerauth (int)  reuse (int)  ttl (long)
 *   rev ocsp_stapled ocsp crl cached_rev (int, options 102..106)
 *   disable enable (cipher name)  trusted chain key (path)  alpn (list)
 *   ciphers (get only: TLS_TRUSTED_CIPHERS)
 *
 * Client: connect; prints the tls_probe line
 *       OK version=0x0304 cipher=NAME
 *       ERR ENAME reason=TLS_ERROR
 *   -e TEXT  then write TEXT and a newline and read one reply (up to 4 KiB;
 *            prints "READ n"), -w SECONDS then keeps the connection open.
 *   Exit: 0 connected, 1 connect failed, 2 usage.
 * Server (-l): bind ADDRESS PORT (0: ephemeral), listen; prints
 *       READY PORT            or   LISTEN ERR ENAME reason=TLS_ERROR (exit 1)
 *   then for each accepted connection writes one line
 *       version=0x0304 cipher=NAME sni=NAME identity=ID
 *   (also printed on stdout, prefixed "ACCEPT "), and closes it.
 *   -m N: exit 0 after N accepted connections (default: run until killed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#define MAX_OPS 32

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

enum kind { K_INT, K_LONG, K_STR, K_PATH };

static const struct opt {
	const char *name;
	int num;
	enum kind kind;
} opts[] = {
	{ "vmin", TLS_VERSION_MIN, K_INT },
	{ "vmax", TLS_VERSION_MAX, K_INT },
	{ "peerauth", TLS_REQUEST_PEER_AUTH, K_INT },
	{ "reuse", TLS_SESSION_REUSE, K_INT },
	{ "ttl", TLS_SESSION_TTL, K_LONG },
	{ "rev", TLS_REVOCATION_CHECKS, K_INT },
	{ "ocsp_stapled", TLS_OCSP_STAPLED_CHECKS, K_INT },
	{ "ocsp", TLS_OCSP_CHECKS, K_INT },
	{ "crl", TLS_CRL_CHECKS, K_INT },
	{ "cached_rev", TLS_CACHED_REV_CHECKS, K_INT },
	{ "disable", TLS_DISABLE_CIPHER, K_STR },
	{ "enable", TLS_ENABLE_CIPHER, K_STR },
	{ "trusted", TLS_TRUSTED_PEER_CERTIFICATES, K_PATH },
	{ "chain", TLS_CERTIFICATE_CHAIN, K_PATH },
	{ "key", TLS_PRIVATE_KEY, K_PATH },
	{ "alpn", TLS_ALPN, K_STR },
	{ "ciphers", TLS_TRUSTED_CIPHERS, K_STR },
};

static const struct opt *find(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0)
			return &opts[i];
	return NULL;
}

static void tls_error(int fd, char *why, size_t cap)
{
	socklen_t len = (socklen_t)cap;

	why[0] = '\0';
	if (getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &len) != 0)
		snprintf(why, cap, "(TLS_ERROR unavailable: %s)", errname(errno));
}

static void do_set(int fd, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const struct opt *o = eq ? find(arg, (size_t)(eq - arg)) : NULL;
	const char *val;
	int rc, iv;
	long lv;

	if (!o) {
		fprintf(stderr, "policy_probe: bad -o %s\n", arg);
		exit(2);
	}
	val = eq + 1;
	if (o->kind == K_INT) {
		iv = (int)strtol(val, NULL, 0);
		rc = setsockopt(fd, IPPROTO_TLS, o->num, &iv, sizeof iv);
	} else if (o->kind == K_LONG) {
		lv = strtol(val, NULL, 0);
		rc = setsockopt(fd, IPPROTO_TLS, o->num, &lv, sizeof lv);
	} else {
		rc = setsockopt(fd, IPPROTO_TLS, o->num, val, (socklen_t)strlen(val) + 1);
	}
	if (rc == 0) {
		printf("SET %s OK\n", arg);
	} else {
		int e = errno;
		char why[512];

		tls_error(fd, why, sizeof why);
		printf("SET %s ERR %s reason=%s\n", arg, errname(e), why);
	}
}

static void do_get(int fd, const char *name)
{
	const struct opt *o = find(name, strlen(name));
	static char buf[16384];
	socklen_t len = sizeof buf;

	if (!o) {
		fprintf(stderr, "policy_probe: bad -g %s\n", name);
		exit(2);
	}
	if (getsockopt(fd, IPPROTO_TLS, o->num, buf, &len) != 0) {
		printf("GET %s ERR %s\n", name, errname(errno));
		return;
	}
	if (o->kind == K_INT && len == sizeof(int))
		printf("GET %s=0x%04x\n", name, *(int *)buf);
	else if (o->kind == K_LONG && len == sizeof(long))
		printf("GET %s=%ld\n", name, *(long *)buf);
	else
		printf("GET %s=%.*s\n", name, (int)len, buf);
}

static void get_str(int fd, int name, char *buf, size_t cap)
{
	socklen_t len = (socklen_t)cap;

	if (getsockopt(fd, IPPROTO_TLS, name, buf, &len) != 0)
		snprintf(buf, cap, "ERR:%s", errname(errno));
	else if (!buf[0])
		snprintf(buf, cap, "-");
}

/* "version=... cipher=... sni=... identity=..." for a connected socket. */
static void describe(int fd, char *out, size_t cap)
{
	int ver = 0;
	socklen_t vl = sizeof ver;
	char cipher[128], sni[300], id[2048];

	getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &vl);
	get_str(fd, TLS_CHOSEN_CIPHER, cipher, sizeof cipher);
	get_str(fd, TLS_HOSTNAME, sni, sizeof sni);
	get_str(fd, TLS_PEER_IDENTITY, id, sizeof id);
	for (char *p = id; *p; p++)
		if (*p == '\n' || *p == ' ')
			*p = ',';
	snprintf(out, cap, "version=0x%04x cipher=%s sni=%s identity=%s", ver, cipher, sni, id);
}

static void usage(void)
{
	fprintf(stderr, "usage: policy_probe [-D] [-l] [-n HOST] [-o NAME=VALUE]... [-g NAME]... "
			"[-e TEXT] [-w SECONDS] [-m N] ADDRESS PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sets[MAX_OPS], *gets[MAX_OPS], *host = NULL, *text = NULL;
	int n_sets = 0, n_gets = 0, server = 0, wait_s = 0, max_conns = 0, o, fd, rc;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;

	while ((o = getopt(argc, argv, "Dln:o:g:e:w:m:")) != -1) {
		switch (o) {
		case 'D':
			if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
				perror("policy_probe: prctl(PR_SET_DUMPABLE)");
				return 2;
			}
			break;
		case 'l': server = 1; break;
		case 'n': host = optarg; break;
		case 'o':
			if (n_sets == MAX_OPS)
				usage();
			sets[n_sets++] = optarg;
			break;
		case 'g':
			if (n_gets == MAX_OPS)
				usage();
			gets[n_gets++] = optarg;
			break;
		case 'e': text = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		case 'm': max_conns = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (server)
		hints.ai_flags |= AI_PASSIVE;
	if ((rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) != 0) {
		fprintf(stderr, "policy_probe: %s\n", gai_strerror(rc));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0) {
		printf("ERR %s reason=socket\n", errname(errno));
		return 2;
	}
	if (host && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, strlen(host) + 1)) {
		printf("ERR %s reason=TLS_REMOTE_HOSTNAME\n", errname(errno));
		return 2;
	}
	for (int i = 0; i < n_sets; i++)
		do_set(fd, sets[i]);
	for (int i = 0; i < n_gets; i++)
		do_get(fd, gets[i]);

	if (!server) {
		char line[4096];

		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			int e = errno;
			char why[512];

			tls_error(fd, why, sizeof why);
			printf("ERR %s reason=%s\n", errname(e), why);
			return 1;
		}
		{
			int ver = 0;
			socklen_t vl = sizeof ver;
			char cipher[128];

			getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &vl);
			get_str(fd, TLS_CHOSEN_CIPHER, cipher, sizeof cipher);
			printf("OK version=0x%04x cipher=%s\n", ver, cipher);
		}
		if (text) {
			ssize_t n;

			dprintf(fd, "%s\n", text);
			n = read(fd, line, sizeof line);
			printf("READ %zd\n", n);
		}
		if (wait_s > 0)
			sleep((unsigned)wait_s);
		close(fd);
		freeaddrinfo(ai);
		return 0;
	}

	{
		int one = 1;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		char port[NI_MAXSERV] = "?";

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
			int e = errno;
			char why[512];

			tls_error(fd, why, sizeof why);
			printf("LISTEN ERR %s reason=%s\n", errname(e), why);
			return 1;
		}
		freeaddrinfo(ai);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof port,
				    NI_NUMERICSERV);
		printf("READY %s\n", port);
	}
	for (int n = 0; max_conns == 0 || n < max_conns;) {
		char info[4096];
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			printf("ACCEPT ERR %s\n", errname(errno));
			return 1;
		}
		describe(c, info, sizeof info);
		printf("ACCEPT %s\n", info);
		dprintf(c, "%s\n", info);
		close(c);
		n++;
	}
	close(fd);
	return 0;
}
