/* SPDX-License-Identifier: MIT */
#include "session_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../common/log.h"
#include "policy.h"
#include "tls_opts.h"

#define KEY_LEN 32 /* SHA-256 */
#define BUCKETS 1024

struct entry {
	struct entry *hnext;          /**< in its bucket, newest first */
	struct entry *older, *newer;  /**< in the store order (eviction) */
	unsigned char key[KEY_LEN];
	SSL_SESSION *sess;
	time_t expires;
	uid_t uid;                    /**< whose it is (per-user bound) */
};

/* Sessions held per user (a few users: a short array). */
struct user_count {
	uid_t uid;
	size_t n;
};

static struct {
	pthread_mutex_t lock;
	struct entry *bucket[BUCKETS];
	struct entry *newest, *oldest;
	size_t count;
	struct user_count *users;
	size_t n_users;
	size_t per_user;              /**< max-sessions-per-user */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER, .per_user = SSA_SESSION_MAX / 4 };

/* The count of uid (made on first use; NULL when out of memory). */
static struct user_count *count_of(uid_t uid)
{
	struct user_count *n;

	for (size_t i = 0; i < cache.n_users; i++)
		if (cache.users[i].uid == uid)
			return &cache.users[i];
	n = realloc(cache.users, (cache.n_users + 1) * sizeof *n);
	if (!n)
		return NULL;
	cache.users = n;
	n[cache.n_users].uid = uid;
	n[cache.n_users].n = 0;
	return &n[cache.n_users++];
}

/* What a connection that may store sessions carries (SSL ex_data): its key
 * and how long its sessions may be kept. */
struct sess_tag {
	unsigned char key[KEY_LEN];
	uid_t uid;
	long life; /**< seconds: TLS_SESSION_TTL, else session-timeout */
};

static int key_index = -1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void key_index_init(void)
{
	key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, key_free);
}

static size_t bucket_of(const unsigned char *key)
{
	return (((size_t)key[0] << 8) | key[1]) % BUCKETS;
}

/* Unlink e from its bucket and the store order; the caller frees it. */
static void unlink_entry(struct entry *e)
{
	struct entry **pp = &cache.bucket[bucket_of(e->key)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		cache.oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		cache.newest = e->older;
	cache.count--;
	{
		struct user_count *u = count_of(e->uid);

		if (u && u->n)
			u->n--;
	}
}

static void drop_entry(struct entry *e)
{
	unlink_entry(e);
	SSL_SESSION_free(e->sess);
	free(e);
}

/* Store sess (its reference passes to the cache) under key, for uid. A
 * user at max-sessions-per-user replaces her own oldest session, so that
 * she never holds more than her share of the cache. */
static void put(const unsigned char *key, uid_t uid, SSL_SESSION *sess, time_t expires)
{
	struct entry *e = calloc(1, sizeof *e), *same_oldest = NULL;
	size_t b = bucket_of(key), same = 0;
	struct user_count *u;

	if (!e) {
		SSL_SESSION_free(sess);
		return;
	}
	memcpy(e->key, key, KEY_LEN);
	e->sess = sess;
	e->expires = expires;
	e->uid = uid;
	pthread_mutex_lock(&cache.lock);
	u = count_of(uid);
	if (!u) {
		pthread_mutex_unlock(&cache.lock);
		SSL_SESSION_free(sess);
		free(e);
		return;
	}
	if (u->n >= cache.per_user) {
		for (struct entry *x = cache.oldest; x; x = x->newer)
			if (x->uid == uid) {
				drop_entry(x);
				break;
			}
	}
	for (struct entry *x = cache.bucket[b]; x; x = x->hnext) {
		if (memcmp(x->key, key, KEY_LEN) == 0) {
			same++;
			same_oldest = x;
		}
	}
	if (same >= SSA_SESSION_PER_KEY)
		drop_entry(same_oldest);
	else if (cache.count >= SSA_SESSION_MAX && cache.oldest)
		drop_entry(cache.oldest);
	e->hnext = cache.bucket[b];
	cache.bucket[b] = e;
	e->older = cache.newest;
	if (cache.newest)
		cache.newest->newer = e;
	else
		cache.oldest = e;
	cache.newest = e;
	cache.count++;
	u = count_of(uid); /* looked up again: safe whatever was dropped above */
	if (u)
		u->n++;
	pthread_mutex_unlock(&cache.lock);
}

/* The newest unexpired session under key, removed from the cache. */
static SSL_SESSION *take(const unsigned char *key)
{
	struct entry *e, *nx;
	SSL_SESSION *s = NULL;
	time_t now = time(NULL);

	pthread_mutex_lock(&cache.lock);
	for (e = cache.bucket[bucket_of(key)]; e; e = nx) {
		nx = e->hnext;
		if (e->expires <= now) {
			drop_entry(e);
			continue;
		}
		if (!s && memcmp(e->key, key, KEY_LEN) == 0) {
			s = e->sess;
			unlink_entry(e);
			free(e);
		}
	}
	pthread_mutex_unlock(&cache.lock);
	return s;
}

/* OpenSSL's new-session callback: keep sessions of marked connections. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	const struct sess_tag *tag = key_index >= 0 ? SSL_get_ex_data(ssl, key_index) : NULL;
	long life, timeout = SSL_SESSION_get_timeout(sess);
	unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(sess);

	if (!tag || !SSL_SESSION_is_resumable(sess))
		return 0;
	life = tag->life;
	if (timeout < life)
		life = timeout;
	if (hint && hint < (unsigned long)life)
		life = (long)hint;
	if (life <= 0)
		return 0;
	put(tag->key, tag->uid, sess, time(NULL) + life);
	return 1; /* the cache holds the reference */
}

void ssa_session_cache_ctx(SSL_CTX *ctx)
{
	pthread_once(&key_once, key_index_init);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

static void add(EVP_MD_CTX *md, const void *p, size_t n)
{
	EVP_DigestUpdate(md, &n, sizeof n); /* length first: no ambiguity */
	EVP_DigestUpdate(md, p, n);
}

static void add_cert(EVP_MD_CTX *md, X509 *x)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (x && X509_digest(x, EVP_sha256(), d, &n))
		add(md, d, n);
	else
		add(md, "", 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a session of this connection must have been made under (see the
 * header). */
static int make_key(const struct ssa_policy *pol, const struct ssa_tls_opts *o,
		    const struct sockaddr *peer, socklen_t peer_len, uid_t uid, unsigned char *key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const struct ssa_restrict *t = &o->tighten;
	const struct ssa_identity *id = o->n_ids ? &o->ids[0] : &pol->granted;
	char *dis[32];
	unsigned int n = 0;
	int ok;

	if (!md)
		return -1;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	add(md, "ssa session v1", 14);
	add(md, &uid, sizeof uid);
	add(md, pol->name, strlen(pol->name));
	add(md, &pol->generation, sizeof pol->generation);
	add(md, o->hostname, strlen(o->hostname));
	add(md, peer, peer_len);
	add_cert(md, id->chain && sk_X509_num(id->chain) ? sk_X509_value(id->chain, 0) : NULL);
	for (int i = 0; o->trusted && i < sk_X509_num(o->trusted); i++)
		add_cert(md, sk_X509_value(o->trusted, i));
	add(md, "|", 1);
	add(md, o->alpn, o->alpn_len);
	add(md, &t->min_version, sizeof t->min_version);
	add(md, &t->max_version, sizeof t->max_version);
	memcpy(dis, t->disabled, sizeof dis);
	qsort(dis, (size_t)t->n_disabled, sizeof dis[0], cmp_str);
	for (int i = 0; i < t->n_disabled; i++)
		add(md, dis[i], strlen(dis[i]));
	add(md, "|", 1);
	add(md, &t->crl_checks, sizeof t->crl_checks);
	add(md, &t->ocsp_stapled, sizeof t->ocsp_stapled);
	ok = ok && EVP_DigestFinal_ex(md, key, &n) && n == KEY_LEN;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int ssa_session_cache_prepare(SSL *ssl, const struct ssa_policy *pol,
			      const struct ssa_tls_opts *o, const struct sockaddr *peer,
			      socklen_t peer_len, uid_t uid)
{
	const struct ssa_restrict *t = &o->tighten;
	long life = t->session_ttl >= 0 ? t->session_ttl : pol->cfg.session_timeout;
	struct sess_tag *tag;
	SSL_SESSION *s;

	if (!pol->cfg.session_tickets || t->session_reuse == 0 || life <= 0 || key_index < 0)
		return 0;
	tag = malloc(sizeof *tag);
	if (!tag)
		return -1;
	tag->life = life;
	tag->uid = uid;
	if (make_key(pol, o, peer, peer_len, uid, tag->key) != 0 ||
	    !SSL_set_ex_data(ssl, key_index, tag)) {
		free(tag);
		return -1;
	}
	s = take(tag->key);
	if (s) {
		/* A session this connection cannot offer means a full handshake,
		 * not a failure. */
		if (SSL_set_session(ssl, s))
			log_debug("uid %u host '%s': offering a cached session", (unsigned)uid,
				  o->hostname);
		else
			ERR_clear_error();
		SSL_SESSION_free(s);
	}
	return 0;
}

void ssa_session_cache_flush(void)
{
	pthread_mutex_lock(&cache.lock);
	for (struct entry *e = cache.oldest, *next; e; e = next) {
		next = e->newer;
		drop_entry(e);
	}
	free(cache.users);
	cache.users = NULL;
	cache.n_users = 0;
	pthread_mutex_unlock(&cache.lock);
}

void ssa_session_cache_per_user(size_t n)
{
	pthread_mutex_lock(&cache.lock);
	cache.per_user = n ? n : 1;
	pthread_mutex_unlock(&cache.lock);
}

size_t ssa_session_cache_count(void)
{
	size_t n;

	pthread_mutex_lock(&cache.lock);
	n = cache.count;
	pthread_mutex_unlock(&cache.lock);
	return n;
}
