/* SPDX-License-Identifier: MIT */
/* The supervisor loads configured keys into the keeper (keeper_loader.h). */
#include "keeper_loader.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "../keeper/keeper_msg.h"
#include "priv_io.h"

#define LOAD_TIMEOUT_MS 5000

static int send_load(int chan, int fd, uint32_t id, uint8_t *buf)
{
	struct ssa_keepmsg q = { .op = SSA_KEEP_LOAD_FD, .id = id };
	size_t len;
	int rc = ssa_keepmsg_encode(&q, buf, SSA_KEEP_MAX, &len);

	return rc ? rc : ssa_priv_send(chan, buf, len, fd) == 0 ? 0 : EPIPE;
}

int ssa_keeper_load(int chan, int fd, uint32_t *key_id, uint8_t *der, size_t *der_len)
{
	static uint8_t buf[SSA_KEEP_MAX];
	static uint32_t next_id;
	struct ssa_keepmsg r;
	uint32_t id = ++next_id;
	int rc;

	if (chan < 0)
		return EPIPE;
	if ((rc = send_load(chan, fd, id, buf)) != 0)
		return rc;
	for (;;) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, LOAD_TIMEOUT_MS) <= 0)
			return ETIMEDOUT;
		n = recv(chan, buf, sizeof buf, 0);
		if (n <= 0)
			return EPIPE;
		if (ssa_keepmsg_decode(buf, (size_t)n, &r) != 0 ||
		    r.op != (SSA_KEEP_LOAD_FD | SSA_KEEP_REPLY))
			return EBADMSG;
		if (r.id == id)
			break; /* else a late answer to a request that timed out */
	}
	if (r.status)
		return r.status;
	if (r.len > *der_len)
		return EMSGSIZE;
	memcpy(der, r.data, r.len);
	*der_len = r.len;
	*key_id = r.key;
	OPENSSL_cleanse(buf, sizeof buf);
	return 0;
}
