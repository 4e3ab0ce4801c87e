/* SPDX-License-Identifier: MIT */
/*
 * borrow: the "borrowed identity" attack on ssad's control socket
 * (tests/t/92-identity-attacks.t).
 *
 *   borrow [-s] SOCKET DELAY PROGRAM [ARGS...]
 *
 * Connects to ssad's control socket, forks; the parent execs PROGRAM (e.g.
 * a setuid program with a profile of its own) with the connection still
 * open, the child waits DELAY seconds and then asks on that connection for
 * a TLS socket and its TLS_VERSION_MIN, which shows the profile it got:
 *   vmin=0x0303          or   ERR ENAME
 * -s: the parent sends the request for the TLS socket itself just before
 * its exec; the child reads the reply after DELAY seconds.
 * Exit (child): 0 answered, 1 refused or failed, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#include "../../src/proto/wire_codec.c"
#include "../../src/proto/wire_io.c"
#include "../../src/proto/wire_io_libc.c"

static int call(int ctl, uint16_t type, const void *req, size_t len, int fd, void *out,
		size_t cap, int *outfd, uint32_t *outlen)
{
	struct ssa_wire_hdr h;
	int rc = ssa_wire_send(ctl, type, 0, req, len, fd);

	if (rc)
		return rc;
	rc = ssa_wire_recv(ctl, &h, out, cap, outfd);
	if (rc)
		return rc;
	*outlen = h.len;
	return h.status;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static uint8_t buf[SSA_WIRE_MAX_REPLY];
	uint8_t req[64];
	struct ssa_wbuf w;
	uint32_t n;
	int ctl, app = -1, rc, v;
	pid_t pid;

	bool send_first = argc > 1 && strcmp(argv[1], "-s") == 0;
	struct ssa_wire_hdr h;

	if (send_first) {
		argv++;
		argc--;
	}
	if (argc < 4 || strlen(argv[1]) >= sizeof sun.sun_path)
		return 2;
	strcpy(sun.sun_path, argv[1]);
	ctl = socket(AF_UNIX, SOCK_SEQPACKET, 0); /* no CLOEXEC: survives the exec */
	if (ctl < 0 || connect(ctl, (struct sockaddr *)&sun, sizeof sun) != 0) {
		printf("ERR %s\n", strerrorname_np(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	ssa_wbuf_init(&w, req, sizeof req);
	ssa_put_i32(&w, AF_INET);
	ssa_put_i32(&w, SOCK_STREAM);
	if (pid > 0) {
		if (send_first)
			ssa_wire_send(ctl, SSA_MSG_SOCKET, 0, req, w.len, -1);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	usleep((useconds_t)(atof(argv[2]) * 1e6));
	if (send_first) {
		rc = ssa_wire_recv(ctl, &h, buf, sizeof buf, &app);
		if (!rc)
			rc = h.status;
	} else {
		rc = call(ctl, SSA_MSG_SOCKET, req, w.len, -1, buf, sizeof buf, &app, &n);
	}
	if (rc || app < 0) {
		printf("ERR %s\n", strerrorname_np(rc ? rc : EBADF));
		return 1;
	}
	ssa_wbuf_init(&w, req, sizeof req);
	ssa_put_i32(&w, IPPROTO_TLS);
	ssa_put_i32(&w, TLS_VERSION_MIN);
	ssa_put_u32(&w, sizeof v);
	rc = call(ctl, SSA_MSG_GETOPT, req, w.len, app, buf, sizeof buf, &(int){ -1 }, &n);
	if (rc || n != sizeof v) {
		printf("ERR %s\n", strerrorname_np(rc ? rc : EINVAL));
		return 1;
	}
	memcpy(&v, buf, sizeof v);
	printf("vmin=0x%04x\n", (unsigned)v);
	return 0;
}
