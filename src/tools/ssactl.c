/* SPDX-License-Identifier: MIT */
/* ssactl: ask the SSA daemon about its state. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/wire.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: ssactl [--socket PATH] [--json] status\n"
		   "Show the state of the SSA daemon (control socket from --socket,\n"
		   "SSA_SOCKET, or " SSA_DEFAULT_SOCKET ").\n");
}

/* Print the flat JSON object as "key: value" lines. */
static void print_human(const char *json)
{
	const char *p = json;

	while ((p = strchr(p, '"'))) {
		const char *k = p + 1, *ke = strchr(k, '"'), *v, *ve;

		if (!ke || ke[1] != ':')
			break;
		v = ke + 2;
		ve = v + strcspn(v, ",}");
		if (*v == '"')
			printf("%-18.*s %.*s\n", (int)(ke - k), k, (int)(ve - v - 2), v + 1);
		else
			printf("%-18.*s %.*s\n", (int)(ke - k), k, (int)(ve - v), v);
		p = ve;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("SSA_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static uint8_t buf[SSA_WIRE_MAX_REPLY];
	struct ssa_wire_hdr h;
	int json = 0, o, fd, rc, rfd;

	while ((o = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		if (o == 's')
			path = optarg;
		else if (o == 'j')
			json = 1;
		else if (o == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || strcmp(argv[optind], "status") != 0) {
		usage(stderr);
		return 2;
	}
	if (!path || !*path)
		path = SSA_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "ssactl: socket path too long\n");
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		fprintf(stderr, "ssactl: cannot reach ssad at %s: %s\n", path, strerror(errno));
		return 1;
	}
	rc = ssa_wire_send(fd, SSA_MSG_STATUS, 0, NULL, 0, -1);
	if (!rc)
		rc = ssa_wire_recv(fd, &h, buf, sizeof buf, &rfd);
	if (rc || h.status || h.len == 0 || buf[h.len - 1] != '\0') {
		fprintf(stderr, "ssactl: status request failed: %s\n",
			strerror(rc ? rc : h.status ? h.status : EPROTO));
		return 1;
	}
	if (json)
		printf("%s\n", (char *)buf);
	else
		print_human((char *)buf);
	close(fd);
	return 0;
}
