/* SPDX-License-Identifier: MIT */
/*
 * suid_probe: a program linked with libssa (not preloaded: the dynamic
 * loader ignores LD_PRELOAD in setuid programs), installed setuid root by
 * tests/t/92-identity-attacks.t. It makes one TLS socket and gives it a
 * private key only root may read:
 *   socket OK | socket ERR ENAME
 *   key OK    | key ERR ENAME
 * A setuid program must not obey SSA_SOCKET: with it, whoever runs the
 * program would choose who receives the key's descriptor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0) {
		printf("socket ERR %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("socket OK\n");
	if (setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, argv[1], (socklen_t)strlen(argv[1]) + 1))
		printf("key ERR %s\n", strerrorname_np(errno));
	else
		printf("key OK\n");
	close(fd);
	return 0;
}
