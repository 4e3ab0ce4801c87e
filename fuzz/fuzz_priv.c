/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the check of the worker's privileged requests
 * (src/ssad/supervisor/priv_msg.c), which ssad's supervisor, root, runs on
 * whatever its worker (the process that parses network bytes) sends.
 *
 * Input: byte 0 the number of descriptors that came with the request
 * (mod 5), the rest the datagram (at most a whole request and one byte). What the check accepts must keep its promises: a known op,
 * the op's descriptor count, ids not -1, a positive pid for LINKS, a
 * socket domain for SOCKET, both and want_netns 1 for LINKS_SOCKET, an address of the family's exact size for
 * BIND, a non-empty NUL-terminated path for OPEN, STAT and LOADKEY.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ssad/supervisor/priv_msg.h"
#include "ssa/ssa_genl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_promises(const struct ssa_priv_req *r, size_t nfds)
{
	if (r->uid == UINT32_MAX || r->gid == UINT32_MAX)
		abort();
	switch (r->op) {
	case SSA_PRIV_LINKS:
		if (nfds || r->pid <= 0 || r->want_netns > 1)
			abort();
		break;
	case SSA_PRIV_LINKS_SOCKET:
		if (nfds || r->pid <= 0 || r->want_netns != 1 ||
		    (r->domain != AF_INET && r->domain != AF_INET6))
			abort();
		break;
	case SSA_PRIV_SOCKET:
		if (nfds > 1 || (r->domain != AF_INET && r->domain != AF_INET6))
			abort();
		break;
	case SSA_PRIV_ACCEPT:
		if (nfds != 1)
			abort();
		break;
	case SSA_PRIV_BIND:
		if (nfds != 1 ||
		    !((r->addr.ss_family == AF_INET && r->addr_len == sizeof(struct sockaddr_in)) ||
		      (r->addr.ss_family == AF_INET6 && r->addr_len == sizeof(struct sockaddr_in6))))
			abort();
		break;
	case SSA_PRIV_OPEN:
	case SSA_PRIV_STAT:
	case SSA_PRIV_LOADKEY:
		if (nfds || !r->path[0] || !memchr(r->path, '\0', sizeof r->path))
			abort();
		break;
	case SSA_PRIV_KERNEL_KEY:
		if (nfds || r->kseq == 0 || r->kindex >= SSA_OPTS_MAX)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[sizeof(struct ssa_priv_req) + 1];
	struct ssa_priv_req out;
	size_t nfds, len;

	if (size < 1)
		return 0;
	nfds = data[0] % 5;
	len = size - 1 < sizeof buf ? size - 1 : sizeof buf;
	memcpy(buf, data + 1, len);
	if (ssa_priv_req_check(buf, len, nfds, &out) == 0) {
		/* exactly the bytes the op needs, and what they said */
		if (len != ssa_priv_req_len(&out) || memcmp(&out, buf, len) != 0)
			abort();
		check_promises(&out, nfds);
	}
	return 0;
}
