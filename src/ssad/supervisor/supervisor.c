/* SPDX-License-Identifier: MIT */
/* The supervisor: forks the worker, replaces it when it dies, relays its
 * states and keeps its stored descriptors (supervisor.h). */
#include "supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../sd_listen.h"
#include "../sd_notify.h"
#include "../engine/remote_key.h"
#include "../keeper/keeper.h"
#include "cfg_access.h"
#include "fd_store.h"
#include "handover_key.h"
#include "../../proto/wire.h"
#include "key_intake.h"
#include "notify_msg.h"
#include "priv_client.h"
#include "priv_server.h"
#include "kernel_keys.h"

/** The supervisor's state (one per process). */
static struct {
	pid_t self;
	pid_t worker;          /* 0: none running */
	int chan;              /* our end of the worker's notify socket pair */
	int priv;              /* our end of its request pair (priv_server.h) */
	pid_t keeper;          /* the key keeper started for the running worker */
	int loader;            /* our channel to it (keeper_loader.h) */
	int sigfd;
	int ctl_fd;
	const char *socket_path;
	bool stopping;
	bool ready;            /* the running worker said READY=1 */
	bool ever_ready;       /* some worker did */
	unsigned early;        /* consecutive workers that lived under a second */
	uint64_t started_ms;   /* when the running worker was forked */
	uint64_t respawn_at;   /* 0, or when to fork the next worker */
	int status;            /* the exit status to end with */
	struct ssa_fd_store store;
} sup = { .chan = -1, .priv = -1, .loader = -1, .sigfd = -1, .ctl_fd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the supervisor handles by signalfd (and the worker by its own). */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGCHLD);
}

static int worker_chan = -1; /* in the worker: its end of the notify pair */

void ssad_supervisor_check(void)
{
	if (worker_chan >= 0 && getppid() != sup.self) {
		log_err("the supervisor is gone; the worker ends");
		_exit(1);
	}
}

int ssad_supervisor_chan(void)
{
	return worker_chan;
}

int ssad_supervisor_signal(void)
{
	char buf[64];
	ssize_t n;
	int end = 0;

	while ((n = recv(worker_chan, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
		int signo;

		buf[n] = '\0';
		if (sscanf(buf, "SIGNAL=%d", &signo) == 1 &&
		    (signo == SIGHUP || signo == SIGTERM || signo == SIGINT))
			kill(getpid(), signo);
		else if (strcmp(buf, "KEEPER=0") == 0)
			end = 1;
	}
	return end;
}

/* In the new worker: drop what is the supervisor's. */
static void become_worker(int chan, int priv, pid_t keeper, const int *kfds, int kn)
{
	struct ssa_sd_fd *fds;
	sigset_t set;
	size_t n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != sup.self) /* the supervisor died before PR_SET_PDEATHSIG */
		_exit(1);
	prctl(PR_SET_NAME, "ssad-worker", 0, 0, 0);
	close(sup.sigfd);
	close(sup.chan);
	close(sup.priv);
	handled_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	unsetenv("NOTIFY_SOCKET"); /* the service manager is told by the supervisor */
	ssa_sd_notify_use_fd(chan);
	worker_chan = chan;
	ssa_priv_client_init(priv, sup.self);
	if (sup.loader >= 0)
		close(sup.loader);
	/* The supervisor's secrets and its key intake are not the worker's
	 * (forked, not executed: it has a copy of everything). */
	ssa_handover_key_forget();
	ssa_key_intake_forget();
	ssa_kernel_keys_forget();
	if (ssa_remote_key_adopt(keeper, kfds, kn) != 0)
		_exit(1);
	/* The stored descriptors have the same numbers here; they are the
	 * worker's now (the supervisor keeps its own). */
	fds = ssa_fd_store_list(&sup.store, &n);
	if (n && !fds) {
		for (size_t i = 0; i < sup.store.n; i++)
			close(sup.store.e[i].sd.fd);
	}
	free(sup.store.e);
	memset(&sup.store, 0, sizeof sup.store);
	ssa_sd_listen_inherit(fds, n);
}

/* Fork a worker, and the key keeper it will use. @retval 1 in the worker,
 * 0 in the supervisor, -1 failed */
static int spawn(void)
{
	int sv[2], pv[2], kfds[SSA_KEEPER_MAX_CHANNELS], kn = ssa_remote_key_channels(), err;
	char why[200];
	pid_t pid, kpid;

	/* One channel more than the worker's: the supervisor's, to load the
	 * configuration's keys without the worker (keeper_loader.h). */
	if (ssa_keeper_spawn(&kpid, kfds, kn + 1, why, sizeof why) != 0) {
		log_err("supervisor: cannot start a key keeper: %s", why);
		return -1;
	}
	/* Before the worker exists: the keeper takes only the first, so a
	 * keeper without it is not used (a worker could give it one). */
	if ((err = ssa_handover_key_give(kfds[kn])) != 0) {
		log_err("supervisor: the key keeper (pid %d) did not take the hand-over key: %s",
			(int)kpid, strerror(err));
		for (int i = 0; i <= kn; i++)
			close(kfds[i]); /* the keeper ends at EOF; reaped as any child */
		return -1;
	}
	/* Before the worker registers with ssa.ko: key files come here. */
	ssa_kernel_keys_start();
	ssa_cfg_access_forget(); /* a new worker has read no configuration */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pv) != 0 ||
	    (pid = fork()) < 0) {
		log_err("supervisor: cannot start a worker: %s", strerror(errno));
		for (int i = 0; i <= kn; i++)
			close(kfds[i]); /* the keeper ends at EOF; reaped as any child */
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close(pv[0]);
		close(kfds[kn]);
		become_worker(sv[1], pv[1], kpid, kfds, kn);
		return 1;
	}
	close(sv[1]);
	close(pv[1]);
	for (int i = 0; i < kn; i++)
		close(kfds[i]);
	sup.chan = sv[0];
	sup.priv = pv[0];
	sup.keeper = kpid;
	sup.loader = kfds[kn];
	ssa_priv_server_keeper(sup.loader);
	sup.worker = pid;
	sup.ready = false;
	sup.started_ms = now_ms();
	return 0;
}

/* Close the descriptors of a message nobody keeps. */
static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* One datagram from the worker. */
static void on_notify(void)
{
	char buf[SSA_NOTIFY_MAX + 1], fwd[SSA_NOTIFY_NAME_MAX + 32];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * SSA_SD_MAX_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof ctl.b };
	struct ssa_notify_msg m;
	int fds[SSA_SD_MAX_FDS];
	size_t nfds = 0;
	ssize_t len;
	int err;

	len = recvmsg(sup.chan, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (len < 0)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < SSA_SD_MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ssa_notify_parse(buf, (size_t)len, &m) != 0) {
		log_err("supervisor: malformed state message from the worker (%zd bytes, %zu "
			"descriptors); ignored", len, nfds);
		close_all(fds, nfds);
		return;
	}
	if (m.has_config)
		ssa_cfg_access_running(m.config);
	if (m.ready) {
		sup.ready = true;
		sup.ever_ready = true;
		ssa_sd_notify("READY=1");
	}
	if (m.reloading)
		ssa_sd_notify("RELOADING=1");
	if (m.stopping && sup.stopping)
		/* A worker stopping alone (a signal sent to it, not to the
		 * service) is replaced: the service is not stopping. */
		ssa_sd_notify("STOPPING=1");
	if ((m.fdstore || m.fdstore_remove) && ssa_handover_key_name(m.name)) {
		log_err("supervisor: the worker may not store or remove '%s'; ignored", m.name);
		close_all(fds, nfds);
		return;
	}
	if (m.fdstore && nfds) {
		/* The service manager keeps them too: they outlive the
		 * supervisor as they outlived ssad before. */
		snprintf(fwd, sizeof fwd, "FDSTORE=1\nFDNAME=%s", m.name);
		ssa_sd_notify_fds(fwd, fds, nfds);
		for (size_t i = 0; i < nfds; i++) {
			if ((err = ssa_fd_store_add(&sup.store, m.name, fds[i])) != 0)
				log_err("supervisor: descriptor '%s' not kept: %s", m.name,
					strerror(err));
		}
		return;
	}
	close_all(fds, nfds);
	if (m.fdstore_remove) {
		ssa_fd_store_remove(&sup.store, m.name);
		snprintf(fwd, sizeof fwd, "FDSTOREREMOVE=1\nFDNAME=%s", m.name);
		ssa_sd_notify(fwd);
	}
}

/* The worker's end: read what it said last, then decide what comes next. */
static void worker_gone(int st)
{
	uint64_t lived = now_ms() - sup.started_ms;
	bool was_ready = sup.ready;
	char how[64];

	while (sup.chan >= 0) {
		struct pollfd p = { .fd = sup.chan, .events = POLLIN };

		if (poll(&p, 1, 0) != 1)
			break;
		on_notify();
	}
	close(sup.chan);
	sup.chan = -1;
	close(sup.priv);
	sup.priv = -1;
	close(sup.loader); /* the keeper ends with the worker's channels */
	sup.loader = -1;
	ssa_priv_server_keeper(-1);
	sup.worker = 0;
	if (WIFSIGNALED(st)) {
		sup.status = 128 + WTERMSIG(st);
		snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(st));
	} else {
		sup.status = WEXITSTATUS(st);
		snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
	}
	if (sup.stopping)
		return;
	if (!sup.ever_ready) {
		/* The first one never started: a bad configuration, a control
		 * socket it cannot serve. Its own log said why. */
		log_err("supervisor: the worker %s before it was ready; stopping", how);
		sup.stopping = true;
		return;
	}
	sup.early = lived < 1000 || !was_ready ? sup.early + 1 : 0;
	if (sup.early >= SSA_SUP_MAX_EARLY) {
		log_err("supervisor: the worker %s; %u workers in a row lived under a second: "
			"stopping", how, sup.early);
		sup.status = sup.status ? sup.status : 1;
		sup.stopping = true;
		return;
	}
	log_err("supervisor: the worker %s; its connections are lost, a new worker %s", how,
		sup.early ? "starts in a second" : "starts now");
	sup.respawn_at = now_ms() + (sup.early ? 1000 : 0);
}

/* Pass a signal on. The worker is another user: kill() would need
 * CAP_KILL, so the signal goes as a datagram on its notify pair, and the
 * worker raises it itself (ssad_supervisor_signal()). */
static void tell_worker(int signo)
{
	char msg[32];
	int n = snprintf(msg, sizeof msg, "SIGNAL=%d", signo);

	if (sup.chan < 0 || send(sup.chan, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_err("supervisor: cannot pass signal %d to the worker: %s", signo,
			strerror(errno));
}

/* The running worker's keeper died: the worker cannot go on (its keys
 * are gone, and it may not start a keeper): it is told to end, and is
 * replaced with a new keeper. */
static void keeper_gone(int st)
{
	pid_t k = sup.keeper;

	sup.keeper = 0;
	if (!sup.worker || sup.stopping)
		return;
	log_err("key keeper (pid %d) %s %d; its worker ends, a new worker starts with a new keeper",
		(int)k, WIFSIGNALED(st) ? "killed by signal" : "exited with",
		WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (sup.chan < 0 || send(sup.chan, "KEEPER=0", 8, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_err("supervisor: cannot tell the worker: %s", strerror(errno));
}

static void on_signals(void)
{
	struct signalfd_siginfo si;

	while (read(sup.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			pid_t p;
			int st;

			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				if (p == sup.worker)
					worker_gone(st);
				else if (p == sup.keeper)
					keeper_gone(st);
			}
			continue;
		}
		if (si.ssi_signo != SIGHUP) {
			sup.stopping = true;
			sup.respawn_at = 0;
		}
		if (sup.worker > 0)
			tell_worker((int)si.ssi_signo);
	}
}

/* ssad ends: the last keeper ends once its worker's channels close (they
 * have: the worker is gone, and the loader channel is closed); wait up to
 * two seconds for it, so that nothing of ssad outlives it. */
static void reap_keeper(void)
{
	for (int i = 0; sup.keeper > 0 && i < 200; i++) {
		pid_t p = waitpid(sup.keeper, NULL, WNOHANG);

		if (p == sup.keeper || (p < 0 && errno == ECHILD))
			sup.keeper = 0;
		else
			usleep(10000);
	}
	if (sup.keeper > 0)
		log_warn("supervisor: the key keeper (pid %d) did not end with its worker",
			 (int)sup.keeper);
}

/* What a service manager passed is the store's from the start (it has
 * them already: nothing is forwarded back). */
static void keep_passed(void)
{
	struct ssa_sd_fd *passed = NULL;
	size_t n = 0;
	char why[256];

	if (ssa_sd_listen_fds(&passed, &n, why, sizeof why) != 0)
		log_err("hand-over: %s; no listeners taken over", why);
	for (size_t i = 0; i < n; i++) {
		int err = ssa_fd_store_add(&sup.store, passed[i].name, passed[i].fd);

		if (err)
			log_err("supervisor: passed descriptor '%s' not kept: %s", passed[i].name,
				strerror(err));
	}
	free(passed);
}

/* timeout, or sooner if a key intake connection times out first. */
static int intake_timeout(int timeout)
{
	int t = ssa_key_intake_timeout(now_ms());

	return t >= 0 && (timeout < 0 || t < timeout) ? t : timeout;
}

/* The key intake (key_intake.h) next to the control socket; without it
 * libssa sends key files through the worker, as to an older ssad. */
static void start_intake(const char *socket_path)
{
	int err = ssa_key_intake_start(socket_path);

	if (err)
		log_warn("supervisor: no key intake at %s%s (%s): the key files applications "
			 "set will pass through the worker", socket_path, SSA_KEY_INTAKE_SUFFIX,
			 strerror(err));
}

int ssad_supervise(int ctl_fd, const char *socket_path, const char *config_path,
		   bool config_explicit)
{
	sigset_t set;
	bool chan_eof = false;

	sup.self = getpid();
	ssa_cfg_access_init(config_path, config_explicit);
	sup.ctl_fd = ctl_fd;
	sup.socket_path = socket_path;
	keep_passed();
	if (ssa_handover_key_init(&sup.store) != 0)
		return 1;
	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sup.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sup.sigfd < 0) {
		log_err("supervisor: signalfd: %s", strerror(errno));
		return 1;
	}
	start_intake(socket_path);
	switch (spawn()) {
	case 1:
		return -1;
	case -1:
		return 1;
	default:
		break;
	}
	log_info("supervisor (pid %d): worker pid %d started", (int)sup.self, (int)sup.worker);
	for (;;) {
		static struct pollfd p[3 + SSA_KEY_INTAKE_POLLFDS];
		int timeout = -1;
		size_t np, nk;

		p[0] = (struct pollfd){ .fd = sup.sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sup.chan, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = sup.priv, .events = POLLIN };

		if (!sup.worker && sup.stopping)
			break;
		if (!sup.worker && sup.respawn_at) {
			uint64_t now = now_ms();

			if (now >= sup.respawn_at) {
				sup.respawn_at = 0;
				switch (spawn()) {
				case 1:
					return -1;
				case -1: /* spawn() may have waited on the keeper */
					sup.respawn_at = now_ms() + 1000;
					sup.early++;
					if (sup.early >= SSA_SUP_MAX_EARLY)
						sup.stopping = true;
					continue;
				default:
					log_info("supervisor: worker pid %d started",
						 (int)sup.worker);
					continue;
				}
			}
			timeout = (int)(sup.respawn_at - now);
		}
		/* The key intake's descriptors follow the first three (or the
		 * first one, when the worker's are not polled). */
		np = sup.chan >= 0 && !chan_eof ? 3 : 1;
		nk = ssa_key_intake_pollfds(p + np);
		if (poll(p, np + nk, intake_timeout(timeout)) < 0 && errno != EINTR)
			break;
		ssa_key_intake_serve(p + np, nk, sup.worker ? sup.loader : -1, now_ms());
		/* Requests first: the worker waits for each answer. */
		if (np == 3 && sup.priv >= 0 && p[2].fd == sup.priv && (p[2].revents & POLLIN))
			while (ssa_priv_serve(sup.priv) == 0)
				;
		/* The worker's end closed: it is going (SIGCHLD follows). */
		if (np == 3 && !(p[1].revents & POLLIN) && (p[1].revents & (POLLHUP | POLLERR)))
			chan_eof = true;
		if (p[0].revents)
			on_signals();
		if (sup.chan < 0)
			chan_eof = false;
		else if (np == 3 && p[1].fd == sup.chan && (p[1].revents & POLLIN))
			on_notify();
	}
	ssa_key_intake_stop();
	reap_keeper();
	ssa_fd_store_clear(&sup.store);
	/* The worker may not remove it (it is not root): the supervisor does. */
	unlink(sup.socket_path);
	close(sup.ctl_fd);
	close(sup.sigfd);
	return sup.status;
}
