/* SPDX-License-Identifier: MIT */
/* ssactl: ask the SSA daemon about its state, or make it reload. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/wire_io.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: ssactl [--socket PATH] [--json] COMMAND\n"
		   "Commands:\n"
		   "  status       version, uptime, policy generation, counters, failures by reason\n"
		   "  connections  live TLS sockets: pid, program, addresses, SNI, version,\n"
		   "               cipher, bytes each way, age\n"
		   "  reload       load the configuration again (a bad one is refused)\n"
		   "  metrics      the status counters in Prometheus' text format: handshakes,\n"
		   "               failures by reason, live connections (per profile), a\n"
		   "               handshake duration histogram\n"
		   "The control socket comes from --socket, SSA_SOCKET, or " SSA_DEFAULT_SOCKET ".\n"
		   "Admin commands need root or membership in ssad's admin group.\n");
}

static uint8_t buf[SSA_WIRE_MAX_REPLY];

/* One request/reply; the reply text in buf. Returns the reply status. */
static int call(int fd, uint16_t type, const void *req, size_t len, size_t *outlen)
{
	struct ssa_wire_hdr h;
	int rfd, rc = ssa_wire_send(fd, type, 0, req, len, -1);

	if (!rc)
		rc = ssa_wire_recv(fd, &h, buf, sizeof buf, &rfd);
	if (rc) {
		fprintf(stderr, "ssactl: the daemon did not answer: %s\n", strerror(rc));
		exit(1);
	}
	if (h.len == 0 || buf[h.len - 1] != '\0')
		buf[h.len ? h.len - 1 : 0] = '\0';
	*outlen = h.len;
	return h.status;
}

/* The value of "key" in a flat JSON object, copied into out. */
static const char *field(const char *obj, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	p = strstr(obj, pat);
	if (!p) {
		snprintf(out, n, "-");
		return out;
	}
	p += strlen(pat);
	if (*p == '"') {
		p++;
		e = p;
		while (*e && *e != '"')
			e += *e == '\\' && e[1] ? 2 : 1;
	} else {
		e = p + strcspn(p, ",}");
	}
	snprintf(out, n, "%.*s", (int)(e - p), p);
	return out;
}

static void print_status(const char *json)
{
	static const char *const keys[] = { "version", "pid", "uptime_s", "generation",
		"handshake_workers", "sessions_cached", "profiles",
		"connections", "control_clients", "sockets_created", "handshakes_ok",
		"handshakes_failed", "bad_requests" };
	char v[256];
	const char *f;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("%-18s %s\n", keys[i], field(json, keys[i], v, sizeof v));
	f = strstr(json, "\"failures\":{");
	if (f && f[12] != '}') {
		printf("failures by reason:\n");
		for (f += 12; *f == '"';) {
			const char *e = f + 1;

			while (*e && *e != '"')
				e += *e == '\\' && e[1] ? 2 : 1;
			printf("  %8ld  %.*s\n", strtol(e + 2, NULL, 10), (int)(e - f - 1), f + 1);
			f = e + 2 + strcspn(e + 2, ",}");
			if (*f == ',')
				f++;
		}
	}
}

/* A JSON string's contents (after its opening quote) decoded into out,
 * at most n - 1 bytes; a \\u escape outside ASCII becomes '?'. Returns
 * the position after the closing quote. */
static const char *json_string(const char *p, char *out, size_t n)
{
	size_t k = 0;

	for (; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\' && p[1]) {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c == 'u') {
				unsigned v = 0;

				if (sscanf(p + 1, "%4x", &v) == 1 && strlen(p + 1) >= 4)
					p += 4;
				c = v > 0 && v < 0x80 ? (char)v : '?';
			}
		}
		if (k + 1 < n)
			out[k++] = c;
	}
	if (n)
		out[k] = '\0';
	return *p ? p + 1 : p;
}

/* A label value as Prometheus' text format writes it. */
static void prom_label(const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			printf("\\%c", *v);
		else if (*v == '\n')
			printf("\\n");
		else
			putchar(*v);
	}
}

/* Each "name":number pair of the object "key":{...}: f(name, value). */
static void json_pairs(const char *json, const char *key, const char *metric, const char *label)
{
	char pat[64], name[256];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":{", key);
	p = strstr(json, pat);
	if (!p)
		return;
	for (p += strlen(pat); *p == '"';) {
		p = json_string(p + 1, name, sizeof name);
		if (*p != ':')
			return;
		printf("%s{%s=\"", metric, label);
		prom_label(name);
		printf("\"} %llu\n", strtoull(p + 1, NULL, 10));
		p += 1 + strcspn(p + 1, ",}");
		if (*p == ',')
			p++;
	}
}

/* The numbers of the array "key":[...], at most max; returns how many. */
static size_t json_numbers(const char *json, const char *key, unsigned long long *v, size_t max)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof pat, "\"%s\":[", key);
	p = strstr(json, pat);
	if (!p)
		return 0;
	for (p += strlen(pat); *p && *p != ']' && n < max;) {
		char *e;

		v[n++] = strtoull(p, &e, 10);
		if (e == p)
			break;
		p = *e == ',' ? e + 1 : e;
	}
	return n;
}

static void metric(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void print_metrics(const char *json)
{
	static const struct {
		const char *key, *name, *type, *help;
	} simple[] = {
		{ "uptime_s", "ssad_uptime_seconds", "gauge", "Seconds since ssad started." },
		{ "generation", "ssad_policy_generation", "gauge", "Configuration generation (1 at start, +1 per reload)." },
		{ "profiles", "ssad_profiles", "gauge", "Profiles in the configuration." },
		{ "handshake_workers", "ssad_handshake_workers", "gauge", "Handshake worker threads." },
		{ "sessions_cached", "ssad_sessions_cached", "gauge", "Sessions in the client session cache." },
		{ "control_clients", "ssad_control_clients", "gauge", "Open control connections." },
		{ "sockets_created", "ssad_sockets_created_total", "counter", "TLS sockets created." },
		{ "bad_requests", "ssad_bad_requests_total", "counter", "Malformed or refused control requests." },
	};
	unsigned long long bound[32], bucket[33], total = 0, cum = 0;
	size_t nb, nc;
	char v[256];

	metric("ssad_info", "gauge", "ssad's version.");
	printf("ssad_info{version=\"");
	prom_label(field(json, "version", v, sizeof v));
	printf("\"} 1\n");
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		metric(simple[i].name, simple[i].type, simple[i].help);
		printf("%s %s\n", simple[i].name, field(json, simple[i].key, v, sizeof v));
	}
	metric("ssad_connections", "gauge", "Live TLS sockets (all roles).");
	printf("ssad_connections %s\n", field(json, "connections", v, sizeof v));
	metric("ssad_connections_by_profile", "gauge", "Live TLS sockets by the profile they were made under.");
	json_pairs(json, "connections_by_profile", "ssad_connections_by_profile", "profile");
	metric("ssad_control_requests_total", "counter",
	       "Control requests of applications' socket calls (round trips), by type.");
	json_pairs(json, "control_requests_by_type", "ssad_control_requests_total", "type");
	metric("ssad_privileged_requests_total", "counter",
	       "The worker's requests to its supervisor (round trips), by op.");
	json_pairs(json, "privileged_requests_by_op", "ssad_privileged_requests_total", "op");
	metric("ssad_handshake_steps_total", "counter",
	       "Handshake steps, by where they ran (a worker's cost two wake-ups more).");
	json_pairs(json, "handshake_steps_by_place", "ssad_handshake_steps_total", "place");
	metric("ssad_handshakes_total", "counter", "Handshakes ended, by result.");
	printf("ssad_handshakes_total{result=\"ok\"} %s\n", field(json, "handshakes_ok", v, sizeof v));
	printf("ssad_handshakes_total{result=\"failed\"} %s\n",
	       field(json, "handshakes_failed", v, sizeof v));
	metric("ssad_handshake_failures_total", "counter", "Failed handshakes and connects, by reason.");
	json_pairs(json, "failures", "ssad_handshake_failures_total", "reason");
	nb = json_numbers(json, "handshake_bounds_ms", bound, 32);
	nc = json_numbers(json, "handshake_buckets", bucket, 33);
	if (nc == nb + 1) {
		metric("ssad_handshake_duration_seconds", "histogram",
		       "Successful handshakes by duration, from connect() or the TCP accept.");
		for (size_t i = 0; i < nc; i++)
			total += bucket[i];
		for (size_t i = 0; i < nb; i++) {
			cum += bucket[i];
			printf("ssad_handshake_duration_seconds_bucket{le=\"%g\"} %llu\n",
			       (double)bound[i] / 1000.0, cum);
		}
		printf("ssad_handshake_duration_seconds_bucket{le=\"+Inf\"} %llu\n", total);
		printf("ssad_handshake_duration_seconds_sum %.6f\n",
		       (double)strtoull(field(json, "handshake_sum_us", v, sizeof v), NULL, 10) / 1e6);
		printf("ssad_handshake_duration_seconds_count %llu\n", total);
	}
}

static void print_connections(const char *json, bool header)
{
	const char *p = strstr(json, "[");
	char pid[16], prog[256], role[16], local[64], peer[64], sni[256], ver[16], cipher[64],
		out[32], in[32], age[32];

	if (header)
		printf("%-7s %-9s %-22s %-24s %-20s %-8s %-24s %10s %10s %6s  %s\n", "PID", "ROLE",
		       "LOCAL", "PEER", "SNI", "VERSION", "CIPHER", "BYTES_OUT", "BYTES_IN",
		       "AGE_S", "PROGRAM");
	while (p && (p = strchr(p, '{'))) {
		const char *end = strchr(p, '}');
		char obj[2048];

		if (!end)
			break;
		snprintf(obj, sizeof obj, "%.*s", (int)(end - p + 1), p);
		printf("%-7s %-9s %-22s %-24s %-20s %-8s %-24s %10s %10s %6s  %s\n",
		       field(obj, "pid", pid, sizeof pid), field(obj, "role", role, sizeof role),
		       field(obj, "local", local, sizeof local), field(obj, "peer", peer, sizeof peer),
		       field(obj, "sni", sni, sizeof sni), field(obj, "version", ver, sizeof ver),
		       field(obj, "cipher", cipher, sizeof cipher),
		       field(obj, "bytes_out", out, sizeof out), field(obj, "bytes_in", in, sizeof in),
		       field(obj, "age_s", age, sizeof age), field(obj, "program", prog, sizeof prog));
		p = end + 1;
	}
}

/**
 * Connect to ssad's control socket at path (the default when NULL or empty).
 * @return the descriptor, or -1 (said on stderr)
 */
static int open_ssad(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path)
		path = SSA_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "ssactl: socket path too long\n");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1); /* length checked above */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		fprintf(stderr, "ssactl: cannot reach ssad at %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

/**
 * ssactl connections: every page of ssad's list, as a table or (json) as
 * one JSON array.
 * @retval 0 printed
 * @retval errno ssad refused a page
 */
static int cmd_connections(int fd, bool json)
{
	uint32_t start = 0;
	bool first = true;
	size_t len;
	int st;

	if (json)
		printf("[");
	do {
		char next[32];
		const char *arr;

		st = call(fd, SSA_MSG_CONNECTIONS, &start, sizeof start, &len);
		if (st)
			return st;
		if (json) {
			/* Join the pages' arrays into one. */
			arr = strchr((char *)buf, '[');
			if (arr && arr[1] != ']') {
				const char *end = strrchr(arr, ']');

				printf("%s%.*s", first ? "" : ",", (int)(end - arr - 1), arr + 1);
				first = false;
			}
		} else {
			print_connections((char *)buf, first);
			first = false;
		}
		start = (uint32_t)strtoul(field((char *)buf, "next", next, sizeof next), NULL, 10);
	} while (start);
	if (json)
		printf("]\n");
	return 0;
}

/**
 * Run one command on the control connection fd.
 * @return the exit status: 0 done, 1 refused (said on stderr), 2 unknown command
 */
static int run(int fd, const char *cmd, bool json)
{
	size_t len;
	int st;

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "metrics") == 0) {
		st = call(fd, SSA_MSG_STATUS, NULL, 0, &len);
		if (!st && strcmp(cmd, "metrics") == 0)
			print_metrics((char *)buf);
		else if (!st && json)
			printf("%s\n", (char *)buf);
		else if (!st)
			print_status((char *)buf);
	} else if (strcmp(cmd, "connections") == 0) {
		st = cmd_connections(fd, json);
	} else if (strcmp(cmd, "reload") == 0) {
		st = call(fd, SSA_MSG_RELOAD, NULL, 0, &len);
		if (st) {
			fprintf(stderr, "ssactl: reload refused: %s%s\n",
				len ? (char *)buf : strerror(st),
				st == EPERM ? " (root or the admin group only)" : "");
			return 1;
		}
		printf("reloaded\n");
	} else {
		usage(stderr);
		return 2;
	}
	if (st) {
		fprintf(stderr, "ssactl: %s: %s%s\n", cmd, strerror(st),
			st == EPERM ? " (root or the admin group only)" : "");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = secure_getenv("SSA_SOCKET");
	bool json = false;
	int o, fd, rc;

	while ((o = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		if (o == 's') {
			path = optarg;
		} else if (o == 'j') {
			json = true;
		} else if (o == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	fd = open_ssad(path);
	if (fd < 0)
		return 1;
	rc = run(fd, argv[optind], json);
	if (rc == 0)
		close(fd);
	return rc;
}
