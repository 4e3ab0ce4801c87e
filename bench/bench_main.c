/* SPDX-License-Identifier: MIT */
/*
 * ssa-bench: benchmark program for SSA (driven by bench/run.py).
 *
 *   ssa-bench server -m MODE [-H ADDR] [-p PORT] [-c CHAIN -k KEY] [-S SUITES] [-T]
 *   ssa-bench client TEST -m MODE -p PORT [-H ADDR] [-N NAME] [-C CAFILE]
 *                    [-t THREADS] [-s SECONDS] [-b BYTES] [-n COUNT] [-r]
 *
 * MODE is plain, openssl or ssa (run under libssa with ssad up). TEST is hs,
 * bulk-up, bulk-down, rtt or hold (see bench_client.c). The server prints
 * "READY PORT" once listening; the client prints one JSON object.
 */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bench_opts opt = {
	.mode = MODE_OPENSSL,
	.host = "127.0.0.1",
	.sni = "localhost",
	.conc = 1,
	.seconds = 2.0,
	.bytes = 1u << 30,
	.count = 10000,
};

static void usage(void)
{
	fprintf(stderr,
		"usage: ssa-bench server -m plain|openssl|ssa [-H ADDR] [-p PORT] [-c CHAIN -k KEY]\n"
		"                        [-S TLS13-SUITES] [-T (issue session tickets)]\n"
		"       ssa-bench client hs|bulk-up|bulk-down|rtt|hold -m plain|openssl|ssa -p PORT\n"
		"                        [-H ADDR] [-N NAME] [-C CAFILE] [-t THREADS] [-s SECONDS]\n"
		"                        [-b BYTES] [-n COUNT] [-r (resume sessions)]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *role, *test = NULL;
	int c;

	if (argc < 2) usage();
	role = argv[1];
	if (strcmp(role, "client") == 0) {
		if (argc < 3) usage();
		test = argv[2];
		optind = 3;
	} else if (strcmp(role, "server") == 0) {
		optind = 2;
	} else {
		usage();
	}
	while ((c = getopt(argc, argv, "m:H:p:c:k:S:TN:C:t:s:b:n:r")) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &opt.mode) != 0) usage();
			break;
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'c': opt.cert = optarg; break;
		case 'k': opt.key = optarg; break;
		case 'S': opt.ciphersuites = optarg; break;
		case 'T': opt.tickets = 1; break;
		case 'N': opt.sni = optarg; break;
		case 'C': opt.cafile = optarg; break;
		case 't': opt.conc = atoi(optarg); break;
		case 's': opt.seconds = atof(optarg); break;
		case 'b': opt.bytes = strtoull(optarg, NULL, 0); break;
		case 'n': opt.count = atol(optarg); break;
		case 'r': opt.resume = 1; break;
		default: usage();
		}
	}
	if (optind != argc) usage();
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (test) {
		if (opt.port <= 0) usage();
		return client_main(test);
	}
	return server_main();
}
