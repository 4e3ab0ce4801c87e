/* SPDX-License-Identifier: MIT */
/* The options that name files (TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY,
 * TLS_TRUSTED_PEER_CERTIFICATES; sockopt.h) on a libssa connection:
 * judged, bounded per user, read (on the jobs thread for a control client;
 * engine/opt_files.h) and kept in the socket's options. */
#include "sockopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssa/in_tls.h"
#include "../../proto/wire.h"
#include "../caller_fds.h"
#include "../daemon.h"
#include "../engine/identity.h"
#include "../engine/key_slots.h"
#include "../engine/remote_key.h"
#include "../engine/tls_opts.h"
#include "../jobs.h"
#include "conn.h"
#include "control.h"

/** Whether the user's requests may take more of ssad's time now
 * (max-request-ms-per-user). @retval 0 or EAGAIN (TLS_ERROR says why) */
static int share_ok(struct ssa_conn *c, const char *path)
{
	const struct ssa_limits *lim = &c->d->policy->cfg.limits;

	if (c->user && ssa_user_busy(c->d, c->user)) {
		ssa_user_refused(c->user, "max-request-ms-per-user",
				 (unsigned)lim->request_ms_per_user, c->pid);
		return ssa_opts_fail(&c->opts, EAGAIN, "%s: this user's requests have used their "
				     "share of ssad's time (max-request-ms-per-user = %d); try again",
				     path, lim->request_ms_per_user);
	}
	return 0;
}

/**
 * Files a request brings are parsed on the loop, so their cost is bounded
 * before anything is read: at most max-pem-size bytes in all (EFBIG), and
 * while the user's earlier requests have used up her share of the loop's
 * time (max-request-ms-per-user) she is asked to come back (EAGAIN).
 */
static int files_ok(struct ssa_conn *c, const char *path, const int *fds, int nfds)
{
	const struct ssa_limits *lim = &c->d->policy->cfg.limits;
	long long total = ssa_sockopt_pem_bytes(fds, nfds);

	if (total > lim->pem_size) {
		if (c->user)
			ssa_user_refused(c->user, "max-pem-size", (unsigned)lim->pem_size, c->pid);
		return ssa_opts_fail(&c->opts, EFBIG, "%s: %lld bytes of PEM, more than "
				     "max-pem-size (%d)", path, total, lim->pem_size);
	}
	return share_ok(c, path);
}

/**
 * The file options in three steps: precheck() on the loop (may the socket
 * take it now?), ssa_sockopt_read_files() anywhere (reads and decodes the
 * files; thread-safe), apply() on the loop (checks again, since the socket may
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

/** Charge trust anchors to the socket's user (before they are kept).
 * @retval 0 @retval ENOBUFS the user's sockets would hold too many */
static int charge_anchors(struct ssa_conn *c, const char *path, STACK_OF(X509) *certs)
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
	if (c->user)
		c->user->trusted = c->user->trusted - c->n_trusted + (unsigned)n;
	c->n_trusted = (unsigned)n;
	return 0;
}

/** Whom the socket's keys are charged to: its user, bounded by
 * max-keys-per-user (key_slots.h). */
static struct ssa_key_owner key_owner(const struct ssa_conn *c)
{
	return (struct ssa_key_owner){ .uid = c->uid,
				       .max = (unsigned)c->d->policy->cfg.limits.keys_per_user,
				       .pid = c->pid };
}

/** Keep what was read; certs and key are consumed either way. */
static int apply(struct ssa_conn *c, int name, const char *path, STACK_OF(X509) *certs,
		 EVP_PKEY *key)
{
	int err = precheck(c, name, path, name == TLS_TRUSTED_PEER_CERTIFICATES ? 0 : 1);

	if (!err && name == TLS_TRUSTED_PEER_CERTIFICATES)
		err = charge_anchors(c, path, certs);
	if (err) {
		sk_X509_pop_free(certs, X509_free);
		EVP_PKEY_free(key);
		return err;
	}
	return ssa_sockopt_keep_files(&c->opts, name, path, certs, key);
}

int ssa_sockopt_set_file(struct ssa_conn *c, int name, const char *path, const int *fds,
			 int nfds)
{
	STACK_OF(X509) *certs;
	EVP_PKEY *key;
	struct ssa_key_owner owner = key_owner(c);
	char r[200];
	int err;

	if ((err = precheck(c, name, path, nfds)) != 0 ||
	    (err = files_ok(c, path, fds, nfds)) != 0)
		return err;
	err = ssa_sockopt_read_files(name, fds, nfds, c->d->policy->cfg.limits.trusted_per_socket,
				     &owner, &certs, &key, r, sizeof r);
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
	struct ssa_key_owner owner;  /**< whom a key is charged to */
	bool has_ticket;             /**< a key by key intake ticket, not by descriptor */
	uint8_t ticket[SSA_KEY_TICKET_LEN];
	uid_t sender;                /**< who sent the ticket */
	uid_t uid;                   /**< whom its descriptors are charged to */
	uint32_t max_pem;            /**< max-pem-size, for the ticket's file */
	int err;                     /**< of ssa_sockopt_read_files() */
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

	if (j->has_ticket) {
		j->err = ssa_remote_key_load_ticket(j->ticket, j->sender, j->max_pem, &j->owner,
						    &j->key, j->why, sizeof j->why);
		OPENSSL_cleanse(j->ticket, sizeof j->ticket);
		return;
	}
	j->err = ssa_sockopt_read_files(j->name, j->fds, j->nfds, j->max_certs, &j->owner,
					&j->certs, &j->key, j->why, sizeof j->why);
}

static void file_done(struct ssa_job *jb)
{
	struct file_job *j = (struct file_job *)jb;
	struct ssa_conn *c = j->conn;
	int rc = j->err;

	for (int i = 0; i < j->nfds; i++)
		ssa_caller_fd_close(j->uid, j->fds[i]); /* a caller's file: FUSE_FLUSH waits */
	if (j->user)
		ssa_user_charge(j->user, (double)jb->cpu_us / 1000.0);
	if (!rc && !j->certs && !j->key)
		rc = ECONNABORTED; /* never read: ssad is stopping */
	if (c) {
		c->file_job = NULL;
		if (rc)
			ssa_opts_fail(&c->opts, rc, "%s: %s", (const char *)j->path,
				      (const char *)j->why);
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
			       const void *val, size_t len, const int *fds, int nfds,
			       const uint8_t *ticket, uid_t sender)
{
	struct file_job *j;
	int err;

	if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL) || nfds > SSA_WIRE_MAX_FDS ||
	    (ticket ? nfds != 0 || name != TLS_PRIVATE_KEY : nfds < 1))
		return EINVAL;
	if ((err = precheck(c, name, val, ticket ? 1 : nfds)) != 0 ||
	    (err = ticket ? share_ok(c, val) : files_ok(c, val, fds, nfds)) != 0)
		return err;
	j = calloc(1, sizeof *j);
	if (!j)
		return ENOMEM;
	for (int i = 0; i < nfds; i++) {
		j->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (j->fds[i] < 0) {
			err = errno;
			for (int k = 0; k < i; k++)
				ssa_caller_fd_close(c->uid, j->fds[k]);
			free(j);
			return err;
		}
	}
	j->nfds = nfds;
	j->uid = c->uid;
	if (ticket) {
		j->has_ticket = true;
		memcpy(j->ticket, ticket, sizeof j->ticket);
		j->sender = sender;
		j->max_pem = (uint32_t)c->d->policy->cfg.limits.pem_size;
	}
	j->name = name;
	j->max_certs = c->d->policy->cfg.limits.trusted_per_socket;
	j->owner = key_owner(c);
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
