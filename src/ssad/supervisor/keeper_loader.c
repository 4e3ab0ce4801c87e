/* SPDX-License-Identifier: MIT */
/* The supervisor loads configured keys into the keeper (keeper_loader.h). */
#include "keeper_loader.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../keeper/keeper_call.h"

#define LOAD_TIMEOUT_MS 5000

/* The supervisor's request ids on its channel (one thread). */
static uint32_t next_id;

int ssa_keeper_load(int chan, int fd, uint32_t *key_id, uint8_t *der, size_t *der_len)
{
	static uint8_t buf[SSA_KEEP_MAX];
	struct ssa_keepmsg q = { .op = SSA_KEEP_LOAD_FD, .id = ++next_id }, r;
	int rc;

	if (chan < 0)
		return EPIPE;
	rc = ssa_keeper_call(chan, &q, fd, buf, LOAD_TIMEOUT_MS, &r);
	if (rc == 0 && r.status)
		rc = r.status;
	if (rc == 0 && r.len > *der_len)
		rc = EMSGSIZE;
	if (rc == 0) {
		memcpy(der, r.data, r.len);
		*der_len = r.len;
		*key_id = r.key;
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return rc;
}

/* A request of op with payload (and fd if >= 0) that is answered with a
 * status only. @retval 0, the keeper's errno, or ssa_keeper_call()'s */
static int call_status(int chan, uint8_t op, const uint8_t *payload, uint32_t len, int fd)
{
	static uint8_t buf[SSA_KEEP_MAX]; /* a late LOAD reply may come first */
	struct ssa_keepmsg q = { .op = op, .id = ++next_id, .len = len, .data = payload }, r;
	int rc;

	if (chan < 0)
		return EPIPE;
	rc = ssa_keeper_call(chan, &q, fd, buf, LOAD_TIMEOUT_MS, &r);
	return rc ? rc : r.status;
}

int ssa_keeper_stash(int chan, int fd, const uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t uid)
{
	uint8_t payload[SSA_KEEP_TICKET_LEN + 4];
	int rc;

	memcpy(payload, ticket, SSA_KEEP_TICKET_LEN);
	memcpy(payload + SSA_KEEP_TICKET_LEN, &uid, 4);
	rc = call_status(chan, SSA_KEEP_STASH, payload, sizeof payload, fd);
	OPENSSL_cleanse(payload, sizeof payload);
	return rc;
}

int ssa_keeper_unstash(int chan, const uint8_t ticket[SSA_KEEP_TICKET_LEN])
{
	return call_status(chan, SSA_KEEP_UNSTASH, ticket, SSA_KEEP_TICKET_LEN, -1);
}

int ssa_keeper_set_handover_key(int chan, const uint8_t key[SSA_KEEP_HANDOVER_KEY_LEN])
{
	return call_status(chan, SSA_KEEP_HANDOVER_KEY, key, SSA_KEEP_HANDOVER_KEY_LEN, -1);
}
