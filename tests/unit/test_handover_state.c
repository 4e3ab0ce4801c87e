/* SPDX-License-Identifier: MIT */
/* Unit tests of the hand-over state's format (src/ssad/libssa_front/handover_state.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/libssa_front/handover_state.h"

static char chain_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
static char key_pem[] = "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n";
static char prog[] = "/usr/bin/server", prof[] = "web", cipher[] = "AES128-SHA";

/* A listener with every field set; its strings borrowed. */
static void sample(struct ssa_ho_listener *l)
{
	memset(l, 0, sizeof *l);
	l->id = 0x1122334455667788ull;
	l->domain = 10;
	l->backlog = 128;
	l->uid = 1000;
	l->gid = 1000;
	l->pid = 4242;
	l->program = prog;
	l->profile = prof;
	l->key_dev = 7;
	l->key_ino = 123456;
	l->key_cookie = 99;
	l->ktls_want = true;
	l->nodelay = 1;
	l->peer_auth = 2;
	memcpy(l->alpn, "\x02h2\x08http/1.1", 12);
	l->alpn_len = 12;
	l->min_version = 0x0303;
	l->max_version = 0x0304;
	l->session_ttl = 300;
	l->session_reuse = 1;
	l->crl_checks = true;
	l->disabled[0] = cipher;
	l->n_disabled = 1;
	l->chain[0] = (struct ssa_ho_pem){ chain_pem, sizeof chain_pem - 1 };
	l->key[0] = (struct ssa_ho_pem){ key_pem, sizeof key_pem - 1 };
	l->n_ids = 1;
	l->trusted = (struct ssa_ho_pem){ chain_pem, sizeof chain_pem - 1 };
}

static uint8_t *encode_sample(size_t *len, uint32_t n)
{
	struct ssa_ho_listener l[2];
	struct ssa_ho_state s = { .generation = 5, .l = l, .n = n };
	uint8_t *buf = NULL;

	sample(&l[0]);
	sample(&l[1]);
	l[1].id = 2;
	l[1].n_ids = 0;
	l[1].trusted.len = 0;
	assert_int_equal(ssa_ho_encode(&s, &buf, len), 0);
	return buf;
}

static void roundtrip(void **state)
{
	struct ssa_ho_state s;
	char why[200];
	size_t len;
	uint8_t *buf = encode_sample(&len, 2);

	(void)state;
	assert_int_equal(ssa_ho_decode(buf, len, &s, why, sizeof why), 0);
	assert_int_equal(s.generation, 5);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.l[0].id, 0x1122334455667788ull);
	assert_int_equal(s.l[0].domain, 10);
	assert_int_equal(s.l[0].backlog, 128);
	assert_int_equal(s.l[0].pid, 4242);
	assert_string_equal(s.l[0].program, prog);
	assert_string_equal(s.l[0].profile, prof);
	assert_int_equal(s.l[0].key_ino, 123456);
	assert_int_equal(s.l[0].key_cookie, 99);
	assert_true(s.l[0].ktls_want);
	assert_int_equal(s.l[0].peer_auth, 2);
	assert_int_equal(s.l[0].alpn_len, 12);
	assert_memory_equal(s.l[0].alpn, "\x02h2\x08http/1.1", 12);
	assert_int_equal(s.l[0].max_version, 0x0304);
	assert_int_equal(s.l[0].session_ttl, 300);
	assert_true(s.l[0].crl_checks);
	assert_false(s.l[0].ocsp_stapled);
	assert_int_equal(s.l[0].n_disabled, 1);
	assert_string_equal(s.l[0].disabled[0], cipher);
	assert_int_equal(s.l[0].n_ids, 1);
	assert_string_equal(s.l[0].chain[0].pem, chain_pem);
	assert_string_equal(s.l[0].key[0].pem, key_pem);
	assert_string_equal(s.l[0].trusted.pem, chain_pem);
	assert_int_equal(s.l[1].id, 2);
	assert_int_equal(s.l[1].n_ids, 0);
	assert_null(s.l[1].trusted.pem);
	ssa_ho_state_clear(&s);
	ssa_ho_wipe_free(buf, len);
}

static void empty_state(void **state)
{
	struct ssa_ho_state s;
	char why[200];
	size_t len;
	uint8_t *buf = encode_sample(&len, 0);

	(void)state;
	assert_int_equal(len, 24);
	assert_int_equal(ssa_ho_decode(buf, len, &s, why, sizeof why), 0);
	assert_int_equal(s.n, 0);
	ssa_ho_state_clear(&s);
	free(buf);
}

/* Every proper prefix of a valid state is refused, with a reason. */
static void truncations_refused(void **state)
{
	struct ssa_ho_state s;
	char why[200];
	size_t len;
	uint8_t *buf = encode_sample(&len, 2);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(ssa_ho_decode(buf, n, &s, why, sizeof why), EINVAL);
		assert_true(why[0] != '\0');
		assert_null(s.l);
	}
	ssa_ho_wipe_free(buf, len);
}

static void expect_refused(uint8_t *buf, size_t len, const char *says)
{
	struct ssa_ho_state s;
	char why[200];

	assert_int_equal(ssa_ho_decode(buf, len, &s, why, sizeof why), EINVAL);
	assert_non_null(strstr(why, says));
}

static void header_checks(void **state)
{
	size_t len;
	uint8_t *buf = encode_sample(&len, 1);

	(void)state;
	buf[0] ^= 1;
	expect_refused(buf, len, "bad magic");
	buf[0] ^= 1;
	buf[8] = 2; /* version */
	expect_refused(buf, len, "version 2");
	buf[8] = 1;
	buf[20] = 0xff; /* listeners: 255 + ... */
	buf[21] = 0xff;
	expect_refused(buf, len, "more than");
	buf[20] = 1;
	buf[21] = 0;
	{
		uint8_t *more = malloc(len + 1);

		memcpy(more, buf, len);
		more[len] = 0;
		expect_refused(more, len + 1, "after the last listener");
		free(more);
	}
	ssa_ho_wipe_free(buf, len);
}

/* The first field of the first listener starts at 28: u16 tag, u32 len. */
static void field_checks(void **state)
{
	size_t len;
	uint8_t *buf = encode_sample(&len, 1);

	(void)state;
	buf[28] = 99; /* unknown tag */
	expect_refused(buf, len, "unknown field 99");
	buf[28] = 2; /* ID's 8 bytes read as DOMAIN (4): wrong length */
	expect_refused(buf, len, "field 2: invalid value");
	buf[28] = 1;
	buf[33] = 0x7f; /* the ID's length past the record */
	expect_refused(buf, len, "runs past the record");
	buf[33] = 0;
	ssa_ho_wipe_free(buf, len);
}

static void value_checks(void **state)
{
	struct ssa_ho_listener l;
	struct ssa_ho_state s = { .l = &l, .n = 1 };
	char evil[] = "a\0b";
	uint8_t *buf;
	size_t len;

	(void)state;
	sample(&l);
	l.domain = 1; /* AF_UNIX */
	assert_int_equal(ssa_ho_encode(&s, &buf, &len), 0);
	expect_refused(buf, len, "not IPv4 or IPv6");
	ssa_ho_wipe_free(buf, len);

	sample(&l);
	l.backlog = 0;
	assert_int_equal(ssa_ho_encode(&s, &buf, &len), 0);
	expect_refused(buf, len, "backlog or pid");
	ssa_ho_wipe_free(buf, len);

	sample(&l); /* a PEM with a NUL inside */
	l.chain[0] = (struct ssa_ho_pem){ evil, 3 };
	assert_int_equal(ssa_ho_encode(&s, &buf, &len), 0);
	expect_refused(buf, len, "invalid value");
	ssa_ho_wipe_free(buf, len);

	sample(&l);
	l.n_ids = SSA_HO_MAX_IDS + 1;
	assert_int_equal(ssa_ho_encode(&s, &buf, &len), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(empty_state),
		cmocka_unit_test(truncations_refused),
		cmocka_unit_test(header_checks),
		cmocka_unit_test(field_checks),
		cmocka_unit_test(value_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
