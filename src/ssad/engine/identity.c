/* SPDX-License-Identifier: MIT */
#include "identity.h"
#include "../keeper/keeper_msg.h"

#include "remote_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ssa_read_fd_file(int fd, size_t max, char **out, size_t *outlen, char *why, size_t wlen)
{
	struct stat st;
	size_t off = 0;
	char *buf;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "not a regular file");
		return EINVAL;
	}
	if ((size_t)st.st_size > max) {
		snprintf(why, wlen, "file larger than %zu bytes", max);
		return EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, wlen, "read error: %s", n ? strerror(errno) : "short file");
			OPENSSL_cleanse(buf, off);
			free(buf);
			return EIO;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	return 0;
}

int ssa_load_chain_fd(int fd, STACK_OF(X509) **chain, char *why, size_t len)
{
	char *buf;
	size_t n;
	BIO *b;
	X509 *x;
	int rc = ssa_read_fd_file(fd, SSA_MAX_PEM_FILE, &buf, &n, why, len);

	if (rc)
		return rc;
	*chain = sk_X509_new_null();
	b = BIO_new_mem_buf(buf, (int)n);
	if (!*chain || !b) {
		sk_X509_free(*chain);
		*chain = NULL;
		BIO_free(b);
		free(buf);
		return ENOMEM;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(*chain, x);
	ERR_clear_error(); /* the end of the file reads as an error */
	BIO_free(b);
	free(buf);
	if (sk_X509_num(*chain) == 0) {
		sk_X509_free(*chain);
		*chain = NULL;
		snprintf(why, len, "no PEM certificate in the file");
		return EINVAL;
	}
	return 0;
}

int ssa_load_key_fd(int fd, const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
		    size_t len)
{
	char *buf;
	size_t n;
	BIO *b;
	int rc;

	/* ssad serving: the key keeper reads the file; ssad -t: read here */
	if (ssa_remote_key_active())
		return ssa_remote_key_load_fd(fd, owner, key, why, len);
	rc = ssa_read_fd_file(fd, SSA_MAX_PEM_FILE, &buf, &n, why, len);
	if (rc)
		return rc;
	b = BIO_new_mem_buf(buf, (int)n);
	/* No passphrase callback: an encrypted key cannot be used unattended. */
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") : NULL;
	ERR_clear_error();
	BIO_free(b);
	OPENSSL_cleanse(buf, n);
	free(buf);
	if (!*key) {
		snprintf(why, len, "no usable PEM private key in the file (encrypted keys are not supported)");
		return EINVAL;
	}
	return 0;
}

int ssa_identity_check(const struct ssa_identity *id, char *why, size_t len)
{
	X509 *leaf = sk_X509_value(id->chain, 0);

	if (!X509_check_private_key(leaf, id->key)) {
		ERR_clear_error();
		snprintf(why, len, "private key does not match the certificate");
		return EINVAL;
	}
	if (EVP_PKEY_get_security_bits(id->key) < 112) {
		snprintf(why, len, "key too weak for policy (%d-bit security, 112 required)",
			 EVP_PKEY_get_security_bits(id->key));
		return EINVAL;
	}
	return 0;
}

void ssa_identity_clear(struct ssa_identity *id)
{
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->key);
	id->chain = NULL;
	id->key = NULL;
}

char *ssa_chain_pem(STACK_OF(X509) *chain, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!b)
		return NULL;
	for (int i = 0; i < sk_X509_num(chain); i++)
		PEM_write_bio_X509(b, sk_X509_value(chain, i));
	n = BIO_get_mem_data(b, &data);
	if (n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(b);
	return out;
}

/* The configuration's keys (identity.h): in the worker, the supervisor has
 * the keeper read them. */
static int (*remote_key)(const char *path, uint32_t *key_id, uint8_t *der, size_t *der_len);

void ssa_cfg_keys_remote(int (*fn)(const char *path, uint32_t *key_id, uint8_t *der,
				   size_t *der_len))
{
	remote_key = fn;
}

int ssa_cfg_load_key(const char *path, EVP_PKEY **key, char *why, size_t wlen)
{
	static uint8_t der[SSA_KEEP_MAX_PAYLOAD];
	size_t len = sizeof der;
	uint32_t id;
	int fd, err;

	*key = NULL;
	if (remote_key) {
		if ((err = remote_key(path, &id, der, &len)) != 0) {
			snprintf(why, wlen, "%s", err == EINVAL ? "no usable PEM private key in the file "
				 "(RSA or EC; encrypted keys are not supported)" : strerror(err));
			return err;
		}
		if ((err = ssa_remote_key_wrap_loaded(id, der, len, key)) != 0)
			snprintf(why, wlen, "key keeper: its public key does not decode");
		return err;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(why, wlen, "%s", strerror(errno));
		return errno;
	}
	err = ssa_load_key_fd(fd, NULL, key, why, wlen);
	close(fd);
	return err;
}
