/* SPDX-License-Identifier: MIT */
/*
 * Taking listeners over from the previous ssad through the service
 * manager's file-descriptor store (handover.h): what goes into the store,
 * and rebuilding listeners from what comes back.
 */
#include "handover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../daemon.h"
#include "../engine/key_slots.h"
#include "../engine/remote_key.h"
#include "../sd_listen.h"
#include "../sd_notify.h"
#include "conn.h"
#include "handover_state.h"

#define STATE_PREFIX "ssa-state-"
/* Keys of the key keeper travel in memfds of their own, stored under
 * KEY_PREFIX<generation> next to the state of that generation; the state
 * holds only a reference (KEY_REF<inode>). ssad never reads them: its
 * keeper writes them sealed under the hand-over key (EXPORT,
 * keeper/key_seal.h), the next ssad's keeper opens them (LOAD_FD). */
#define KEY_PREFIX "ssa-k-"
#define KEY_REF "keeper-memfd:"

/* The key memfds of the state being built by publish(). */
static struct {
	int *fd;
	size_t n, cap;
} exported;
#define LISTENER_PREFIX "ssa-l-"

static bool active;       /* a manager with a store is there */
static bool quiet;        /* restoring or stopping: the store is left alone */
static uint64_t generation; /* of the state last stored (0: none) */

/* ---- what goes into the store ---------------------------------------- */

static void listener_name(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, LISTENER_PREFIX "%016" PRIx64, id);
}

/* A keeper's key: a memfd the keeper writes it into, and its reference. */
static int key_export(EVP_PKEY *key, struct ssa_ho_pem *out)
{
	int fd, err;
	struct stat st = { 0 };
	char ref[64];

	if (exported.n == exported.cap) {
		size_t cap = exported.cap ? 2 * exported.cap : 16;
		int *a = realloc(exported.fd, cap * sizeof *a);

		if (!a)
			return ENOMEM;
		exported.fd = a;
		exported.cap = cap;
	}
	fd = memfd_create("ssa-key", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return errno;
	err = fchmod(fd, 0600) != 0 || fstat(fd, &st) != 0 ? errno : ssa_remote_key_export(key, fd);
	if (!err && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		err = errno;
	snprintf(ref, sizeof ref, KEY_REF "%llu", (unsigned long long)st.st_ino);
	if (!err && !(out->pem = strdup(ref)))
		err = ENOMEM;
	if (err) {
		close(fd);
		return err;
	}
	out->len = strlen(ref);
	exported.fd[exported.n++] = fd;
	return 0;
}

/* Close the key memfds of a state (stored or not). */
static void drop_exported(void)
{
	for (size_t i = 0; i < exported.n; i++)
		close(exported.fd[i]);
	exported.n = 0;
}

/* Store the key memfds under KEY_PREFIX<gen>. @retval 0 or an errno */
static int store_exported(uint64_t gen)
{
	char msg[128];
	int err = 0;

	snprintf(msg, sizeof msg, "FDSTORE=1\nFDNAME=" KEY_PREFIX "%" PRIu64, gen);
	for (size_t i = 0; i < exported.n && !err; i += SSA_SD_MAX_FDS)
		err = ssa_sd_notify_fds(msg, exported.fd + i,
					exported.n - i < SSA_SD_MAX_FDS ? exported.n - i : SSA_SD_MAX_FDS);
	return err;
}

/* A private key as PEM, through OpenSSL's secure heap (wiped on free); a
 * key the keeper holds as a reference to a memfd (key_export()). */
static int key_pem(EVP_PKEY *key, struct ssa_ho_pem *out)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	int err = ENOMEM;

	if (ssa_remote_key_is(key)) {
		BIO_free(b);
		return key_export(key, out);
	}
	if (!b)
		return ENOMEM;
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (out->pem = malloc((size_t)n + 1))) {
		memcpy(out->pem, data, (size_t)n);
		out->pem[n] = '\0';
		out->len = (size_t)n;
		err = 0;
	}
	BIO_free(b);
	return err;
}

/* The settings of one listener; strings are borrowed from it, PEM texts
 * are the caller's (drop_pems). */
static int describe(struct ssa_conn *c, struct ssa_ho_listener *h)
{
	const struct ssa_restrict *t = &c->opts.tighten;

	*h = (struct ssa_ho_listener){
		.id = c->id, .domain = c->domain, .backlog = c->backlog, .uid = c->uid,
		.gid = c->gid, .pid = c->pid, .program = c->program, .profile = c->pol->name,
		.key_dev = c->key.dev, .key_ino = c->key.ino, .key_cookie = c->key.cookie,
		.ktls_want = c->ktls_want, .nodelay = c->nodelay, .peer_auth = c->opts.peer_auth,
		.alpn_len = (uint32_t)c->opts.alpn_len, .min_version = t->min_version,
		.max_version = t->max_version, .session_ttl = t->session_ttl,
		.session_reuse = t->session_reuse, .crl_checks = t->crl_checks,
		.ocsp_stapled = t->ocsp_stapled, .n_disabled = (uint32_t)t->n_disabled,
	};
	memcpy(h->alpn, c->opts.alpn, c->opts.alpn_len);
	for (int i = 0; i < t->n_disabled && i < SSA_HO_MAX_DISABLED; i++)
		h->disabled[i] = t->disabled[i];
	for (int i = 0; i < c->opts.n_ids; i++) {
		h->chain[i].pem = ssa_chain_pem(c->opts.ids[i].chain, &h->chain[i].len);
		h->n_ids++;
		if (!h->chain[i].pem || key_pem(c->opts.ids[i].key, &h->key[i]) != 0)
			return ENOMEM;
	}
	if (c->opts.trusted && sk_X509_num(c->opts.trusted) > 0 &&
	    !(h->trusted.pem = ssa_chain_pem(c->opts.trusted, &h->trusted.len)))
		return ENOMEM;
	return 0;
}

static void drop_pems(struct ssa_ho_listener *h)
{
	for (uint32_t i = 0; i < SSA_HO_MAX_IDS; i++) {
		free(h->chain[i].pem);
		ssa_ho_wipe_free(h->key[i].pem, h->key[i].len);
	}
	free(h->trusted.pem);
	explicit_bzero(h, sizeof *h);
}

/* A sealed, root-only memfd holding buf. @retval fd or -1 (errno) */
static int sealed_memfd(const uint8_t *buf, size_t len)
{
	int fd = memfd_create("ssa-state", MFD_CLOEXEC | MFD_ALLOW_SEALING), e;
	size_t off = 0;

	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		goto fail;
	return fd;
fail:
	e = errno ? errno : EIO;
	close(fd);
	errno = e;
	return -1;
}

/* Store the settings of every listener but skip, as the next generation,
 * then drop the previous one. */
static void publish(struct ssad *d, const struct ssa_conn *skip)
{
	struct ssa_ho_state s = { .generation = generation + 1 };
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	char msg[128];
	int fd, err = 0;

	for (struct ssa_conn *c = d->conns; c; c = c->next)
		n += c != skip && c->role == SSA_ROLE_LISTENER;
	if (n > SSA_HO_MAX_LISTENERS || (n && !(s.l = calloc(n, sizeof *s.l)))) {
		log_warn("hand-over: %zu listeners not stored (too many, or no memory)", n);
		return;
	}
	for (struct ssa_conn *c = d->conns; c && !err; c = c->next)
		if (c != skip && c->role == SSA_ROLE_LISTENER)
			err = describe(c, &s.l[s.n++]);
	if (!err)
		err = ssa_ho_encode(&s, &buf, &len);
	for (uint32_t i = 0; i < s.n; i++)
		drop_pems(&s.l[i]);
	free(s.l);
	if (!err && exported.n && (err = store_exported(generation + 1)) != 0)
		ssa_ho_wipe_free(buf, len);
	drop_exported();
	if (err) {
		log_warn("hand-over: listeners' settings not stored: %s", strerror(err));
		return;
	}
	fd = sealed_memfd(buf, len);
	ssa_ho_wipe_free(buf, len);
	if (fd < 0) {
		log_warn("hand-over: state memfd: %s", strerror(errno));
		return;
	}
	snprintf(msg, sizeof msg, "FDSTORE=1\nFDNAME=" STATE_PREFIX "%" PRIu64, generation + 1);
	err = ssa_sd_notify_fds(msg, &fd, 1);
	close(fd);
	if (err) {
		log_warn("hand-over: cannot store the state: %s", strerror(err));
		return;
	}
	if (generation) {
		snprintf(msg, sizeof msg, "FDSTOREREMOVE=1\nFDNAME=" STATE_PREFIX "%" PRIu64,
			 generation);
		ssa_sd_notify(msg);
		snprintf(msg, sizeof msg, "FDSTOREREMOVE=1\nFDNAME=" KEY_PREFIX "%" PRIu64,
			 generation);
		ssa_sd_notify(msg);
	}
	generation++;
}

void ssa_handover_listening(struct ssa_conn *l)
{
	char msg[96];
	int fds[2] = { l->net.fd, l->app.fd }, err;

	if (!active || quiet)
		return;
	snprintf(msg, sizeof msg, "FDSTORE=1\nFDNAME=");
	listener_name(l->id, msg + strlen(msg), sizeof msg - strlen(msg));
	if ((err = ssa_sd_notify_fds(msg, fds, 2)) != 0)
		log_warn("hand-over: listener of pid %d not stored: %s", (int)l->pid, strerror(err));
	publish(l->d, NULL);
}

void ssa_handover_closing(struct ssa_conn *l)
{
	char msg[96];

	if (!active || quiet)
		return;
	snprintf(msg, sizeof msg, "FDSTOREREMOVE=1\nFDNAME=");
	listener_name(l->id, msg + strlen(msg), sizeof msg - strlen(msg));
	ssa_sd_notify(msg);
	publish(l->d, l);
}

void ssa_handover_freeze(void)
{
	quiet = true;
}

/* ---- what comes back --------------------------------------------------- */

static int sockopt_int(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof v;

	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) == 0 ? v : -1;
}

/* The state's descriptor must be what ssad stores: a sealed memfd, ours,
 * readable by nobody else, of a sane size. Its contents into *buf. */
static int read_state(int fd, uint8_t **buf, size_t *len, char *why, size_t wlen)
{
	int seals = fcntl(fd, F_GET_SEALS);
	const int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct stat st;
	size_t off = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || seals < 0 || (seals & need) != need) {
		snprintf(why, wlen, "not a sealed memfd");
		return EINVAL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(why, wlen, "owned by uid %u with mode %03o, not ours and 0600",
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		return EPERM;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > SSA_HO_MAX_TOTAL) {
		snprintf(why, wlen, "size %lld out of range", (long long)st.st_size);
		return EINVAL;
	}
	if (!(*buf = malloc((size_t)st.st_size)))
		return ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, *buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n <= 0) {
			ssa_ho_wipe_free(*buf, (size_t)st.st_size);
			snprintf(why, wlen, "cannot be read");
			return EIO;
		}
		off += (size_t)n;
	}
	*len = off;
	return 0;
}

/* The newest state that is valid among those passed; s empty if none. */
static void newest_state(struct ssa_sd_fd *fds, size_t n, struct ssa_ho_state *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < n; i++) {
		struct ssa_ho_state t;
		char why[200];
		uint8_t *buf;
		size_t len;
		int err;

		if (strncmp(fds[i].name, STATE_PREFIX, strlen(STATE_PREFIX)) != 0)
			continue;
		err = read_state(fds[i].fd, &buf, &len, why, sizeof why);
		if (!err) {
			err = ssa_ho_decode(buf, len, &t, why, sizeof why);
			ssa_ho_wipe_free(buf, len);
		}
		if (err) {
			log_err("hand-over: state %s refused: %s", fds[i].name, why);
			continue;
		}
		if (t.generation >= s->generation) {
			ssa_ho_state_clear(s);
			*s = t;
		} else {
			ssa_ho_state_clear(&t);
		}
	}
}

/* The two descriptors of listener h: the TCP listening socket and ssad's
 * end of the application's stream, told apart by what they are. */
static int find_fds(const struct ssa_ho_listener *h, struct ssa_sd_fd *fds, size_t n,
		    int *net, int *app)
{
	char name[64];

	*net = *app = -1;
	listener_name(h->id, name, sizeof name);
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i].fd, dom;

		if (fd < 0 || strcmp(fds[i].name, name) != 0 ||
		    sockopt_int(fd, SO_TYPE) != SOCK_STREAM)
			continue;
		dom = sockopt_int(fd, SO_DOMAIN);
		if (dom == h->domain && sockopt_int(fd, SO_ACCEPTCONN) == 1 &&
		    sockopt_int(fd, SO_PROTOCOL) == IPPROTO_TCP && *net < 0) {
			*net = fd;
			fds[i].fd = -1; /* taken */
		} else if (dom == AF_UNIX && *app < 0) {
			*app = fd;
			fds[i].fd = -1;
		}
	}
	return *net >= 0 && *app >= 0 ? 0 : ENOENT;
}

/* What sock_diag says of the unix socket with inode ino: its cookie and,
 * with want_peer, its peer's inode. @retval 0, or an errno (ENOENT: gone) */
static int diag_unix(uint32_t ino, bool want_peer, uint64_t *cookie, uint32_t *peer)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof q, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = ino,
			 .udiag_show = want_peer ? UDIAG_SHOW_PEER : 0,
			 .udiag_cookie = { ~0u, ~0u } },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr h;
		char b[1024];
	} buf;
	const struct unix_diag_msg *m = NLMSG_DATA(&buf.h);
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	ssize_t len;
	int left;

	if (fd < 0)
		return errno;
	len = sendto(fd, &q, sizeof q, 0, (struct sockaddr *)&nl, sizeof nl) == (ssize_t)sizeof q ?
	      recv(fd, &buf, sizeof buf, 0) : -1;
	close(fd);
	if (len < 0)
		return errno;
	if (!NLMSG_OK(&buf.h, (size_t)len) || buf.h.nlmsg_type == NLMSG_ERROR ||
	    buf.h.nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return ENOENT;
	*cookie = (uint64_t)m->udiag_cookie[0] | (uint64_t)m->udiag_cookie[1] << 32;
	left = (int)(buf.h.nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); want_peer && RTA_OK(a, left);
	     a = RTA_NEXT(a, left)) {
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			memcpy(peer, RTA_DATA(a), sizeof *peer);
			return 0;
		}
	}
	return want_peer ? ENOENT : 0;
}

/* The registry key of a handed-over listener must be the application's
 * end of the stream whose other end ssad got back: the peer of app. */
static int key_matches(int app, const struct ssa_ho_listener *h, char *why, size_t wlen)
{
	struct stat st;
	uint64_t cookie = 0;
	uint32_t peer = 0;
	int err;

	if (fstat(app, &st) != 0)
		return errno;
	err = diag_unix((uint32_t)st.st_ino, true, &cookie, &peer);
	if (!err)
		err = diag_unix(peer, false, &cookie, &peer);
	if (err == EINVAL || err == EPROTONOSUPPORT || err == EAFNOSUPPORT)
		return 0; /* no sock_diag here: nothing to check with */
	if (err || peer != h->key_ino || cookie != h->key_cookie) {
		snprintf(why, wlen, "its application socket is gone, or not the one named (%s)",
			 err ? strerror(err) : "inode or cookie differ");
		return EINVAL;
	}
	return 0;
}

/* The policy the listener's owner has now: matched again if the process
 * is still there, else the profile of the same name. */
static struct ssa_policy *policy_of(struct ssad *d, const struct ssa_ho_listener *h)
{
	struct ssa_peer_id who;
	struct ssa_policy *p = NULL;

	if (ssa_peer_identify_pid(h->pid, h->uid, h->gid, -1, true, false, &who) == 0) {
		p = ssa_policy_match(d->policy, &who);
		ssa_peer_id_release(&who);
		return p;
	}
	if (strcmp(d->policy->global->name, h->profile) == 0)
		return ssa_policy_get(d->policy->global);
	for (int i = 0; i < d->policy->cfg.n_profiles; i++)
		if (strcmp(d->policy->apps[i]->name, h->profile) == 0)
			return ssa_policy_get(d->policy->apps[i]);
	return NULL;
}

static STACK_OF(X509) *certs_of(const struct ssa_ho_pem *p)
{
	BIO *b = BIO_new_mem_buf(p->pem, (int)p->len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	while (b && sk && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(sk, x))
			X509_free(x);
	ERR_clear_error();
	BIO_free(b);
	if (sk && sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

/* The key of reference KEY_REF<inode>: the passed key memfd of that inode,
 * loaded by the keeper (ssad does not read it) and charged to the
 * listener's owner without a bound (the old ssad held it already). */
static EVP_PKEY *key_by_ref(const char *ref, const struct ssa_sd_fd *fds, size_t n,
			    const struct ssa_key_owner *owner)
{
	unsigned long long ino;
	char why[200], *end;
	EVP_PKEY *k = NULL;
	struct stat st;

	ino = strtoull(ref + strlen(KEY_REF), &end, 10);
	if (*end)
		return NULL;
	for (size_t i = 0; i < n && !k; i++) {
		if (fds[i].fd < 0 || strncmp(fds[i].name, KEY_PREFIX, strlen(KEY_PREFIX)) != 0 ||
		    fstat(fds[i].fd, &st) != 0 || (unsigned long long)st.st_ino != ino)
			continue;
		if (ssa_remote_key_load_fd(fds[i].fd, owner, &k, why, sizeof why) != 0)
			log_err("hand-over: key memfd: %s", why);
	}
	return k;
}

static EVP_PKEY *key_of(const struct ssa_ho_pem *p, const struct ssa_sd_fd *fds, size_t n,
			const struct ssa_key_owner *owner)
{
	BIO *b;
	EVP_PKEY *k;

	if (p->len > strlen(KEY_REF) && strncmp(p->pem, KEY_REF, strlen(KEY_REF)) == 0)
		return ssa_remote_key_active() ? key_by_ref(p->pem, fds, n, owner) : NULL;
	b = BIO_new_mem_buf(p->pem, (int)p->len);
	k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	return k;
}

/* The application's TLS options of listener h into c. */
static int options_of(struct ssa_conn *c, const struct ssa_ho_listener *h,
		      const struct ssa_sd_fd *fds, size_t n, char *why, size_t wlen)
{
	struct ssa_restrict *t = &c->opts.tighten;
	const struct ssa_key_owner owner = { .uid = h->uid, .max = 0, .pid = (int)h->pid };

	for (uint32_t i = 0; i < h->n_ids; i++) {
		struct ssa_identity *id = &c->opts.ids[i];

		id->chain = certs_of(&h->chain[i]);
		id->key = key_of(&h->key[i], fds, n, &owner);
		c->opts.n_ids++;
		if (!id->chain || !id->key || ssa_identity_check(id, why, wlen) != 0) {
			if (!id->chain || !id->key)
				snprintf(why, wlen, "identity %u does not decode", i);
			return EINVAL;
		}
	}
	if (h->trusted.len && !(c->opts.trusted = certs_of(&h->trusted))) {
		snprintf(why, wlen, "trusted certificates do not decode");
		return EINVAL;
	}
	c->n_trusted = c->opts.trusted ? (unsigned)sk_X509_num(c->opts.trusted) : 0;
	memcpy(c->opts.alpn, h->alpn, h->alpn_len);
	c->opts.alpn_len = h->alpn_len;
	c->opts.peer_auth = h->peer_auth;
	t->min_version = h->min_version;
	t->max_version = h->max_version;
	t->session_ttl = (long)h->session_ttl;
	t->session_reuse = h->session_reuse;
	t->crl_checks = h->crl_checks;
	t->ocsp_stapled = h->ocsp_stapled;
	for (uint32_t i = 0; i < h->n_disabled; i++) {
		if (!(t->disabled[i] = strdup(h->disabled[i])))
			return ENOMEM;
		t->n_disabled++;
	}
	c->ktls_want = h->ktls_want;
	c->nodelay = h->nodelay;
	return 0;
}

/* Rebuild listener h on its descriptors (taken from fds). */
static int adopt(struct ssad *d, const struct ssa_ho_listener *h, struct ssa_sd_fd *fds, size_t n,
		 char *why, size_t wlen)
{
	struct ssa_policy *pol;
	struct ssa_conn *c;
	socklen_t sl;
	int net, app, err;

	if (find_fds(h, fds, n, &net, &app) != 0) {
		snprintf(why, wlen, "its descriptors were not passed (or are not what they must be)");
		if (net >= 0)
			close(net);
		if (app >= 0)
			close(app);
		return ENOENT;
	}
	if ((err = key_matches(app, h, why, wlen)) != 0) {
		close(net);
		close(app);
		return err;
	}
	if (!(pol = policy_of(d, h)) || !(c = ssa_conn_alloc(d, h->domain))) {
		snprintf(why, wlen, pol ? "out of memory" : "its owner is gone and profile '%s' is no more",
			 h->profile);
		ssa_policy_put(pol);
		close(net);
		close(app);
		return ESRCH;
	}
	c->id = h->id;
	c->app.fd = app;
	/* An older ssad's stream may not refuse descriptors yet (conn.h). */
	(void)setsockopt(app, SOL_SOCKET, SSA_SO_PASSRIGHTS, &(int){ 0 }, sizeof(int));
	c->net.fd = net;
	c->pol = pol;
	c->pid = h->pid;
	c->uid = h->uid;
	c->gid = h->gid;
	c->program = strdup(h->program);
	c->key = (struct ssa_sock_key){ .dev = (dev_t)h->key_dev, .ino = (ino_t)h->key_ino,
					.cookie = h->key_cookie };
	c->bound = true;
	sl = sizeof c->local;
	getsockname(net, (struct sockaddr *)&c->local, &sl);
	c->local_len = sl;
	ssa_conn_link(c);
	if (ssa_registry_add(&c->key, c) == 0)
		c->registered = true;
	err = c->registered && c->program ? options_of(c, h, fds, n, why, wlen) : ENOMEM;
	if (c->user)
		c->user->trusted += c->n_trusted;
	if (!err && (fcntl(app, F_SETFL, O_NONBLOCK) != 0 ||
		     ssa_watch_set(&d->loop, &c->app, EPOLLRDHUP) != 0))
		err = errno ? errno : EIO;
	if (!err && (err = ssa_conn_listen(c, h->backlog)) != 0)
		snprintf(why, wlen, "listen: %s: %.120s", strerror(err), c->opts.error);
	if (err) {
		if (err == ENOMEM)
			snprintf(why, wlen, "out of memory");
		ssa_conn_destroy(c);
		return err;
	}
	return 0;
}

/* Drop from the store, and close, the passed descriptors nobody took. */
static void drop_rest(struct ssa_sd_fd *fds, size_t n)
{
	char msg[320];

	for (size_t i = 0; i < n; i++) {
		if (fds[i].fd < 0)
			continue;
		if (strncmp(fds[i].name, LISTENER_PREFIX, strlen(LISTENER_PREFIX)) == 0 ||
		    strncmp(fds[i].name, STATE_PREFIX, strlen(STATE_PREFIX)) == 0 ||
		    strncmp(fds[i].name, KEY_PREFIX, strlen(KEY_PREFIX)) == 0) {
			snprintf(msg, sizeof msg, "FDSTOREREMOVE=1\nFDNAME=%s", fds[i].name);
			ssa_sd_notify(msg);
		} else {
			log_warn("hand-over: descriptor %d named '%s' is not ssad's; closed",
				 fds[i].fd, fds[i].name);
		}
		close(fds[i].fd);
		fds[i].fd = -1;
	}
}

void ssa_handover_start(struct ssad *d)
{
	struct ssa_sd_fd *fds;
	struct ssa_ho_state s;
	size_t n;
	char why[400];
	unsigned taken = 0;

	active = ssa_sd_notify_active();
	if (ssa_sd_listen_fds(&fds, &n, why, sizeof why) != 0) {
		log_err("hand-over: %s; no listeners taken over", why);
		return;
	}
	if (!n)
		return;
	quiet = true;
	newest_state(fds, n, &s);
	for (uint32_t i = 0; i < s.n; i++) {
		if (adopt(d, &s.l[i], fds, n, why, sizeof why) == 0) {
			taken++;
			continue;
		}
		log_err("hand-over: listener of pid %d (%s) dropped: %s", (int)s.l[i].pid,
			s.l[i].program, why);
	}
	/* The next state's name must be new: above every one passed, valid or not
	 * (drop_rest removes those by name). */
	generation = s.generation;
	for (size_t i = 0; i < n; i++) {
		unsigned long long g;

		if (sscanf(fds[i].name, STATE_PREFIX "%llu", &g) == 1 && g > generation &&
		    g < UINT64_MAX / 2)
			generation = g;
	}
	quiet = false;
	if (active)
		publish(d, NULL); /* the new state first, then the old ones go */
	drop_rest(fds, n);        /* ... with the listeners not taken */
	free(fds);
	log_info("hand-over: %u of %u listeners taken over (state generation %" PRIu64 ")",
		 taken, s.n, s.generation);
	ssa_ho_state_clear(&s);
}
