/* SPDX-License-Identifier: MIT */
#include "keeper.h"

#include "keeper_msg.h"
#include "keeper_sandbox.h"
#include "key_seal.h"
#include "../../common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/** Largest key file LOAD_FD reads. */
#define KEY_FILE_MAX (1u << 20)
/* Slot index in the low bits of a key id, a sequence number above. */
#define SLOT_BITS 16u
_Static_assert((1u << SLOT_BITS) == SSA_KEEP_MAX_KEYS, "slot bits match the key limit");

/* The key table: slots below used_hi have been used; the free ones among
 * them are on the free stack, so taking and freeing a slot is O(1). The
 * pages of slots never used are never touched. */
static struct {
	uint32_t id;
	EVP_PKEY *key;
} slots[SSA_KEEP_MAX_KEYS];
static uint32_t free_stack[SSA_KEEP_MAX_KEYS];
static uint32_t n_free, used_hi, seq;
/* The table is shared by the serving threads: loads and releases write,
 * private operations read (and keep their key alive while they use it). */
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;

/* The slot's key of id, or NULL. */
static EVP_PKEY *key_of(uint32_t id)
{
	uint32_t s = id & (SSA_KEEP_MAX_KEYS - 1);

	return slots[s].id == id ? slots[s].key : NULL;
}

/* Decode a PEM (or DER) private key from n bytes. */
static EVP_PKEY *decode_key(const uint8_t *p, size_t n)
{
	BIO *b = n <= INT32_MAX ? BIO_new_mem_buf(p, (int)n) : NULL;
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") : NULL;

	BIO_free(b);
	if (!k) {
		const unsigned char *q = p;

		k = d2i_AutoPrivateKey(NULL, &q, (long)n);
	}
	ERR_clear_error();
	return k;
}

/* Read the whole regular file fd into a fresh buffer. @retval 0, EINVAL, EIO, ENOMEM */
static int read_file(int fd, uint8_t **out, size_t *n)
{
	struct stat st;
	size_t off = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > KEY_FILE_MAX)
		return EINVAL;
	if (!(*out = malloc((size_t)st.st_size)))
		return ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t r = pread(fd, *out + off, (size_t)st.st_size - off, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			OPENSSL_cleanse(*out, off);
			free(*out);
			return EIO;
		}
		off += (size_t)r;
	}
	*n = off;
	return 0;
}

/* Keep k in a free slot; the reply carries its public key. */
static int keep(EVP_PKEY *k, struct ssa_keepmsg *r, uint8_t *out)
{
	int t = EVP_PKEY_get_base_id(k);
	unsigned char *p = out;
	uint32_t s;
	int len;

	if (t != EVP_PKEY_RSA && t != EVP_PKEY_EC)
		return EPROTONOSUPPORT;
	len = i2d_PUBKEY(k, NULL);
	if (len <= 0 || (size_t)len > SSA_KEEP_MAX_PAYLOAD)
		return EINVAL;
	if (n_free)
		s = free_stack[--n_free];
	else if (used_hi < SSA_KEEP_MAX_KEYS)
		s = used_hi++;
	else
		return ENOSPC;
	if (++seq > (UINT32_MAX >> SLOT_BITS))
		seq = 1;
	slots[s].id = (seq << SLOT_BITS) | s;
	slots[s].key = k;
	r->key = slots[s].id;
	r->len = (uint32_t)i2d_PUBKEY(k, &p);
	return 0;
}

/* Free the key of slot s (RELEASE). */
static void drop(uint32_t s)
{
	EVP_PKEY_free(slots[s].key);
	slots[s].key = NULL;
	slots[s].id = 0;
	free_stack[n_free++] = s;
}

/* The channel of whoever started the keeper with two or more: the last
 * (the supervisor's: supervisor/keeper_loader.h). Only it may set the
 * hand-over key and stash or unstash files; -1: none. */
static int admin_sock = -1;

/* The hand-over key (HANDOVER_KEY), set once by the supervisor. */
static uint8_t handover_key[SSA_SEAL_KEY_LEN];
static bool have_handover_key;
static pthread_mutex_t handover_lock = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(SSA_KEEP_HANDOVER_KEY_LEN == SSA_SEAL_KEY_LEN, "one hand-over key length");

/* HANDOVER_KEY: the first one is kept, any later one refused. */
static int op_handover_key(const struct ssa_keepmsg *q)
{
	int rc = EPERM;

	pthread_mutex_lock(&handover_lock);
	if (!have_handover_key) {
		memcpy(handover_key, q->data, SSA_SEAL_KEY_LEN);
		have_handover_key = true;
		rc = 0;
	}
	pthread_mutex_unlock(&handover_lock);
	return rc;
}

/* Whether there is a hand-over key; a copy of it into k. */
static bool get_handover_key(uint8_t k[SSA_SEAL_KEY_LEN])
{
	bool have;

	pthread_mutex_lock(&handover_lock);
	have = have_handover_key;
	if (have)
		memcpy(k, handover_key, SSA_SEAL_KEY_LEN);
	pthread_mutex_unlock(&handover_lock);
	return have;
}

/* The key in n bytes of a file: a sealed one (hand-over) opened with the
 * hand-over key, else PEM or DER. */
static EVP_PKEY *decode_file_key(const uint8_t *buf, size_t n)
{
	uint8_t k[SSA_SEAL_KEY_LEN], *plain;
	size_t plen = 0;
	EVP_PKEY *key = NULL;

	if (!ssa_key_is_sealed(buf, n))
		return decode_key(buf, n);
	if (!get_handover_key(k) || !(plain = malloc(n))) {
		OPENSSL_cleanse(k, sizeof k);
		return NULL;
	}
	if (ssa_key_unseal(k, buf, n, plain, &plen) == 0)
		key = decode_key(plain, plen);
	OPENSSL_cleanse(plain, n);
	OPENSSL_cleanse(k, sizeof k);
	free(plain);
	return key;
}

static int op_load(const struct ssa_keepmsg *q, int fd, struct ssa_keepmsg *r, uint8_t *out)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	EVP_PKEY *k;
	int rc;

	if (q->op == SSA_KEEP_LOAD_FD) {
		if (fd < 0)
			return EBADF;
		if ((rc = read_file(fd, &buf, &n)) != 0)
			return rc;
		k = decode_file_key(buf, n);
		OPENSSL_cleanse(buf, n);
		free(buf);
	} else {
		k = decode_key(q->data, q->len);
	}
	if (!k)
		return EINVAL;
	pthread_rwlock_wrlock(&table_lock);
	rc = keep(k, r, out);
	pthread_rwlock_unlock(&table_lock);
	if (rc != 0)
		EVP_PKEY_free(k);
	return rc;
}

/* Key files stashed by the supervisor for the worker to load by ticket
 * (keeper_msg.h): the descriptor, whom it came from, its ticket. */
static struct {
	uint8_t ticket[SSA_KEEP_TICKET_LEN];
	uint32_t uid;
	int fd; /* -1: a free entry */
} stash[SSA_KEEP_MAX_STASHED];
static unsigned n_stashed;
static pthread_mutex_t stash_lock = PTHREAD_MUTEX_INITIALIZER;

/* The stash entry of ticket t, or -1 (under stash_lock). The comparison
 * takes the same time wherever tickets differ. */
static int stash_find(const uint8_t *t)
{
	for (unsigned i = 0; i < SSA_KEEP_MAX_STASHED && n_stashed; i++)
		if (stash[i].fd >= 0 && CRYPTO_memcmp(stash[i].ticket, t, SSA_KEEP_TICKET_LEN) == 0)
			return (int)i;
	return -1;
}

/* STASH: keep *fd (taken: *fd set to -1) under the ticket and uid. */
static int op_stash(const struct ssa_keepmsg *q, int *fd)
{
	struct stat st;
	int rc = ENOSPC;

	if (*fd < 0)
		return EBADF;
	/* cached attributes only: a FUSE or network server is not asked */
	if (fstatat(*fd, "", &st, AT_EMPTY_PATH | AT_STATX_DONT_SYNC) != 0 || !S_ISREG(st.st_mode))
		return EINVAL;
	pthread_mutex_lock(&stash_lock);
	if (stash_find(q->data) >= 0) {
		rc = EEXIST;
	} else if (n_stashed < SSA_KEEP_MAX_STASHED) {
		for (unsigned i = 0; i < SSA_KEEP_MAX_STASHED; i++) {
			if (stash[i].fd >= 0)
				continue;
			memcpy(stash[i].ticket, q->data, SSA_KEEP_TICKET_LEN);
			memcpy(&stash[i].uid, q->data + SSA_KEEP_TICKET_LEN, 4);
			stash[i].fd = *fd;
			*fd = -1;
			n_stashed++;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&stash_lock);
	return rc;
}

/* Take the file of ticket t out of the stash: its descriptor, or -1 with
 * *err ENOENT (no such ticket) or EACCES (stashed for another uid: the
 * ticket is used up all the same). */
static int unstash(const uint8_t *t, const uint32_t *uid, int *err)
{
	int i, fd = -1, refused = -1;

	pthread_mutex_lock(&stash_lock);
	if ((i = stash_find(t)) < 0) {
		*err = ENOENT;
	} else {
		if (uid && *uid != stash[i].uid) {
			*err = EACCES;
			refused = stash[i].fd;
		} else {
			fd = stash[i].fd;
		}
		OPENSSL_cleanse(stash[i].ticket, SSA_KEEP_TICKET_LEN);
		stash[i].fd = -1;
		n_stashed--;
	}
	pthread_mutex_unlock(&stash_lock);
	if (refused >= 0)
		close(refused); /* not under the lock: a close may wait (FUSE, SO_LINGER) */
	return fd;
}

/* UNSTASH (nobody redeemed the ticket) and LOAD_TICKET. */
static int op_ticket(const struct ssa_keepmsg *q, struct ssa_keepmsg *r, uint8_t *out)
{
	struct ssa_keepmsg load = { .op = SSA_KEEP_LOAD_FD };
	uint32_t uid, max;
	struct stat st;
	int err = 0, fd;

	if (q->op == SSA_KEEP_UNSTASH) {
		fd = unstash(q->data, NULL, &err);
		if (fd >= 0)
			close(fd);
		return err;
	}
	memcpy(&uid, q->data + SSA_KEEP_TICKET_LEN, 4);
	memcpy(&max, q->data + SSA_KEEP_TICKET_LEN + 4, 4);
	if ((fd = unstash(q->data, &uid, &err)) < 0)
		return err;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)max)
		err = EFBIG;
	else
		err = op_load(&load, fd, r, out);
	close(fd);
	return err;
}

/* Raw RSA private operation (ssad pads and checks padding). */
static int op_rsa(EVP_PKEY *k, const struct ssa_keepmsg *q, struct ssa_keepmsg *r, uint8_t *out)
{
	EVP_PKEY_CTX *c;
	size_t olen = SSA_KEEP_MAX_RSA;
	int ok;

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || (int)q->len != EVP_PKEY_get_size(k))
		return EINVAL;
	c = EVP_PKEY_CTX_new(k, NULL);
	ok = c && EVP_PKEY_decrypt_init(c) == 1 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1 &&
	     EVP_PKEY_decrypt(c, out, &olen, q->data, q->len) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	r->len = (uint32_t)olen;
	return ok ? 0 : EIO;
}

static int op_ecdsa(EVP_PKEY *k, const struct ssa_keepmsg *q, struct ssa_keepmsg *r, uint8_t *out)
{
	EVP_PKEY_CTX *c;
	size_t olen = 2u * SSA_KEEP_MAX_DIGEST + 16u;
	int ok;

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC || (size_t)EVP_PKEY_get_size(k) > olen)
		return EINVAL;
	c = EVP_PKEY_CTX_new(k, NULL);
	ok = c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, out, &olen, q->data, q->len) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	r->len = (uint32_t)olen;
	return ok ? 0 : EIO;
}

/* Write k as PEM into the empty memfd fd (the restart hand-over). */
static int op_export(EVP_PKEY *k, int fd)
{
	BIO *b = BIO_new(BIO_s_secmem());
	uint8_t hk[SSA_SEAL_KEY_LEN], *sealed = NULL;
	char *data;
	long n = 0, off = 0;
	int rc = EIO;

	if (fd < 0) {
		BIO_free(b);
		return EBADF;
	}
	if (!get_handover_key(hk)) {
		BIO_free(b);
		return ENOKEY; /* never in the clear */
	}
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (sealed = malloc((size_t)n + SSA_SEAL_OVERHEAD)) &&
	    ssa_key_seal(hk, (const uint8_t *)data, (size_t)n, sealed) == 0) {
		long total = n + (long)SSA_SEAL_OVERHEAD;

		while (off < total) {
			ssize_t w = pwrite(fd, sealed + off, (size_t)(total - off), (off_t)off);

			if (w <= 0)
				break;
			off += w;
		}
		rc = off == total ? 0 : EIO;
	}
	free(sealed); /* ciphertext */
	OPENSSL_cleanse(hk, sizeof hk);
	BIO_free(b); /* the secure heap wipes it */
	ERR_clear_error();
	return rc;
}

/* An operation on a held key, under the table lock (shared for the
 * private operations, exclusive for RELEASE). */
static int serve_key(const struct ssa_keepmsg *q, int fd, struct ssa_keepmsg *r, uint8_t *out)
{
	EVP_PKEY *k;
	int rc;

	if (q->op == SSA_KEEP_RELEASE)
		pthread_rwlock_wrlock(&table_lock);
	else
		pthread_rwlock_rdlock(&table_lock);
	if (!(k = key_of(q->key)))
		rc = ENOENT;
	else if (q->op == SSA_KEEP_RSA_PRIVATE)
		rc = op_rsa(k, q, r, out);
	else if (q->op == SSA_KEEP_ECDSA_SIGN)
		rc = op_ecdsa(k, q, r, out);
	else if (q->op == SSA_KEEP_EXPORT)
		rc = op_export(k, fd);
	else
		rc = (drop(q->key & (SSA_KEEP_MAX_KEYS - 1)), 0); /* RELEASE */
	pthread_rwlock_unlock(&table_lock);
	return rc;
}

/* Carry out one request into r (payload in out). @return the reply's status */
static int serve(const struct ssa_keepmsg *q, int *fd, struct ssa_keepmsg *r, uint8_t *out,
		 bool admin)
{
	int rc;

	if (!admin && (q->op == SSA_KEEP_HANDOVER_KEY || q->op == SSA_KEEP_STASH ||
		       q->op == SSA_KEEP_UNSTASH))
		return EPERM;
	if (q->op == SSA_KEEP_LOAD_FD || q->op == SSA_KEEP_LOAD_BYTES)
		return op_load(q, *fd, r, out);
	if (q->op == SSA_KEEP_STASH)
		return op_stash(q, fd);
	if (q->op == SSA_KEEP_UNSTASH || q->op == SSA_KEEP_LOAD_TICKET)
		return op_ticket(q, r, out);
	if (q->op == SSA_KEEP_HANDOVER_KEY)
		return op_handover_key(q);
	if ((rc = serve_key(q, *fd, r, out)) == 0)
		r->key = q->key;
	return rc;
}

/* Receive one datagram and at most one descriptor. @return bytes, 0 at EOF, -1 */
static ssize_t receive(int sock, uint8_t *buf, size_t cap, int *fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof cm.b };
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n >= 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return (ssize_t)cap + 1; /* answered as malformed */
	return n;
}

/* The reply's op for a request whose first byte is b (RELEASE if unknown). */
static uint8_t reply_op(const uint8_t *in, ssize_t n)
{
	uint8_t op = n >= 1 && in[0] >= SSA_KEEP_LOAD_FD && in[0] <= SSA_KEEP_OP_MAX ? in[0] :
		     SSA_KEEP_RELEASE;

	return (uint8_t)(op | SSA_KEEP_REPLY);
}

/* Answer requests on sock until ssad closes its end: every request gets
 * exactly one reply, a malformed one a status of EBADMSG or EMSGSIZE. */
static void keeper_loop(int sock)
{
	uint8_t in[SSA_KEEP_MAX], out[SSA_KEEP_MAX], reply[SSA_KEEP_MAX]; /* this thread's */

	for (;;) {
		struct ssa_keepmsg q, r = { .data = out };
		size_t rlen;
		int fd, st;
		ssize_t n = receive(sock, in, sizeof in, &fd);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return;
		if (n < 0)
			continue;
		r.op = reply_op(in, n);
		if (n >= 8)
			memcpy(&r.id, in + 4, 4);
		st = n > (ssize_t)sizeof in ? EMSGSIZE : ssa_keepmsg_decode(in, (size_t)n, &q);
		if (st == 0 && (q.op & SSA_KEEP_REPLY))
			st = EBADMSG;
		if (st == 0)
			st = serve(&q, &fd, &r, out, sock == admin_sock);
		if (fd >= 0)
			close(fd);
		OPENSSL_cleanse(in, n > (ssize_t)sizeof in ? sizeof in : (size_t)n);
		r.status = (uint8_t)st;
		if (st != 0) {
			r.len = 0;
			r.key = 0;
		}
		if (ssa_keepmsg_encode(&r, reply, sizeof reply, &rlen) == 0)
			(void)send(sock, reply, rlen, MSG_NOSIGNAL);
		OPENSSL_cleanse(out, r.len);
		OPENSSL_cleanse(reply, rlen);
	}
}

/* Load what the loop will use (providers, decoders, the random generator)
 * while files may still be opened: after the sandbox nothing may open one. */
static int warm_up(void)
{
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	static uint8_t out[SSA_KEEP_MAX];
	uint8_t in[128] = { 0 }, der[512], *p = der;
	struct ssa_keepmsg q = { .data = in }, r = { 0 };
	int len, ok = ec && rsa;

	in[127] = 1;
	if (ok) {
		q.len = 32;
		ok = op_ecdsa(ec, &q, &r, out) == 0;
		q.len = 128;
		ok = ok && op_rsa(rsa, &q, &r, out) == 0;
		len = i2d_PrivateKey(ec, &p);
		ok = ok && len > 0 && (EVP_PKEY_free(ec), ec = decode_key(der, (size_t)len)) != NULL;
	}
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	OPENSSL_cleanse(der, sizeof der);
	OPENSSL_cleanse(out, sizeof out);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* The serving threads of the extra channels: started before the sandbox
 * (thread creation and the C library's start of a thread need calls the
 * filter forbids), they report that they run, then wait until the sandbox
 * is installed, then serve. */
static pthread_mutex_t go_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int go; /* 1: serve, -1: the sandbox failed, end */
static int running; /* threads in channel_thread() */

static void *channel_thread(void *arg)
{
	int sock = (int)(intptr_t)arg, g;

	pthread_mutex_lock(&go_lock);
	running++;
	pthread_cond_broadcast(&go_cond);
	while (!go)
		pthread_cond_wait(&go_cond, &go_lock);
	g = go;
	pthread_mutex_unlock(&go_lock);
	if (g > 0)
		keeper_loop(sock);
	return NULL;
}

/* Start a thread for each of the sockets sock+1..sock+n-1. @retval 0, -1 */
static int start_threads(int sock, int n)
{
	pthread_attr_t at;
	int rc = 0;

	if (pthread_attr_init(&at) != 0)
		return -1;
	/* three request buffers on each thread's stack: 1 MiB is plenty */
	pthread_attr_setstacksize(&at, 1u << 20);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (int i = 1; i < n && rc == 0; i++) {
		pthread_t t;

		rc = pthread_create(&t, &at, channel_thread, (void *)(intptr_t)(sock + i));
	}
	pthread_attr_destroy(&at);
	if (rc != 0)
		return -1;
	/* every thread past its start-up (robust list, rseq, signal mask)
	 * before the filter forbids those calls */
	pthread_mutex_lock(&go_lock);
	while (running < n - 1)
		pthread_cond_wait(&go_cond, &go_lock);
	pthread_mutex_unlock(&go_lock);
	return 0;
}

/* Let the threads serve (ok) or end (!ok). */
static void release_threads(bool ok)
{
	pthread_mutex_lock(&go_lock);
	go = ok ? 1 : -1;
	pthread_cond_broadcast(&go_cond);
	pthread_mutex_unlock(&go_lock);
}

int ssa_keeper_main(int sock, int n)
{
	char why[200];
	sigset_t all;
	pid_t parent = getppid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "ssad-keeper");
	prctl(PR_SET_DUMPABLE, 0);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getppid() == 1) /* ssad died before PR_SET_PDEATHSIG */
		return 1;
	if (n < 1 || n > SSA_KEEPER_MAX_CHANNELS) {
		log_err("key keeper: %d channels (1 to %d)", n, SSA_KEEPER_MAX_CHANNELS);
		return 1;
	}
	if (close_range((unsigned)(sock + n), ~0u, 0) != 0) {
		log_err("key keeper: cannot close inherited descriptors: %s", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < SSA_KEEP_MAX_STASHED; i++)
		stash[i].fd = -1;
	admin_sock = n >= 2 ? sock + n - 1 : -1;
	OPENSSL_init_ssl(0, NULL);
	if (warm_up() != 0) {
		log_err("key keeper: OpenSSL does not sign or decode");
		return 1;
	}
	if (start_threads(sock, n) != 0) {
		log_err("key keeper: cannot start its %d threads", n - 1);
		return 1;
	}
	if (ssa_keeper_sandbox(parent, why, sizeof why) != 0) {
		release_threads(false);
		log_err("key keeper: %s", why);
		return 1;
	}
	release_threads(true);
	keeper_loop(sock);
	return 0;
}

/* In the child, before exec (async-signal-safe calls only): ends[0..n-1]
 * onto SSA_KEEPER_FD.. without close-on-exec. @retval 0, -1 */
static int place_fds(const int *ends, int n)
{
	int tmp[SSA_KEEPER_MAX_CHANNELS];

	/* above the target range first, so no dup2 overwrites a source */
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(ends[i], F_DUPFD, SSA_KEEPER_FD + n)) < 0)
			return -1;
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], SSA_KEEPER_FD + i) != SSA_KEEPER_FD + i)
			return -1;
	return 0; /* the keeper closes the temporary copies */
}

int ssa_keeper_spawn(pid_t *pid, int *fds, int n, char *why, size_t wlen)
{
	static char exe[4096];
	char narg[16];
	char *argv[] = { "ssad-keeper", (char *)SSA_KEEPER_ARG, narg, NULL };
	int sv[SSA_KEEPER_MAX_CHANNELS][2], ends[SSA_KEEPER_MAX_CHANNELS], made = 0, e = 0;
	pid_t p = -1;

	if (n < 1 || n > SSA_KEEPER_MAX_CHANNELS) {
		snprintf(why, wlen, "%d key keeper channels (1 to %d)", n, SSA_KEEPER_MAX_CHANNELS);
		return EINVAL;
	}
	snprintf(narg, sizeof narg, "%d", n);
	/* ssad's file by name, read once at start-up (under valgrind the name
	 * is the program's, while /proc/self/exe is valgrind's tool); the
	 * magic link if the name no longer executes (ssad upgraded on disk) */
	if (!exe[0]) {
		ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);

		exe[r > 0 ? r : 0] = '\0';
	}
	for (; made < n; made++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv[made]) != 0) {
			e = errno ? errno : EMFILE;
			snprintf(why, wlen, "socketpair: %s", strerror(e));
			break;
		}
		ends[made] = sv[made][1];
	}
	/* fork + exec: ssad has threads by now, and the keeper should start
	 * with none of ssad's memory. Only async-signal-safe calls before exec. */
	if (!e && made == n && (p = fork()) == 0) {
		if (place_fds(ends, n) == 0) {
			if (exe[0])
				execv(exe, argv);
			execv("/proc/self/exe", argv);
		}
		_exit(127);
	}
	if (!e && p < 0) {
		e = errno;
		snprintf(why, wlen, "fork: %s", strerror(e));
	}
	for (int i = 0; i < made; i++) {
		close(sv[i][1]);
		fds[i] = sv[i][0];
		if (e)
			close(sv[i][0]);
	}
	if (e)
		return e;
	*pid = p;
	return 0;
}
