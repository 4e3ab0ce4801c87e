/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the parser of the worker's sd_notify datagrams
 * (src/ssad/supervisor/notify_msg.c), as ssad's supervisor reads them:
 * every state alone and together; unknown and empty lines ignored; FDSTORE
 * and FDSTOREREMOVE with their FDNAME; the length given is the datagram
 * (bytes after it are not read); refused with EINVAL: a NUL byte, a line
 * without '=', an FDNAME that is empty, too long or holds a byte systemd
 * does not allow, both FDSTORE and FDSTOREREMOVE, either without FDNAME;
 * with EMSGSIZE: more than SSA_NOTIFY_MAX bytes. X_SSA_CONFIG (the
 * configuration the worker runs): exactly 64 lowercase hex digits, else
 * EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ssad/supervisor/notify_msg.h"

static char big[SSA_NOTIFY_MAX + 2];

static int parse(const char *s, struct ssa_notify_msg *m)
{
	return ssa_notify_parse(s, strlen(s), m);
}

static void states(void **state)
{
	struct ssa_notify_msg m;

	(void)state;
	assert_int_equal(parse("READY=1", &m), 0);
	assert_true(m.ready);
	assert_false(m.reloading || m.stopping || m.fdstore || m.fdstore_remove);
	assert_string_equal(m.name, "");
	assert_int_equal(parse("RELOADING=1\n", &m), 0);
	assert_true(m.reloading);
	assert_false(m.ready || m.stopping);
	assert_int_equal(parse("STOPPING=1", &m), 0);
	assert_true(m.stopping);
	assert_false(m.ready || m.reloading);
	assert_int_equal(parse("RELOADING=1\nREADY=1\nSTOPPING=1\n", &m), 0);
	assert_true(m.ready && m.reloading && m.stopping);
	/* nothing at all is a valid, empty message */
	assert_int_equal(ssa_notify_parse("", 0, &m), 0);
	assert_false(m.ready || m.reloading || m.stopping || m.fdstore || m.fdstore_remove);
}

static void unknown_lines(void **state)
{
	struct ssa_notify_msg m;

	(void)state;
	assert_int_equal(parse("STATUS=serving 3 connections\n\nMAINPID=12\nREADY=1\n\n", &m), 0);
	assert_true(m.ready);
	/* a state must be exactly KEY=1: anything else is an unknown line */
	assert_int_equal(parse("READY=0\nREADY=1 \nREADY=11\nready=1\n", &m), 0);
	assert_false(m.ready);
	assert_int_equal(parse("X=\n=\n==", &m), 0);
	assert_false(m.ready);
}

static void fd_store(void **state)
{
	struct ssa_notify_msg m;

	(void)state;
	assert_int_equal(parse("FDSTORE=1\nFDNAME=ssa-listen-7", &m), 0);
	assert_true(m.fdstore);
	assert_false(m.fdstore_remove);
	assert_string_equal(m.name, "ssa-listen-7");
	assert_int_equal(parse("FDNAME=state\nFDSTOREREMOVE=1\n", &m), 0);
	assert_true(m.fdstore_remove);
	assert_false(m.fdstore);
	assert_string_equal(m.name, "state");
	/* an FDNAME alone is kept (no FDSTORE: nothing is stored) */
	assert_int_equal(parse("FDNAME=x", &m), 0);
	assert_false(m.fdstore || m.fdstore_remove);
	assert_string_equal(m.name, "x");
	/* every printable byte but ':' is allowed, '=' too */
	assert_int_equal(parse("FDSTORE=1\nFDNAME=!~a=b", &m), 0);
	assert_string_equal(m.name, "!~a=b");
}

static void name_limits(void **state)
{
	struct ssa_notify_msg m;
	char buf[64 + SSA_NOTIFY_NAME_MAX + 2];
	size_t h = strlen("FDSTORE=1\nFDNAME=");

	(void)state;
	memcpy(buf, "FDSTORE=1\nFDNAME=", h);
	memset(buf + h, 'n', SSA_NOTIFY_NAME_MAX);
	assert_int_equal(ssa_notify_parse(buf, h + SSA_NOTIFY_NAME_MAX, &m), 0);
	assert_int_equal(strlen(m.name), SSA_NOTIFY_NAME_MAX);
	buf[h + SSA_NOTIFY_NAME_MAX] = 'n';
	assert_int_equal(ssa_notify_parse(buf, h + SSA_NOTIFY_NAME_MAX + 1, &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=a:b", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=a b", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=a\tb", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=a\x7f", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=caf\xc3\xa9", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDNAME=a\r\n", &m), EINVAL);
}

static void refused(void **state)
{
	struct ssa_notify_msg m;

	(void)state;
	assert_int_equal(ssa_notify_parse("READY=1\0STOPPING=1", 18, &m), EINVAL);
	assert_int_equal(ssa_notify_parse("READY=1\n\0", 9, &m), EINVAL);
	assert_int_equal(parse("READY=1\nREADY\n", &m), EINVAL);
	assert_int_equal(parse("garbage", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1", &m), EINVAL);
	assert_int_equal(parse("FDSTOREREMOVE=1\n", &m), EINVAL);
	assert_int_equal(parse("FDSTORE=1\nFDSTOREREMOVE=1\nFDNAME=x", &m), EINVAL);
}

static void bounded(void **state)
{
	struct ssa_notify_msg m;

	(void)state;
	/* only len bytes are the datagram: "READY" has no '=' */
	assert_int_equal(ssa_notify_parse("READY=1", 5, &m), EINVAL);
	assert_int_equal(ssa_notify_parse("READY=1", 7, &m), 0);
	assert_true(m.ready);
	/* an FDNAME cut by len is cut there */
	assert_int_equal(ssa_notify_parse("FDSTORE=1\nFDNAME=abcdef", 20, &m), 0);
	assert_string_equal(m.name, "abc");
	/* SSA_NOTIFY_MAX bytes: parsed; one more: EMSGSIZE */
	memset(big, '\n', sizeof big);
	memcpy(big, "READY=1", 7);
	assert_int_equal(ssa_notify_parse(big, SSA_NOTIFY_MAX, &m), 0);
	assert_true(m.ready);
	assert_int_equal(ssa_notify_parse(big, SSA_NOTIFY_MAX + 1, &m), EMSGSIZE);
	assert_false(m.ready);
}

static void config_digest(void **state)
{
	struct ssa_notify_msg m;
	char line[128], hexd[65];

	(void)state;
	for (int i = 0; i < 32; i++)
		snprintf(hexd + 2 * i, 3, "%02x", (unsigned)(i * 7 + 3) & 0xff);
	snprintf(line, sizeof line, "READY=1\nX_SSA_CONFIG=%s\n", hexd);
	assert_int_equal(parse(line, &m), 0);
	assert_true(m.ready && m.has_config);
	for (int i = 0; i < 32; i++)
		assert_int_equal(m.config[i], (i * 7 + 3) & 0xff);
	assert_int_equal(parse("READY=1", &m), 0);
	assert_false(m.has_config);
	hexd[63] = '\0'; /* 63 digits */
	snprintf(line, sizeof line, "X_SSA_CONFIG=%s", hexd);
	assert_int_equal(parse(line, &m), EINVAL);
	snprintf(line, sizeof line, "X_SSA_CONFIG=%s00", hexd); /* 65 */
	assert_int_equal(parse(line, &m), EINVAL);
	snprintf(line, sizeof line, "X_SSA_CONFIG=%sA", hexd); /* upper case */
	assert_int_equal(parse(line, &m), EINVAL);
	snprintf(line, sizeof line, "X_SSA_CONFIG=%sg", hexd);
	assert_int_equal(parse(line, &m), EINVAL);
	assert_int_equal(parse("X_SSA_CONFIG=", &m), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(states),      cmocka_unit_test(unknown_lines),
		cmocka_unit_test(fd_store),    cmocka_unit_test(name_limits),
		cmocka_unit_test(refused),     cmocka_unit_test(bounded),
		cmocka_unit_test(config_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
