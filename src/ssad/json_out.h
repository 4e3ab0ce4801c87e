/* SPDX-License-Identifier: MIT */
/** @file json_out.h  A bounded JSON writer for ssactl replies. */
#ifndef SSAD_JSON_OUT_H
#define SSAD_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

struct json_out {
	char *p;
	size_t len, cap;
	bool full; /**< something did not fit (the text is cut) */
};

void json_init(struct json_out *j, char *buf, size_t cap);
/** Raw text, printf-style. */
void json_raw(struct json_out *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** A quoted, escaped JSON string. */
void json_str(struct json_out *j, const char *s);

#endif
