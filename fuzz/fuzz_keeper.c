/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the key keeper's codec (src/ssad/keeper/keeper_msg.c),
 * which decodes ssad's requests in the keeper and the keeper's replies in
 * ssad. Whatever decodes must re-encode to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ssad/keeper/keeper_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SSA_KEEP_MAX];
	struct ssa_keepmsg m;
	size_t len;

	if (ssa_keepmsg_decode(data, size, &m) != 0)
		return 0;
	if (m.len && m.data[m.len - 1] == 0xff)
		(void)ssa_keepmsg_op_name(m.op);
	if (ssa_keepmsg_encode(&m, out, sizeof out, &len) != 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	return 0;
}
