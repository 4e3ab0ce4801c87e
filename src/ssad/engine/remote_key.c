/* SPDX-License-Identifier: MIT */
/*
 * Keys whose private operations the key keeper performs. OpenSSL 3.0's
 * pragmatic way is a legacy RSA / EC_KEY carrying an RSA_METHOD /
 * EC_KEY_METHOD: keys with a foreign method stay on the legacy path, so
 * libssl's signatures and RSA decryption call the method, which forwards
 * the operation. The deprecated API is confined to this file; an OpenSSL
 * provider (a key manager and signature/asym-cipher operations that
 * forward) is the modern replacement.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "remote_key.h"

#include "key_slots.h"
#include "../keeper/keeper.h"
#include "../keeper/keeper_call.h"
#include "../keeper/keeper_msg.h"
#include "../../common/log.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/** How long a private operation waits for the keeper. */
#define KEEPER_TIMEOUT_MS 5000

/* The key id of a remote key, the keeper generation that holds it, and
 * the user its slot is charged to (key_slots.h). */
struct rkey {
	uint32_t key;
	uint32_t gen;
	bool charged;
	uid_t uid;
};

/* One channel to the keeper (a thread of it serves each): a request and
 * its reply hold the channel's lock, so concurrent private operations use
 * as many channels, and keeper threads, as are free. */
struct channel {
	pthread_mutex_t lock;
	int fd;       /* -1: no keeper, or it died */
	uint32_t gen; /* the keeper generation at the other end */
	uint32_t next_id;
};

static struct channel chans[SSA_KEEPER_MAX_CHANNELS];
static int n_chans; /* set once, before any other thread uses the keeper */

/* The keeper process. Lock order: a channel's lock, then this one. */
static struct {
	pthread_mutex_t lock;
	pid_t pid;
	uint32_t gen; /* which keeper: a new one holds none of the old keys */
	bool active;
} state = { PTHREAD_MUTEX_INITIALIZER, 0, 0, false };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool adopted; /* the keeper is the supervisor's child, not ours */
static int rsa_idx = -1, ec_idx = -1;
static RSA_METHOD *rsa_meth;
static EC_KEY_METHOD *ec_meth;

/** One request and its answer on ch (ssa_keeper_call), with the keeper's
 * status as the result and a malformed reply logged. Called with ch's lock.
 * @retval 0, the keeper's errno, or EPIPE/ETIMEDOUT/EBADMSG (the channel) */
static int exchange(struct channel *ch, const struct ssa_keepmsg *q, int fd, uint8_t *buf,
		    struct ssa_keepmsg *r)
{
	int rc = ssa_keeper_call(ch->fd, q, fd, buf, KEEPER_TIMEOUT_MS, r);

	if (rc == EBADMSG)
		log_err("key keeper: malformed reply to %s refused", ssa_keepmsg_op_name(q->op));
	return rc ? rc : r->status;
}

/* A channel, locked: the first free one, lowest first (while operations
 * do not overlap, one keeper thread serves them all, as warm as the single
 * keeper thread was, and the others sleep), else (all busy) wait for one
 * in turn. NULL: no keeper was started. */
static struct channel *take_channel(void)
{
	static __thread unsigned turn;
	int n = n_chans;
	struct channel *ch;

	if (n <= 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (pthread_mutex_trylock(&chans[i].lock) == 0)
			return &chans[i];
	ch = &chans[turn++ % (unsigned)n];
	pthread_mutex_lock(&ch->lock);
	return ch;
}

/* The keeper at the end of ch is gone or broken: close ch, kill it (its
 * SIGCHLD starts a new one). Called with ch's lock. */
static void channel_broken(struct channel *ch)
{
	close(ch->fd);
	ch->fd = -1;
	pthread_mutex_lock(&state.lock);
	if (state.pid > 0 && state.gen == ch->gen && !adopted)
		kill(state.pid, SIGKILL);
	pthread_mutex_unlock(&state.lock);
}

/*
 * One request and its reply on a free channel (payload copied to out, at
 * most *olen bytes; *olen set to its length). *gen, if not 0, is the
 * keeper generation that must still be serving; if 0, it is set to the
 * generation that served. @return 0 or an errno value
 */
static int call(struct ssa_keepmsg *q, int fd, uint32_t *gen, void *out, size_t *olen,
		uint32_t *key)
{
	static __thread uint8_t buf[SSA_KEEP_MAX];
	struct channel *ch = take_channel();
	struct ssa_keepmsg r = { 0 };
	int rc;

	if (!ch)
		return EPIPE;
	if (ch->fd < 0)
		rc = EPIPE;
	else if (*gen && *gen != ch->gen)
		rc = ESTALE;
	else {
		*gen = ch->gen;
		q->id = ++ch->next_id;
		rc = exchange(ch, q, fd, buf, &r);
		if (rc == EPIPE || rc == ETIMEDOUT || rc == EBADMSG)
			channel_broken(ch);
	}
	if (rc == 0 && out) {
		if (r.len > *olen)
			rc = EMSGSIZE;
		else
			memcpy(out, r.data, r.len);
		*olen = r.len;
	}
	if (rc == 0 && key)
		*key = r.key;
	OPENSSL_cleanse(buf, sizeof buf < SSA_KEEP_HDR + 2048 ? sizeof buf : SSA_KEEP_HDR + 2048);
	pthread_mutex_unlock(&ch->lock);
	return rc;
}

static const char *why_failed(int rc)
{
	switch (rc) {
	case EPIPE:
		return "the key keeper is gone";
	case ESTALE:
		return "the key keeper that held this key died; the key must be loaded again";
	case ETIMEDOUT:
		return "the key keeper did not answer";
	case ENOENT:
		return "the key keeper does not know the key";
	case ENOSPC:
		return "the key keeper holds its maximum of " SSA_KEEP_MAX_KEYS_STR
		       " keys (all users together); no key can be loaded until some are freed";
	default:
		return strerror(rc);
	}
}

/* A forwarded private operation (RSA_PRIVATE or ECDSA_SIGN) of r. */
static int private_op(uint8_t op, const struct rkey *rk, const void *in, size_t len, void *out,
		      size_t *olen)
{
	struct ssa_keepmsg q = { .op = op, .key = rk ? rk->key : 0, .len = (uint32_t)len, .data = in };
	uint32_t gen = rk ? rk->gen : 0;
	int rc = rk ? call(&q, -1, &gen, out, olen, NULL) : ENOENT;

	if (rc) {
		log_limited(SSA_LOG_ERR, 0, 5, 1, "private key operation failed: %s",
			    why_failed(rc));
		/* the handshake's failure reason (read from the error queue) */
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "key keeper: %s", why_failed(rc));
	}
	return rc;
}

static void release(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct rkey *rk = ptr;
	struct ssa_keepmsg q = { .op = SSA_KEEP_RELEASE };
	uint32_t gen;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (!rk)
		return;
	q.key = rk->key;
	gen = rk->gen;
	if (call(&q, -1, &gen, NULL, NULL, NULL) == ENOENT)
		log_warn("key keeper: released key %u was not held", rk->key);
	if (rk->charged)
		ssa_key_slots_put(rk->uid);
	free(rk);
}

/* RSA private "encryption" (signing): pad here, the raw operation there. */
static int rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			int padding)
{
	int n = RSA_size(rsa), ok;
	unsigned char buf[SSA_KEEP_MAX_RSA];
	size_t olen = (size_t)n;

	if (n <= 0 || n > (int)sizeof buf)
		return -1;
	if (padding == RSA_PKCS1_PADDING)
		ok = RSA_padding_add_PKCS1_type_1(buf, n, from, flen);
	else if (padding == RSA_NO_PADDING && flen == n)
		ok = (memcpy(buf, from, (size_t)n), 1);
	else
		ok = 0;
	if (!ok || private_op(SSA_KEEP_RSA_PRIVATE, RSA_get_ex_data(rsa, rsa_idx), buf, (size_t)n, to,
			      &olen) != 0 || olen != (size_t)n)
		return -1;
	return n;
}

/* RSA private decryption (TLS 1.2 RSA key exchange): the raw operation
 * there, the padding checked here. */
static int rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			int padding)
{
	int n = RSA_size(rsa), ret = -1;
	unsigned char in[SSA_KEEP_MAX_RSA] = { 0 }, raw[SSA_KEEP_MAX_RSA];
	size_t olen = (size_t)n;

	if (n <= 0 || n > (int)sizeof in || flen <= 0 || flen > n)
		return -1;
	memcpy(in + (n - flen), from, (size_t)flen);
	if (private_op(SSA_KEEP_RSA_PRIVATE, RSA_get_ex_data(rsa, rsa_idx), in, (size_t)n, raw,
		       &olen) != 0 || olen != (size_t)n)
		return -1;
	if (padding == RSA_NO_PADDING)
		ret = (memcpy(to, raw, (size_t)n), n);
	else if (padding == RSA_PKCS1_PADDING)
		ret = RSA_padding_check_PKCS1_type_2(to, n, raw, n, n);
	else if (padding == RSA_PKCS1_OAEP_PADDING)
		ret = RSA_padding_check_PKCS1_OAEP(to, n, raw, n, n, NULL, 0);
	OPENSSL_cleanse(raw, sizeof raw);
	return ret;
}

static int ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
		   unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	size_t olen = (size_t)ECDSA_size(eckey);

	(void)type, (void)kinv, (void)r;
	if (dlen <= 0 || private_op(SSA_KEEP_ECDSA_SIGN, EC_KEY_get_ex_data(eckey, ec_idx), dgst,
				    dlen > (int)SSA_KEEP_MAX_DIGEST ? (size_t)SSA_KEEP_MAX_DIGEST : (size_t)dlen,
				    sig, &olen) != 0)
		return 0;
	*siglen = (unsigned)olen;
	return 1;
}

static ECDSA_SIG *ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
			      const BIGNUM *r, EC_KEY *eckey)
{
	unsigned char der[2 * SSA_KEEP_MAX_DIGEST + 16];
	const unsigned char *p = der;
	size_t olen = sizeof der;

	(void)kinv, (void)r;
	if (dlen <= 0 || private_op(SSA_KEEP_ECDSA_SIGN, EC_KEY_get_ex_data(eckey, ec_idx), dgst,
				    dlen > (int)SSA_KEEP_MAX_DIGEST ? (size_t)SSA_KEEP_MAX_DIGEST : (size_t)dlen,
				    der, &olen) != 0)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)olen);
}

static void init_methods(void)
{
	int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;

	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, release);
	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, release);
	rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL());
	ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	if (!rsa_meth || !ec_meth)
		return;
	RSA_meth_set1_name(rsa_meth, "ssad key keeper");
	RSA_meth_set_priv_enc(rsa_meth, rsa_priv_enc);
	RSA_meth_set_priv_dec(rsa_meth, rsa_priv_dec);
	EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &setup, NULL);
	EC_KEY_METHOD_set_sign(ec_meth, ec_sign, setup, ec_sign_sig);
}

/* The EVP_PKEY of a public key (DER SPKI) whose private half is the
 * keeper's key of *tmpl (copied; its slot charge passes to the key). */
static EVP_PKEY *wrap(const uint8_t *der, size_t len, const struct rkey *tmpl)
{
	const unsigned char *p = der;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)len), *k = EVP_PKEY_new();
	struct rkey *rk = malloc(sizeof *rk);
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;
	int ok = 0;

	if (pub && k && rk && rsa_meth && ec_meth) {
		*rk = *tmpl;
		p = der;
		/* once the ex_data holds rk, freeing the key frees rk and
		 * releases the keeper's key */
		if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA &&
		    (rsa = d2i_RSA_PUBKEY(NULL, &p, (long)len)) && RSA_set_method(rsa, rsa_meth) &&
		    RSA_set_ex_data(rsa, rsa_idx, rk)) {
			rk = NULL;
			ok = EVP_PKEY_assign_RSA(k, rsa);
			rsa = ok ? NULL : rsa;
		} else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC &&
			   (ec = d2i_EC_PUBKEY(NULL, &p, (long)len)) && EC_KEY_set_method(ec, ec_meth) &&
			   EC_KEY_set_ex_data(ec, ec_idx, rk)) {
			rk = NULL;
			ok = EVP_PKEY_assign_EC_KEY(k, ec);
			ec = ok ? NULL : ec;
		}
	}
	if (!ok) {
		RSA_free(rsa);
		EC_KEY_free(ec);
		EVP_PKEY_free(k);
		k = NULL;
	}
	free(rk);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return k;
}

/* A LOAD_* request for owner (NULL: the configuration); on success *key
 * wraps the reply's public key and holds owner's slot charge. */
static int load(struct ssa_keepmsg *q, int fd, const struct ssa_key_owner *owner, EVP_PKEY **key,
		char *why, size_t wlen)
{
	static __thread uint8_t der[SSA_KEEP_MAX_PAYLOAD];
	size_t dlen = sizeof der;
	struct rkey rk = { .charged = owner != NULL, .uid = owner ? owner->uid : 0 };
	int rc;

	pthread_once(&once, init_methods);
	if (owner && (rc = ssa_key_slots_take(owner, why, wlen)) != 0)
		return rc;
	rc = call(q, fd, &rk.gen, der, &dlen, &rk.key); /* sets the serving keeper's gen */
	if (rc == EINVAL || rc == EPROTONOSUPPORT)
		snprintf(why, wlen, "no usable PEM private key in the file (RSA or EC; encrypted keys "
			 "are not supported)");
	else if (rc == ENOSPC)
		log_limited(SSA_LOG_ERR, 0, 1, 1, "key keeper: %s", why_failed(rc));
	if (rc && rc != EINVAL && rc != EPROTONOSUPPORT)
		snprintf(why, wlen, "key keeper: %s", why_failed(rc));
	if (!rc && !(*key = wrap(der, dlen, &rk))) {
		struct ssa_keepmsg rel = { .op = SSA_KEEP_RELEASE, .key = rk.key };

		(void)call(&rel, -1, &rk.gen, NULL, NULL, NULL);
		snprintf(why, wlen, "key keeper: its public key does not decode");
		rc = EINVAL;
	}
	if (rc && owner)
		ssa_key_slots_put(owner->uid);
	return rc == EPROTONOSUPPORT ? EINVAL : rc;
}

int ssa_remote_key_load_fd(int fd, const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
			   size_t wlen)
{
	struct ssa_keepmsg q = { .op = SSA_KEEP_LOAD_FD };

	return load(&q, fd, owner, key, why, wlen);
}

int ssa_remote_key_load_ticket(const uint8_t *ticket, uid_t sender, uint32_t max_size,
			       const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
			       size_t wlen)
{
	uint8_t payload[SSA_KEEP_TICKET_LEN + 8];
	uint32_t uid = (uint32_t)sender;
	struct ssa_keepmsg q = { .op = SSA_KEEP_LOAD_TICKET, .len = sizeof payload,
				 .data = payload };
	int rc;

	if (!ssa_remote_key_active()) {
		snprintf(why, wlen, "no key keeper here to load the key from");
		return EOPNOTSUPP;
	}
	memcpy(payload, ticket, SSA_KEEP_TICKET_LEN);
	memcpy(payload + SSA_KEEP_TICKET_LEN, &uid, 4);
	memcpy(payload + SSA_KEEP_TICKET_LEN + 4, &max_size, 4);
	rc = load(&q, -1, owner, key, why, wlen);
	OPENSSL_cleanse(payload, sizeof payload);
	if (rc == ENOENT)
		snprintf(why, wlen, "no key file under this ticket (used already, or the "
			 "application's key intake connection closed)");
	else if (rc == EACCES)
		snprintf(why, wlen, "the key file was handed in by another user");
	else if (rc == EFBIG)
		snprintf(why, wlen, "the key file is larger than max-pem-size (%u bytes)", max_size);
	return rc;
}

int ssa_remote_key_load_bytes(const void *pem, size_t len, EVP_PKEY **key, char *why, size_t wlen)
{
	struct ssa_keepmsg q = { .op = SSA_KEEP_LOAD_BYTES, .len = (uint32_t)len, .data = pem };

	if (len == 0 || len > SSA_KEEP_MAX_PAYLOAD) {
		snprintf(why, wlen, "key of %zu bytes (at most %u)", len, SSA_KEEP_MAX_PAYLOAD);
		return EMSGSIZE;
	}
	return load(&q, -1, NULL, key, why, wlen);
}

int ssa_remote_key_export(const EVP_PKEY *key, int fd)
{
	const struct rkey *rk = NULL;
	struct ssa_keepmsg q = { .op = SSA_KEEP_EXPORT };
	uint32_t gen;
	int rc;

	if (!ssa_remote_key_is(key))
		return EINVAL;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		rk = RSA_get_ex_data(EVP_PKEY_get0_RSA(key), rsa_idx);
	else
		rk = EC_KEY_get_ex_data(EVP_PKEY_get0_EC_KEY(key), ec_idx);
	if (!rk)
		return EINVAL;
	q.key = rk->key;
	gen = rk->gen;
	if ((rc = call(&q, fd, &gen, NULL, NULL, NULL)) != 0)
		log_err("key keeper: key not exported for the hand-over: %s", why_failed(rc));
	return rc;
}

bool ssa_remote_key_is(const EVP_PKEY *key)
{
	const RSA *rsa;
	const EC_KEY *ec;

	pthread_once(&once, init_methods);
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && (rsa = EVP_PKEY_get0_RSA(key)))
		return RSA_get_method(rsa) == rsa_meth;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && (ec = EVP_PKEY_get0_EC_KEY(key)))
		return EC_KEY_get_method(ec) == ec_meth;
	return false;
}

/* The keeper's channels: one a CPU, at most SSA_KEEPER_MAX_CHANNELS. */
static int channels_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > SSA_KEEPER_MAX_CHANNELS ? SSA_KEEPER_MAX_CHANNELS : (int)n;
}

int ssa_remote_key_restart(char *why, size_t wlen)
{
	int fds[SSA_KEEPER_MAX_CHANNELS], n = n_chans, rc;
	pid_t pid, old;
	uint32_t gen;

	if ((rc = ssa_keeper_spawn(&pid, fds, n, why, wlen)) != 0)
		return rc;
	pthread_mutex_lock(&state.lock);
	gen = state.gen + 1;
	pthread_mutex_unlock(&state.lock);
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&chans[i].lock);
		if (chans[i].fd >= 0)
			close(chans[i].fd);
		chans[i].fd = fds[i];
		chans[i].gen = gen;
		pthread_mutex_unlock(&chans[i].lock);
	}
	pthread_mutex_lock(&state.lock);
	old = state.pid;
	state.pid = pid;
	state.gen = gen;
	state.active = true;
	pthread_mutex_unlock(&state.lock);
	if (old > 0) {
		kill(old, SIGKILL);
		waitpid(old, NULL, WNOHANG);
	}
	return 0;
}

int ssa_remote_key_channels(void)
{
	int n = channels_wanted();

	return n < SSA_KEEPER_MAX_CHANNELS ? n : SSA_KEEPER_MAX_CHANNELS - 1;
}

int ssa_remote_key_adopt(pid_t pid, const int *fds, int n)
{
	pthread_once(&once, init_methods);
	if (!rsa_meth || !ec_meth || n < 1 || n > SSA_KEEPER_MAX_CHANNELS)
		return ENOMEM;
	n_chans = n;
	for (int i = 0; i < n; i++) {
		pthread_mutex_init(&chans[i].lock, NULL);
		chans[i].fd = fds[i];
		chans[i].gen = 1;
	}
	pthread_mutex_lock(&state.lock);
	state.pid = pid;
	state.gen = 1;
	state.active = true;
	adopted = true;
	pthread_mutex_unlock(&state.lock);
	return 0;
}

int ssa_remote_key_wrap_loaded(uint32_t key_id, const uint8_t *der, size_t len, EVP_PKEY **key)
{
	struct rkey rk = { .key = key_id };

	pthread_once(&once, init_methods);
	pthread_mutex_lock(&state.lock);
	rk.gen = state.gen;
	pthread_mutex_unlock(&state.lock);
	*key = wrap(der, len, &rk);
	return *key ? 0 : EINVAL;
}

int ssa_remote_key_start(char *why, size_t wlen)
{
	pthread_once(&once, init_methods);
	if (!rsa_meth || !ec_meth) {
		snprintf(why, wlen, "no memory for the key methods");
		return ENOMEM;
	}
	if (n_chans == 0) {
		n_chans = channels_wanted();
		for (int i = 0; i < n_chans; i++) {
			pthread_mutex_init(&chans[i].lock, NULL);
			chans[i].fd = -1;
		}
	}
	return ssa_remote_key_restart(why, wlen);
}

/* Close the channels to keeper generation gen (every one if gen is 0). */
static void close_channels(uint32_t gen)
{
	for (int i = 0; i < n_chans; i++) {
		pthread_mutex_lock(&chans[i].lock);
		if (chans[i].fd >= 0 && (!gen || chans[i].gen == gen)) {
			close(chans[i].fd); /* the keeper exits at EOF */
			chans[i].fd = -1;
		}
		pthread_mutex_unlock(&chans[i].lock);
	}
}

void ssa_remote_key_reaped(pid_t pid)
{
	uint32_t gen = 0;

	pthread_mutex_lock(&state.lock);
	if (pid > 0 && pid == state.pid) {
		state.pid = 0;
		gen = state.gen;
	}
	pthread_mutex_unlock(&state.lock);
	if (gen)
		close_channels(gen);
}

void ssa_remote_key_stop(void)
{
	pid_t pid;

	close_channels(0);
	pthread_mutex_lock(&state.lock);
	state.active = false;
	pid = adopted ? 0 : state.pid;
	state.pid = 0;
	pthread_mutex_unlock(&state.lock);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

bool ssa_remote_key_active(void)
{
	bool a;

	pthread_mutex_lock(&state.lock);
	a = state.active;
	pthread_mutex_unlock(&state.lock);
	return a;
}

pid_t ssa_remote_key_pid(void)
{
	pid_t p;

	pthread_mutex_lock(&state.lock);
	p = state.pid;
	pthread_mutex_unlock(&state.lock);
	return p;
}
