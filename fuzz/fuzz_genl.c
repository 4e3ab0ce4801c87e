/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: ssad's parser of the generic netlink messages ssa.ko
 * sends (src/ssad/kernel_msg.c). The first two bytes choose the family id
 * the parser expects; the rest is a receive buffer of netlink messages,
 * walked the way kernel_chan.c walks it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../src/ssad/kernel_front/kernel_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssa_kreq req;
	struct ssa_kmsg m;
	uint16_t family;
	size_t off = 0;

	if (size < 2)
		return 0;
	memcpy(&family, data, 2);
	data += 2;
	size -= 2;
	while (off < size) {
		size_t len = ssa_kmsg_next(data + off, size - off);

		if (!len)
			break;
		if (ssa_kmsg_parse(data + off, len, family, &m) == 0) {
			/* whatever was accepted must be self-consistent */
			for (int i = 0; i < m.n_opts; i++)
				if (m.opts[i].val && m.opts[i].len)
					(void)m.opts[i].val[m.opts[i].len - 1];
			(void)strlen(m.exe);
		}
		off += len;
	}
	/* the builder: echo the options back as results, as DONE does */
	ssa_kreq_init(&req, family, 1, 1, SSA_CMD_DONE, SSA_GENL_VERSION);
	if (ssa_kmsg_parse(data, size, family, &m) == 0) {
		for (int i = 0; i < m.n_opts; i++) {
			size_t n = ssa_kreq_nest(&req, SSA_A_RESULT);

			ssa_kreq_put_u32(&req, SSA_OPT_NAME, m.opts[i].name);
			ssa_kreq_put(&req, SSA_OPT_VALUE, m.opts[i].val, m.opts[i].len);
			ssa_kreq_nest_end(&req, n);
		}
	}
	if (ssa_kreq_end(&req) == 0) {
		struct ssa_kmsg back;

		(void)ssa_kmsg_parse(req.buf, req.len, family, &back);
	}
	return 0;
}
