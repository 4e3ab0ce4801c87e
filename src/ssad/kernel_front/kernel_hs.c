/* SPDX-License-Identifier: MIT */
/*
 * Kernel front end handshakes: ssa.ko hands ssad the TCP socket of an
 * IPPROTO_TLS socket as a descriptor (ACCEPT). ssad applies the caller's
 * options under the caller's policy (the same code as for the userspace
 * front end: ssa_sockopt_set() on a scratch connection), connects (client)
 * and runs the handshake steps as ordinary jobs of the handshake workers
 * (hs_pool.h: on a worker, or on the loop when a step is known to be
 * cheap), then installs the session with kernel TLS and reports DONE with
 * what getsockopt() may ask afterwards.
 *
 * While a step is on a worker, the worker alone uses the SSL object and
 * the socket: the loop stops watching the socket, and a deadline that
 * passes or a teardown (ssad stopping) is only noted; the handshake is
 * failed or freed when the job comes back (khs_stepped).
 *
 * Kernel TLS: OpenSSL 3.0 (SSL_OP_ENABLE_KTLS) installs the transmit side
 * for TLS 1.2 and 1.3 and the receive side for TLS 1.2 only. For TLS 1.3
 * the receive key is derived here from the peer's application traffic
 * secret (obtained through the keylog callback) with HKDF-Expand-Label
 * (RFC 8446 7.3); its record sequence number is 0, because OpenSSL reads
 * no record past the peer's Finished (no read-ahead), which is checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ssa/in_tls.h"
#include "../../common/log.h"
#include "../libssa_front/conn.h"
#include "../daemon.h"
#include "kernel_chan.h"
#include "../libssa_front/ktls.h"
#include "../engine/hs_pool.h"
#include "../engine/policy.h"
#include "../libssa_front/sockopt.h"
#include "../engine/tls_context.h"

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
	struct ssa_conn c;         /**< scratch: options, policy, results */
	SSL_CTX *server_ctx;
	char who[64];
	uint64_t started_ms;
};

static int khs_index = -1;

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

	OPENSSL_cleanse(h->c.ktls_rx_secret, sizeof h->c.ktls_rx_secret);
	free(h);
}

static void khs_release(struct ssa_khs *h)
{
	struct ssa_conn *c = &h->c;

	khs_unlink(h);
	ssa_deadline_cancel(&h->timer);
	if (h->w.fd >= 0) {
		ssa_watch_del(&h->d->loop, &h->w);
		close(h->w.fd);
		h->w.fd = -1;
	}
	h->w.handler = NULL;
	if (c->ssl) {
		SSL_set_ex_data(c->ssl, khs_index, NULL);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	SSL_CTX_free(h->server_ctx);
	for (int i = 0; i < c->opts.n_ids; i++)
		ssa_identity_clear(&c->opts.ids[i]);
	sk_X509_pop_free(c->opts.trusted, X509_free);
	c->opts.trusted = NULL;
	ssa_restrict_clear(&c->opts.tighten);
	if (c->pol)
		ssa_policy_put(c->pol);
	c->pol = NULL;
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

static int install_ktls(struct ssa_khs *h, char *why, size_t wl)
{
	SSL *ssl = h->c.ssl;
	int rc;

	if (SSL_has_pending(ssl)) {
		snprintf(why, wl, "kernel TLS: OpenSSL holds unread records");
		return -1;
	}
	if (!BIO_get_ktls_send(SSL_get_wbio(ssl))) {
		snprintf(why, wl, "kernel TLS transmit offload is unavailable (cipher %s)",
			 SSL_get_cipher_name(ssl));
		return -1;
	}
	if (BIO_get_ktls_recv(SSL_get_rbio(ssl)))
		return 0;
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(why, wl, "kernel TLS receive offload is unavailable (cipher %s)",
			 SSL_get_cipher_name(ssl));
		return -1;
	}
	/* The TLS 1.3 receive key: derived here, as for libssa (ktls.c). */
	rc = ssa_ktls_install_rx13(ssl, h->w.fd, &h->c, why, wl);
	OPENSSL_cleanse(h->c.ktls_rx_secret, sizeof h->c.ktls_rx_secret);
	return rc;
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

static void khs_succeed(struct ssa_khs *h)
{
	struct ssa_conn *c = &h->c;
	struct ssa_kopt res[N_RESULTS];
	void *vals[N_RESULTS];
	char why[SSA_ERROR_MAX];
	int n = 0, err;

	if (install_ktls(h, why, sizeof why) != 0) {
		khs_fail(h, EPROTO, why);
		return;
	}
	c->state = SSA_STATE_ESTABLISHED;
	for (size_t i = 0; i < N_RESULTS; i++) {
		size_t cap = SSA_RESULT_MAX, len = 0;
		void *buf = malloc(cap);

		vals[i] = buf;
		if (!buf)
			continue;
		if (ssa_sockopt_get(c, IPPROTO_TLS, result_names[i], buf, cap, &len) == 0 &&
		    len <= cap) {
			res[n].name = (uint32_t)result_names[i];
			res[n].val = buf;
			res[n].len = (uint32_t)len;
			res[n].fd = -1;
			n++;
		}
	}
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
	log_debug("kernel handshake done: %s %s %s in %llu ms", h->who, SSL_get_version(c->ssl),
		  SSL_get_cipher_name(c->ssl), (unsigned long long)(ssa_now_ms() - h->started_ms));
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
	h->hs.ssl = h->c.ssl;
	h->hs.done = khs_stepped;
	if (!ssa_hs_pool_inline(&h->hs))
		ssa_watch_del(&h->d->loop, &h->w);
	ssa_hs_pool_submit(&h->hs);
}

static bool is_ip_literal(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int setup_client(struct ssa_khs *h)
{
	struct ssa_conn *c = &h->c;
	SSL *ssl;
	char ip[INET6_ADDRSTRLEN];

	ssl = c->ssl = SSL_new(c->pol->client_ctx);
	if (!ssl || !SSL_set_fd(ssl, h->w.fd))
		return -1;
	SSL_set_ex_data(ssl, khs_index, h);
	ssa_ktls_attach(ssl, c); /* the keylog callback keeps the receive secret */
	SSL_set_connect_state(ssl);
	SSL_set_options(ssl, SSL_OP_ENABLE_KTLS);
	if (c->opts.n_ids && ssa_tls_use_identity(ssl, &c->opts.ids[0]) != 0)
		return -1;
	if (!c->opts.n_ids && c->pol->granted.chain && ssa_tls_use_identity(ssl, &c->pol->granted) != 0)
		return -1;
	if (ssa_tls_restrict_ssl(ssl, &c->pol->cfg, &c->opts.tighten) != 0)
		return -1;
	if (c->opts.alpn_len && SSL_set_alpn_protos(ssl, c->opts.alpn, (unsigned)c->opts.alpn_len) != 0)
		return -1;
	if (c->opts.trusted && ssa_tls_add_anchors(ssl, c->pol->client_ctx, c->opts.trusted) != 0)
		return -1;
	if (c->opts.hostname[0]) {
		if (is_ip_literal(c->opts.hostname)) {
			if (!SSL_set1_host(ssl, NULL) ||
			    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->opts.hostname))
				return -1;
		} else {
			if (!SSL_set_tlsext_host_name(ssl, c->opts.hostname) || !SSL_set1_host(ssl, c->opts.hostname))
				return -1;
			SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
					  /* a name is a subjectAltName (RFC 6125,
					   * CA/B BR): never the subject's CN */
					  X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
		}
	} else {
		const void *a = h->addr.ss_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)&h->addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)&h->addr)->sin6_addr;

		if (!inet_ntop(h->addr.ss_family, a, ip, sizeof ip) ||
		    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip))
			return -1;
	}
	return 0;
}

static int setup_server(struct ssa_khs *h, char *why, size_t wl)
{
	struct ssa_conn *c = &h->c;
	struct ssa_srv *srv = calloc(1, sizeof *srv);
	SSL *ssl;

	if (!srv)
		return ENOMEM;
	for (int i = 0; i < c->opts.n_ids; i++) {
		if (!c->opts.ids[i].key)
			continue;
		srv->ids[srv->n_ids].chain = X509_chain_up_ref(c->opts.ids[i].chain);
		srv->ids[srv->n_ids].key = c->opts.ids[i].key;
		EVP_PKEY_up_ref(c->opts.ids[i].key);
		srv->n_ids++;
	}
	if (c->pol->granted.chain && srv->n_ids < SSA_MAX_IDENTITIES) {
		srv->ids[srv->n_ids].chain = X509_chain_up_ref(c->pol->granted.chain);
		srv->ids[srv->n_ids].key = c->pol->granted.key;
		EVP_PKEY_up_ref(c->pol->granted.key);
		srv->n_ids++;
	}
	if (!srv->n_ids) {
		free(srv);
		snprintf(why, wl, "no certificate: set TLS_CERTIFICATE_CHAIN and TLS_PRIVATE_KEY "
			 "before listen()");
		return EINVAL;
	}
	memcpy(srv->alpn, c->opts.alpn, c->opts.alpn_len);
	srv->alpn_len = c->opts.alpn_len;
	if (c->opts.peer_auth < c->pol->cfg.request_peer_auth)
		c->opts.peer_auth = c->pol->cfg.request_peer_auth;
	h->server_ctx = ssa_tls_server_ctx_new(&c->pol->cfg, srv, c->opts.peer_auth, c->opts.trusted, why, wl);
	if (!h->server_ctx)
		return EINVAL;
	/* Session tickets would be keyed to this one-connection context. */
	SSL_CTX_set_num_tickets(h->server_ctx, 0);
	SSL_CTX_set_session_cache_mode(h->server_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(h->server_ctx, SSL_OP_NO_TICKET);
	if (ssa_tls_restrict_ctx(h->server_ctx, &c->pol->cfg, &c->opts.tighten) != 0) {
		snprintf(why, wl, "the socket's cipher and version restrictions leave nothing usable");
		return EINVAL;
	}
	ssa_ktls_prepare_ctx(h->server_ctx);
	ssl = c->ssl = SSL_new(h->server_ctx);
	if (!ssl || !SSL_set_fd(ssl, h->w.fd)) {
		snprintf(why, wl, "cannot set up the TLS session");
		return ENOMEM;
	}
	SSL_set_ex_data(ssl, khs_index, h);
	ssa_ktls_attach(ssl, c);
	SSL_set_accept_state(ssl);
	SSL_set_options(ssl, SSL_OP_ENABLE_KTLS);
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
		if (setup_client(h) != 0) {
			ERR_clear_error();
			khs_fail(h, ENOMEM, "cannot set up the TLS session");
			return;
		}
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

static bool is_file_option(uint32_t name)
{
	return name == TLS_CERTIFICATE_CHAIN || name == TLS_PRIVATE_KEY ||
	       name == TLS_TRUSTED_PEER_CERTIFICATES;
}

/*
 * setsockopt(IPPROTO_TLS) in kernel mode: replay the socket's options on a
 * scratch connection under the caller's policy and report what the last
 * one gets, as the userspace front end would at once. File options come
 * without their files here: only their policy is judged (their content is
 * read at the handshake).
 */
int ssa_khs_check(struct ssad *d, const struct ssa_kmsg *m, char *reason, size_t len)
{
	struct ssa_conn *c = calloc(1, sizeof *c);
	struct ssa_peer_id who;
	int err = 0;

	if (!c)
		return 0;
	c->d = d;
	c->id = m->id;
	c->domain = m->family ? m->family : AF_INET;
	c->role = SSA_ROLE_NEW;
	c->state = SSA_STATE_NEW;
	c->net.fd = -1;
	c->app.fd = -1;
	c->opts.tighten.session_ttl = -1;
	c->opts.tighten.session_reuse = -1;
	fill_peer_id(m, &who);
	c->pol = ssa_policy_match(d->policy, &who);
	if (!c->pol) {
		snprintf(reason, len, "the program's profiles compose to nothing usable");
		free(c);
		return EPERM;
	}
	for (int i = 0; i < m->n_opts; i++) {
		const struct ssa_kopt *o = &m->opts[i];
		bool last = i == m->n_opts - 1;

		c->opts.error[0] = '\0';
		if (is_file_option(o->name)) {
			/* a stand-in file: the policy is judged before the content */
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

			err = fd < 0 ? 0 : ssa_sockopt_set(c, IPPROTO_TLS, (int)o->name, o->val,
							   o->len, &fd, 1);
			if (fd >= 0)
				close(fd);
		} else {
			err = ssa_sockopt_set(c, IPPROTO_TLS, (int)o->name, o->val, o->len, NULL, 0);
		}
		if (is_file_option(o->name) && err != EPERM)
			err = 0;
		if (!last)
			err = 0; /* accepted before; the handshake judges it again */
	}
	if (err)
		snprintf(reason, len, "%s", c->opts.error[0] ? c->opts.error : "option refused");
	for (int i = 0; i < c->opts.n_ids; i++)
		ssa_identity_clear(&c->opts.ids[i]);
	sk_X509_pop_free(c->opts.trusted, X509_free);
	ssa_restrict_clear(&c->opts.tighten);
	ssa_policy_put(c->pol);
	free(c);
	return err;
}

void ssa_khs_start(struct ssad *d, const struct ssa_kmsg *m)
{
	struct ssa_khs *h;
	struct ssa_conn *c;
	struct ssa_peer_id who;
	char why[SSA_ERROR_MAX] = "";
	int err = 0, opts_done = 0;

	if (khs_index < 0)
		khs_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	h = calloc(1, sizeof *h);
	if (!h) {
		ssa_kmsg_close_fds(m);
		ssa_kernel_done(m->id, m->seq, ENOMEM, "ssad is out of memory", NULL, 0);
		return;
	}
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
	c = &h->c;
	c->d = d;
	c->id = m->id;
	c->domain = m->family;
	c->role = SSA_ROLE_NEW;
	c->state = SSA_STATE_NEW;
	c->net.fd = -1;
	c->app.fd = -1;
	c->opts.tighten.session_ttl = -1;
	c->opts.tighten.session_reuse = -1;
	fill_peer_id(m, &who);
	c->pol = ssa_policy_match(d->policy, &who);
	if (!c->pol) {
		err = EPERM;
		snprintf(why, sizeof why, "the program's profiles compose to nothing usable");
		opts_done = 0;
	}

	/* The application's options, through the same checks and policy as
	 * the userspace front end. */
	for (int i = 0; !err && i < m->n_opts; i++) {
		const struct ssa_kopt *o = &m->opts[i];
		int fd = o->fd;

		err = ssa_sockopt_set(c, IPPROTO_TLS, (int)o->name, o->val, o->len,
				      fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
		opts_done = i + 1;
		if (fd >= 0)
			close(fd);
		if (err) {
			snprintf(why, sizeof why, "%s", c->opts.error[0] ? c->opts.error :
				 "an IPPROTO_TLS option was refused");
			break;
		}
	}
	for (int i = opts_done; i < m->n_opts; i++)
		if (m->opts[i].fd >= 0)
			close(m->opts[i].fd);
	if (err) {
		khs_fail(h, err, why);
		return;
	}
	ssa_deadline_arm(&d->loop, &h->timer, c->pol->cfg.handshake_timeout_ms);
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
		if (setup_client(h) != 0) {
			ERR_clear_error();
			khs_fail(h, ENOMEM, "cannot set up the TLS session");
			return;
		}
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
