/* SPDX-License-Identifier: MIT */
/* ssad: the SSA TLS service daemon. Start-up, signals, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../common/log.h"
#include "../proto/wire.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "tls_context.h"

static struct ssad daemon_state;
static const char *config_path = SSA_DEFAULT_CONFIG;
static bool config_explicit;
static struct ssa_watch sigwatch;
static bool debug;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ssad [OPTION]...\n"
		"The SSA TLS service: runs the handshakes and holds the TLS sessions of\n"
		"IPPROTO_TLS sockets. Runs in the foreground and logs to stderr.\n\n"
		"  -c, --config FILE   policy file (default " SSA_DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH   control socket (default " SSA_DEFAULT_SOCKET ")\n"
		"  -t, --test-config   check the configuration and exit (0 if valid)\n"
		"  -d, --debug         log at debug level\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n\n"
		"Signals: SIGHUP reloads the configuration (a bad one is refused and the\n"
		"old one stays); SIGTERM/SIGINT stop the daemon.\n");
}

/* Build a policy and its contexts; on success swap them in. */
static int load_policy(struct ssad *d, bool initial)
{
	struct ssa_config cfg;
	char err[512];
	SSL_CTX *ctx;

	if (ssa_config_defaults(&cfg) != 0) {
		log_err("out of memory");
		return -1;
	}
	if (ssa_config_load(config_path, config_explicit, &cfg, err, sizeof err) != 0) {
		log_err("%s%s", err, initial ? "" : " (reload refused, old policy stays)");
		ssa_config_free(&cfg);
		return -1;
	}
	ctx = ssa_tls_client_ctx_new(&cfg, err, sizeof err);
	if (!ctx) {
		log_err("%s: %s%s", config_path, err,
			initial ? "" : " (reload refused, old policy stays)");
		ssa_config_free(&cfg);
		return -1;
	}
	/* Live connections hold their own reference to the old context. */
	if (d->client_ctx)
		SSL_CTX_free(d->client_ctx);
	ssa_config_free(&d->cfg);
	d->client_ctx = ctx;
	d->cfg = cfg;
	ssa_log_threshold = debug ? SSA_LOG_DEBUG : (enum ssa_log_level)cfg.log_level;
	return 0;
}

static void on_signal(struct ssa_watch *w, uint32_t ev)
{
	struct signalfd_siginfo si;

	(void)ev;
	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			if (load_policy(&daemon_state, false) == 0)
				log_info("configuration reloaded");
		} else {
			log_info("stopping on signal %u", si.ssi_signo);
			daemon_state.loop.stop = 1;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "test-config", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ssad *d = &daemon_state;
	const char *socket_path = SSA_DEFAULT_SOCKET;
	bool test_only = false;
	sigset_t mask;
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:s:tdhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config_path = optarg;
			config_explicit = true;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 't':
			test_only = true;
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
	if (test_only) {
		struct ssa_config cfg;
		char err[512];
		SSL_CTX *ctx;

		if (ssa_config_defaults(&cfg) != 0)
			return 1;
		if (ssa_config_load(config_path, config_explicit, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			ssa_config_free(&cfg);
			return 1;
		}
		ctx = ssa_tls_client_ctx_new(&cfg, err, sizeof err);
		ssa_config_free(&cfg);
		if (!ctx) {
			fprintf(stderr, "%s: %s\n", config_path, err);
			return 1;
		}
		SSL_CTX_free(ctx);
		printf("%s: configuration OK\n", config_path);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	if (load_policy(d, true) != 0)
		return 1;
	if (debug)
		ssa_log_threshold = SSA_LOG_DEBUG;
	d->listener.fd = -1;
	d->started_ms = ssa_now_ms();
	if ((rc = ssa_loop_init(&d->loop)) != 0) {
		log_err("epoll: %s", strerror(rc));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigwatch.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sigwatch.handler = on_signal;
	if (sigwatch.fd < 0 || ssa_watch_set(&d->loop, &sigwatch, EPOLLIN) != 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}
	if ((rc = ssa_ctl_listen(d, socket_path)) != 0) {
		if (rc == EADDRINUSE)
			log_err("control socket %s: another ssad is running there", socket_path);
		else
			log_err("control socket %s: %s", socket_path, strerror(rc));
		return 1;
	}
	log_info("ssad %s listening on %s (policy %s, TLS %s..%s)", SSA_VERSION, socket_path,
		 config_path, d->cfg.min_version == TLS1_3_VERSION ? "1.3" : "1.2",
		 d->cfg.max_version == TLS1_3_VERSION ? "1.3" : "1.2");
	ssa_loop_run(&d->loop);

	ssa_ctl_shutdown(d);
	while (d->conns)
		ssa_conn_destroy(d->conns);
	/* Release what the last batch buried. */
	while (d->loop.zombies) {
		struct ssa_zombie *z = d->loop.zombies;

		d->loop.zombies = z->next;
		z->destroy(z);
	}
	ssa_watch_del(&d->loop, &sigwatch);
	close(sigwatch.fd);
	ssa_loop_fini(&d->loop);
	SSL_CTX_free(d->client_ctx);
	ssa_config_free(&d->cfg);
	return 0;
}
