/* SPDX-License-Identifier: MIT */
#include "json_out.h"

#include <stdarg.h>
#include <stdio.h>

void json_init(struct json_out *j, char *buf, size_t cap)
{
	j->p = buf;
	j->len = 0;
	j->cap = cap;
	j->full = false;
	if (cap)
		buf[0] = '\0';
}

void json_raw(struct json_out *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->p + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->cap - j->len) {
		j->full = true;
		j->p[j->len] = '\0';
		return;
	}
	j->len += (size_t)n;
}

void json_str(struct json_out *j, const char *s)
{
	json_raw(j, "\"");
	for (; s && *s && !j->full; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			json_raw(j, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			json_raw(j, "\\u%04x", ch);
		else
			json_raw(j, "%c", ch);
	}
	json_raw(j, "\"");
}
