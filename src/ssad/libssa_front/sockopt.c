/* SPDX-License-Identifier: MIT */
/* The options of design §3 that this version provides; the others answer
 * ENOPROTOOPT until their feature lands. */
#include "sockopt.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../include/ssa/in_tls.h"
#include "../../common/log.h"
#include "../../proto/wire.h"
#include "conn.h"
#include "../daemon.h"
#include "control.h"
#include "../engine/identity.h"
#include "../jobs.h"
#include "../engine/tls_context.h"

/* A DNS name or an IP literal: letters, digits, '-', '.', ':' (IPv6) only;
 * labels of 1..63 bytes. */
static int valid_hostname(const char *s)
{
	size_t label = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

__attribute__((format(printf, 3, 4)))
static int why(struct ssa_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->opts.error, sizeof c->opts.error, fmt, ap);
	va_end(ap);
	return err;
}

/*
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
		return why(c, EFBIG, "%s: %lld bytes of PEM, more than max-pem-size (%d)", path,
			   total, lim->pem_size);
	}
	if (c->user && ssa_user_busy(c->d, c->user)) {
		ssa_user_refused(c->user, "max-request-ms-per-user",
				 (unsigned)lim->request_ms_per_user, c->pid);
		return why(c, EAGAIN, "%s: this user's requests have used their share of ssad's "
			   "time (max-request-ms-per-user = %d); try again", path,
			   lim->request_ms_per_user);
	}
	return 0;
}

/*
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

/*
 * The file options (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES) in three steps: precheck() on the loop
 * (may the socket take it now?), load() anywhere (reads and decodes the
 * files; thread-safe), apply() on the loop (checks again, since the socket
 * may have changed meanwhile, and keeps the result).
 */
static int precheck(struct ssa_conn *c, int name, const char *path, int nfds)
{
	if (c->role != SSA_ROLE_NEW || c->state != SSA_STATE_NEW)
		return EOPNOTSUPP;
	if (c->file_job)
		return why(c, EAGAIN, "%s: another file of this socket is being read", path);
	switch (name) {
	case TLS_CERTIFICATE_CHAIN:
		if (nfds != 1)
			return EINVAL;
		if (c->opts.n_ids == SSA_MAX_IDENTITIES)
			return why(c, EINVAL, "at most %d identities per socket", SSA_MAX_IDENTITIES);
		if (c->opts.n_ids && !c->opts.ids[c->opts.n_ids - 1].key)
			return why(c, EINVAL, "%s: set TLS_PRIVATE_KEY for the previous chain first",
				   path);
		return 0;
	case TLS_PRIVATE_KEY:
		if (nfds != 1)
			return EINVAL;
		if (c->opts.n_ids == 0 || c->opts.ids[c->opts.n_ids - 1].key)
			return why(c, EINVAL, "%s: set TLS_CERTIFICATE_CHAIN first", path);
		return 0;
	default:
		/* A client may add trust anchors only where the policy allows
		 * it. A socket that asked for client certificates
		 * (TLS_REQUEST_PEER_AUTH first) is a server naming the client
		 * CAs it accepts: its own access control, which extends
		 * nobody's trust; connect() refuses such a socket under
		 * app-trust-anchors = no (EPERM). Either way the files are
		 * bounded. */
		if (!c->pol->cfg.app_trust_anchors && !c->opts.peer_auth)
			return why(c, EPERM, "%s", "policy does not let applications add trust "
				   "anchors (app-trust-anchors = no)");
		return 0;
	}
}

/* Read the files: certificates into *certs, or the key into *key. */
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

/* Keep what load() read; certs and key are consumed either way. */
static int apply(struct ssa_conn *c, int name, const char *path, STACK_OF(X509) *certs,
		 EVP_PKEY *key)
{
	const struct ssa_limits *lim = &c->d->policy->cfg.limits;
	char r[200];
	int err = precheck(c, name, path, name == TLS_TRUSTED_PEER_CERTIFICATES ? 0 : 1), n;

	if (err)
		goto out;
	if (name == TLS_CERTIFICATE_CHAIN) {
		c->opts.ids[c->opts.n_ids].chain = certs;
		c->opts.ids[c->opts.n_ids].key = NULL;
		c->opts.n_ids++;
		return 0;
	}
	if (name == TLS_PRIVATE_KEY) {
		struct ssa_identity *id = &c->opts.ids[c->opts.n_ids - 1];

		id->key = key;
		if ((err = ssa_identity_check(id, r, sizeof r)) != 0) {
			EVP_PKEY_free(id->key);
			id->key = NULL;
			snprintf(c->opts.error, sizeof c->opts.error, "%s: %s", path, r);
		}
		return err;
	}
	n = sk_X509_num(certs);
	if (c->user && c->user->trusted - c->n_trusted + (unsigned)n >
	    (unsigned)lim->trusted_per_user) {
		ssa_user_refused(c->user, "max-trusted-certificates-per-user",
				 (unsigned)lim->trusted_per_user, c->pid);
		err = why(c, ENOBUFS, "%s: this user's sockets hold %u trusted certificates; "
			  "%d more exceed max-trusted-certificates-per-user (%d)", path,
			  c->user->trusted, n, lim->trusted_per_user);
		goto out;
	}
	sk_X509_pop_free(c->opts.trusted, X509_free);
	if (c->user)
		c->user->trusted = c->user->trusted - c->n_trusted + (unsigned)n;
	c->opts.trusted = certs;
	c->n_trusted = (unsigned)n;
	return 0;
out:
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return err;
}

/* The whole of a file option, here and now (the kernel front end). */
static int set_file(struct ssa_conn *c, int name, const char *path, const int *fds, int nfds)
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
	if (err) {
		snprintf(c->opts.error, sizeof c->opts.error, "%s: %s", path, r);
		return err;
	}
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
			why(c, rc, "%s: %s", (const char *)j->path, (const char *)j->why);
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

static int put(void *out, size_t cap, size_t *len, const void *v, size_t n)
{
	*len = n;
	if (n > cap)
		return ERANGE;
	memcpy(out, v, n);
	return 0;
}

static int put_str(void *out, size_t cap, size_t *len, const char *s)
{
	return put(out, cap, len, s, strlen(s) + 1);
}

/*
 * Options of the network socket that applications may set through a TLS
 * socket. A whitelist: ssad may hold privileges (CAP_NET_ADMIN, ...) that
 * its callers lack, and must not lend them (SO_MARK, SO_BINDTODEVICE,
 * high SO_PRIORITY, restricted congestion controls are not here).
 */
static bool net_option(int level, int name, bool get)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_KEEPALIVE || name == SO_LINGER || name == SO_REUSEADDR ||
		       name == SO_REUSEPORT || name == SO_RCVBUF || name == SO_SNDBUF ||
		       name == SO_OOBINLINE || name == SO_PRIORITY;
	case IPPROTO_TCP:
		return name == TCP_NODELAY || name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
		       name == TCP_KEEPCNT || name == TCP_USER_TIMEOUT || name == TCP_QUICKACK ||
		       name == TCP_NOTSENT_LOWAT || name == TCP_MAXSEG || name == TCP_CORK ||
		       name == TCP_LINGER2 || name == TCP_SYNCNT || name == TCP_DEFER_ACCEPT ||
		       (get && (name == TCP_INFO || name == TCP_CONGESTION));
	case IPPROTO_IP:
		return name == IP_TOS || name == IP_TTL;
	case IPPROTO_IPV6:
		return name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS || name == IPV6_V6ONLY;
	default:
		return false;
	}
}

static int net_setopt(struct ssa_conn *c, int level, int name, const void *val, size_t len)
{
	int err;

	if (!net_option(level, name, false))
		return ENOPROTOOPT;
	if (level == SOL_SOCKET && name == SO_PRIORITY) {
		int v;

		if (len != sizeof v)
			return EINVAL;
		memcpy(&v, val, sizeof v);
		if (v < 0 || v > 6)
			return EPERM; /* needs CAP_NET_ADMIN: not lent */
	}
	if (c->net.fd < 0 && (err = ssa_conn_net_socket(c)) != 0)
		return err == EINVAL ? ENOTCONN : err;
	if (level == IPPROTO_TCP && name == TCP_NODELAY) {
		int v;

		if (len < sizeof v)
			return EINVAL;
		memcpy(&v, val, sizeof v);
		c->nodelay = v != 0;
		/* Handshakes run with it on; it takes effect once connected. */
		if (c->state != SSA_STATE_ESTABLISHED)
			return 0;
	}
	return setsockopt(c->net.fd, level, name, val, (socklen_t)len) == 0 ? 0 : errno;
}

static int net_getopt(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		      size_t *len)
{
	socklen_t l = (socklen_t)cap;
	int err;

	if (level == SOL_SOCKET && name == SO_ERROR) {
		/* The pending error of a failed connect (or a broken
		 * connection), reported once, as the kernel does. */
		int v = c->soerr_taken ? 0 : c->state == SSA_STATE_FAILED || c->net_dead ?
					    c->error_errno : 0;

		if (v)
			c->soerr_taken = true;
		return put(out, cap, len, &v, sizeof v);
	}
	if (!net_option(level, name, true))
		return ENOPROTOOPT;
	if (level == IPPROTO_TCP && name == TCP_NODELAY && c->state != SSA_STATE_ESTABLISHED)
		return put(out, cap, len, &c->nodelay, sizeof c->nodelay);
	if (c->net.fd < 0 && (err = ssa_conn_net_socket(c)) != 0)
		return err == EINVAL ? ENOTCONN : err;
	if (getsockopt(c->net.fd, level, name, out, &l) != 0)
		return errno;
	*len = l;
	return 0;
}

int ssa_sockopt_set(struct ssa_conn *c, int level, int name, const void *val, size_t len,
		    const int *fds, int nfds)
{
	bool fresh = c->role == SSA_ROLE_NEW && c->state == SSA_STATE_NEW;
	const struct ssa_config *pol = &c->pol->cfg;
	struct ssa_restrict *t = &c->opts.tighten;
	int v;

	if (level != IPPROTO_TLS)
		return nfds ? EINVAL : net_setopt(c, level, name, val, len);
	/* Only the file options carry descriptors. */
	if (nfds && name != TLS_CERTIFICATE_CHAIN && name != TLS_PRIVATE_KEY &&
	    name != TLS_TRUSTED_PEER_CERTIFICATES)
		return EINVAL;
	switch (name) {
	case TLS_CERTIFICATE_CHAIN:
	case TLS_PRIVATE_KEY:
	case TLS_TRUSTED_PEER_CERTIFICATES:
		if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL) || nfds < 1)
			return EINVAL;
		return set_file(c, name, val, fds, nfds);
	case TLS_ALPN:
		if (ssa_check_string(val, len, 1024))
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (ssa_alpn_encode(val, c->opts.alpn, sizeof c->opts.alpn, &c->opts.alpn_len)) {
			c->opts.alpn_len = 0;
			return why(c, EINVAL, "TLS_ALPN: '%s' is not a list of 1..255-byte names",
				   (const char *)val);
		}
		return 0;
	case TLS_REQUEST_PEER_AUTH:
		if (len != sizeof(int))
			return EINVAL;
		memcpy(&v, val, sizeof v);
		if (v < TLS_PEER_AUTH_NONE || v > TLS_PEER_AUTH_REQUIRE)
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (v < pol->request_peer_auth)
			return why(c, EPERM, "TLS_REQUEST_PEER_AUTH %d is below the policy's %d "
				   "(profile %s)", v, pol->request_peer_auth, c->pol->name);
		c->opts.peer_auth = v;
		return 0;
	case TLS_VERSION_MIN:
	case TLS_VERSION_MAX:
		if (len != sizeof(int))
			return EINVAL;
		memcpy(&v, val, sizeof v);
		/* SSL 3.0 .. TLS 1.1 exist but are below any policy: weakening. */
		if (v >= 0x0300 && v < TLS_VERSION_1_2)
			return why(c, EPERM, "TLS version 0x%04x is never allowed", v);
		if (v != TLS_VERSION_1_2 && v != TLS_VERSION_1_3)
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (name == TLS_VERSION_MIN) {
			if (v < pol->min_version)
				return why(c, EPERM, "TLS_VERSION_MIN 0x%04x is below the policy "
					   "minimum 0x%04x (profile %s)", v, pol->min_version,
					   c->pol->name);
			if (v > (t->max_version ? t->max_version : pol->max_version))
				return why(c, EINVAL, "TLS_VERSION_MIN above the maximum version");
			t->min_version = v;
		} else {
			if (v > pol->max_version)
				return why(c, EPERM, "TLS_VERSION_MAX 0x%04x is above the policy "
					   "maximum 0x%04x (profile %s)", v, pol->max_version,
					   c->pol->name);
			if (v < (t->min_version ? t->min_version : pol->min_version))
				return why(c, EINVAL, "TLS_VERSION_MAX below the minimum version");
			t->max_version = v;
		}
		return 0;
	case TLS_DISABLE_CIPHER:
	case TLS_ENABLE_CIPHER: {
		const char *cn;
		char *list, *tok, *save;
		bool allowed = false;

		if (ssa_check_string(val, len, 128))
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		cn = ssa_tls_cipher_name(val);
		if (!cn)
			return why(c, EINVAL, "unknown cipher '%s'", (const char *)val);
		if (name == TLS_DISABLE_CIPHER) {
			for (int i = 0; i < t->n_disabled; i++)
				if (strcmp(t->disabled[i], cn) == 0)
					return 0;
			if (t->n_disabled == (int)(sizeof t->disabled / sizeof t->disabled[0]))
				return why(c, EINVAL, "too many disabled ciphers");
			if (!(t->disabled[t->n_disabled] = strdup(cn)))
				return ENOMEM;
			t->n_disabled++;
			return 0;
		}
		/* Re-enable: only what the policy allows in the first place. */
		list = ssa_tls_trusted_ciphers(c->pol->client_ctx, pol,
					       &(struct ssa_restrict){ .session_ttl = -1 });
		for (tok = list ? strtok_r(list, ":", &save) : NULL; tok;
		     tok = strtok_r(NULL, ":", &save))
			if (strcmp(tok, cn) == 0)
				allowed = true;
		free(list);
		if (!allowed)
			return why(c, EPERM, "cipher %s is not allowed by the policy (profile %s)", cn,
				   c->pol->name);
		for (int i = 0; i < t->n_disabled; i++) {
			if (strcmp(t->disabled[i], cn) == 0) {
				free(t->disabled[i]);
				t->disabled[i] = t->disabled[--t->n_disabled];
				break;
			}
		}
		return 0;
	}
	case TLS_SESSION_TTL: {
		long ttl;

		if (len != sizeof(long))
			return EINVAL;
		memcpy(&ttl, val, sizeof ttl);
		if (ttl < 0)
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (ttl > pol->session_timeout)
			return why(c, EPERM, "TLS_SESSION_TTL %ld exceeds the policy's %ld s "
				   "(profile %s)", ttl, pol->session_timeout, c->pol->name);
		t->session_ttl = ttl;
		return 0;
	}
	case TLS_SESSION_REUSE:
		if (len != sizeof(int))
			return EINVAL;
		memcpy(&v, val, sizeof v);
		if (v != 0 && v != 1)
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (v && !pol->session_tickets)
			return why(c, EPERM, "session resumption is disabled by the policy "
				   "(session-tickets = no, profile %s)", c->pol->name);
		t->session_reuse = v;
		return 0;
	case TLS_REVOCATION_CHECKS:
	case TLS_CRL_CHECKS:
	case TLS_OCSP_STAPLED_CHECKS:
	case TLS_OCSP_CHECKS:
	case TLS_CACHED_REV_CHECKS: {
		bool crl = t->crl_checks || ssa_config_crl_checks(pol);
		bool stapled = t->ocsp_stapled || pol->ocsp_stapled_checks;
		bool on;

		if (len != sizeof(int))
			return EINVAL;
		memcpy(&v, val, sizeof v);
		if (v != 0 && v != 1)
			return EINVAL;
		if (!fresh)
			return EOPNOTSUPP;
		if (name == TLS_OCSP_CHECKS)
			return v ? why(c, EOPNOTSUPP, "online OCSP is not offered: ssad checks "
				       "CRLs (crl-file) and stapled OCSP responses") : 0;
		if (name == TLS_CACHED_REV_CHECKS)
			return v ? 0 : why(c, EPERM, "ssad only ever checks locally held "
					   "revocation data; it cannot be switched off");
		on = name == TLS_CRL_CHECKS ? crl : name == TLS_OCSP_STAPLED_CHECKS ? stapled :
		     crl || stapled;
		if (!v) {
			if (on && ((name != TLS_OCSP_STAPLED_CHECKS && ssa_config_crl_checks(pol)) ||
				   (name != TLS_CRL_CHECKS && pol->ocsp_stapled_checks)))
				return why(c, EPERM, "revocation checks are required by the policy "
					   "(profile %s)", c->pol->name);
			return 0; /* off unless the policy says so: nothing to undo */
		}
		/* Tightening: on, for this socket. CRL checks without a
		 * crl-file refuse every certificate, as asked. */
		if (name != TLS_OCSP_STAPLED_CHECKS)
			t->crl_checks = true;
		if (name != TLS_CRL_CHECKS)
			t->ocsp_stapled = true;
		return 0;
	}
	case TLS_REMOTE_HOSTNAME:
		if (ssa_check_string(val, len, SSA_HOSTNAME_MAX) || !valid_hostname(val))
			return EINVAL;
		if (c->state != SSA_STATE_NEW)
			return EOPNOTSUPP;
		memcpy(c->opts.hostname, val, len);
		return 0;
	case TLS_HOSTNAME:
	case TLS_PEER_IDENTITY:
	case TLS_PEER_CERTIFICATE_CHAIN:
	case TLS_ID:
	case TLS_TRUSTED_CIPHERS:
	case TLS_CHOSEN_CIPHER:
	case TLS_ERROR:
	case TLS_RESUMED_SESSION:
	case TLS_CHOSEN_VERSION:
		return EOPNOTSUPP; /* read-only */
	default:
		return ENOPROTOOPT;
	}
}

int ssa_sockopt_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		    size_t *len)
{
	bool up = c->state == SSA_STATE_ESTABLISHED && c->ssl;
	const struct ssa_config *pol = &c->pol->cfg;
	const struct ssa_restrict *t = &c->opts.tighten;

	if (level != IPPROTO_TLS)
		return net_getopt(c, level, name, out, cap, len);
	switch (name) {
	case TLS_REMOTE_HOSTNAME:
		return put_str(out, cap, len, c->opts.hostname);
	case TLS_HOSTNAME: {
		const char *sni;

		if (!up)
			return ENOTCONN;
		sni = SSL_is_server(c->ssl) ? SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) :
					      c->opts.hostname;
		return put_str(out, cap, len, sni ? sni : "");
	}
	case TLS_ALPN: {
		const unsigned char *p = NULL;
		unsigned n = 0;
		char sel[256];

		if (!up)
			return ENOTCONN;
		SSL_get0_alpn_selected(c->ssl, &p, &n);
		memcpy(sel, p ? (const char *)p : "", n);
		sel[n] = '\0';
		return put_str(out, cap, len, sel);
	}
	case TLS_REQUEST_PEER_AUTH: {
		int v = c->opts.peer_auth > pol->request_peer_auth ? c->opts.peer_auth : pol->request_peer_auth;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_VERSION_MIN: {
		int v = t->min_version > pol->min_version ? t->min_version : pol->min_version;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_VERSION_MAX: {
		int v = t->max_version && t->max_version < pol->max_version ? t->max_version :
									       pol->max_version;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_TRUSTED_CIPHERS: {
		char *list = ssa_tls_trusted_ciphers(c->pol->client_ctx, pol, t);
		int rc;

		if (!list)
			return ENOMEM;
		rc = put_str(out, cap, len, list);
		free(list);
		return rc;
	}
	case TLS_SESSION_TTL: {
		long v = t->session_ttl >= 0 ? t->session_ttl : pol->session_timeout;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_SESSION_REUSE: {
		int v = t->session_reuse >= 0 ? t->session_reuse : pol->session_tickets;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_REVOCATION_CHECKS:
	case TLS_CRL_CHECKS:
	case TLS_OCSP_STAPLED_CHECKS:
	case TLS_OCSP_CHECKS:
	case TLS_CACHED_REV_CHECKS: {
		bool crl = t->crl_checks || ssa_config_crl_checks(pol);
		bool stapled = t->ocsp_stapled || pol->ocsp_stapled_checks;
		int v = name == TLS_CRL_CHECKS ? crl : name == TLS_OCSP_STAPLED_CHECKS ? stapled :
			name == TLS_OCSP_CHECKS ? 0 : name == TLS_CACHED_REV_CHECKS ? 1 :
			crl || stapled;

		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_RESUMED_SESSION: {
		int v;

		if (!up)
			return ENOTCONN;
		v = SSL_session_reused(c->ssl);
		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_CERTIFICATE_CHAIN: {
		STACK_OF(X509) *chain = NULL;
		size_t n = 0;
		char *pem;
		int rc;

		/* Own chain: the one in use once connected, else the first set. */
		if (up && SSL_get_certificate(c->ssl))
			SSL_get0_chain_certs(c->ssl, &chain);
		if (up && SSL_get_certificate(c->ssl)) {
			STACK_OF(X509) *all = chain ? sk_X509_dup(chain) : sk_X509_new_null();

			if (!all || !sk_X509_insert(all, SSL_get_certificate(c->ssl), 0)) {
				sk_X509_free(all);
				return ENOMEM;
			}
			pem = ssa_chain_pem(all, &n);
			sk_X509_free(all);
		} else if (c->opts.n_ids) {
			pem = ssa_chain_pem(c->opts.ids[0].chain, &n);
		} else {
			return put_str(out, cap, len, "");
		}
		if (!pem)
			return ENOMEM;
		rc = put(out, cap, len, pem, n + 1);
		free(pem);
		return rc;
	}
	case TLS_ERROR:
		return put_str(out, cap, len, c->opts.error);
	case TLS_ID:
		return put(out, cap, len, &c->id, sizeof c->id);
	case TLS_CHOSEN_VERSION: {
		int v;

		if (!up)
			return ENOTCONN;
		v = SSL_version(c->ssl);
		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_CHOSEN_CIPHER:
		if (!up)
			return ENOTCONN;
		return put_str(out, cap, len,
			       SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
	case TLS_PEER_IDENTITY: {
		char id[4096];
		X509 *peer;
		int rc;

		if (!up)
			return ENOTCONN;
		peer = SSL_get0_peer_certificate(c->ssl);
		if (!peer)
			return put_str(out, cap, len, "");
		if (ssa_tls_identity(peer, id, sizeof id) != 0)
			return ENOMEM;
		rc = put_str(out, cap, len, id);
		return rc;
	}
	case TLS_PEER_CERTIFICATE_CHAIN: {
		size_t n = 0;
		char *pem;
		int rc;

		if (!up)
			return ENOTCONN;
		pem = ssa_tls_peer_chain_pem(c->ssl, &n);
		if (!pem)
			return put_str(out, cap, len, "");
		rc = put(out, cap, len, pem, n + 1);
		free(pem);
		return rc;
	}
	default:
		return ENOPROTOOPT;
	}
}
