/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ssad's decoder of the kernel front end's generic netlink
 * messages (src/ssad/kernel_msg.c): a valid ACCEPT, malformed messages
 * whose descriptors must still be reported so that ssad closes them (the
 * kernel installed them in ssad's table before sending), the family's
 * id and version from the controller's reply, and the key taker's part
 * (family version 3): a TLS_PRIVATE_KEY option held for the supervisor
 * (SSA_OPT_HELD, no descriptor) in an ACCEPT, refused on any other option,
 * with a descriptor, with a payload or outside an ACCEPT; a TAKE_KEY reply
 * with its descriptor and uid, refused without either.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/kernel_front/kernel_msg.h"

#define FAMILY 0x1234

static struct ssa_kreq req;

/* An ACCEPT of request 7 naming descriptor fd; bad_role puts an invalid
 * role before the descriptor attribute. */
static void build_accept(int fd, bool bad_role)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	uint8_t role = bad_role ? 9 : SSA_ROLE_CLIENT_K;

	ssa_kreq_init(&req, FAMILY, 0, 1, SSA_CMD_ACCEPT, SSA_GENL_VERSION);
	ssa_kreq_put_u64(&req, SSA_A_ID, 42);
	ssa_kreq_put_u32(&req, SSA_A_SEQ, 7);
	ssa_kreq_put(&req, SSA_A_ROLE, &role, 1);
	ssa_kreq_put_u32(&req, SSA_A_FD, (uint32_t)fd);
	ssa_kreq_put(&req, SSA_A_FAMILY, &(uint16_t){ AF_INET }, sizeof(uint16_t));
	ssa_kreq_put(&req, SSA_A_ADDR, &sin, sizeof sin);
	assert_int_equal(ssa_kreq_end(&req), 0);
}

static void accept_valid(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	build_accept(11, false);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), 0);
	assert_int_equal(m.cmd, SSA_CMD_ACCEPT);
	assert_true(m.id == 42);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.fd, 11);
	assert_int_equal(m.role, SSA_ROLE_CLIENT_K);
	assert_int_equal(m.family, AF_INET);
}

static void accept_bad_attr_before_fd(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	build_accept(12, true);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	/* the descriptor after the bad attribute is still reported */
	assert_true(m.has_fd);
	assert_int_equal(m.fd, 12);
}

static void options_bad_then_fd(void **state)
{
	struct ssa_kmsg m;
	size_t n;

	(void)state;
	ssa_kreq_init(&req, FAMILY, 0, 1, SSA_CMD_HANDSHAKE, SSA_GENL_VERSION);
	ssa_kreq_put_u64(&req, SSA_A_ID, 1);
	ssa_kreq_put_u32(&req, SSA_A_SEQ, 2);
	/* an option with an unknown nested attribute: invalid */
	n = ssa_kreq_nest(&req, SSA_A_OPT);
	ssa_kreq_put_u32(&req, SSA_OPT_NAME, 85);
	ssa_kreq_put_u32(&req, 77, 0);
	ssa_kreq_nest_end(&req, n);
	/* then an option naming a file descriptor */
	n = ssa_kreq_nest(&req, SSA_A_OPT);
	ssa_kreq_put_u32(&req, SSA_OPT_NAME, 96);
	ssa_kreq_put(&req, SSA_OPT_VALUE, "x", 1);
	ssa_kreq_put_u32(&req, SSA_OPT_FD, 13);
	ssa_kreq_nest_end(&req, n);
	ssa_kreq_put_u32(&req, SSA_A_FD, 14);
	assert_int_equal(ssa_kreq_end(&req), 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	assert_int_equal(m.fd, 14);
	assert_int_equal(m.n_opts, 1);
	assert_int_equal(m.opts[0].fd, 13);
}

/* An ACCEPT (or cmd) of request 7 with one option name, held, with fd
 * (or -1) and payload bytes in the flag. */
static void build_held(uint8_t cmd, uint32_t name, int fd, size_t payload)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	size_t n;

	ssa_kreq_init(&req, FAMILY, 0, 1, cmd, SSA_GENL_VERSION);
	ssa_kreq_put_u64(&req, SSA_A_ID, 42);
	ssa_kreq_put_u32(&req, SSA_A_SEQ, 7);
	if (cmd == SSA_CMD_ACCEPT) {
		ssa_kreq_put(&req, SSA_A_ROLE, &(uint8_t){ SSA_ROLE_SERVER_K }, 1);
		ssa_kreq_put_u32(&req, SSA_A_FD, 11);
		ssa_kreq_put(&req, SSA_A_FAMILY, &(uint16_t){ AF_INET }, sizeof(uint16_t));
		ssa_kreq_put(&req, SSA_A_ADDR, &sin, sizeof sin);
	}
	n = ssa_kreq_nest(&req, SSA_A_OPT);
	ssa_kreq_put_u32(&req, SSA_OPT_NAME, name);
	ssa_kreq_put(&req, SSA_OPT_VALUE, "/k.pem", 7);
	if (fd >= 0)
		ssa_kreq_put_u32(&req, SSA_OPT_FD, (uint32_t)fd);
	ssa_kreq_put(&req, SSA_OPT_HELD, "xxxx", payload);
	ssa_kreq_nest_end(&req, n);
	assert_int_equal(ssa_kreq_end(&req), 0);
}

static void held_key(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	build_held(SSA_CMD_ACCEPT, 89 /* TLS_PRIVATE_KEY */, -1, 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), 0);
	assert_int_equal(m.n_opts, 1);
	assert_true(m.opts[0].held);
	assert_int_equal(m.opts[0].fd, -1);
	assert_int_equal(m.fd, 11);
}

static void held_refused(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	/* with a descriptor too: refused, the descriptor still reported */
	build_held(SSA_CMD_ACCEPT, 89, 13, 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	assert_int_equal(m.n_opts, 1);
	assert_int_equal(m.opts[0].fd, 13);
	/* another option (TLS_CERTIFICATE_CHAIN) */
	build_held(SSA_CMD_ACCEPT, 88, -1, 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	/* a flag with a payload */
	build_held(SSA_CMD_ACCEPT, 89, -1, 4);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	/* outside an ACCEPT */
	build_held(SSA_CMD_CHECK, 89, -1, 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
}

/* A TAKE_KEY reply for request 7, with its descriptor and uid or not. */
static void build_take_key(bool fd, bool uid)
{
	ssa_kreq_init(&req, FAMILY, 0, 3, SSA_CMD_TAKE_KEY, SSA_GENL_VERSION);
	ssa_kreq_put_u64(&req, SSA_A_ID, 42);
	ssa_kreq_put_u32(&req, SSA_A_SEQ, 7);
	if (fd)
		ssa_kreq_put_u32(&req, SSA_A_FD, 15);
	if (uid)
		ssa_kreq_put_u32(&req, SSA_A_UID, 1000);
	assert_int_equal(ssa_kreq_end(&req), 0);
}

static void take_key_reply(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	build_take_key(true, true);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), 0);
	assert_int_equal(m.cmd, SSA_CMD_TAKE_KEY);
	assert_int_equal(m.fd, 15);
	assert_int_equal(m.uid, 1000);
	build_take_key(false, true); /* without its descriptor */
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	build_take_key(true, false); /* without the uid (it would read as root's) */
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	assert_int_equal(m.fd, 15); /* still reported, to be closed */
}

static void unknown_top_attr_keeps_fd(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	ssa_kreq_init(&req, FAMILY, 0, 1, SSA_CMD_HANDSHAKE, SSA_GENL_VERSION);
	ssa_kreq_put_u32(&req, 200, 5); /* the kernel sends no such attribute */
	ssa_kreq_put_u32(&req, SSA_A_FD, 15);
	assert_int_equal(ssa_kreq_end(&req), 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	assert_int_equal(m.fd, 15);
}

static void negative_fd_not_reported(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	ssa_kreq_init(&req, FAMILY, 0, 1, SSA_CMD_HANDSHAKE, SSA_GENL_VERSION);
	ssa_kreq_put_u32(&req, SSA_A_FD, (uint32_t)-5);
	assert_int_equal(ssa_kreq_end(&req), 0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, FAMILY, &m), EINVAL);
	assert_int_equal(m.fd, -1);
	assert_int_equal(m.n_opts, 0);
}

/* CTRL_CMD_NEWFAMILY as genl_ctrl sends it; version_len 0: no version */
static void build_newfamily(size_t version_len)
{
	uint32_t v = 2;

	ssa_kreq_init(&req, GENL_ID_CTRL, 0, 1, CTRL_CMD_NEWFAMILY, 2);
	ssa_kreq_put(&req, CTRL_ATTR_FAMILY_ID, &(uint16_t){ FAMILY }, sizeof(uint16_t));
	ssa_kreq_put_str(&req, CTRL_ATTR_FAMILY_NAME, SSA_GENL_NAME);
	if (version_len)
		ssa_kreq_put(&req, CTRL_ATTR_VERSION, &v, version_len);
	assert_int_equal(ssa_kreq_end(&req), 0);
}

/* The family's version decides whether ssad may drop CAP_NET_ADMIN. */
static void ctrl_version(void **state)
{
	struct ssa_kmsg m;

	(void)state;
	build_newfamily(sizeof(uint32_t));
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, 0, &m), 0);
	assert_int_equal(m.ctrl_family_id, FAMILY);
	assert_int_equal(m.ctrl_version, 2);
	/* absent: 0, which no module has, so nothing is dropped */
	build_newfamily(0);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, 0, &m), 0);
	assert_int_equal(m.ctrl_family_id, FAMILY);
	assert_int_equal(m.ctrl_version, 0);
	/* a version of another size is malformed, never half read */
	build_newfamily(2);
	assert_int_equal(ssa_kmsg_parse(req.buf, req.len, 0, &m), EINVAL);
	assert_int_equal(m.ctrl_version, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accept_valid),
		cmocka_unit_test(accept_bad_attr_before_fd),
		cmocka_unit_test(options_bad_then_fd),
		cmocka_unit_test(unknown_top_attr_keeps_fd),
		cmocka_unit_test(negative_fd_not_reported),
		cmocka_unit_test(ctrl_version),
		cmocka_unit_test(held_key),
		cmocka_unit_test(held_refused),
		cmocka_unit_test(take_key_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
