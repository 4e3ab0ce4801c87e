/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the check of the worker's privileged requests
 * (src/ssad/supervisor/priv_msg.c), which ssad's supervisor runs on what
 * its worker sends: LINKS_SOCKET (a caller's links and its TCP socket in
 * one request, issue 15) is accepted with a pid above 0, want_netns 1, an
 * AF_INET or AF_INET6 domain and no descriptor, and refused (EINVAL)
 * otherwise; LINKS and SOCKET keep their own rules (LINKS_SOCKET's fields
 * do not make a LINKS or a SOCKET pass); a request of any other size, an
 * unknown op (one above the last) and the id -1 are refused. KERNEL_KEY
 * (a key file ssa.ko holds, taken by the supervisor) needs a request
 * number, an option index below SSA_OPTS_MAX and no descriptor; its answer
 * is the fixed part (the ticket and uid are in it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../src/ssad/supervisor/priv_msg.h"

static struct ssa_priv_req req(uint32_t op, int32_t pid, uint32_t want_netns, int32_t domain)
{
	struct ssa_priv_req r;

	memset(&r, 0, sizeof r);
	r.op = op;
	r.pid = pid;
	r.uid = r.gid = 1000;
	r.want_netns = want_netns;
	r.domain = domain;
	return r;
}

static int check(const struct ssa_priv_req *r, size_t nfds)
{
	struct ssa_priv_req out;

	return ssa_priv_req_check(r, ssa_priv_req_len(r), nfds, &out);
}

static void kernel_key(void **state)
{
	struct ssa_priv_req r = req(SSA_PRIV_KERNEL_KEY, 0, 0, 0), out;
	struct ssa_priv_rep rp;

	(void)state;
	r.kid = 0x1122334455667788ull;
	r.kseq = 7;
	r.kindex = 31;
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r), 0, &out), 0);
	assert_true(out.kid == 0x1122334455667788ull);
	assert_int_equal(out.kseq, 7);
	assert_int_equal(out.kindex, 31);
	assert_int_equal(check(&r, 1), EINVAL);  /* no descriptor */
	r.kindex = 32;                           /* SSA_OPTS_MAX */
	assert_int_equal(check(&r, 0), EINVAL);
	r.kindex = 0;
	r.kseq = 0;                              /* no request number */
	assert_int_equal(check(&r, 0), EINVAL);
	memset(&rp, 0, sizeof rp);
	assert_int_equal(ssa_priv_rep_len(SSA_PRIV_KERNEL_KEY, &rp),
			 offsetof(struct ssa_priv_rep, links));
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_KERNEL_KEY, &rp,
					    offsetof(struct ssa_priv_rep, links)), 0);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_KERNEL_KEY, &rp,
					    offsetof(struct ssa_priv_rep, links) - 1), EINVAL);
}

static void links_socket(void **state)
{
	struct ssa_priv_req r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_INET), out;

	(void)state;
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r), 0, &out), 0);
	assert_int_equal(out.op, SSA_PRIV_LINKS_SOCKET);
	assert_int_equal(out.pid, 1234);
	assert_int_equal(out.domain, AF_INET);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_INET6);
	assert_int_equal(check(&r, 0), 0);
	/* refused: a descriptor, no pid, want_netns not 1, another domain */
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_INET);
	assert_int_equal(check(&r, 1), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 0, 1, AF_INET);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, -5, 1, AF_INET);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 0, AF_INET);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 2, AF_INET);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_UNIX);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, 0);
	assert_int_equal(check(&r, 0), EINVAL);
	r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_INET);
	r.uid = UINT32_MAX;
	assert_int_equal(check(&r, 0), EINVAL);
}

static void links_and_socket_unchanged(void **state)
{
	struct ssa_priv_req r;

	(void)state;
	r = req(SSA_PRIV_LINKS, 1234, 0, 0);
	assert_int_equal(check(&r, 0), 0);
	r = req(SSA_PRIV_LINKS, 1234, 1, 0);
	assert_int_equal(check(&r, 0), 0);
	r = req(SSA_PRIV_LINKS, 1234, 1, 0);
	assert_int_equal(check(&r, 1), EINVAL);
	r = req(SSA_PRIV_SOCKET, 0, 0, AF_INET);
	assert_int_equal(check(&r, 0), 0);
	assert_int_equal(check(&r, 1), 0);
	assert_int_equal(check(&r, 2), EINVAL);
	r = req(SSA_PRIV_SOCKET, 0, 0, AF_UNIX);
	assert_int_equal(check(&r, 0), EINVAL);
}

static void size_and_op(void **state)
{
	struct ssa_priv_req r = req(SSA_PRIV_LINKS_SOCKET, 1234, 1, AF_INET), out;

	(void)state;
	/* exactly the fixed part: no byte less, no path bytes after it */
	assert_int_equal(ssa_priv_req_len(&r), offsetof(struct ssa_priv_req, path));
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r) - 1, 0, &out), EINVAL);
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r) + 1, 0, &out), EINVAL);
	assert_int_equal(ssa_priv_req_check(&r, sizeof r, 0, &out), EINVAL);
	r.op = SSA_PRIV_OP_MAX + 1;
	assert_int_equal(check(&r, 0), EINVAL);
	r.op = 0;
	assert_int_equal(check(&r, 0), EINVAL);
}

/* A path travels up to its NUL, which must be the datagram's last byte. */
static void path_sizes(void **state)
{
	struct ssa_priv_req r = req(SSA_PRIV_OPEN, 0, 0, 0), out;
	size_t fixed = offsetof(struct ssa_priv_req, path);

	(void)state;
	strcpy(r.path, "/etc/ssa/key.pem");
	assert_int_equal(ssa_priv_req_len(&r), fixed + sizeof "/etc/ssa/key.pem");
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r), 0, &out), 0);
	assert_string_equal(out.path, "/etc/ssa/key.pem");
	/* cut before the NUL, one byte more, the whole record, none of it */
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r) - 1, 0, &out), EINVAL);
	assert_int_equal(ssa_priv_req_check(&r, ssa_priv_req_len(&r) + 1, 0, &out), EINVAL);
	assert_int_equal(ssa_priv_req_check(&r, sizeof r, 0, &out), EINVAL);
	assert_int_equal(ssa_priv_req_check(&r, fixed, 0, &out), EINVAL);
	/* empty path */
	r.path[0] = '\0';
	assert_int_equal(ssa_priv_req_check(&r, fixed + 1, 0, &out), EINVAL);
	/* the longest path fills the record */
	memset(r.path, 'a', sizeof r.path - 1);
	r.path[sizeof r.path - 1] = '\0';
	assert_int_equal(ssa_priv_req_len(&r), sizeof r);
	assert_int_equal(ssa_priv_req_check(&r, sizeof r, 0, &out), 0);
	r.path[sizeof r.path - 1] = 'a';
	assert_int_equal(ssa_priv_req_check(&r, sizeof r, 0, &out), EINVAL);
}

/* Answers: the fixed part, links for LINKS*, DER for LOADKEY. */
static void answer_sizes(void **state)
{
	static struct ssa_priv_rep rp;
	size_t links = offsetof(struct ssa_priv_rep, links), der = offsetof(struct ssa_priv_rep, der);

	(void)state;
	memset(&rp, 0, sizeof rp);
	assert_int_equal(ssa_priv_rep_len(SSA_PRIV_ACCEPT, &rp), links);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_ACCEPT, &rp, links), 0);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_ACCEPT, &rp, links - 1), EINVAL);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_ACCEPT, &rp, der), EINVAL);
	assert_int_equal(ssa_priv_rep_len(SSA_PRIV_LINKS_SOCKET, &rp), der);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LINKS, &rp, der), 0);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LINKS, &rp, links), EINVAL);
	rp.der_len = 91;
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LOADKEY, &rp, der + 91), 0);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LOADKEY, &rp, der + 90), EINVAL);
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LOADKEY, &rp, links), EINVAL);
	rp.der_len = (uint32_t)sizeof rp.der + 1; /* a lying length */
	assert_int_equal(ssa_priv_rep_check(SSA_PRIV_LOADKEY, &rp, sizeof rp), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(links_socket),
		cmocka_unit_test(kernel_key),
		cmocka_unit_test(links_and_socket_unchanged),
		cmocka_unit_test(path_sizes),
		cmocka_unit_test(answer_sizes),
		cmocka_unit_test(size_and_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
