/* SPDX-License-Identifier: MIT */
/* ssad: the SSA TLS service daemon. Start-up, signals, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "../common/log.h"
#include "../proto/wire.h"
#include "libssa_front/conn.h"
#include "libssa_front/control.h"
#include "libssa_front/handover.h"
#include "kernel_front/kernel_chan.h"
#include "daemon.h"
#include "engine/hs_pool.h"
#include "engine/session_cache.h"
#include "engine/policy.h"
#include "engine/remote_key.h"
#include "keeper/keeper.h"
#include "engine/tls_context.h"
#include "libssa_front/registry.h"
#include "capabilities.h"
#include "syscall_filter.h"
#include "caller_fds.h"
#include "users.h"
#include "jobs.h"
#include "sd_notify.h"
#include "supervisor/supervisor.h"
#include "supervisor/worker_user.h"
#include "supervisor/worker_fs.h"
#include "supervisor/priv_client.h"
#include "journal.h"

static struct ssad daemon_state;
static const char *config_path = SSA_DEFAULT_CONFIG;
static bool config_explicit;
static struct ssa_watch sigwatch, supwatch, privwatch;
static bool debug;
static int worker_status; /* the exit status of a worker that ends by itself */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ssad [OPTION]...\n"
		"The SSA TLS service: runs the handshakes and holds the TLS sessions of\n"
		"IPPROTO_TLS sockets. Runs in the foreground and logs to stderr.\n\n"
		"  -c, --config FILE   policy file (default " SSA_DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH   control socket (default " SSA_DEFAULT_SOCKET ")\n"
		"  -t, --test-config   check the configuration and exit (0 if valid)\n"
		"  -w, --workers N     handshake worker threads (default: one per CPU;\n"
		"                      0 runs handshakes on the event loop)\n"
		"  -d, --debug         log at debug level\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n\n"
		"Signals: SIGHUP reloads the configuration (a bad one is refused and the\n"
		"old one stays); SIGTERM/SIGINT stop the daemon.\n");
}

/* Build every policy of the configuration; on success swap the set in.
 * Live connections keep the policies (and contexts) they hold. */
/* Tell the supervisor which configuration now runs (its bytes' SHA-256):
 * the files it names stay open to this worker (supervisor/cfg_access.h). */
static void tell_config(const uint8_t digest[SSA_CONFIG_DIGEST_LEN])
{
	char line[sizeof "X_SSA_CONFIG=" + (size_t)2 * SSA_CONFIG_DIGEST_LEN];
	int k = snprintf(line, sizeof line, "X_SSA_CONFIG="), err;

	for (int i = 0; i < SSA_CONFIG_DIGEST_LEN; i++)
		k += snprintf(line + k, sizeof line - (size_t)k, "%02x", digest[i]);
	if ((err = ssa_sd_notify(line)) != 0)
		log_warn("cannot tell the supervisor which configuration runs: %s",
			 strerror(err));
}

int ssad_reload(struct ssad *d, char *err, size_t errlen)
{
	struct ssa_policy_set *set;

	set = ssa_policy_set_load(config_path, config_explicit, d->generation + 1, err, errlen);
	if (!set)
		return -1;
	ssa_policy_set_free(d->policy);
	d->policy = set;
	d->generation++;
	ssa_session_cache_flush(); /* sessions of the old policies never match again */
	ssa_session_cache_per_user((size_t)d->policy->cfg.limits.sessions_per_user);
	ssa_log_threshold = debug ? SSA_LOG_DEBUG : (enum ssa_log_level)set->cfg.log_level;
	tell_config(set->cfg.digest);
	return 0;
}

/* SIGCHLD: if the key keeper died, start a new one and load the
 * configuration's identities into it again (application-set keys are lost:
 * their connections' next handshakes fail, logged). */
static void keeper_reap(void)
{
	char err[512];
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p != ssa_remote_key_pid())
			continue;
		ssa_remote_key_reaped(p);
		if (geteuid() != 0) {
			/* Only root can start a keeper as another user: this
			 * worker ends, and the supervisor starts a new one with
			 * a new keeper. */
			log_err("key keeper (pid %d) %s %d; this worker ends, its supervisor "
				"starts a new one with a new keeper", (int)p,
				WIFSIGNALED(st) ? "killed by signal" : "exited with",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			worker_status = 1;
			daemon_state.loop.stop = 1;
			continue;
		}
		log_err("key keeper (pid %d) %s %d; starting a new one", (int)p,
			WIFSIGNALED(st) ? "killed by signal" : "exited with", WIFSIGNALED(st) ?
			WTERMSIG(st) : WEXITSTATUS(st));
		if (ssa_remote_key_restart(err, sizeof err) != 0) {
			log_err("cannot start a new key keeper: %s", err);
			continue;
		}
		if (ssad_reload(&daemon_state, err, sizeof err) != 0)
			log_err("identities not reloaded into the new key keeper: %s", err);
		else
			log_info("new key keeper (pid %d) holds the configuration's identities",
				 (int)ssa_remote_key_pid());
	}
}

static void on_supervisor(struct ssa_watch *w, uint32_t ev)
{
	(void)w;
	(void)ev;
	if (ssad_supervisor_signal()) {
		log_err("the key keeper died; this worker ends, its supervisor starts a new one "
			"with a new keeper");
		worker_status = 1;
		daemon_state.loop.stop = 1;
	}
}

/* The supervisor died (killed: it would have stopped the worker first).
 * Nothing is left to hand over: the worker ends at once. */
static void on_supervisor_gone(struct ssa_watch *w, uint32_t ev)
{
	(void)w;
	if (ev & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
		log_err("the supervisor is gone; the worker ends");
		_exit(1);
	}
}

static void on_signal(struct ssa_watch *w, uint32_t ev)
{
	struct signalfd_siginfo si;

	(void)ev;
	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			keeper_reap();
		} else if (si.ssi_signo == SIGHUP) {
			char err[512];
			int rc;

			ssa_sd_notify("RELOADING=1");
			rc = ssad_reload(&daemon_state, err, sizeof err);
			ssa_sd_notify("READY=1");
			if (rc == 0)
				log_info("configuration reloaded (generation %llu)",
					 (unsigned long long)daemon_state.generation);
			else
				log_err("%s (reload refused, the old policy stays)", err);
		} else {
			log_info("stopping on signal %u", si.ssi_signo);
			ssa_sd_notify("STOPPING=1");
			daemon_state.loop.stop = 1;
		}
	}
}

/** What the command line asks for. */
struct ssad_args {
	const char *socket_path;
	bool test_only;
	long workers;
};

/* Parse the command line into a. @retval -1 to go on, or the exit status */
static int parse_args(int argc, char **argv, struct ssad_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "test-config", no_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "c:s:tw:dhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config_path = optarg;
			config_explicit = true;
			break;
		case 's':
			a->socket_path = optarg;
			break;
		case 't':
			a->test_only = true;
			break;
		case 'w':
			errno = 0;
			a->workers = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || a->workers < 0 || a->workers > 64) {
				fprintf(stderr, "ssad: --workers wants a number from 0 to 64\n");
				return 2;
			}
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ssad %s\n", SSA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* --test-config: load everything a start would (trust stores, granted
 * keys). @retval the exit status */
static int test_config(void)
{
	char err[512];
	struct ssa_policy_set *set = ssa_policy_set_load(config_path, config_explicit, 1, err,
							 sizeof err);

	if (!set) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: configuration OK (%d profile%s)\n", config_path, set->cfg.n_profiles,
	       set->cfg.n_profiles == 1 ? "" : "s");
	ssa_policy_set_free(set);
	return 0;
}

/* Two descriptors per proxied connection: take all we may. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the descriptor limit: %s", strerror(errno));
	}
}

/* Keep only the capabilities ssad uses (capabilities.h), then deny the
 * system calls it never makes (syscall_filter.h). @retval 0 or -1 */
static int limit_capabilities(void)
{
	char why[256], names[160];
	uint64_t kept;

	if (ssad_caps_limit(&kept, why, sizeof why) != 0) {
		log_err("cannot limit ssad's capabilities: %s", why);
		return -1;
	}
	ssad_caps_names(kept, names, sizeof names);
	log_info("capabilities kept: %s", names);
	if (ssad_syscall_filter_install(why, sizeof why) != 0) {
		log_err("%s", why);
		return -1;
	}
	return 0;
}

/* The policy, the loop and its signals. @retval 0 or -1 (logged) */
static int start_core(struct ssad *d)
{
	char err[512];
	sigset_t mask;
	int rc;

	/* before any key is loaded: every private key lives in the keeper
	 * (the supervisor started it for the worker: supervisor.h) */
	if (!ssa_remote_key_active() && ssa_remote_key_start(err, sizeof err) != 0) {
		log_err("cannot start the key keeper: %s", err);
		return -1;
	}
	if (ssad_reload(d, err, sizeof err) != 0) {
		log_err("%s", err);
		return -1;
	}
	if (debug)
		ssa_log_threshold = SSA_LOG_DEBUG;
	d->listener.fd = -1;
	d->started_ms = ssa_now_ms();
	if (RAND_bytes((unsigned char *)&d->instance, sizeof d->instance) != 1) {
		log_err("no randomness for the instance id");
		return -1;
	}
	if ((rc = ssa_loop_init(&d->loop)) != 0) {
		log_err("epoll: %s", strerror(rc));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigwatch.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sigwatch.handler = on_signal;
	if (sigwatch.fd < 0 || ssa_watch_set(&d->loop, &sigwatch, EPOLLIN) != 0) {
		log_err("signalfd: %s", strerror(errno));
		return -1;
	}
	/* The supervisor's signals come as messages (supervisor.h); its
	 * end, which the kernel's parent-death signal cannot tell (it would
	 * need CAP_KILL over the worker's user), shows as a hang-up of the
	 * request pair. */
	supwatch.fd = ssad_supervisor_chan();
	supwatch.handler = on_supervisor;
	privwatch.fd = ssa_priv_chan();
	privwatch.handler = on_supervisor_gone;
	if ((supwatch.fd >= 0 && ssa_watch_set(&d->loop, &supwatch, EPOLLIN) != 0) ||
	    (privwatch.fd >= 0 && ssa_watch_set(&d->loop, &privwatch, EPOLLRDHUP) != 0)) {
		log_err("epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The worker's Landlock sandbox (worker_fs.h), right after the user drop:
 * where the kernel has no Landlock, a warning (the other layers hold); any
 * other failure ends the worker, which must not run half-confined.
 * @retval 0 or -1 (logged) */
static int confine_fs(void)
{
	char why[200];
	int abi, rc = ssa_worker_fs_confine(&abi, why, sizeof why);

	if (rc == ENOSYS || rc == EOPNOTSUPP) {
		log_warn("worker: %s; its file-system access is not confined", why);
		return 0;
	}
	if (rc != 0) {
		log_err("worker: %s", why);
		return -1;
	}
	log_info("worker confined by Landlock (ABI %d): read-only access to its allow-list%s", abi,
		 abi >= 6 ? ", no signal or abstract socket beyond itself" : "");
	return 0;
}

/* The worker becomes its unprivileged user (worker_user.h), before its
 * threads start. @retval 0 or -1 (logged) */
static int drop_root(void)
{
	char why[200];
	uid_t u;
	gid_t g;

	if (ssa_worker_drop(getppid(), &u, &g, why, sizeof why) != 0) {
		log_err("the worker cannot drop root: %s", why);
		return -1;
	}
	log_info("worker runs as uid %u gid %u (%s), with no capability", (unsigned)u,
		 (unsigned)g, getpwnam(SSA_WORKER_USER) ? SSA_WORKER_USER : "no such user: its ids");
	return confine_fs();
}

/* The threads, the control socket and the front ends. @retval 0 or -1 */
static int start_services(struct ssad *d, const struct ssad_args *a, int ctl_fd)
{
	int rc;

	ssa_users_init(d); /* after the descriptor limit is raised */
	if ((rc = ssa_ctl_listen(d, a->socket_path, ctl_fd)) != 0) {
		log_err("control socket %s: %s", a->socket_path, strerror(rc));
		return -1;
	}
	/* kernel front end, if ssa.ko is loaded. Before any thread starts:
	 * once registered it drops CAP_NET_ADMIN, and capabilities are per
	 * thread (capabilities.h). What it receives is served from the loop. */
	ssa_kernel_start(d);
	if (drop_root() != 0)
		return -1;
	if ((rc = ssa_hs_pool_start(&d->loop, (unsigned)(a->workers < 0 ? 1 : a->workers))) != 0) {
		log_err("handshake workers: %s", strerror(rc));
		return -1;
	}
	if ((rc = ssa_jobs_start(&d->loop)) != 0) {
		log_err("jobs thread: %s", strerror(rc));
		return -1;
	}
	if ((rc = ssa_caller_fds_start()) != 0) {
		log_err("closer thread: %s", strerror(rc));
		return -1;
	}
	log_info("ssad %s listening on %s (policy %s, TLS %s..%s, %u handshake worker%s)",
		 SSA_VERSION, a->socket_path, config_path,
		 d->policy->cfg.min_version == TLS1_3_VERSION ? "1.3" : "1.2",
		 d->policy->cfg.max_version == TLS1_3_VERSION ? "1.3" : "1.2",
		 ssa_hs_pool_workers(), ssa_hs_pool_workers() == 1 ? "" : "s");
	ssa_handover_start(d); /* listeners of the previous ssad (handover.h) */
	/* Type=notify: dependants start once the control socket answers. */
	if ((rc = ssa_sd_notify("READY=1")) != 0)
		log_warn("cannot tell the service manager ssad is ready (NOTIFY_SOCKET): %s",
			 strerror(rc));
	return 0;
}

/* Everything torn down in order, after the loop ends. */
static void shut_down(struct ssad *d)
{
	ssa_handover_freeze(); /* the listeners stay stored for the next ssad */
	ssa_hs_pool_stop();
	ssa_jobs_stop(); /* pending file options are answered (ECONNABORTED) */
	ssa_session_cache_flush();
	ssa_kernel_stop(d);
	ssa_ctl_shutdown(d);
	while (d->conns)
		ssa_conn_destroy(d->conns);
	ssa_ctl_free_clients(d);
	ssa_registry_fini();
	ssa_users_fini();
	ssa_loop_reap(&d->loop); /* what the last batch buried */
	ssa_watch_del(&d->loop, &sigwatch);
	close(sigwatch.fd);
	if (supwatch.fd >= 0)
		ssa_watch_del(&d->loop, &supwatch);
	if (privwatch.fd >= 0)
		ssa_watch_del(&d->loop, &privwatch);
	ssa_loop_fini(&d->loop);
	ssa_policy_set_free(d->policy);
	ssa_remote_key_stop();
	ssa_journal_stop();
}

int main(int argc, char **argv)
{
	struct ssad *d = &daemon_state;
	struct ssad_args a = {
		.socket_path = SSA_DEFAULT_SOCKET,
		.workers = sysconf(_SC_NPROCESSORS_ONLN),
	};
	int rc, ctl_fd = -1;

	if (argc == 3 && strcmp(argv[1], SSA_KEEPER_ARG) == 0)
		return ssa_keeper_main(SSA_KEEPER_FD, atoi(argv[2])); /* keeper/keeper.h */
	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (a.test_only)
		return test_config();
	signal(SIGPIPE, SIG_IGN);
	ssa_journal_start(); /* under systemd: structured entries (journal.h) */
	raise_fd_limit();
	if (limit_capabilities() != 0)
		return 1;
	if ((rc = ssa_ctl_bind(a.socket_path, &ctl_fd)) != 0) {
		if (rc == EADDRINUSE)
			log_err("control socket %s: another ssad is running there", a.socket_path);
		else
			log_err("control socket %s: %s", a.socket_path, strerror(rc));
		return 1;
	}
	/* From here on two processes: the supervisor returns only when
	 * ssad ends; the worker goes on (supervisor/supervisor.h). */
	if ((rc = ssad_supervise(ctl_fd, a.socket_path, config_path, config_explicit)) >= 0)
		return rc;
	if (start_core(d) != 0 || start_services(d, &a, ctl_fd) != 0)
		return 1;
	ssa_loop_run(&d->loop);
	shut_down(d);
	return worker_status;
}
