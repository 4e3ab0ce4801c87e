/* SPDX-License-Identifier: MIT */
/* Generic netlink messages of the kernel front end: decode and build. */
#include "kernel_msg.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>

#include "ssa/in_tls.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

size_t ssa_kmsg_next(const void *buf, size_t len)
{
	struct nlmsghdr nh;

	if (len < sizeof nh)
		return 0;
	memcpy(&nh, buf, sizeof nh);
	if (nh.nlmsg_len < sizeof nh || nh.nlmsg_len > len)
		return 0;
	return ALIGN4(nh.nlmsg_len) <= len ? ALIGN4(nh.nlmsg_len) : nh.nlmsg_len;
}

/* Walk attributes in [p, p+len): calls back with type and payload. */
typedef int (*attr_fn)(uint16_t type, const uint8_t *val, size_t len, void *arg);

static int walk(const uint8_t *p, size_t len, attr_fn fn, void *arg)
{
	while (len > 0) {
		struct nlattr a;
		size_t alen, step;
		int err;

		if (len < sizeof a)
			return EINVAL;
		memcpy(&a, p, sizeof a);
		alen = a.nla_len;
		if (alen < sizeof a || alen > len)
			return EINVAL;
		if ((err = fn(a.nla_type & NLA_TYPE_MASK, p + sizeof a, alen - sizeof a, arg)) != 0)
			return err;
		step = ALIGN4(alen);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static int get_u32(const uint8_t *val, size_t len, uint32_t *out)
{
	if (len != sizeof *out)
		return EINVAL;
	memcpy(out, val, sizeof *out);
	return 0;
}

static int get_str(const uint8_t *val, size_t len, const char **out)
{
	if (len == 0 || val[len - 1] != '\0' || memchr(val, '\0', len) != val + len - 1)
		return EINVAL;
	*out = (const char *)val;
	return 0;
}

struct opt_arg {
	struct ssa_kopt *o;
	bool name, value;
};

static int opt_attr(uint16_t type, const uint8_t *val, size_t len, void *arg)
{
	struct opt_arg *a = arg;
	uint32_t v;

	switch (type) {
	case SSA_OPT_NAME:
		a->name = true;
		return get_u32(val, len, &a->o->name);
	case SSA_OPT_VALUE:
		if (len > SSA_RESULT_MAX)
			return EINVAL;
		a->value = true;
		a->o->val = val;
		a->o->len = (uint32_t)len;
		return 0;
	case SSA_OPT_FD:
		if (get_u32(val, len, &v) || (int32_t)v < 0)
			return EINVAL;
		a->o->fd = (int32_t)v;
		return 0;
	case SSA_OPT_HELD:
		if (len != 0)
			return EINVAL;
		a->o->held = true;
		return 0;
	default:
		return EINVAL;
	}
}

static int ssa_attr(uint16_t type, const uint8_t *val, size_t len, void *arg)
{
	struct ssa_kmsg *m = arg;
	uint32_t v;

	switch (type) {
	case SSA_A_PAD:
		return 0;
	case SSA_A_ID:
		if (len != sizeof m->id)
			return EINVAL;
		memcpy(&m->id, val, sizeof m->id);
		m->has_id = true;
		return 0;
	case SSA_A_SEQ:
		m->has_seq = true;
		return get_u32(val, len, &m->seq);
	case SSA_A_FD:
		if (get_u32(val, len, &v) || (int32_t)v < 0)
			return EINVAL;
		m->fd = (int32_t)v;
		m->has_fd = true;
		return 0;
	case SSA_A_ROLE:
		if (len != 1 || (val[0] != SSA_ROLE_CLIENT_K && val[0] != SSA_ROLE_SERVER_K))
			return EINVAL;
		m->role = val[0];
		return 0;
	case SSA_A_FAMILY:
		if (len != sizeof m->family)
			return EINVAL;
		memcpy(&m->family, val, sizeof m->family);
		return m->family == AF_INET || m->family == AF_INET6 ? 0 : EINVAL;
	case SSA_A_ADDR:
		if (len < sizeof(sa_family_t) || len > sizeof m->addr)
			return EINVAL;
		memset(&m->addr, 0, sizeof m->addr);
		memcpy(&m->addr, val, len);
		m->addr_len = (socklen_t)len;
		return 0;
	case SSA_A_PID:
		return get_u32(val, len, &m->pid);
	case SSA_A_UID:
		m->has_uid = true;
		return get_u32(val, len, &m->uid);
	case SSA_A_GID:
		return get_u32(val, len, &m->gid);
	case SSA_A_EXE:
		if (len > SSA_EXE_MAX)
			return EINVAL;
		return get_str(val, len, &m->exe);
	case SSA_A_OPT: {
		struct opt_arg a;
		int err;

		if (m->n_opts == SSA_OPTS_MAX)
			return EINVAL;
		a.o = &m->opts[m->n_opts];
		a.o->fd = -1;
		a.o->val = NULL;
		a.o->len = 0;
		a.o->held = false;
		a.name = a.value = false;
		err = walk(val, len, opt_attr, &a);
		/* count it even when bad: its fd must be closed */
		m->n_opts++;
		/* held: a key file the key taker fetches (no descriptor here) */
		if (err || !a.name || !a.value ||
		    (a.o->held && (a.o->fd >= 0 || a.o->name != TLS_PRIVATE_KEY)))
			return EINVAL;
		return 0;
	}
	default:
		/* the kernel sends nothing else */
		return EINVAL;
	}
}

/*
 * After a malformed message: find the descriptors it names anyway (the
 * kernel installed them in ssad's table before sending), so that the
 * caller's ssa_kmsg_close_fds() closes them. Tolerates what ssa_attr()
 * refuses; stops only where the attribute structure itself is broken.
 */
static int opt_fd_salvage(uint16_t type, const uint8_t *val, size_t len, void *arg)
{
	struct ssa_kopt *o = arg;
	uint32_t v;

	if (type == SSA_OPT_FD && get_u32(val, len, &v) == 0 && (int32_t)v >= 0)
		o->fd = (int32_t)v;
	return 0;
}

static int fd_salvage(uint16_t type, const uint8_t *val, size_t len, void *arg)
{
	struct ssa_kmsg *m = arg;
	uint32_t v;

	if (type == SSA_A_FD && get_u32(val, len, &v) == 0 && (int32_t)v >= 0) {
		m->fd = (int32_t)v;
		m->has_fd = true;
	} else if (type == SSA_A_OPT && m->n_opts < SSA_OPTS_MAX) {
		struct ssa_kopt *o = &m->opts[m->n_opts];

		memset(o, 0, sizeof *o);
		o->fd = -1;
		(void)walk(val, len, opt_fd_salvage, o);
		if (o->fd >= 0)
			m->n_opts++;
	}
	return 0;
}

static int ctrl_attr(uint16_t type, const uint8_t *val, size_t len, void *arg)
{
	struct ssa_kmsg *m = arg;

	if (type == CTRL_ATTR_FAMILY_ID) {
		if (len != sizeof m->ctrl_family_id)
			return EINVAL;
		memcpy(&m->ctrl_family_id, val, sizeof m->ctrl_family_id);
	} else if (type == CTRL_ATTR_VERSION) {
		if (len != sizeof m->ctrl_version)
			return EINVAL;
		memcpy(&m->ctrl_version, val, sizeof m->ctrl_version);
	}
	return 0;
}

int ssa_kmsg_parse(const void *buf, size_t len, uint16_t family_id, struct ssa_kmsg *m)
{
	const uint8_t *p = buf;
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	size_t body;

	memset(m, 0, sizeof *m);
	m->fd = -1;
	m->exe = "";
	if (len < sizeof nh)
		return EINVAL;
	memcpy(&nh, p, sizeof nh);
	if (nh.nlmsg_len < sizeof nh || nh.nlmsg_len > len)
		return EINVAL;
	m->type = nh.nlmsg_type;
	m->nlseq = nh.nlmsg_seq;
	body = nh.nlmsg_len - sizeof nh;
	p += sizeof nh;
	if (nh.nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr e;

		if (body < sizeof e.error)
			return EINVAL;
		memcpy(&e.error, p, sizeof e.error);
		if (e.error > 0 || e.error < -4095)
			return EINVAL;
		m->error = -e.error;
		return 0;
	}
	if (nh.nlmsg_type < NLMSG_MIN_TYPE)
		return nh.nlmsg_type == NLMSG_DONE || nh.nlmsg_type == NLMSG_NOOP ? 0 : EINVAL;
	if (body < sizeof gh)
		return EINVAL;
	memcpy(&gh, p, sizeof gh);
	m->cmd = gh.cmd;
	p += sizeof gh;
	body -= sizeof gh;
	if (nh.nlmsg_type == GENL_ID_CTRL)
		return walk(p, body, ctrl_attr, m);
	if (!family_id || nh.nlmsg_type != family_id)
		return EINVAL;
	if (gh.cmd != SSA_CMD_HANDSHAKE && gh.cmd != SSA_CMD_ACCEPT && gh.cmd != SSA_CMD_CHECK &&
	    gh.cmd != SSA_CMD_TAKE_KEY)
		return EINVAL;
	if (walk(p, body, ssa_attr, m) != 0) {
		m->fd = -1;
		m->has_fd = false;
		m->n_opts = 0;
		(void)walk(p, body, fd_salvage, m);
		return EINVAL;
	}
	if (!m->has_id || !m->has_seq || m->seq == 0)
		return EINVAL;
	if (gh.cmd == SSA_CMD_CHECK && (m->has_fd || !m->n_opts))
		return EINVAL;
	for (int i = 0; i < m->n_opts; i++)
		if (m->opts[i].held && gh.cmd != SSA_CMD_ACCEPT)
			return EINVAL;
	if (gh.cmd == SSA_CMD_TAKE_KEY && (!m->has_fd || !m->has_uid || m->n_opts))
		return EINVAL;
	if (gh.cmd == SSA_CMD_ACCEPT &&
	    (!m->has_fd || !m->role || !m->family || !m->addr_len ||
	     m->addr.ss_family != m->family))
		return EINVAL;
	return 0;
}

void ssa_kreq_init(struct ssa_kreq *r, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd,
		   uint8_t version)
{
	struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq };
	struct genlmsghdr gh = { .cmd = cmd, .version = version };

	memset(r->buf, 0, sizeof nh + sizeof gh);
	memcpy(r->buf, &nh, sizeof nh);
	memcpy(r->buf + sizeof nh, &gh, sizeof gh);
	r->len = NLMSG_LENGTH(sizeof gh);
	r->overflow = false;
}

void ssa_kreq_put(struct ssa_kreq *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr a;
	size_t total = ALIGN4(sizeof a + len);

	if (r->overflow || len > 65535 - sizeof a || r->len + total > sizeof r->buf) {
		r->overflow = true;
		return;
	}
	a.nla_len = (uint16_t)(sizeof a + len);
	a.nla_type = type;
	memset(r->buf + r->len, 0, total);
	memcpy(r->buf + r->len, &a, sizeof a);
	if (len)
		memcpy(r->buf + r->len + sizeof a, data, len);
	r->len += total;
}

void ssa_kreq_put_u32(struct ssa_kreq *r, uint16_t type, uint32_t v)
{
	ssa_kreq_put(r, type, &v, sizeof v);
}

void ssa_kreq_put_u64(struct ssa_kreq *r, uint16_t type, uint64_t v)
{
	ssa_kreq_put(r, type, &v, sizeof v);
}

void ssa_kreq_put_str(struct ssa_kreq *r, uint16_t type, const char *s)
{
	ssa_kreq_put(r, type, s, strlen(s) + 1);
}

size_t ssa_kreq_nest(struct ssa_kreq *r, uint16_t type)
{
	size_t off = r->len;

	ssa_kreq_put(r, (uint16_t)(type | NLA_F_NESTED), NULL, 0);
	return off;
}

void ssa_kreq_nest_end(struct ssa_kreq *r, size_t off)
{
	struct nlattr a;

	if (r->overflow)
		return;
	memcpy(&a, r->buf + off, sizeof a);
	if (r->len - off > 65535) {
		r->overflow = true;
		return;
	}
	a.nla_len = (uint16_t)(r->len - off);
	memcpy(r->buf + off, &a, sizeof a);
}

int ssa_kreq_end(struct ssa_kreq *r)
{
	struct nlmsghdr nh;

	if (r->overflow)
		return EMSGSIZE;
	memcpy(&nh, r->buf, sizeof nh);
	nh.nlmsg_len = (uint32_t)r->len;
	memcpy(r->buf, &nh, sizeof nh);
	return 0;
}

void ssa_kreq_get_family(struct ssa_kreq *r, uint32_t seq)
{
	ssa_kreq_init(r, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, CTRL_CMD_GETFAMILY, 1);
	ssa_kreq_put_str(r, CTRL_ATTR_FAMILY_NAME, SSA_GENL_NAME);
}
