/* SPDX-License-Identifier: MIT */
/* The control requests libssa sends for a TLS socket's calls (ctl_requests.h). */
#include "ctl_requests.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../include/ssa/in_tls.h"
#include "../proto/wire.h"
#include "ctl_client.h"
#include "ktls_sock.h"
#include "libssa.h"
#include "real.h"

int ssa_req_socket(int domain, int type)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ssa_reply *rep;
	struct ssa_wbuf wb;
	uint8_t req[8];
	struct ssa_fd_info info;
	struct stat st;
	int rc, fd;

	rep = ssa_reply_new();
	if (!rep)
		return ssa_fail(ENOMEM);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, domain);
	ssa_put_i32(&wb, base);
	rc = ssa_call(SSA_MSG_SOCKET, req, wb.len, -1, rep);
	if (rc) {
		ssa_reply_free(rep);
		/* No TLS service: exactly what a kernel without the protocol says. */
		return ssa_fail(EPROTONOSUPPORT);
	}
	if (rep->status || rep->fd < 0 || rep->len != 16) {
		rc = rep->status ? rep->status : EPROTONOSUPPORT;
		ssa_reply_free(rep);
		return ssa_fail(rc);
	}
	fd = rep->fd;
	rep->fd = -1;
	memset(&info, 0, sizeof info);
	memcpy(&info.id, rep->data, sizeof info.id);
	memcpy(&info.instance, rep->data + 8, sizeof info.instance);
	ssa_reply_free(rep);
	info.domain = domain;
	info.sole = true;
	if (fstat(fd, &st) != 0 ||
	    (!(type & SOCK_CLOEXEC) && fcntl(fd, F_SETFD, 0) != 0) ||
	    ((type & SOCK_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) != 0)) {
		rc = errno;
		ssa_real.close(fd);
		return ssa_fail(rc);
	}
	info.dev = st.st_dev;
	info.ino = st.st_ino;
	if ((rc = ssa_fd_put(fd, &info)) != 0) {
		ssa_real.close(fd);
		return ssa_fail(rc);
	}
	return fd;
}

/* One SETOPT whose answer is not the caller's (the value was checked at
 * setsockopt()). */
static void flush_one(int fd, int level, int name, const void *val, size_t len)
{
	uint8_t req[SSA_WIRE_HOSTNAME_MAX + 1 + 16];
	struct ssa_wbuf wb;
	struct ssa_reply *rep = ssa_reply_new();

	if (!rep)
		return;
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, level);
	ssa_put_i32(&wb, name);
	ssa_put_blob(&wb, val, len);
	(void)ssa_call(SSA_MSG_SETOPT, req, wb.len, fd, rep);
	ssa_reply_free(rep);
}

/**
 * Send what fd's socket holds (TLS_REMOTE_HOSTNAME, TCP_NODELAY), each as
 * a SETOPT of its own: another request is about to act on the socket and
 * must see it set.
 */
void ssa_req_flush(int fd)
{
	char host[SSA_WIRE_HOSTNAME_MAX + 1];
	int nodelay;
	size_t n = ssa_fd_take_pending(fd, host, sizeof host, &nodelay);

	if (n)
		flush_one(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, n);
	if (nodelay) {
		int v = nodelay == SSA_NODELAY_HELD_ON;

		flush_one(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
	}
}

void ssa_req_flush_all(void)
{
	int fds[64], n;

	/* Each flush clears its entry: the list shrinks until empty. */
	while ((n = ssa_fd_pending_list(fds, 64)) > 0)
		for (int i = 0; i < n; i++)
			ssa_req_flush(fds[i]);
}

/**
 * The rest of a CONNECT reply that carries results (SSA_REPLY_RESULTS): keep
 * them in info, for ssa_fd_result().
 * @retval 0 kept, r consumed
 * @retval EPROTO not such a reply, or a malformed blob
 */
static int take_results(struct ssa_rbuf *r, struct ssa_fd_info *info)
{
	size_t n;
	const void *blk;

	if (ssa_get_u32(r) != SSA_REPLY_RESULTS)
		return EPROTO;
	blk = ssa_get_blob(r, SSA_WIRE_RESULTS_MAX, &n);
	if (!ssa_rbuf_done(r) || !ssa_results_valid(blk, n))
		return EPROTO;
	memcpy(info->results, blk, n);
	info->results_len = (uint16_t)n;
	return 0;
}

int ssa_req_connect(int fd, struct ssa_fd_info *info, const struct sockaddr *sa, socklen_t alen)
{
	struct ssa_reply *rep;
	struct ssa_rbuf r;
	struct ssa_wbuf wb;
	char host[SSA_WIRE_HOSTNAME_MAX + 1];
	uint8_t req[sizeof(struct sockaddr_storage) + 12 + sizeof host];
	uint32_t flags = 0;
	size_t hlen;
	bool nonblock;
	int rc, nodelay;

	nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	rep = ssa_reply_new();
	if (!rep)
		return ssa_fail(ENOMEM); /* before anything held is taken */
	/* The host name and TCP_NODELAY set before connect() go with it (no
	 * SETOPT). */
	hlen = ssa_fd_take_pending(fd, host, sizeof host, &nodelay);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_addr(&wb, sa, alen);
	if (nonblock)
		flags = SSA_CONNECT_NONBLOCK;
	else if (ssa_ktls_wanted())
		flags = SSA_CONNECT_KTLS_OK;
	/* A blocking connect's answer carries the handshake's results. */
	if (!nonblock)
		flags |= SSA_CONNECT_RESULTS;
	if (hlen)
		flags |= SSA_CONNECT_HOSTNAME;
	if (nodelay)
		flags |= SSA_CONNECT_NODELAY |
			 (nodelay == SSA_NODELAY_HELD_ON ? SSA_CONNECT_NODELAY_ON : 0);
	if (flags)
		ssa_put_u32(&wb, flags);
	if (hlen)
		ssa_put_blob(&wb, host, hlen);
	/* Blocking: returns when TCP + TLS handshake + verification are done
	 * (or the daemon's handshake timeout). Non-blocking: EINPROGRESS; the
	 * socket turns writable when the handshake is over, and SO_ERROR then
	 * tells how it ended. */
	rc = ssa_call(SSA_MSG_CONNECT, req, wb.len, fd, rep);
	if (rc == 0)
		rc = rep->status;
	else
		rc = ECONNABORTED;
	if (rc == EINPROGRESS) {
		info->connecting = true;
		ssa_fd_put(fd, info);
	}
	if (rc == 0) {
		ssa_rbuf_init(&r, rep->data, rep->len);
		ssa_get_addr(&r, &info->local, &info->local_len);
		ssa_get_addr(&r, &info->peer, &info->peer_len);
		if (!r.err && r.len - r.off > 4 && take_results(&r, info) != 0) {
			rc = ECONNABORTED;
		/* u32 flags: SSA_REPLY_KTLS, the reply's descriptor is the socket */
		} else if (!r.err && r.len - r.off == 4) {
			int nfd = rep->fd;

			rep->fd = -1;
			info->connected = true;
			if (ssa_get_u32(&r) != SSA_REPLY_KTLS || nfd < 0 || !ssa_rbuf_done(&r)) {
				if (nfd >= 0)
					ssa_real.close(nfd);
				rc = ECONNABORTED;
			} else if (ssa_ktls_take(fd, nfd, info) != 0) {
				rc = ECONNABORTED;
			}
		} else if (!ssa_rbuf_done(&r)) {
			rc = ECONNABORTED;
		} else {
			info->connected = true;
			ssa_fd_put(fd, info);
		}
	}
	ssa_reply_free(rep);
	return rc ? ssa_fail(rc) : 0;
}

/*
 * Options that name files: open them here, with the application's own
 * credentials, and pass the open descriptors. The daemon never opens a
 * path for a caller, and a private key's bytes never enter this process.
 * A directory passes each regular file in it.
 */
static int open_option_files(const char *path, bool dir_ok, int *fds, int max, int *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	DIR *dir;
	struct dirent *e;

	*n = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		int err = errno;

		ssa_real.close(fd);
		return err;
	}
	if (S_ISREG(st.st_mode)) {
		fds[(*n)++] = fd;
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || !dir_ok) {
		ssa_real.close(fd);
		return EINVAL;
	}
	dir = fdopendir(fd);
	if (!dir) {
		int err = errno;

		ssa_real.close(fd);
		return err;
	}
	while ((e = readdir(dir)) && *n < max) {
		int f;

		if (e->d_name[0] == '.')
			continue;
		f = openat(dirfd(dir), e->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (f < 0)
			continue; /* unreadable entries are not ours to use */
		if (fstat(f, &st) == 0 && S_ISREG(st.st_mode))
			fds[(*n)++] = f;
		else
			ssa_real.close(f);
	}
	closedir(dir);
	return *n ? 0 : ENOENT;
}

/**
 * May an option set on fd wait for its CONNECT? Only on a socket known
 * here as new: made by this process's socket() and never copied (another
 * descriptor's bind or connect would not show in fd's entry), not bound,
 * listening, connecting or connected, where ssad would take the option at
 * any time (its stage is SSA_OPT_FRESH).
 */
static bool deferrable(int fd)
{
	struct ssa_fd_info info;

	return ssa_fd_get(fd, &info, false) && info.sole && !info.bound && !info.listening &&
	       !info.connecting && !info.connected && !info.ktls;
}

/* TLS_PRIVATE_KEY's file (fds[1]) goes to ssad's key intake, not to the
 * worker that parses network bytes: on success the descriptor is closed,
 * *nfds is 1 and the worker gets ticket instead; an ssad without an intake
 * gets the descriptor (0, nothing changed). @retval 0 or errno (the file
 * closed, TLS_ERROR set) */
static int key_to_intake(int fd, const char *path, int *fds, int *nfds,
			 uint8_t ticket[SSA_KEY_TICKET_LEN], int *intake)
{
	char why[256];
	int rc = ssa_key_intake(fds[1], ticket, intake);

	if (rc == ENOENT)
		return 0;
	ssa_real.close(fds[1]);
	if (rc == 0) {
		*nfds = 1;
		return 0;
	}
	snprintf(why, sizeof why, "%s: ssad's key intake refused it: %s", path, strerror(rc));
	ssa_fd_set_error(fd, why);
	return rc;
}

int ssa_req_setopt(int fd, int level, int name, const void *val, socklen_t len)
{
	uint8_t req[SSA_WIRE_MAX_OPTVAL + 16 + SSA_KEY_TICKET_LEN], ticket[SSA_KEY_TICKET_LEN];
	int intake = -1;
	struct ssa_wbuf wb;
	struct ssa_reply *rep;
	int fds[SSA_WIRE_MAX_FDS], nfds = 1, rc;

	if (len > SSA_WIRE_MAX_OPTVAL)
		return ssa_fail(EINVAL);
	if (len && !val)
		return ssa_fail(EFAULT);
	fds[0] = fd;
	fds[1] = -1; /* a key file's, once opened */
	{
		char stale[8];

		(void)ssa_fd_take_error(fd, stale, sizeof stale); /* a new attempt */
	}
	if (level == IPPROTO_TLS && name == TLS_REMOTE_HOSTNAME && deferrable(fd)) {
		/* Checked as ssad checks it, and sent with the CONNECT. */
		if ((rc = ssa_check_hostname(val, len)) != 0 ||
		    (rc = ssa_fd_set_pending_host(fd, val, len)) != 0)
			return ssa_fail(rc);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_NODELAY && deferrable(fd)) {
		/* Any int is taken (as the kernel does) and, before connect,
		 * only recorded by ssad: held, and sent with the CONNECT. */
		int v;

		if (len < sizeof v)
			return ssa_fail(EINVAL);
		memcpy(&v, val, sizeof v);
		if ((rc = ssa_fd_set_pending_nodelay(fd, v != 0)) != 0)
			return ssa_fail(rc);
		return 0;
	}
	if (level == IPPROTO_TLS)
		ssa_req_flush(fd); /* TLS options are checked together in ssad */
	if (level == IPPROTO_TLS &&
	    (name == TLS_CERTIFICATE_CHAIN || name == TLS_PRIVATE_KEY ||
	     name == TLS_TRUSTED_PEER_CERTIFICATES)) {
		int nf;

		if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL))
			return ssa_fail(EINVAL);
		rc = open_option_files(val, name == TLS_TRUSTED_PEER_CERTIFICATES, fds + 1,
				       name == TLS_TRUSTED_PEER_CERTIFICATES ? SSA_WIRE_MAX_FDS - 1 : 1,
				       &nf);
		if (rc) {
			/* Refused here, with the caller's credentials: say why. */
			char why[256];

			snprintf(why, sizeof why, "%s: %s", (const char *)val,
				 rc == EINVAL ? "not a regular file" : strerror(rc));
			ssa_fd_set_error(fd, why);
			return ssa_fail(rc);
		}
		nfds += nf;
	}
	if (level == IPPROTO_TLS && name == TLS_PRIVATE_KEY && nfds == 2 &&
	    (rc = key_to_intake(fd, val, fds, &nfds, ticket, &intake)) != 0)
		return ssa_fail(rc);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, level);
	ssa_put_i32(&wb, name);
	ssa_put_blob(&wb, val, len);
	if (intake >= 0)
		ssa_put_bytes(&wb, ticket, sizeof ticket);
	rep = ssa_reply_new();
	if (!rep) {
		for (int i = 1; i < nfds; i++)
			ssa_real.close(fds[i]);
		if (intake >= 0)
			ssa_real.close(intake);
		return ssa_fail(ENOMEM);
	}
	rc = ssa_call_fds(SSA_MSG_SETOPT, req, wb.len, fds, nfds, rep);
	rc = rc ? ECONNABORTED : rep->status;
	ssa_reply_free(rep);
	for (int i = 1; i < nfds; i++)
		ssa_real.close(fds[i]);
	if (intake >= 0) /* a ticket not used is dropped now */
		ssa_real.close(intake);
	explicit_bzero(ticket, sizeof ticket);
	return rc ? ssa_fail(rc) : 0;
}

int ssa_req_getopt(int fd, int level, int name, void *val, socklen_t *len)
{
	uint8_t req[16];
	struct ssa_wbuf wb;
	struct ssa_reply *rep;
	int rc;

	if (!len || (*len && !val))
		return ssa_fail(EFAULT);
	if (level == IPPROTO_TLS && name == TLS_ERROR) {
		char local[256];

		if (ssa_fd_take_error(fd, local, sizeof local)) {
			size_t n = strlen(local) + 1;

			if (n > *len) {
				*len = (socklen_t)n;
				return ssa_fail(ERANGE);
			}
			memcpy(val, local, n);
			*len = (socklen_t)n;
			return 0;
		}
	}
	ssa_req_flush(fd);
	/* The handshake's results came with the CONNECT answer. */
	if (level == IPPROTO_TLS && (rc = ssa_fd_result(fd, name, val, len)) != ENOENT)
		return rc ? ssa_fail(rc) : 0;
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, level);
	ssa_put_i32(&wb, name);
	ssa_put_u32(&wb, *len);
	rep = ssa_reply_new();
	if (!rep)
		return ssa_fail(ENOMEM);
	rc = ssa_call(SSA_MSG_GETOPT, req, wb.len, fd, rep);
	if (rc) {
		rc = ECONNABORTED;
	} else if (rep->status == ERANGE && rep->len == 4) {
		uint32_t need;

		memcpy(&need, rep->data, sizeof need);
		*len = need;
		rc = ERANGE;
	} else if (rep->status) {
		rc = rep->status;
	} else if (rep->len > *len) {
		rc = ECONNABORTED; /* ssad broke the contract */
	} else {
		memcpy(val, rep->data, rep->len);
		*len = (socklen_t)rep->len;
	}
	ssa_reply_free(rep);
	return rc ? ssa_fail(rc) : 0;
}

/* Send an address-carrying request; on success the reply's address is
 * the socket's local address. */
static int addr_call(uint16_t type, int fd, const void *payload, size_t plen,
		     struct ssa_fd_info *info)
{
	struct ssa_reply *rep = ssa_reply_new();
	struct ssa_rbuf r;
	int rc;

	if (!rep)
		return ENOMEM;
	rc = ssa_call(type, payload, plen, fd, rep);
	rc = rc ? ECONNABORTED : rep->status;
	if (!rc) {
		ssa_rbuf_init(&r, rep->data, rep->len);
		ssa_get_addr(&r, &info->local, &info->local_len);
		if (!ssa_rbuf_done(&r))
			rc = ECONNABORTED;
	}
	ssa_reply_free(rep);
	return rc;
}

int ssa_req_bind(int fd, const struct sockaddr *sa, socklen_t alen, struct ssa_fd_info *info)
{
	uint8_t req[sizeof(struct sockaddr_storage) + 4];
	struct ssa_wbuf wb;

	ssa_req_flush(fd);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_addr(&wb, sa, alen);
	return addr_call(SSA_MSG_BIND, fd, req, wb.len, info);
}

int ssa_req_listen(int fd, int backlog, struct ssa_fd_info *info)
{
	uint8_t req[8];
	struct ssa_wbuf wb;

	ssa_req_flush(fd);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, backlog);
	if (ssa_ktls_wanted())
		ssa_put_u32(&wb, SSA_LISTEN_KTLS_OK);
	return addr_call(SSA_MSG_LISTEN, fd, req, wb.len, info);
}
