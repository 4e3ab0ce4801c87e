/* SPDX-License-Identifier: MIT */
/* Kernel-TLS key installation for both front ends: see ktls_keys.h. */
#include "ktls_keys.h"

#include "../../common/ktls_compat.h"

#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_index_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

bool ssa_ktls_kernel_has_tls(int *why)
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

/* The peer's application traffic secret (TLS 1.3), for the receive key. */
static void keylog_cb(const SSL *ssl, const char *line)
{
	struct ssa_ktls_secret *s = ex_index >= 0 ? SSL_get_ex_data(ssl, ex_index) : NULL;
	const char *want;
	size_t wl, n = 0;

	if (!s)
		return;
	want = SSL_is_server(ssl) ? "CLIENT_TRAFFIC_SECRET_0 " : "SERVER_TRAFFIC_SECRET_0 ";
	wl = strlen(want);
	if (strncmp(line, want, wl) != 0)
		return;
	line = strchr(line + wl, ' ');
	if (!line)
		return;
	line++;
	while (line[0] && line[1] && n < sizeof s->rx) {
		unsigned v;

		if (sscanf(line, "%2x", &v) != 1)
			return;
		s->rx[n++] = (unsigned char)v;
		line += 2;
	}
	s->rx_len = n;
}

void ssa_ktls_prepare_ctx(SSL_CTX *ctx)
{
	int err;

	/* Without kernel TLS no session is ever handed to the kernel (neither
	 * by libssa's hand-off nor by ssa.ko, which needs it too). */
	if (!ssa_ktls_kernel_has_tls(&err))
		return;
	pthread_once(&ex_once, ex_index_init);
	if (SSL_CTX_get_keylog_callback(ctx) != keylog_cb)
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
}

void ssa_ktls_attach(SSL *ssl, struct ssa_ktls_secret *s)
{
	pthread_once(&ex_once, ex_index_init);
	s->rx_len = 0;
	SSL_set_ex_data(ssl, ex_index, s);
}

void ssa_ktls_prepare_ssl(SSL *ssl, SSL_CTX *ctx, struct ssa_ktls_secret *s)
{
	ssa_ktls_prepare_ctx(ctx);
	ssa_ktls_attach(ssl, s);
	SSL_set_options(ssl, SSL_OP_ENABLE_KTLS);
	/* No record past the handshake may sit in OpenSSL's buffer: what
	 * follows the peer's Finished must reach the kernel. */
	SSL_set_read_ahead(ssl, 0);
}

void ssa_ktls_secret_clear(struct ssa_ktls_secret *s)
{
	OPENSSL_cleanse(s->rx, sizeof s->rx);
	s->rx_len = 0;
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

/* The kernel's crypto_info for a TLS 1.3 suite (protocol id) from its
 * traffic key and IV. @retval its size */
static size_t fill_crypto_info(void *out, unsigned id, const unsigned char *key,
			       const unsigned char *iv)
{
	struct tls12_crypto_info_aes_gcm_128 *g128 = out;
	struct tls12_crypto_info_aes_gcm_256 *g256 = out;
	struct tls12_crypto_info_chacha20_poly1305 *cc = out;

	if (id == 0x1301) {
		g128->info.version = TLS_1_3_VERSION;
		g128->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(g128->key, key, 16);
		memcpy(g128->salt, iv, 4);
		memcpy(g128->iv, iv + 4, 8);
		return sizeof *g128;
	}
	if (id == 0x1302) {
		g256->info.version = TLS_1_3_VERSION;
		g256->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(g256->key, key, 32);
		memcpy(g256->salt, iv, 4);
		memcpy(g256->iv, iv + 4, 8);
		return sizeof *g256;
	}
	cc->info.version = TLS_1_3_VERSION;
	cc->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
	memcpy(cc->key, key, 32);
	memcpy(cc->iv, iv, 12);
	return sizeof *cc;
}

/*
 * Install the TLS 1.3 receive key of ssl on fd (record sequence number 0)
 * from the secret the keylog callback kept in s. @retval 0 installed; -1
 * with why set (the receive side is then unchanged)
 */
static int install_rx13(SSL *ssl, int fd, const struct ssa_ktls_secret *s, char *why, size_t wl)
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
	if (!md || s->rx_len != (size_t)EVP_MD_get_size(md)) {
		snprintf(why, wl, "no TLS 1.3 receive secret (keylog callback)");
		return -1;
	}
	klen = id == 0x1301 ? 16 : 32;
	if (expand_label(md, s->rx, s->rx_len, "key", key, klen) ||
	    expand_label(md, s->rx, s->rx_len, "iv", iv, sizeof iv)) {
		ERR_clear_error();
		snprintf(why, wl, "key derivation failed");
		goto out;
	}
	cilen = fill_crypto_info(&ci, id, key, iv);
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

int ssa_ktls_install(SSL *ssl, int fd, struct ssa_ktls_secret *s, char *why, size_t wl)
{
	int rc;

	if (SSL_has_pending(ssl)) {
		snprintf(why, wl, "OpenSSL holds unread records");
		rc = -1;
	} else if (!BIO_get_ktls_send(SSL_get_wbio(ssl))) {
		snprintf(why, wl, "no kernel TLS transmit offload for %s %s", SSL_get_version(ssl),
			 SSL_get_cipher_name(ssl));
		rc = -1;
	} else if (BIO_get_ktls_recv(SSL_get_rbio(ssl))) {
		rc = 0;
	} else if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(why, wl, "no kernel TLS receive offload for %s %s", SSL_get_version(ssl),
			 SSL_get_cipher_name(ssl));
		rc = -1;
	} else {
		rc = install_rx13(ssl, fd, s, why, wl);
	}
	ssa_ktls_secret_clear(s);
	/* The connection goes on in the kernel, which ends it; ssad frees the
	 * SSL without a close_notify of its own. Without this, OpenSSL would
	 * take that for a broken connection and make its session (stored in
	 * the client session cache, TLS 1.2) not resumable. */
	if (rc == 0)
		SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
	return rc;
}
