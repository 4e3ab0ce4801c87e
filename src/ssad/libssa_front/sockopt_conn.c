/* SPDX-License-Identifier: MIT */
/* The options of a libssa connection (sockopt.h): the option table's core
 * (engine/opt_table.c) with the connection's stage, its files (sockopt_file.c) and
 * its network socket (sockopt_net.c). */
#include "sockopt.h"

#include <errno.h>

#include "ssa/in_tls.h"
#include "../../proto/wire.h"
#include "conn.h"

enum ssa_opt_stage ssa_sockopt_stage(const struct ssa_conn *c)
{
	if (c->state != SSA_STATE_NEW)
		return SSA_OPT_LATE;
	return c->role == SSA_ROLE_NEW ? SSA_OPT_FRESH : SSA_OPT_UNCONNECTED;
}

int ssa_sockopt_set(struct ssa_conn *c, int level, int name, const void *val, size_t len,
		    const int *fds, int nfds)
{
	if (level != IPPROTO_TLS)
		return nfds ? EINVAL : ssa_sockopt_net_set(c, level, name, val, len);
	/* Only the file options carry descriptors. */
	if (!ssa_sockopt_is_file(name))
		return nfds ? EINVAL : ssa_sockopt_set_tls(c->pol, &c->opts, ssa_sockopt_stage(c),
							   name, val, len);
	if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL) || nfds < 1)
		return EINVAL;
	return ssa_sockopt_set_file(c, name, val, fds, nfds);
}

int ssa_sockopt_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		    size_t *len)
{
	struct ssa_opt_view v = {
		.pol = c->pol,
		.o = &c->opts,
		.ssl = c->state == SSA_STATE_ESTABLISHED ? c->ssl : NULL,
		.id = c->id,
	};

	if (level != IPPROTO_TLS)
		return ssa_sockopt_net_get(c, level, name, out, cap, len);
	return ssa_sockopt_get_tls(&v, name, out, cap, len);
}
