/* SPDX-License-Identifier: MIT */
/* Private keys sealed for the restart hand-over (key_seal.h). */
#include "key_seal.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static const uint8_t magic[8] = { 'S', 'S', 'A', 'K', 'E', 'Y', '1', '\n' };

#define NONCE_LEN 12
#define TAG_LEN 16

bool ssa_key_is_sealed(const uint8_t *buf, size_t len)
{
	return len >= SSA_SEAL_OVERHEAD && memcmp(buf, magic, sizeof magic) == 0;
}

/* One AES-256-GCM pass: encrypt (enc) or decrypt in to out, the magic as
 * additional data, tag written (enc) or checked. @retval 0 or EINVAL/EIO */
static int gcm(bool enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *in, size_t len,
	       uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok, rc = enc ? EIO : EINVAL;

	if (!c || len > INT_MAX) {
		EVP_CIPHER_CTX_free(c);
		return EIO;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) == 1 &&
	     EVP_CipherUpdate(c, NULL, &n, magic, (int)sizeof magic) == 1 &&
	     EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 && (size_t)n == len;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + len, &n) == 1 && n == 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	if (ok)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int ssa_key_seal(const uint8_t key[SSA_SEAL_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t *nonce = out + sizeof magic;

	memcpy(out, magic, sizeof magic);
	if (RAND_bytes(nonce, NONCE_LEN) != 1)
		return EIO;
	return gcm(true, key, nonce, in, len, out + sizeof magic + NONCE_LEN,
		   out + sizeof magic + NONCE_LEN + len);
}

int ssa_key_unseal(const uint8_t key[SSA_SEAL_KEY_LEN], const uint8_t *in, size_t len,
		   uint8_t *out, size_t *out_len)
{
	size_t n;
	uint8_t tag[TAG_LEN];
	int rc;

	if (!ssa_key_is_sealed(in, len))
		return EINVAL;
	n = len - SSA_SEAL_OVERHEAD;
	memcpy(tag, in + len - TAG_LEN, TAG_LEN);
	rc = gcm(false, key, in + sizeof magic, in + sizeof magic + NONCE_LEN, n, out, tag);
	if (rc) {
		memset(out, 0, n);
		return EINVAL;
	}
	*out_len = n;
	return 0;
}
