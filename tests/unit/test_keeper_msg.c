/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the key keeper's codec (src/ssad/keeper/keeper_msg.c):
 * every request and reply kind round-trips; truncated datagrams, lengths
 * that disagree with the datagram, unknown ops, key ids where none belong
 * (and none where one must), oversized payloads and payloads on a failed
 * reply are refused with EBADMSG (encoding them with EINVAL).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/keeper/keeper_msg.h"

static uint8_t buf[SSA_KEEP_MAX + 16], pay[SSA_KEEP_MAX_PAYLOAD + 1];

/* Encode m, decode it back, and compare. */
static void round_trip(const struct ssa_keepmsg *m)
{
	struct ssa_keepmsg d;
	size_t len;

	assert_int_equal(ssa_keepmsg_encode(m, buf, sizeof buf, &len), 0);
	assert_int_equal(len, SSA_KEEP_HDR + m->len);
	assert_int_equal(ssa_keepmsg_decode(buf, len, &d), 0);
	assert_int_equal(d.op, m->op);
	assert_int_equal(d.status, m->status);
	assert_int_equal(d.id, m->id);
	assert_int_equal(d.key, m->key);
	assert_int_equal(d.len, m->len);
	if (m->len)
		assert_memory_equal(d.data, m->data, m->len);
	else
		assert_null(d.data);
}

static void valid_messages(void **state)
{
	(void)state;
	memset(pay, 0xa5, sizeof pay);
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_FD, .id = 1 });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_BYTES, .id = 2,
					  .len = SSA_KEEP_MAX_PAYLOAD, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_RSA_PRIVATE, .id = 3, .key = 9,
					  .len = 256, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_ECDSA_SIGN, .id = 4, .key = 9, .len = 32,
					  .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_RELEASE, .id = 5, .key = 9 });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_EXPORT, .id = 6, .key = 9 });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_EXPORT | SSA_KEEP_REPLY, .id = 6, .key = 9 });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_FD | SSA_KEEP_REPLY, .id = 1,
					  .key = 7, .len = 91, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_ECDSA_SIGN | SSA_KEEP_REPLY, .id = 4,
					  .key = 7, .len = 72, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_RSA_PRIVATE | SSA_KEEP_REPLY, .id = 3,
					  .status = ENOENT });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_RELEASE | SSA_KEEP_REPLY, .id = 5, .key = 9 });
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_ECDSA_SIGN | SSA_KEEP_REPLY), "ecdsa-sign");
	assert_string_equal(ssa_keepmsg_op_name(99), "?");
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_EXPORT), "export");
	/* the key intake's ops: a ticket, and for STASH and LOAD_TICKET a uid */
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_STASH, .id = 7,
					  .len = SSA_KEEP_TICKET_LEN + 4, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_STASH | SSA_KEEP_REPLY, .id = 7 });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_UNSTASH, .id = 8,
					  .len = SSA_KEEP_TICKET_LEN, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_UNSTASH | SSA_KEEP_REPLY, .id = 8,
					  .status = ENOENT });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_TICKET, .id = 9,
					  .len = SSA_KEEP_TICKET_LEN + 8, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_TICKET | SSA_KEEP_REPLY, .id = 9,
					  .key = 7, .len = 91, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_LOAD_TICKET | SSA_KEEP_REPLY, .id = 9,
					  .status = EACCES });
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_STASH), "stash");
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_UNSTASH), "unstash");
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_LOAD_TICKET), "load-ticket");
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_HANDOVER_KEY, .id = 10,
					  .len = SSA_KEEP_HANDOVER_KEY_LEN, .data = pay });
	round_trip(&(struct ssa_keepmsg){ .op = SSA_KEEP_HANDOVER_KEY | SSA_KEEP_REPLY, .id = 10,
					  .status = EPERM });
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_HANDOVER_KEY), "handover-key");
	assert_string_equal(ssa_keepmsg_op_name(SSA_KEEP_OP_MAX + 1), "?");
}

/* What encode refuses (EINVAL), and too small a buffer (ENOSPC). */
static void encode_refuses(void **state)
{
	static const struct ssa_keepmsg bad[] = {
		{ .op = 0 },
		{ .op = SSA_KEEP_OP_MAX + 1 },
		{ .op = SSA_KEEP_STASH },                               /* no ticket */
		{ .op = SSA_KEEP_STASH, .len = SSA_KEEP_TICKET_LEN },   /* no uid */
		{ .op = SSA_KEEP_STASH, .key = 1, .len = SSA_KEEP_TICKET_LEN + 4 }, /* a key id */
		{ .op = SSA_KEEP_UNSTASH, .len = SSA_KEEP_TICKET_LEN + 4 },
		{ .op = SSA_KEEP_LOAD_TICKET, .len = SSA_KEEP_TICKET_LEN + 4 }, /* no max size */
		{ .op = SSA_KEEP_LOAD_TICKET | SSA_KEEP_REPLY, .len = 91 }, /* success without key */
		{ .op = SSA_KEEP_STASH | SSA_KEEP_REPLY, .len = 1 },
		{ .op = SSA_KEEP_HANDOVER_KEY, .len = SSA_KEEP_HANDOVER_KEY_LEN - 1 },
		{ .op = SSA_KEEP_HANDOVER_KEY, .key = 1, .len = SSA_KEEP_HANDOVER_KEY_LEN },
		{ .op = SSA_KEEP_EXPORT },                              /* no key id */
		{ .op = SSA_KEEP_EXPORT, .key = 1, .len = 1 },          /* a payload */
		{ .op = SSA_KEEP_LOAD_FD, .key = 1 },                  /* key id on a load */
		{ .op = SSA_KEEP_RSA_PRIVATE, .len = 256 },             /* no key id */
		{ .op = SSA_KEEP_RELEASE },                             /* no key id */
		{ .op = SSA_KEEP_LOAD_BYTES },                          /* no bytes */
		{ .op = SSA_KEEP_RSA_PRIVATE, .key = 1, .len = SSA_KEEP_MAX_RSA + 1 },
		{ .op = SSA_KEEP_ECDSA_SIGN, .key = 1, .len = SSA_KEEP_MAX_DIGEST + 1 },
		{ .op = SSA_KEEP_LOAD_BYTES, .len = SSA_KEEP_MAX_PAYLOAD + 1 },
		{ .op = SSA_KEEP_LOAD_FD, .status = 1 },                /* status on a request */
		{ .op = SSA_KEEP_LOAD_FD | SSA_KEEP_REPLY },            /* success without key */
		{ .op = SSA_KEEP_RSA_PRIVATE | SSA_KEEP_REPLY, .status = EIO, .len = 4 },
		{ .op = SSA_KEEP_RELEASE | SSA_KEEP_REPLY, .len = 1 },
	};
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ssa_keepmsg m = bad[i];

		m.data = pay;
		assert_int_equal(ssa_keepmsg_encode(&m, buf, sizeof buf, &len), EINVAL);
	}
	assert_int_equal(ssa_keepmsg_encode(&(struct ssa_keepmsg){ .op = SSA_KEEP_ECDSA_SIGN, .key = 1,
							       .len = 32, .data = pay },
					    buf, SSA_KEEP_HDR + 31, &len), ENOSPC);
	/* positive control: the same with room */
	assert_int_equal(ssa_keepmsg_encode(&(struct ssa_keepmsg){ .op = SSA_KEEP_ECDSA_SIGN, .key = 1,
							       .len = 32, .data = pay },
					    buf, SSA_KEEP_HDR + 32, &len), 0);
}

/* Datagrams decode refuses, each made from a valid one. */
static void decode_refuses(void **state)
{
	struct ssa_keepmsg m = { .op = SSA_KEEP_ECDSA_SIGN, .id = 8, .key = 3, .len = 32, .data = pay };
	struct ssa_keepmsg d;
	uint8_t good[SSA_KEEP_HDR + 32], b[sizeof good + 1];
	size_t len;
	uint32_t v;

	(void)state;
	assert_int_equal(ssa_keepmsg_encode(&m, good, sizeof good, &len), 0);
	assert_int_equal(ssa_keepmsg_decode(good, len, &d), 0); /* positive control */
	for (size_t cut = 0; cut < len; cut++) /* every truncation */
		assert_int_equal(ssa_keepmsg_decode(good, cut, &d), EBADMSG);
	memcpy(b, good, len);
	b[len] = 0; /* a trailing byte the length does not cover */
	assert_int_equal(ssa_keepmsg_decode(b, len + 1, &d), EBADMSG);
	memcpy(b, good, len);
	b[2] = 1; /* reserved bytes */
	assert_int_equal(ssa_keepmsg_decode(b, len, &d), EBADMSG);
	memcpy(b, good, len);
	b[0] = 0x7f; /* unknown op */
	assert_int_equal(ssa_keepmsg_decode(b, len, &d), EBADMSG);
	memcpy(b, good, len);
	memset(b + 8, 0, 4); /* no key id */
	assert_int_equal(ssa_keepmsg_decode(b, len, &d), EBADMSG);
	memcpy(b, good, len);
	v = 0xffffffffu; /* a length far past the datagram */
	memcpy(b + 12, &v, 4);
	assert_int_equal(ssa_keepmsg_decode(b, len, &d), EBADMSG);
	memcpy(b, good, len);
	b[1] = EIO; /* a failed reply must not carry a payload */
	b[0] |= SSA_KEEP_REPLY;
	assert_int_equal(ssa_keepmsg_decode(b, len, &d), EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_messages),
		cmocka_unit_test(encode_refuses),
		cmocka_unit_test(decode_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
