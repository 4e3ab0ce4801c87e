/* SPDX-License-Identifier: MIT */
/* The worker's requests to its supervisor, checked (priv_msg.h). No I/O. */
#include "priv_msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ssa/ssa_genl.h"

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

static bool has_path(uint32_t op)
{
	return op == SSA_PRIV_OPEN || op == SSA_PRIV_STAT || op == SSA_PRIV_LOADKEY;
}

size_t ssa_priv_req_len(const struct ssa_priv_req *r)
{
	size_t len = offsetof(struct ssa_priv_req, path);

	return has_path(r->op) ? len + strnlen(r->path, sizeof r->path - 1) + 1 : len;
}

size_t ssa_priv_rep_len(uint32_t op, const struct ssa_priv_rep *rp)
{
	if (op == SSA_PRIV_LOADKEY)
		return offsetof(struct ssa_priv_rep, der) +
		       (rp->der_len <= sizeof rp->der ? rp->der_len : sizeof rp->der);
	if (op == SSA_PRIV_LINKS || op == SSA_PRIV_LINKS_SOCKET)
		return offsetof(struct ssa_priv_rep, der);
	return offsetof(struct ssa_priv_rep, links);
}

int ssa_priv_rep_check(uint32_t op, const struct ssa_priv_rep *rp, size_t len)
{
	if (len < offsetof(struct ssa_priv_rep, links))
		return EINVAL;
	if (op == SSA_PRIV_LOADKEY && (len < offsetof(struct ssa_priv_rep, der) ||
				       rp->der_len > sizeof rp->der))
		return EINVAL;
	return len == ssa_priv_rep_len(op, rp) ? 0 : EINVAL;
}

int ssa_priv_req_check(const void *buf, size_t len, size_t nfds, struct ssa_priv_req *out)
{
	static const size_t fixed = offsetof(struct ssa_priv_req, path);
	struct ssa_priv_req r;

	if (len < fixed || len > sizeof r)
		return EINVAL;
	memset(&r, 0, sizeof r);
	memcpy(&r, buf, len);
	/* A path ends with the datagram: its NUL is the last byte sent. */
	if (has_path(r.op) ? len == fixed || r.path[len - fixed - 1] != '\0' ||
				     strlen(r.path) != len - fixed - 1 :
			     len != fixed)
		return EINVAL;
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
		if (nfds != 0 || !r.path[0])
			return EINVAL;
		break;
	case SSA_PRIV_KERNEL_KEY:
		if (nfds != 0 || r.kseq == 0 || r.kindex >= SSA_OPTS_MAX)
			return EINVAL;
		break;
	default:
		return EINVAL;
	}
	*out = r;
	return 0;
}
