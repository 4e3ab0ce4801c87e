/* SPDX-License-Identifier: MIT */
/* The check of a TCP socket an application sends with SOCKET
 * (src/ssad/libssa_front/caller_tcp.c): only a fresh TCP socket of the
 * domain asked for, owned by the sender, is taken. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/ssad/libssa_front/caller_tcp.h"

static int check(int fd, int domain, uid_t uid, bool *other)
{
	int rc;

	assert_true(fd >= 0);
	rc = ssa_caller_tcp_check(fd, domain, uid, other);
	close(fd);
	return rc;
}

static int tcp(int domain)
{
	return socket(domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
}

static void fresh_tcp_taken(void **state)
{
	bool other = true;

	(void)state;
	assert_int_equal(check(tcp(AF_INET), AF_INET, geteuid(), &other), 0);
	assert_false(other); /* made here: ssad's own namespace */
	int fd6 = tcp(AF_INET6);

	if (fd6 >= 0) /* a kernel without IPv6 has none to check */
		assert_int_equal(check(fd6, AF_INET6, geteuid(), &other), 0);
}

static void other_kinds_refused(void **state)
{
	bool other;
	int fd6 = tcp(AF_INET6);

	(void)state;
	assert_int_equal(check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), AF_INET, geteuid(),
			       &other),
			 EINVAL);
	assert_int_equal(check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), AF_INET, geteuid(),
			       &other),
			 EINVAL);
	assert_int_equal(check(tcp(AF_INET), AF_INET6, geteuid(), &other), EINVAL);
	if (fd6 >= 0)
		assert_int_equal(check(fd6, AF_INET, geteuid(), &other), EINVAL);
	int pp[2];

	assert_int_equal(pipe(pp), 0);
	close(pp[1]);
	assert_int_equal(check(pp[0], AF_INET, geteuid(), &other), EINVAL);
}

static void used_sockets_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	bool other;
	int l = tcp(AF_INET), fd = tcp(AF_INET);

	(void)state;
	/* bound */
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(check(fd, AF_INET, geteuid(), &other), EINVAL);
	/* listening */
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(ssa_caller_tcp_check(l, AF_INET, geteuid(), &other), EINVAL);
	/* connected */
	fd = tcp(AF_INET);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(check(fd, AF_INET, geteuid(), &other), EINVAL);
	close(l);
}

static void other_owner_refused(void **state)
{
	bool other;
	int fd = tcp(AF_INET);

	(void)state;
	/* Another user's socket: as its owner names it, not as we are. */
	assert_int_equal(check(fd, AF_INET, geteuid() + 1, &other), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_tcp_taken),
		cmocka_unit_test(other_kinds_refused),
		cmocka_unit_test(used_sockets_refused),
		cmocka_unit_test(other_owner_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
