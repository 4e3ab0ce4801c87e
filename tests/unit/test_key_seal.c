/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the hand-over's key sealing (src/ssad/keeper/key_seal.c):
 * a sealed key opens with its key into the same bytes, and holds none of
 * them in the clear; another key, any altered byte (magic, nonce,
 * ciphertext, tag), a truncated seal and plain PEM are refused; two seals
 * of the same key differ (a fresh nonce each).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/keeper/key_seal.h"

static const char pem[] = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0w"
			  "\n-----END PRIVATE KEY-----\n";
#define N (sizeof pem - 1)

static uint8_t k1[SSA_SEAL_KEY_LEN], k2[SSA_SEAL_KEY_LEN];

static void seal_open(void **state)
{
	uint8_t s1[N + SSA_SEAL_OVERHEAD], s2[N + SSA_SEAL_OVERHEAD], out[N];
	size_t n = 0;

	(void)state;
	memset(k1, 0x11, sizeof k1);
	assert_int_equal(ssa_key_seal(k1, (const uint8_t *)pem, N, s1), 0);
	assert_true(ssa_key_is_sealed(s1, sizeof s1));
	assert_null(memmem(s1, sizeof s1, "PRIVATE KEY", 11));
	assert_int_equal(ssa_key_unseal(k1, s1, sizeof s1, out, &n), 0);
	assert_int_equal(n, N);
	assert_memory_equal(out, pem, N);
	assert_int_equal(ssa_key_seal(k1, (const uint8_t *)pem, N, s2), 0);
	assert_memory_not_equal(s1, s2, sizeof s1);
}

static void refusals(void **state)
{
	uint8_t s[N + SSA_SEAL_OVERHEAD], out[N + SSA_SEAL_OVERHEAD];
	size_t n = 0;

	(void)state;
	memset(k1, 0x11, sizeof k1);
	memset(k2, 0x22, sizeof k2);
	assert_int_equal(ssa_key_seal(k1, (const uint8_t *)pem, N, s), 0);
	assert_int_equal(ssa_key_unseal(k2, s, sizeof s, out, &n), EINVAL);
	for (size_t i = 0; i < sizeof s; i++) {
		s[i] ^= 0x01;
		assert_int_equal(ssa_key_unseal(k1, s, sizeof s, out, &n), EINVAL);
		s[i] ^= 0x01;
	}
	assert_int_equal(ssa_key_unseal(k1, s, sizeof s - 1, out, &n), EINVAL);
	assert_int_equal(ssa_key_unseal(k1, s, SSA_SEAL_OVERHEAD - 1, out, &n), EINVAL);
	assert_false(ssa_key_is_sealed((const uint8_t *)pem, N));
	assert_int_equal(ssa_key_unseal(k1, (const uint8_t *)pem, N, out, &n), EINVAL);
	/* positive control: untouched, it still opens */
	assert_int_equal(ssa_key_unseal(k1, s, sizeof s, out, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_open),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests_name("key_seal", tests, NULL, NULL);
}
