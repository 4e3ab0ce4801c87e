/* SPDX-License-Identifier: MIT */
/*
 * Kernel front end handshakes: ssa.ko hands ssad the TCP socket of an
 * IPPROTO_TLS socket as a descriptor (ACCEPT). ssad applies the caller's
 * options under the caller's policy (the engine's option table, as for the
 * userspace front end: engine/opt_table.h, engine/opt_files.h), connects
 * (client), sets the session up as the engine does for both front ends
 * (engine/tls_setup.h) and runs the handshake steps as ordinary jobs of the
 * handshake workers (hs_pool.h: on a worker, or on the loop when a step is
 * known to be cheap), then installs the session with kernel TLS
 * (engine/ktls_keys.h) and reports DONE with what getsockopt() may ask
 * afterwards (read from the option table too).
 *
 * While a step is on a worker, the worker alone uses the SSL object and
 * the socket: the loop stops watching the socket, and a deadline that
 * passes or a teardown (ssad stopping) is only noted; the handshake is
 * failed or freed when the job comes back (khs_stepped).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ssa/in_tls.h"
#include "../../common/log.h"
#include "../daemon.h"
#include "kernel_chan.h"
#include "../engine/hs_pool.h"
#include "../engine/key_slots.h"
#include "../engine/ktls_keys.h"
#include "../engine/opt_files.h"
#include "../engine/opt_table.h"
#include "../engine/policy.h"
#include "../engine/tls_context.h"
#include "../engine/tls_opts.h"
#include "../engine/tls_setup.h"
#include "../supervisor/priv_client.h"
#include "../users.h"

struct ssa_khs {
	struct ssa_zombie zombie;
	struct ssa_khs *prev, *next; /**< the live handshakes (live) */
	struct ssad *d;
	struct ssa_hs_job hs;      /**< a handshake step (hs_pool.h) */
	bool timed_out;            /**< the deadline passed while a step was away */
	bool doomed;               /**< free when the step comes back */
	struct ssa_watch w;
	struct ssa_deadline timer;
	uint64_t id;
	uint32_t seq;
	uint8_t role;
	bool connecting;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uid_t uid;                 /**< the caller's (its cached sessions) */
	struct ssa_user *user;     /**< charged one client handshake, or NULL */
	pid_t pid;                 /**< the caller's, for log lines */
	struct ssa_policy *pol;    /**< the caller's policy (a reference) */
	struct ssa_tls_opts opts;  /**< the caller's options */
	SSL *ssl;
	struct ssa_ktls_secret secret; /**< the TLS 1.3 receive secret */
	SSL_CTX *server_ctx;       /**< server: this connection's context */
	char who[64];
	uint64_t started_ms;
};

/** The handshakes started and not yet released. */
static struct ssa_khs *live;

static void khs_link(struct ssa_khs *h)
{
	h->prev = NULL;
	h->next = live;
	if (live)
		live->prev = h;
	live = h;
}

static void khs_unlink(struct ssa_khs *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else if (live == h)
		live = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

static void khs_destroy(struct ssa_zombie *z)
{
	struct ssa_khs *h = (struct ssa_khs *)((char *)z - offsetof(struct ssa_khs, zombie));

	ssa_ktls_secret_clear(&h->secret);
	free(h);
}

/* Free what a socket's options hold (not the value itself). */
static void opts_clear(struct ssa_tls_opts *o)
{
	for (int i = 0; i < o->n_ids; i++)
		ssa_identity_clear(&o->ids[i]);
	o->n_ids = 0;
	sk_X509_pop_free(o->trusted, X509_free);
	o->trusted = NULL;
	ssa_restrict_clear(&o->tighten);
}

static void khs_release(struct ssa_khs *h)
{
	khs_unlink(h);
	if (h->user && h->user->handshakes)
		h->user->handshakes--;
	h->user = NULL;
	ssa_deadline_cancel(&h->timer);
	if (h->w.fd >= 0) {
		ssa_watch_del(&h->d->loop, &h->w);
		close(h->w.fd);
		h->w.fd = -1;
	}
	h->w.handler = NULL;
	SSL_free(h->ssl);
	h->ssl = NULL;
	SSL_CTX_free(h->server_ctx);
	h->server_ctx = NULL;
	opts_clear(&h->opts);
	if (h->pol)
		ssa_policy_put(h->pol);
	h->pol = NULL;
	h->zombie.destroy = khs_destroy;
	ssa_loop_bury(&h->d->loop, &h->zombie);
}

static void khs_fail(struct ssa_khs *h, int err, const char *reason)
{
	log_warn("kernel handshake failed: %s: %s (after %llu ms)", h->who, reason,
		 (unsigned long long)(ssa_now_ms() - h->started_ms));
	h->d->stats.handshakes_failed++;
	ssad_count_failure(h->d, reason);
	/* close our descriptor first: the socket is the kernel's again */
	if (h->w.fd >= 0) {
		ssa_watch_del(&h->d->loop, &h->w);
		close(h->w.fd);
		h->w.fd = -1;
	}
	ssa_kernel_done(h->id, h->seq, err ? err : EPROTO, reason, NULL, 0);
	khs_release(h);
}

/* ---- kernel TLS -------------------------------------------------------- */

/* Both directions into the kernel, as for libssa's hand-off. */
static int install_ktls(struct ssa_khs *h, char *why, size_t wl)
{
	return ssa_ktls_install(h->ssl, h->w.fd, &h->secret, why, wl);
}

/* ---- the handshake ------------------------------------------------------ */

static const int result_names[] = {
	TLS_REMOTE_HOSTNAME, TLS_HOSTNAME, TLS_CERTIFICATE_CHAIN, TLS_ALPN,
	TLS_SESSION_TTL, TLS_PEER_IDENTITY, TLS_REQUEST_PEER_AUTH,
	TLS_PEER_CERTIFICATE_CHAIN, TLS_TRUSTED_CIPHERS, TLS_CHOSEN_CIPHER,
	TLS_REVOCATION_CHECKS, TLS_OCSP_STAPLED_CHECKS, TLS_OCSP_CHECKS, TLS_CRL_CHECKS,
	TLS_CACHED_REV_CHECKS, TLS_SESSION_REUSE, TLS_RESUMED_SESSION, TLS_VERSION_MIN,
	TLS_VERSION_MAX, TLS_CHOSEN_VERSION, TLS_SERVER_OCSP_STAPLING,
};

#define N_RESULTS (sizeof result_names / sizeof result_names[0])

/* What getsockopt() may ask after the handshake, read from the engine's
 * option table as for the userspace front end (vals[i] malloc'ed, freed by
 * the caller). @retval how many results res holds */
static int collect_results(struct ssa_khs *h, struct ssa_kopt *res, void **vals)
{
	const struct ssa_opt_view view = {
		.pol = h->pol, .o = &h->opts, .ssl = h->ssl, .id = h->id,
	};
	int n = 0;

	for (size_t i = 0; i < N_RESULTS; i++) {
		size_t cap = SSA_RESULT_MAX, len = 0;
		void *buf = malloc(cap);

		vals[i] = buf;
		if (!buf)
			continue;
		if (ssa_sockopt_get_tls(&view, result_names[i], buf, cap, &len) == 0 && len <= cap) {
			res[n].name = (uint32_t)result_names[i];
			res[n].val = buf;
			res[n].len = (uint32_t)len;
			res[n].fd = -1;
			n++;
		}
	}
	return n;
}

static void khs_succeed(struct ssa_khs *h)
{
	struct ssa_kopt res[N_RESULTS];
	void *vals[N_RESULTS];
	char why[SSA_ERROR_MAX];
	int n, err;

	if (install_ktls(h, why, sizeof why) != 0) {
		khs_fail(h, EPROTO, why);
		return;
	}
	n = collect_results(h, res, vals);
	/* Our descriptor goes before DONE: kernel TLS is then the socket's only user. */
	ssa_watch_del(&h->d->loop, &h->w);
	close(h->w.fd);
	h->w.fd = -1;
	err = ssa_kernel_done(h->id, h->seq, 0, NULL, res, n);
	for (size_t i = 0; i < N_RESULTS; i++)
		free(vals[i]);
	if (err)
		log_warn("kernel handshake done but not taken: %s: %s", h->who, strerror(err));
	else
		ssad_count_handshake(h->d, h->started_ms * 1000);
	log_debug("kernel handshake done: %s %s %s in %llu ms", h->who, SSL_get_version(h->ssl),
		  SSL_get_cipher_name(h->ssl), (unsigned long long)(ssa_now_ms() - h->started_ms));
	khs_release(h);
}

static void on_timeout(struct ssa_deadline *dl);

/**
 * A handshake step is over (the job's completion, on the loop): free a
 * handshake torn down meanwhile, finish, fail (a deadline that passed
 * while the step was away counts now, unless the handshake finished) or
 * wait for the socket.
 */
static void khs_stepped(struct ssa_hs_job *j)
{
	struct ssa_khs *h = (struct ssa_khs *)((char *)j - offsetof(struct ssa_khs, hs));

	if (h->doomed) {
		khs_release(h);
		return;
	}
	if (j->ret == 1) {
		h->timed_out = false; /* finished in time after all */
		khs_succeed(h);
		return;
	}
	if (h->timed_out) {
		h->timed_out = false;
		on_timeout(&h->timer);
		return;
	}
	if (j->ssl_err == SSL_ERROR_WANT_READ || j->ssl_err == SSL_ERROR_WANT_WRITE) {
		ssa_watch_set(&h->d->loop, &h->w,
			      j->ssl_err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
		return;
	}
	khs_fail(h, EPROTO, j->reason[0] ? j->reason : "TLS handshake failed");
}

/**
 * Run the next handshake step as a job of the handshake workers, where
 * ssa_hs_pool_inline() decides. On a worker, the loop stops watching the
 * socket until the step is back. h may be gone when this returns.
 */
static void khs_step(struct ssa_khs *h)
{
	h->hs.ssl = h->ssl;
	h->hs.done = khs_stepped;
	h->hs.net = &h->w;
	if (!ssa_hs_pool_inline(&h->hs))
		ssa_watch_del(&h->d->loop, &h->w);
	ssa_hs_pool_submit(&h->hs);
}

/* The client session on the connected socket, from the engine; on failure
 * the handshake is failed (and h released). @retval whether it is set up */
static bool setup_client(struct ssa_khs *h)
{
	const struct ssa_tls_client_peer peer = {
		.addr = (const struct sockaddr *)&h->addr, .len = h->addr_len, .uid = h->uid,
	};
	char why[SSA_ERROR_MAX];
	int err;

	h->ssl = ssa_tls_client_new(h->pol, &h->opts, &peer, h->w.fd, &h->secret, &err, why,
				    sizeof why);
	if (!h->ssl)
		khs_fail(h, err, why);
	return h->ssl != NULL;
}

/* This connection's server context and session, from the engine. @retval 0,
 * or an errno with why set */
static int setup_server(struct ssa_khs *h, char *why, size_t wl)
{
	int err;

	h->server_ctx = ssa_tls_server_ctx_build(h->pol, &h->opts, SSA_TLS_SERVER_ONE_CONNECTION,
						 true, &err, why, wl);
	if (!h->server_ctx)
		return err;
	h->ssl = ssa_tls_server_new(h->server_ctx, h->w.fd, &h->secret);
	if (!h->ssl) {
		snprintf(why, wl, "cannot set up the TLS session");
		return ENOMEM;
	}
	return 0;
}

static void on_event(struct ssa_watch *w, uint32_t events)
{
	struct ssa_khs *h = (struct ssa_khs *)((char *)w - offsetof(struct ssa_khs, w));

	(void)events;
	if (h->hs.busy)
		return; /* a worker is stepping the handshake */
	if (h->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		char why[SSA_ERROR_MAX];

		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr) {
			snprintf(why, sizeof why, "TCP connect failed: %s", strerror(soerr));
			khs_fail(h, soerr, why);
			return;
		}
		h->connecting = false;
		if (!setup_client(h))
			return;
	}
	khs_step(h);
}

static void on_timeout(struct ssa_deadline *dl)
{
	struct ssa_khs *h = (struct ssa_khs *)((char *)dl - offsetof(struct ssa_khs, timer));

	if (h->hs.busy) {
		h->timed_out = true; /* decided when the step comes back */
		log_debug("kernel handshake %s: deadline passed while a step is on a worker",
			  h->who);
		return;
	}
	khs_fail(h, ETIMEDOUT, h->connecting ? "TCP connect timed out" : "TLS handshake timed out");
}

static void fill_peer_id(const struct ssa_kmsg *m, struct ssa_peer_id *who)
{
	/* The process is in a system call (connect/listen) of its own: the
	 * executable read now is the one making it. */
	ssa_peer_identify_pid((pid_t)m->pid, (uid_t)m->uid, (gid_t)m->gid, -1, false, false, who);
	who->pid = (pid_t)m->pid;
	who->uid = (uid_t)m->uid;
	who->gid = (gid_t)m->gid;
	snprintf(who->exe, sizeof who->exe, "%s", m->exe);
}

/*
 * One option of a CHECK message under pol into o, with the engine's option
 * table. A file option comes without its file: only whether it may be set
 * is judged (its content is read at the handshake), and only the policy's
 * refusal counts. @retval 0 or the errno it was refused with (o->error
 * says why)
 */
static int check_option(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			const struct ssa_kopt *k)
{
	const char *path;
	int name = (int)k->name;

	if (!ssa_sockopt_is_file(name))
		return ssa_sockopt_set_tls(pol, o, SSA_OPT_FRESH, name, k->val, k->len);
	if (ssa_sockopt_file_path(name, k->val, k->len, &path) != 0)
		return 0;
	return ssa_sockopt_file_allowed(pol, o, SSA_OPT_FRESH, name, path, 1) == EPERM ? EPERM : 0;
}

/*
 * setsockopt(IPPROTO_TLS) in kernel mode: replay the socket's options under
 * the caller's policy and report what the last one gets, as the userspace
 * front end would at once. File options come without their files here:
 * only their policy is judged (their content is read at the handshake).
 */
int ssa_khs_check(struct ssad *d, const struct ssa_kmsg *m, char *reason, size_t len)
{
	struct ssa_tls_opts *o = calloc(1, sizeof *o);
	struct ssa_policy *pol;
	struct ssa_peer_id who;
	int err = 0;

	if (!o)
		return 0;
	o->tighten.session_ttl = -1;
	o->tighten.session_reuse = -1;
	fill_peer_id(m, &who);
	pol = ssa_policy_match(d->policy, &who);
	if (!pol) {
		snprintf(reason, len, "the program's profiles compose to nothing usable");
		free(o);
		return EPERM;
	}
	for (int i = 0; i < m->n_opts; i++) {
		const struct ssa_kopt *k = &m->opts[i];
		bool last = i == m->n_opts - 1;

		o->error[0] = '\0';
		err = check_option(pol, o, k);
		if (!last)
			err = 0; /* accepted before; the handshake judges it again */
	}
	if (err)
		snprintf(reason, len, "%s", o->error[0] ? o->error : "option refused");
	opts_clear(o);
	free(o);
	ssa_policy_put(pol);
	return err;
}

/* A new handshake record for an ACCEPT message: its descriptor, address
 * and caller; no policy or options yet. NULL when out of memory. */
static struct ssa_khs *khs_new(struct ssad *d, const struct ssa_kmsg *m)
{
	struct ssa_khs *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->d = d;
	khs_link(h);
	h->started_ms = ssa_now_ms();
	h->id = m->id;
	h->seq = m->seq;
	h->role = m->role;
	h->w.fd = m->fd;
	/* The kernel's file: only ssad's use of it is non-blocking (the
	 * module passes its own flags to every call). */
	fcntl(h->w.fd, F_SETFL, fcntl(h->w.fd, F_GETFL) | O_NONBLOCK);
	h->w.handler = on_event;
	h->timer.expired = on_timeout;
	memcpy(&h->addr, &m->addr, sizeof h->addr);
	h->addr_len = m->addr_len;
	snprintf(h->who, sizeof h->who, "%s pid %u", m->exe[0] ? m->exe : "?", m->pid);
	h->pid = (pid_t)m->pid;
	h->opts.tighten.session_ttl = -1;
	h->opts.tighten.session_reuse = -1;
	return h;
}

/*
 * A key file ssa.ko holds for the supervisor (k->held, option index of the
 * request): the supervisor takes it and stashes it in the keeper
 * (supervisor/kernel_keys.h), the keeper loads it by ticket for the
 * socket's owner. The file never enters this process.
 * @retval 0 or the errno it was refused with (o->error says why)
 */
static int held_key(const struct ssa_khs *h, const struct ssa_limits *lim,
		    const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
		    const struct ssa_kopt *k, int index)
{
	uint8_t ticket[SSA_KEEP_TICKET_LEN];
	const char *path;
	uint32_t uid = 0;
	int err;

	if (ssa_sockopt_file_path(TLS_PRIVATE_KEY, k->val, k->len, &path) != 0)
		return EINVAL;
	err = ssa_sockopt_file_allowed(h->pol, o, SSA_OPT_FRESH, TLS_PRIVATE_KEY, path, 1);
	if (err)
		return err;
	err = ssa_priv_kernel_key(h->id, h->seq, (uint32_t)index, ticket, &uid);
	if (err)
		return ssa_opts_fail(o, err == ENOENT ? ECONNABORTED : err,
				     "%s: the key file could not be taken from ssa.ko: %s", path,
				     strerror(err));
	if (uid != h->uid) {
		OPENSSL_cleanse(ticket, sizeof ticket);
		return ssa_opts_fail(o, EACCES, "%s: the key file is not the socket owner's",
				     path);
	}
	err = ssa_sockopt_load_ticket(h->pol, lim, owner, o, SSA_OPT_FRESH, path, ticket, uid);
	OPENSSL_cleanse(ticket, sizeof ticket);
	return err;
}

/*
 * One option of an ACCEPT message (at index) under h's policy into o, with
 * the engine's option table; a file option with its file (k->fd, not
 * closed here) read now, bounded by lim, a key charged to owner
 * (max-keys-per-user); a held key file through the supervisor (held_key()).
 * @retval 0 or the errno it was refused with (o->error says why)
 */
static int set_option(const struct ssa_khs *h, const struct ssa_limits *lim,
		      const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
		      const struct ssa_kopt *k, int index)
{
	const char *path;
	int name = (int)k->name;

	if (!ssa_sockopt_is_file(name))
		return k->fd >= 0 || k->held ? EINVAL :
				    ssa_sockopt_set_tls(h->pol, o, SSA_OPT_FRESH, name, k->val,
							k->len);
	if (k->held)
		return name == TLS_PRIVATE_KEY ? held_key(h, lim, owner, o, k, index) : EINVAL;
	if (k->fd < 0 || ssa_sockopt_file_path(name, k->val, k->len, &path) != 0)
		return EINVAL;
	return ssa_sockopt_load_file(h->pol, lim, owner, o, SSA_OPT_FRESH, name, path, &k->fd, 1);
}

/*
 * The caller's policy and options, through the same checks as for the
 * userspace front end; every descriptor of m is closed.
 * @retval 0, or the errno of the refusal with why set
 */
static int khs_options(struct ssa_khs *h, const struct ssa_kmsg *m, char *why, size_t wl)
{
	struct ssa_peer_id who;
	struct ssa_key_owner owner;
	int err = 0, opts_done = 0;

	fill_peer_id(m, &who);
	h->uid = who.uid;
	owner = (struct ssa_key_owner){ .uid = h->uid, .pid = (int)h->pid,
					.max = (unsigned)h->d->policy->cfg.limits.keys_per_user };
	h->pol = ssa_policy_match(h->d->policy, &who);
	if (!h->pol) {
		err = EPERM;
		snprintf(why, wl, "the program's profiles compose to nothing usable");
	}
	for (int i = 0; !err && i < m->n_opts; i++) {
		const struct ssa_kopt *k = &m->opts[i];

		err = set_option(h, &h->d->policy->cfg.limits, &owner, &h->opts, k, i);
		opts_done = i + 1;
		if (k->fd >= 0)
			close(k->fd);
		if (err)
			snprintf(why, wl, "%s", h->opts.error[0] ? h->opts.error :
				 "an IPPROTO_TLS option was refused");
	}
	for (int i = opts_done; i < m->n_opts; i++)
		if (m->opts[i].fd >= 0)
			close(m->opts[i].fd);
	return err;
}

/**
 * Count a client handshake under its user's max-handshakes-per-user, as
 * the userspace front end counts its connects (the same limit, the same
 * counter: a user's connects through ssa.ko and through libssa add up).
 * @retval 0 counted (khs_release uncounts it)
 * @retval EAGAIN the user has max-handshakes-per-user handshakes under way
 */
static int khs_charge(struct ssa_khs *h, char *why, size_t wl)
{
	struct ssa_user *u = ssa_user_of(h->uid);
	unsigned max = (unsigned)h->d->policy->cfg.limits.handshakes_per_user;

	if (!u)
		return 0; /* no record (out of memory): the module's own bound holds */
	if (u->handshakes >= max) {
		ssa_user_refused(u, "max-handshakes-per-user", max, (int)h->pid);
		snprintf(why, wl, "too many connects under way for this user "
			 "(max-handshakes-per-user = %u); try again", max);
		return EAGAIN;
	}
	u->handshakes++;
	h->user = u;
	return 0;
}

void ssa_khs_start(struct ssad *d, const struct ssa_kmsg *m)
{
	struct ssa_khs *h = khs_new(d, m);
	char why[SSA_ERROR_MAX] = "";
	int err;

	if (!h) {
		ssa_kmsg_close_fds(m);
		ssa_kernel_done(m->id, m->seq, ENOMEM, "ssad is out of memory", NULL, 0);
		return;
	}
	if ((err = khs_options(h, m, why, sizeof why)) != 0) {
		khs_fail(h, err, why);
		return;
	}
	if (h->role != SSA_ROLE_SERVER_K && (err = khs_charge(h, why, sizeof why)) != 0) {
		khs_fail(h, err, why);
		return;
	}
	ssa_deadline_arm(&d->loop, &h->timer, h->pol->cfg.handshake_timeout_ms);
	if (h->role == SSA_ROLE_SERVER_K) {
		err = setup_server(h, why, sizeof why);
		if (err) {
			ERR_clear_error();
			khs_fail(h, err, why[0] ? why : "cannot set up the TLS session");
			return;
		}
		khs_step(h);
		return;
	}
	if (connect(h->w.fd, (struct sockaddr *)&h->addr, h->addr_len) == 0) {
		if (setup_client(h))
			khs_step(h);
		return;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		snprintf(why, sizeof why, "TCP connect failed: %s", strerror(err));
		khs_fail(h, err, why);
		return;
	}
	h->connecting = true;
	ssa_watch_set(&d->loop, &h->w, EPOLLOUT);
}

void ssa_khs_release_all(struct ssad *d)
{
	struct ssa_khs *h = live, *nx;

	(void)d;
	for (; h; h = nx) {
		nx = h->next;
		if (h->hs.busy) {
			/* A worker holds the session: free it when it is back. */
			h->doomed = true;
			ssa_deadline_cancel(&h->timer);
			continue;
		}
		khs_release(h);
	}
}
