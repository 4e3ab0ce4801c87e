/* SPDX-License-Identifier: MIT */
/* The worker's sd_notify datagrams, parsed (notify_msg.h). No I/O. */
#include "notify_msg.h"

#include <errno.h>
#include <string.h>

static bool is(const char *line, size_t len, const char *kv)
{
	return strlen(kv) == len && memcmp(line, kv, len) == 0;
}

static int take_name(const char *v, size_t len, struct ssa_notify_msg *m)
{
	if (len == 0 || len > SSA_NOTIFY_NAME_MAX)
		return EINVAL;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ':')
			return EINVAL;
	memcpy(m->name, v, len);
	m->name[len] = '\0';
	return 0;
}

static int hex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int take_config(const char *v, size_t len, struct ssa_notify_msg *m)
{
	if (len != 2 * sizeof m->config)
		return EINVAL;
	for (size_t i = 0; i < sizeof m->config; i++) {
		int hi = hex(v[2 * i]), lo = hex(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return EINVAL;
		m->config[i] = (uint8_t)(hi << 4 | lo);
	}
	m->has_config = true;
	return 0;
}

int ssa_notify_parse(const char *buf, size_t len, struct ssa_notify_msg *m)
{
	size_t at = 0;

	memset(m, 0, sizeof *m);
	if (len > SSA_NOTIFY_MAX)
		return EMSGSIZE;
	if (memchr(buf, '\0', len))
		return EINVAL;
	while (at < len) {
		const char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - line) : len - at;
		const char *eq = memchr(line, '=', ll);

		at += ll + (nl ? 1 : 0);
		if (ll == 0)
			continue;
		if (!eq)
			return EINVAL;
		if (is(line, ll, "READY=1"))
			m->ready = true;
		else if (is(line, ll, "RELOADING=1"))
			m->reloading = true;
		else if (is(line, ll, "STOPPING=1"))
			m->stopping = true;
		else if (is(line, ll, "FDSTORE=1"))
			m->fdstore = true;
		else if (is(line, ll, "FDSTOREREMOVE=1"))
			m->fdstore_remove = true;
		else if ((size_t)(eq - line) == 6 && memcmp(line, "FDNAME", 6) == 0 &&
			 take_name(eq + 1, ll - 7, m) != 0)
			return EINVAL;
		else if ((size_t)(eq - line) == 12 && memcmp(line, "X_SSA_CONFIG", 12) == 0 &&
			 take_config(eq + 1, ll - 13, m) != 0)
			return EINVAL;
	}
	if (m->fdstore && m->fdstore_remove)
		return EINVAL;
	if ((m->fdstore || m->fdstore_remove) && !m->name[0])
		return EINVAL;
	return 0;
}
