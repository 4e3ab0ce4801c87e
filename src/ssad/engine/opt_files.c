/* SPDX-License-Identifier: MIT */
/* The files of a file option (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES) read into a socket's options, with no
 * connection (opt_files.h): what both front ends share of file options. */
#include "opt_files.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssa/in_tls.h"
#include "config.h"
#include "identity.h"
#include "remote_key.h"
#include "tls_opts.h"

long long ssa_sockopt_pem_bytes(const int *fds, int nfds)
{
	long long total = 0;

	for (int i = 0; i < nfds; i++) {
		struct stat st;

		if (fstat(fds[i], &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	return total;
}

/**
 * The certificates of a PEM file, appended to out; at most max in all.
 * Decoded with PEM_read_bio() and d2i_X509(): OpenSSL 3's
 * PEM_read_bio_X509() sets up its decoder framework for every certificate
 * (about half a millisecond each), which would let one request hold the
 * loop for a tenth of a second.
 * @retval 0; EINVAL (not a regular file, no certificate, a bad one), EFBIG
 *         (more than max), EIO, ENOMEM, with why set
 */
static int load_certs(int fd, STACK_OF(X509) *out, int max, char *why, size_t wlen)
{
	char *buf;
	size_t off = 0;
	BIO *b;
	int rc, found = 0;

	/* The request was held to max-pem-size; a file that grew since
	 * is still held to the largest value max-pem-size may take. */
	if ((rc = ssa_read_fd_file(fd, 16u << 20, &buf, &off, why, wlen)) != 0)
		return rc;
	b = BIO_new_mem_buf(buf, (int)off);
	if (!b) {
		free(buf);
		return ENOMEM;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *der = NULL;
		long len = 0;
		const unsigned char *p;
		X509 *x;

		if (!PEM_read_bio(b, &name, &header, &der, &len))
			break; /* the end (or text that is not PEM) */
		if (strcmp(name, PEM_STRING_X509) != 0 && strcmp(name, PEM_STRING_X509_OLD) != 0) {
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_clear_free(der, (size_t)len);
			continue; /* a key (wiped) or other block: not a certificate */
		}
		p = der;
		x = d2i_X509(NULL, &p, len);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		if (!x || p != der + len) {
			X509_free(x);
			snprintf(why, wlen, "a certificate in the file cannot be decoded");
			rc = EINVAL;
			break;
		}
		if (sk_X509_num(out) >= max) {
			X509_free(x);
			snprintf(why, wlen, "more than %d certificates (max-trusted-certificates)", max);
			rc = EFBIG;
			break;
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			rc = ENOMEM;
			break;
		}
		found++;
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	BIO_free(b);
	/* A file with both a chain and its key: the key's text goes too. */
	OPENSSL_cleanse(buf, off);
	free(buf);
	if (!rc && !found) {
		snprintf(why, wlen, "no PEM certificate in the file");
		rc = EINVAL;
	}
	return rc;
}

int ssa_sockopt_read_files(int name, const int *fds, int nfds, int max_certs,
			   const struct ssa_key_owner *owner, STACK_OF(X509) **certs,
			   EVP_PKEY **key, char *r, size_t rlen)
{
	int err = 0;

	*certs = NULL;
	*key = NULL;
	if (name == TLS_PRIVATE_KEY)
		return ssa_load_key_fd(fds[0], owner, key, r, rlen);
	if (!(*certs = sk_X509_new_null()))
		return ENOMEM;
	/* Reading stops at the first certificate over the limit. */
	for (int i = 0; i < nfds && !err; i++)
		err = load_certs(fds[i], *certs, max_certs, r, rlen);
	if (err) {
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
	}
	return err;
}

int ssa_sockopt_keep_files(struct ssa_tls_opts *o, int name, const char *path,
			   STACK_OF(X509) *certs, EVP_PKEY *key)
{
	int err;

	if (name == TLS_CERTIFICATE_CHAIN) {
		err = ssa_opts_add_chain(o, certs, path);
		certs = err ? certs : NULL;
	} else if (name == TLS_PRIVATE_KEY) {
		err = ssa_opts_set_key(o, key, path);
		key = err ? key : NULL;
	} else {
		sk_X509_pop_free(o->trusted, X509_free);
		o->trusted = certs;
		certs = NULL;
		err = 0;
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return err;
}

int ssa_sockopt_load_file(const struct ssa_policy *pol, const struct ssa_limits *lim,
			  const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
			  enum ssa_opt_stage st, int name, const char *path, const int *fds,
			  int nfds)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	long long total;
	char r[200];
	int err = ssa_sockopt_file_allowed(pol, o, st, name, path, nfds);

	if (err)
		return err;
	if ((total = ssa_sockopt_pem_bytes(fds, nfds)) > lim->pem_size)
		return ssa_opts_fail(o, EFBIG, "%s: %lld bytes of PEM, more than max-pem-size (%d)",
				     path, total, lim->pem_size);
	err = ssa_sockopt_read_files(name, fds, nfds, lim->trusted_per_socket, owner, &certs, &key,
				     r, sizeof r);
	if (err)
		return ssa_opts_fail(o, err, "%s: %s", path, r);
	return ssa_sockopt_keep_files(o, name, path, certs, key);
}

int ssa_sockopt_load_ticket(const struct ssa_policy *pol, const struct ssa_limits *lim,
			    const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
			    enum ssa_opt_stage st, const char *path, const uint8_t *ticket,
			    uid_t sender)
{
	EVP_PKEY *key = NULL;
	char r[200];
	int err = ssa_sockopt_file_allowed(pol, o, st, TLS_PRIVATE_KEY, path, 1);

	if (err)
		return err;
	err = ssa_remote_key_load_ticket(ticket, sender, (uint32_t)lim->pem_size, owner, &key, r,
					 sizeof r);
	if (err)
		return ssa_opts_fail(o, err, "%s: %s", path, r);
	return ssa_sockopt_keep_files(o, TLS_PRIVATE_KEY, path, NULL, key);
}
