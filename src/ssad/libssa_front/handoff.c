/* SPDX-License-Identifier: MIT */
/*
 * Kernel-TLS hand-off for the userspace front end: see handoff.h. The keys
 * are installed by the engine (engine/ktls_keys.h), as for the kernel
 * front end; what is here is libssa's side: whether to offer the hand-off,
 * and the records of handed-off sockets.
 */
#include "handoff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/log.h"
#include "conn.h"
#include "../daemon.h"
#include "../engine/ktls_keys.h"
#include "registry.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* Handed-off records and the count at which the next sweep runs. */
static size_t n_handed, sweep_at = 64;

bool ssa_ktls_available(void)
{
	static int avail = -1;
	int err;

	if (avail >= 0)
		return avail;
	const char *env = getenv("SSAD_NO_KTLS");

	avail = 0;
	if (env && *env && strcmp(env, "0") != 0)
		return false;
	avail = ssa_ktls_kernel_has_tls(&err);
	if (avail)
		log_info("kernel TLS available for libssa sockets: blocking connects and "
			 "accepted connections get the TCP socket itself");
	else
		log_debug("kernel TLS not available for libssa sockets (TCP_ULP \"tls\": %s): "
			  "proxy path", strerror(err));
	return avail;
}

int ssa_ktls_finish(struct ssa_conn *c, char *why, size_t len)
{
	snprintf(why, len, "not prepared");
	if (!c->ktls_want || !c->ssl || c->net.fd < 0) {
		ssa_ktls_secret_clear(&c->ktls_secret);
		return -1;
	}
	return ssa_ktls_install(c->ssl, c->net.fd, &c->ktls_secret, why, len);
}

static uint64_t cookie_of(int fd)
{
	uint64_t v = 0;
	socklen_t sl = sizeof v;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &v, &sl) != 0)
		return 0;
	return v;
}

int ssa_ktls_adopt(struct ssa_conn *c)
{
	struct ssa_sock_key key;
	struct ssa_conn *old;
	BIO *null_bio;
	int err;

	if (ssa_sock_key_of(c->net.fd, &key) != 0)
		return EBADF;
	/* A record left from an earlier socket with this inode: it is gone. */
	old = ssa_registry_find(&key);
	if (old && old != c && old->ktls)
		ssa_conn_destroy(old);
	if (c->registered) {
		ssa_registry_del(&c->key);
		c->registered = false;
	}
	if ((err = ssa_registry_add(&key, c)) != 0)
		return err;
	c->key = key;
	c->registered = true;
	c->ktls_cookie = cookie_of(c->net.fd);
	/* The session is never read or written again; its descriptor number
	 * must not be used once closed. */
	null_bio = BIO_new(BIO_s_null());
	if (null_bio)
		SSL_set_bio(c->ssl, null_bio, null_bio);
	ssa_watch_del(&c->d->loop, &c->app);
	ssa_watch_del(&c->d->loop, &c->net);
	ssa_conn_close_stream(c);
	c->app.fd = -1;
	free(c->up);
	free(c->down);
	c->up = c->down = NULL;
	c->up_len = c->down_len = 0;
	c->ktls = true;
	n_handed++;
	return 0;
}

void ssa_ktls_drop_net(struct ssa_conn *c)
{
	if (c->net.fd >= 0)
		close(c->net.fd);
	c->net.fd = -1;
	if (n_handed >= sweep_at)
		ssa_ktls_sweep(c->d);
}

bool ssa_ktls_same(const struct ssa_conn *c, int fd)
{
	return !c->ktls || !c->ktls_cookie || cookie_of(fd) == c->ktls_cookie;
}

void ssa_ktls_forget(struct ssa_conn *c)
{
	if (c->ktls && n_handed)
		n_handed--;
	c->ktls = false;
}

static int cmp_ino(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Socket inodes of the TCP sockets of ssad's network namespace (where every
 * handed-off socket was made). */
static int live_inodes(unsigned long **out, size_t *n)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long *v = NULL;
	size_t cap = 0, len = 0;
	char line[512];

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f) {
			if (i == 1 && errno == ENOENT)
				continue; /* no IPv6 */
			free(v);
			return -1;
		}
		while (fgets(line, sizeof line, f)) {
			unsigned long ino;

			if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &ino) != 1 ||
			    !ino)
				continue;
			if (len == cap) {
				unsigned long *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof *v);

				if (!nv) {
					fclose(f);
					free(v);
					return -1;
				}
				v = nv;
				cap = cap ? cap * 2 : 256;
			}
			v[len++] = ino;
		}
		fclose(f);
	}
	if (len)
		qsort(v, len, sizeof *v, cmp_ino);
	*out = v;
	*n = len;
	return 0;
}

void ssa_ktls_sweep(struct ssad *d)
{
	unsigned long *inos = NULL;
	size_t n = 0, gone = 0;

	if (!n_handed)
		return;
	if (live_inodes(&inos, &n) != 0) {
		sweep_at = n_handed * 2;
		return;
	}
	for (struct ssa_conn *c = d->conns, *nx; c; c = nx) {
		unsigned long ino;

		nx = c->next;
		if (!c->ktls || c->net.fd >= 0)
			continue;
		ino = (unsigned long)c->key.ino;
		if (!n || !bsearch(&ino, inos, n, sizeof *inos, cmp_ino)) {
			ssa_conn_destroy(c);
			gone++;
		}
	}
	free(inos);
	sweep_at = n_handed * 2 < 64 ? 64 : n_handed * 2;
	if (gone)
		log_debug("kernel TLS: %zu closed sockets forgotten, %zu live", gone, n_handed);
}
