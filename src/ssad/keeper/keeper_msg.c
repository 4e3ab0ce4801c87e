/* SPDX-License-Identifier: MIT */
#include "keeper_msg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Whether a payload of len bytes fits the op (the request's or, if reply,
 * the successful reply's). */
static bool payload_ok(uint8_t op, bool reply, uint32_t len)
{
	switch (op) {
	case SSA_KEEP_LOAD_FD:
		return reply ? len > 0 : len == 0;
	case SSA_KEEP_LOAD_TICKET:
		return reply ? len > 0 : len == SSA_KEEP_TICKET_LEN + 8u;
	case SSA_KEEP_STASH:
		return reply ? len == 0 : len == SSA_KEEP_TICKET_LEN + 4u;
	case SSA_KEEP_UNSTASH:
		return reply ? len == 0 : len == SSA_KEEP_TICKET_LEN;
	case SSA_KEEP_HANDOVER_KEY:
		return reply ? len == 0 : len == SSA_KEEP_HANDOVER_KEY_LEN;
	case SSA_KEEP_LOAD_BYTES:
		return len > 0;
	case SSA_KEEP_RSA_PRIVATE:
		return len > 0 && len <= SSA_KEEP_MAX_RSA;
	case SSA_KEEP_ECDSA_SIGN:
		/* a DER signature of P-521 is at most 139 bytes */
		return len > 0 && len <= (reply ? 2u * SSA_KEEP_MAX_DIGEST + 16u : SSA_KEEP_MAX_DIGEST);
	case SSA_KEEP_RELEASE:
	case SSA_KEEP_EXPORT:
		return len == 0;
	default:
		return false;
	}
}

/* Whether the request names a key, and must. */
static bool key_ok(uint8_t op, uint32_t key)
{
	bool needs = op == SSA_KEEP_RSA_PRIVATE || op == SSA_KEEP_ECDSA_SIGN ||
		     op == SSA_KEEP_RELEASE || op == SSA_KEEP_EXPORT;

	return needs ? key != 0 : key == 0;
}

static int check(const struct ssa_keepmsg *m)
{
	bool reply = (m->op & SSA_KEEP_REPLY) != 0;
	uint8_t op = m->op & (uint8_t)~SSA_KEEP_REPLY;

	if (op < SSA_KEEP_LOAD_FD || op > SSA_KEEP_OP_MAX || m->len > SSA_KEEP_MAX_PAYLOAD)
		return EBADMSG;
	if (!reply)
		return m->status == 0 && key_ok(op, m->key) && payload_ok(op, false, m->len) ? 0 : EBADMSG;
	if (m->status != 0)
		return m->len == 0 ? 0 : EBADMSG;
	if ((op == SSA_KEEP_LOAD_FD || op == SSA_KEEP_LOAD_BYTES || op == SSA_KEEP_LOAD_TICKET) &&
	    m->key == 0)
		return EBADMSG;
	return payload_ok(op, true, m->len) ? 0 : EBADMSG;
}

int ssa_keepmsg_encode(const struct ssa_keepmsg *m, uint8_t *buf, size_t cap, size_t *out_len)
{
	uint8_t pad[2] = { 0, 0 };

	if (check(m) != 0 || (m->len && !m->data))
		return EINVAL;
	if (cap < SSA_KEEP_HDR + (size_t)m->len)
		return ENOSPC;
	buf[0] = m->op;
	buf[1] = m->status;
	memcpy(buf + 2, pad, 2);
	memcpy(buf + 4, &m->id, 4);
	memcpy(buf + 8, &m->key, 4);
	memcpy(buf + 12, &m->len, 4);
	if (m->len)
		memcpy(buf + SSA_KEEP_HDR, m->data, m->len);
	*out_len = SSA_KEEP_HDR + (size_t)m->len;
	return 0;
}

int ssa_keepmsg_decode(const uint8_t *buf, size_t len, struct ssa_keepmsg *m)
{
	if (len < SSA_KEEP_HDR || buf[2] != 0 || buf[3] != 0)
		return EBADMSG;
	m->op = buf[0];
	m->status = buf[1];
	memcpy(&m->id, buf + 4, 4);
	memcpy(&m->key, buf + 8, 4);
	memcpy(&m->len, buf + 12, 4);
	if ((size_t)m->len != len - SSA_KEEP_HDR)
		return EBADMSG;
	m->data = m->len ? buf + SSA_KEEP_HDR : NULL;
	return check(m);
}

const char *ssa_keepmsg_op_name(uint8_t op)
{
	static const char *const names[] = { "?", "load-fd", "load-bytes", "rsa-private",
					     "ecdsa-sign", "release", "export", "stash", "unstash",
					     "load-ticket", "handover-key" };
	uint8_t o = op & (uint8_t)~SSA_KEEP_REPLY;

	return o <= SSA_KEEP_OP_MAX ? names[o] : "?";
}
