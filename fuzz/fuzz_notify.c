/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the parser of the worker's sd_notify datagrams
 * (src/ssad/supervisor/notify_msg.c), which ssad's supervisor runs on
 * whatever its worker sends. What parses must keep the parser's promises
 * (a NUL-terminated FDNAME of at most SSA_NOTIFY_NAME_MAX printable bytes
 * without ':', present with FDSTORE or FDSTOREREMOVE, never both), and the
 * same states, written out again, must parse to the same result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ssad/supervisor/notify_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless m keeps what a successful parse promises. */
static void check_promises(const struct ssa_notify_msg *m)
{
	size_t n = strnlen(m->name, sizeof m->name);

	if (n == sizeof m->name)
		abort(); /* not NUL-terminated */
	for (size_t i = 0; i < n; i++)
		if (m->name[i] < 0x21 || m->name[i] > 0x7e || m->name[i] == ':')
			abort();
	if (m->fdstore && m->fdstore_remove)
		abort();
	if ((m->fdstore || m->fdstore_remove) && n == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char again[SSA_NOTIFY_MAX + 1];
	struct ssa_notify_msg m, m2;
	int rc, len;

	rc = ssa_notify_parse((const char *)data, size, &m);
	if (rc == EMSGSIZE) {
		if (size <= SSA_NOTIFY_MAX)
			abort();
		return 0;
	}
	if (rc == EINVAL)
		return 0;
	if (rc != 0 || size > SSA_NOTIFY_MAX)
		abort(); /* no other result, and nothing oversized accepted */
	check_promises(&m);
	/* The canonical form of what was understood parses the same. */
	len = snprintf(again, sizeof again, "%s%s%s%s%s%s%s", m.ready ? "READY=1\n" : "",
		       m.reloading ? "RELOADING=1\n" : "", m.stopping ? "STOPPING=1\n" : "",
		       m.fdstore ? "FDSTORE=1\n" : "", m.fdstore_remove ? "FDSTOREREMOVE=1\n" : "",
		       m.name[0] ? "FDNAME=" : "", m.name);
	if (len < 0 || (size_t)len >= sizeof again)
		abort();
	/* (the name is compared as a string: a second FDNAME= may leave bytes
	 * of a longer first one behind its NUL) */
	if (ssa_notify_parse(again, (size_t)len, &m2) != 0 || m.ready != m2.ready ||
	    m.reloading != m2.reloading || m.stopping != m2.stopping || m.fdstore != m2.fdstore ||
	    m.fdstore_remove != m2.fdstore_remove || strcmp(m.name, m2.name) != 0)
		abort();
	return 0;
}
