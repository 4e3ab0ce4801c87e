/* SPDX-License-Identifier: MIT */
/* Unit tests of the journal's native entry format (src/ssad/journal.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/journal.h"

static void plain_fields(void **state)
{
	const char *k[] = { "MESSAGE", "SNI" }, *v[] = { "handshake failed", "example.org" };
	char out[128];
	size_t n = ssa_journal_format(out, sizeof out, k, v, 2);

	(void)state;
	assert_int_equal(n, strlen("MESSAGE=handshake failed\nSNI=example.org\n"));
	assert_memory_equal(out, "MESSAGE=handshake failed\nSNI=example.org\n", n);
}

/* A value with a newline: "KEY\n", its length as le64, the bytes, "\n". */
static void binary_safe_form(void **state)
{
	const char *k[] = { "REASON" }, *v[] = { "a\nb" };
	const char want[] = "REASON\n\x03\0\0\0\0\0\0\0a\nb\n";
	char out[64];
	size_t n = ssa_journal_format(out, sizeof out, k, v, 1);

	(void)state;
	assert_int_equal(n, sizeof want - 1);
	assert_memory_equal(out, want, n);
}

static void refusals(void **state)
{
	const char *bad[] = { "_PID", "lower", "A=B", "" }, *v[] = { "x" };
	const char *k[] = { "MESSAGE" };
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ssa_journal_format(out, sizeof out, &bad[i], v, 1), 0);
	/* "MESSAGE=x\n" is 10 bytes: 9 do not hold it */
	assert_int_equal(ssa_journal_format(out, 9, k, v, 1), 0);
	assert_int_equal(ssa_journal_format(out, 10, k, v, 1), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_fields),
		cmocka_unit_test(binary_safe_form),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
