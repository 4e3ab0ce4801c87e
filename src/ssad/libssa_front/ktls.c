/* SPDX-License-Identifier: MIT */
/*
 * Kernel-TLS hand-off for the userspace front end: see ktls.h.
 *
 * The keylog callback and the TLS 1.3 receive-key installation here also
 * serve the kernel front end (kernel_hs.c). The callback is set once on
 * each context when it is made (ssa_ktls_prepare_ctx()), never while
 * handshakes run on it; a session gets its secret only when a connection
 * was attached to it (ssa_ktls_attach()).
 */
#include "ktls.h"

#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

#include "../../common/ktls_compat.h"
#include "../../common/log.h"
#include "conn.h"
#include "../daemon.h"
#include "registry.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* Handed-off records and the count at which the next sweep runs. */
static size_t n_handed, sweep_at = 64;
static int ex_index = -1;

/* Whether the kernel has TLS (the "tls" upper layer protocol), asked once.
 * The question loads the module where it exists. */
static bool kernel_has_tls(int *why)
{
	static int has = -1, err;
	int fd;

	if (has < 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (fd < 0) {
			*why = errno;
			return false; /* not cached: may work later */
		}
		/* Without the ULP the kernel says ENOENT; with it, an
		 * unconnected socket is refused (ENOTCONN) after the ULP was
		 * found. */
		err = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") == 0 ? 0 : errno;
		close(fd);
		has = err == 0 || err == ENOTCONN;
	}
	*why = err;
	return has;
}

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
	avail = kernel_has_tls(&err);
	if (avail)
		log_info("kernel TLS available for libssa sockets: blocking connects and "
			 "accepted connections get the TCP socket itself");
	else
		log_debug("kernel TLS not available for libssa sockets (TCP_ULP \"tls\": %s): "
			  "proxy path", strerror(err));
	return avail;
}

/* The peer's application traffic secret (TLS 1.3), for the receive key. */
static void keylog_cb(const SSL *ssl, const char *line)
{
	struct ssa_conn *c = ex_index >= 0 ? SSL_get_ex_data(ssl, ex_index) : NULL;
	const char *want;
	size_t wl, n = 0;

	if (!c)
		return;
	want = SSL_is_server(ssl) ? "CLIENT_TRAFFIC_SECRET_0 " : "SERVER_TRAFFIC_SECRET_0 ";
	wl = strlen(want);
	if (strncmp(line, want, wl) != 0)
		return;
	line = strchr(line + wl, ' ');
	if (!line)
		return;
	line++;
	while (line[0] && line[1] && n < sizeof c->ktls_rx_secret) {
		unsigned v;

		if (sscanf(line, "%2x", &v) != 1)
			return;
		c->ktls_rx_secret[n++] = (unsigned char)v;
		line += 2;
	}
	c->ktls_rx_secret_len = n;
}

void ssa_ktls_prepare_ctx(SSL_CTX *ctx)
{
	int err;

	/* Without kernel TLS no session is ever handed to the kernel (neither
	 * by libssa's hand-off nor by ssa.ko, which needs it too), and the
	 * callback would only cost: OpenSSL 3.0 formats every secret of every
	 * handshake as a hex line (hundreds of sprintf calls) before calling
	 * it. */
	if (!kernel_has_tls(&err))
		return;
	if (ex_index < 0)
		ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (SSL_CTX_get_keylog_callback(ctx) != keylog_cb)
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
}

void ssa_ktls_attach(SSL *ssl, struct ssa_conn *c)
{
	if (ex_index < 0)
		ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	c->ktls_rx_secret_len = 0;
	SSL_set_ex_data(ssl, ex_index, c);
}

void ssa_ktls_prepare(struct ssa_conn *c, SSL_CTX *ctx)
{
	ssa_ktls_prepare_ctx(ctx);
	c->ktls_want = true;
	ssa_ktls_attach(c->ssl, c);
	SSL_set_options(c->ssl, SSL_OP_ENABLE_KTLS);
	/* No record past the handshake may sit in OpenSSL's buffer: what
	 * follows the peer's Finished must reach the kernel. */
	SSL_set_read_ahead(c->ssl, 0);
}

/* HKDF-Expand-Label(secret, label, "", len), RFC 8446 7.1 */
static int expand_label(const EVP_MD *md, const unsigned char *secret, size_t slen,
			const char *label, unsigned char *out, size_t len)
{
	unsigned char info[2 + 1 + 6 + 32 + 1];
	size_t ll = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5];

	if (ll > 32)
		return -1;
	info[n++] = (unsigned char)(len >> 8);
	info[n++] = (unsigned char)len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[3] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, len, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : -1;
}

int ssa_ktls_install_rx13(SSL *ssl, int fd, const struct ssa_conn *c, char *why, size_t wl)
{
	const SSL_CIPHER *ciph = SSL_get_current_cipher(ssl);
	const EVP_MD *md = ciph ? SSL_CIPHER_get_handshake_digest(ciph) : NULL;
	union {
		struct tls12_crypto_info_aes_gcm_128 g128;
		struct tls12_crypto_info_aes_gcm_256 g256;
		struct tls12_crypto_info_chacha20_poly1305 cc;
	} ci;
	unsigned char key[32], iv[12];
	unsigned id = ciph ? SSL_CIPHER_get_protocol_id(ciph) : 0;
	size_t klen, cilen;
	int rc = -1;

	memset(&ci, 0, sizeof ci);
	if (id != 0x1301 && id != 0x1302 && id != 0x1303) {
		snprintf(why, wl, "kernel TLS cannot take cipher %s",
			 ciph ? SSL_CIPHER_get_name(ciph) : "?");
		return -1;
	}
	if (!md || c->ktls_rx_secret_len != (size_t)EVP_MD_get_size(md)) {
		snprintf(why, wl, "no TLS 1.3 receive secret (keylog callback)");
		return -1;
	}
	klen = id == 0x1301 ? 16 : 32;
	if (expand_label(md, c->ktls_rx_secret, c->ktls_rx_secret_len, "key", key, klen) ||
	    expand_label(md, c->ktls_rx_secret, c->ktls_rx_secret_len, "iv", iv, sizeof iv)) {
		ERR_clear_error();
		snprintf(why, wl, "key derivation failed");
		goto out;
	}
	if (id == 0x1301) {
		ci.g128.info.version = TLS_1_3_VERSION;
		ci.g128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(ci.g128.key, key, 16);
		memcpy(ci.g128.salt, iv, 4);
		memcpy(ci.g128.iv, iv + 4, 8);
		cilen = sizeof ci.g128;
	} else if (id == 0x1302) {
		ci.g256.info.version = TLS_1_3_VERSION;
		ci.g256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(ci.g256.key, key, 32);
		memcpy(ci.g256.salt, iv, 4);
		memcpy(ci.g256.iv, iv + 4, 8);
		cilen = sizeof ci.g256;
	} else {
		ci.cc.info.version = TLS_1_3_VERSION;
		ci.cc.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(ci.cc.key, key, 32);
		memcpy(ci.cc.iv, iv, 12);
		cilen = sizeof ci.cc;
	}
	/* A failed TLS_RX leaves the receive side as it was: OpenSSL's. */
	if (setsockopt(fd, SOL_TLS, TLS_RX, &ci, (socklen_t)cilen) != 0) {
		snprintf(why, wl, "TLS_RX: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(&ci, sizeof ci);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(iv, sizeof iv);
	return rc;
}

int ssa_ktls_finish(struct ssa_conn *c, char *why, size_t len)
{
	SSL *ssl = c->ssl;
	int rc;

	snprintf(why, len, "not prepared");
	if (!c->ktls_want || !ssl || c->net.fd < 0)
		return -1;
	if (SSL_has_pending(ssl)) {
		snprintf(why, len, "OpenSSL holds unread records");
		rc = -1;
	} else if (!BIO_get_ktls_send(SSL_get_wbio(ssl))) {
		snprintf(why, len, "no transmit offload for %s %s", SSL_get_version(ssl),
			 SSL_get_cipher_name(ssl));
		rc = -1;
	} else if (BIO_get_ktls_recv(SSL_get_rbio(ssl))) {
		rc = 0;
	} else if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(why, len, "no receive offload for %s %s", SSL_get_version(ssl),
			 SSL_get_cipher_name(ssl));
		rc = -1;
	} else {
		rc = ssa_ktls_install_rx13(c->ssl, c->net.fd, c, why, len);
	}
	OPENSSL_cleanse(c->ktls_rx_secret, sizeof c->ktls_rx_secret);
	c->ktls_rx_secret_len = 0;
	return rc;
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
	if (c->app.fd >= 0)
		close(c->app.fd);
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
