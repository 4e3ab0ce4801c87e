/* SPDX-License-Identifier: MIT */
/*
 * The journal's native protocol: one datagram per entry on
 * /run/systemd/journal/socket, each field "KEY=value\n" or, binary-safe,
 * "KEY\n" + le64 length + value + "\n" (systemd's "Native Journal
 * Protocol"). Entries here stay far below the datagram limit, so the
 * memfd form for large entries is never needed.
 */
#include "journal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FIELD_MAX 512   /* bytes of one outside value kept (escaped) */
#define ENTRY_MAX 8192

static int jfd = -1;
static struct sockaddr_un jaddr;
static socklen_t jlen;
static bool stderr_is_journal;

static bool key_ok(const char *k)
{
	if (!*k || *k == '_' || strlen(k) > 64)
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

size_t ssa_journal_format(char *out, size_t cap, const char *const *keys,
			  const char *const *values, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i]), vl = strlen(values[i]);
		bool binary = memchr(values[i], '\n', vl) != NULL;
		size_t need = kl + 1 + (binary ? 8 : 0) + vl + 1;

		if (!key_ok(keys[i]) || need > cap - o)
			return 0;
		memcpy(out + o, keys[i], kl);
		o += kl;
		if (binary) {
			uint64_t len = vl;

			out[o++] = '\n';
			for (int b = 0; b < 8; b++)
				out[o++] = (char)(len >> (8 * b) & 0xff);
		} else {
			out[o++] = '=';
		}
		memcpy(out + o, values[i], vl);
		o += vl;
		out[o++] = '\n';
	}
	return o;
}

/* $JOURNAL_STREAM is "device:inode" of the stream stderr is connected to. */
static bool stderr_goes_to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* An outside value as a field: escaped (no newline, no control bytes) and
 * bounded. */
static const char *bounded(const char *v, char *buf)
{
	ssa_log_escape(v, buf, FIELD_MAX);
	return buf;
}

static bool journal_sink(enum ssa_log_level lvl, const char *line, const struct ssa_log_fields *f)
{
	static const char *const prio[] = { "3", "4", "6", "7" };
	const char *keys[12], *vals[12];
	char buf[6][FIELD_MAX], pid[24], uid[24], entry[ENTRY_MAX];
	size_t n = 0, len;

	keys[n] = "PRIORITY", vals[n++] = prio[lvl];
	keys[n] = "SYSLOG_IDENTIFIER", vals[n++] = "ssad";
	keys[n] = "MESSAGE", vals[n++] = line;
	if (f) {
		if (f->program)
			keys[n] = "PROGRAM", vals[n++] = bounded(f->program, buf[0]);
		if (f->pid >= 0) {
			snprintf(pid, sizeof pid, "%ld", f->pid);
			keys[n] = "PROGRAM_PID", vals[n++] = pid;
		}
		if (f->uid >= 0) {
			snprintf(uid, sizeof uid, "%ld", f->uid);
			keys[n] = "UID", vals[n++] = uid;
		}
		if (f->profile)
			keys[n] = "PROFILE", vals[n++] = bounded(f->profile, buf[1]);
		if (f->peer)
			keys[n] = "PEER", vals[n++] = bounded(f->peer, buf[2]);
		if (f->sni)
			keys[n] = "SNI", vals[n++] = bounded(f->sni, buf[3]);
		if (f->reason)
			keys[n] = "REASON", vals[n++] = bounded(f->reason, buf[4]);
	}
	len = ssa_journal_format(entry, sizeof entry, keys, vals, n);
	if (!len || send(jfd, entry, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		return false; /* journal full or gone: stderr has it */
	return stderr_is_journal;
}

bool ssa_journal_start(void)
{
	const char *path = getenv("SSA_JOURNAL_SOCKET");

	if (!getenv("JOURNAL_STREAM") && !getenv("INVOCATION_ID"))
		return false;
	if (!path || !*path)
		path = SSA_JOURNAL_SOCKET;
	if (path[0] != '/' || strlen(path) >= sizeof jaddr.sun_path || access(path, W_OK) != 0)
		return false;
	jaddr.sun_family = AF_UNIX;
	memcpy(jaddr.sun_path, path, strlen(path) + 1); /* length checked above */
	jlen = (socklen_t)sizeof jaddr;
	jfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (jfd < 0)
		return false;
	/* Connected now, as root: the worker, another user, keeps sending
	 * on it whatever the socket's directory lets it reach. */
	if (connect(jfd, (struct sockaddr *)&jaddr, jlen) != 0) {
		close(jfd);
		jfd = -1;
		return false;
	}
	stderr_is_journal = stderr_goes_to_journal();
	ssa_log_set_sink(journal_sink);
	return true;
}

void ssa_journal_stop(void)
{
	ssa_log_set_sink(NULL);
	if (jfd >= 0)
		close(jfd);
	jfd = -1;
}
