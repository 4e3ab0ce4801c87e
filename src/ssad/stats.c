/* SPDX-License-Identifier: MIT */
/* The daemon's handshake statistics (daemon.h: struct ssa_stats), counted
 * by both front ends: successes by duration, failures by reason. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"

void ssad_count_handshake(struct ssad *d, uint64_t start_us)
{
	static const uint64_t bound_ms[SSA_HS_BUCKETS - 1] = SSA_HS_BUCKET_BOUNDS_MS;
	uint64_t now = ssa_now_us(), us = now > start_us ? now - start_us : 0;
	size_t i = 0;

	while (i < SSA_HS_BUCKETS - 1 && us > bound_ms[i] * 1000)
		i++;
	d->stats.hs_bucket[i]++;
	d->stats.hs_sum_us += us;
	d->stats.handshakes_ok++;
}

void ssad_count_failure(struct ssad *d, const char *reason)
{
	struct ssa_failure_count *f = d->stats.failures;
	size_t n = strcspn(reason, "(");

	while (n > 0 && reason[n - 1] == ' ')
		n--;
	if (n >= sizeof f[0].reason)
		n = sizeof f[0].reason - 1;
	for (int i = 0; i < SSA_FAILURE_KINDS; i++) {
		if (!f[i].count) {
			memcpy(f[i].reason, reason, n);
			f[i].reason[n] = '\0';
		}
		if (strncmp(f[i].reason, reason, n) == 0 && f[i].reason[n] == '\0') {
			f[i].count++;
			return;
		}
	}
	/* More kinds than slots: the last one collects the rest. */
	snprintf(f[SSA_FAILURE_KINDS - 1].reason, sizeof f[0].reason, "other");
	f[SSA_FAILURE_KINDS - 1].count++;
}
