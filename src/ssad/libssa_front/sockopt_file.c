/* SPDX-License-Identifier: MIT */
/* The options that name files (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES; sockopt.h): judged, read (on the jobs
 * thread for a control client) and kept in the socket's options. */
#include "sockopt.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssa/in_tls.h"
#include "../../proto/wire.h"
#include "../daemon.h"
#include "../engine/identity.h"
#include "../engine/tls_opts.h"
#include "../jobs.h"
#include "conn.h"
#include "control.h"

/**
 * Files a request brings are parsed on the loop, so their cost is bounded
 * before anything is read: at most max-pem-size bytes in all (EFBIG), and
 * while the user's earlier requests have used up her share of the loop's
 * time (max-request-ms-per-user) she is asked to come back (EAGAIN).
 */
static int files_ok(struct ssa_conn *c, const char *path, const int *fds, int nfds)
{
	const struct ssa_limits *lim = &c->d->policy->cfg.limits;
	long long total = 0;

	for (int i = 0; i < nfds; i++) {
		struct stat st;

		if (fstat(fds[i], &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	if (total > lim->pem_size) {
		if (c->user)
			ssa_user_refused(c->user, "max-pem-size", (unsigned)lim->pem_size, c->pid);
		return ssa_opts_fail(&c->opts, EFBIG, "%s: %lld bytes of PEM, more than max-pem-size (%d)", path,
			   total, lim->pem_size);
	}
	if (c->user && ssa_user_busy(c->d, c->user)) {
		ssa_user_refused(c->user, "max-request-ms-per-user",
				 (unsigned)lim->request_ms_per_user, c->pid);
		return ssa_opts_fail(&c->opts, EAGAIN, "%s: this user's requests have used their share of ssad's "
			   "time (max-request-ms-per-user = %d); try again", path,
			   lim->request_ms_per_user);
	}
	return 0;
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

	/* files_ok() held the request to max-pem-size; a file that grew since
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
			OPENSSL_free(der);
			continue; /* a key or other block: not a certificate */
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
	free(buf);
	if (!rc && !found) {
		snprintf(why, wlen, "no PEM certificate in the file");
		rc = EINVAL;
	}
	return rc;
}

/**
 * The file options in three steps: precheck() on the loop (may the socket
 * take it now?), load() anywhere (reads and decodes the files;
 * thread-safe), apply() on the loop (checks again, since the socket may
 * have changed meanwhile, and keeps the result).
 */
static int precheck(struct ssa_conn *c, int name, const char *path, int nfds)
{
	enum ssa_opt_stage st = ssa_sockopt_stage(c);

	if (st != SSA_OPT_FRESH)
		return EOPNOTSUPP;
	if (c->file_job)
		return ssa_opts_fail(&c->opts, EAGAIN, "%s: another file of this socket is being "
				     "read", path);
	return ssa_sockopt_file_allowed(c->pol, &c->opts, st, name, path, nfds);
}

/** Read the files: certificates into *certs, or the key into *key. */
static int load(int name, const int *fds, int nfds, int max_certs, STACK_OF(X509) **certs,
		EVP_PKEY **key, char *r, size_t rlen)
{
	int err = 0;

	*certs = NULL;
	*key = NULL;
	if (name == TLS_PRIVATE_KEY)
		return ssa_load_key_fd(fds[0], key, r, rlen);
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

/** Keep trust anchors, charged to the socket's user. */
static int keep_anchors(struct ssa_conn *c, const char *path, STACK_OF(X509) *certs)
{
	const struct ssa_limits *lim = &c->d->policy->cfg.limits;
	int n = sk_X509_num(certs);

	if (c->user && c->user->trusted - c->n_trusted + (unsigned)n >
	    (unsigned)lim->trusted_per_user) {
		ssa_user_refused(c->user, "max-trusted-certificates-per-user",
				 (unsigned)lim->trusted_per_user, c->pid);
		return ssa_opts_fail(&c->opts, ENOBUFS, "%s: this user's sockets hold %u trusted "
				     "certificates; %d more exceed max-trusted-certificates-per-user "
				     "(%d)", path, c->user->trusted, n, lim->trusted_per_user);
	}
	sk_X509_pop_free(c->opts.trusted, X509_free);
	if (c->user)
		c->user->trusted = c->user->trusted - c->n_trusted + (unsigned)n;
	c->opts.trusted = certs;
	c->n_trusted = (unsigned)n;
	return 0;
}

/** Keep what load() read; certs and key are consumed either way. */
static int apply(struct ssa_conn *c, int name, const char *path, STACK_OF(X509) *certs,
		 EVP_PKEY *key)
{
	int err = precheck(c, name, path, name == TLS_TRUSTED_PEER_CERTIFICATES ? 0 : 1);

	if (!err) {
		if (name == TLS_CERTIFICATE_CHAIN)
			err = ssa_opts_add_chain(&c->opts, certs, path);
		else if (name == TLS_PRIVATE_KEY)
			err = ssa_opts_set_key(&c->opts, key, path);
		else
			err = keep_anchors(c, path, certs);
		if (!err)
			return 0;
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return err;
}

int ssa_sockopt_set_file(struct ssa_conn *c, int name, const char *path, const int *fds,
			 int nfds)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	char r[200];
	int err;

	if ((err = precheck(c, name, path, nfds)) != 0 ||
	    (err = files_ok(c, path, fds, nfds)) != 0)
		return err;
	err = load(name, fds, nfds, c->d->policy->cfg.limits.trusted_per_socket, &certs, &key,
		   r, sizeof r);
	if (err)
		return ssa_opts_fail(&c->opts, err, "%s: %s", path, r);
	return apply(c, name, path, certs, key);
}

/* The same off the loop: the control client's answer waits for it. */
struct file_job {
	struct ssa_job job;
	int name;
	int fds[SSA_WIRE_MAX_FDS];
	int nfds;
	int max_certs;
	int err;                     /**< of load() */
	char why[200];
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	struct ssa_conn *conn;       /**< NULL once the socket is gone */
	struct ssa_ctl_client *cl;   /**< NULL once the client is gone */
	struct ssa_user *user;
	char path[SSA_WIRE_MAX_OPTVAL + 1];
};

static void file_work(struct ssa_job *jb)
{
	struct file_job *j = (struct file_job *)jb;

	j->err = load(j->name, j->fds, j->nfds, j->max_certs, &j->certs, &j->key, j->why,
		      sizeof j->why);
}

static void file_done(struct ssa_job *jb)
{
	struct file_job *j = (struct file_job *)jb;
	struct ssa_conn *c = j->conn;
	int rc = j->err;

	for (int i = 0; i < j->nfds; i++)
		close(j->fds[i]);
	if (j->user)
		ssa_user_charge(j->user, (double)jb->cpu_us / 1000.0);
	if (!rc && !j->certs && !j->key)
		rc = ECONNABORTED; /* never read: ssad is stopping */
	if (c) {
		c->file_job = NULL;
		if (rc)
			ssa_opts_fail(&c->opts, rc, "%s: %s", (const char *)j->path, (const char *)j->why);
		else
			rc = apply(c, j->name, j->path, j->certs, j->key);
		j->certs = NULL;
		j->key = NULL;
	} else if (!rc) {
		rc = EBADF; /* the socket is gone */
	}
	sk_X509_pop_free(j->certs, X509_free);
	EVP_PKEY_free(j->key);
	if (j->cl)
		ssa_ctl_file_done(j->cl, rc);
	free(j);
}

int ssa_sockopt_set_file_async(struct ssa_conn *c, struct ssa_ctl_client *cl, int name,
			       const void *val, size_t len, const int *fds, int nfds)
{
	struct file_job *j;
	int err;

	if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL) || nfds < 1 || nfds > SSA_WIRE_MAX_FDS)
		return EINVAL;
	if ((err = precheck(c, name, val, nfds)) != 0 ||
	    (err = files_ok(c, val, fds, nfds)) != 0)
		return err;
	j = calloc(1, sizeof *j);
	if (!j)
		return ENOMEM;
	for (int i = 0; i < nfds; i++) {
		j->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (j->fds[i] < 0) {
			err = errno;
			for (int k = 0; k < i; k++)
				close(j->fds[k]);
			free(j);
			return err;
		}
	}
	j->nfds = nfds;
	j->name = name;
	j->max_certs = c->d->policy->cfg.limits.trusted_per_socket;
	j->conn = c;
	j->cl = cl;
	j->user = c->user;
	snprintf(j->path, sizeof j->path, "%s", (const char *)val);
	j->job.work = file_work;
	j->job.done = file_done;
	c->file_job = j;
	cl->file_job = j;
	ssa_jobs_submit(&j->job);
	return SSA_SOCKOPT_PENDING;
}

void ssa_sockopt_forget_conn(struct file_job *j)
{
	j->conn = NULL;
}

void ssa_sockopt_forget_client(struct file_job *j)
{
	j->cl = NULL;
}
