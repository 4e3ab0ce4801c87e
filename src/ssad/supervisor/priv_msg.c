/* SPDX-License-Identifier: MIT */
/* The worker's requests to its supervisor, checked (priv_msg.h). No I/O. */
#include "priv_msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static bool addr_ok(const struct ssa_priv_req *r)
{
	if (r->addr_len > sizeof r->addr)
		return false;
	if (r->addr.ss_family == AF_INET)
		return r->addr_len == sizeof(struct sockaddr_in);
	if (r->addr.ss_family == AF_INET6)
		return r->addr_len == sizeof(struct sockaddr_in6);
	return false;
}

int ssa_priv_req_check(const void *buf, size_t len, size_t nfds, struct ssa_priv_req *out)
{
	struct ssa_priv_req r;

	if (len != sizeof r)
		return EINVAL;
	memcpy(&r, buf, sizeof r);
	if (r.uid == UINT32_MAX || r.gid == UINT32_MAX)
		return EINVAL;
	switch (r.op) {
	case SSA_PRIV_LINKS:
		if (nfds != 0 || r.pid <= 0 || r.want_netns > 1)
			return EINVAL;
		break;
	case SSA_PRIV_LINKS_SOCKET:
		if (nfds != 0 || r.pid <= 0 || r.want_netns != 1 ||
		    (r.domain != AF_INET && r.domain != AF_INET6))
			return EINVAL;
		break;
	case SSA_PRIV_SOCKET:
		if (nfds > 1 || (r.domain != AF_INET && r.domain != AF_INET6))
			return EINVAL;
		break;
	case SSA_PRIV_ACCEPT:
		if (nfds != 1)
			return EINVAL;
		break;
	case SSA_PRIV_BIND:
		if (nfds != 1 || !addr_ok(&r))
			return EINVAL;
		break;
	case SSA_PRIV_OPEN:
	case SSA_PRIV_STAT:
	case SSA_PRIV_LOADKEY:
		if (nfds != 0 || !r.path[0] || !memchr(r.path, '\0', sizeof r.path))
			return EINVAL;
		break;
	default:
		return EINVAL;
	}
	*out = r;
	return 0;
}
