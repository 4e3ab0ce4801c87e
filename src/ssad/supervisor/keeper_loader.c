/* SPDX-License-Identifier: MIT */
/* The supervisor loads configured keys into the keeper (keeper_loader.h). */
#include "keeper_loader.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../keeper/keeper_call.h"

#define LOAD_TIMEOUT_MS 5000

int ssa_keeper_load(int chan, int fd, uint32_t *key_id, uint8_t *der, size_t *der_len)
{
	static uint8_t buf[SSA_KEEP_MAX];
	static uint32_t next_id;
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
