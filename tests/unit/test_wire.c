/* SPDX-License-Identifier: MIT */
/* Unit tests of the control protocol codec (src/proto/wire_codec.c) and its I/O (wire_io.c). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/proto/wire_io.h"

/* ---- writer ---------------------------------------------------------------- */

static void put_get_roundtrip(void **state)
{
	uint8_t buf[64];
	struct ssa_wbuf w;
	struct ssa_rbuf r;
	size_t n;
	const uint8_t *p;

	(void)state;
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_u32(&w, 0xdeadbeefu);
	ssa_put_i32(&w, -42);
	ssa_put_u64(&w, 0x0123456789abcdefull);
	ssa_put_bytes(&w, "xyz", 3);
	ssa_put_blob(&w, "hello", 5);
	ssa_put_blob(&w, NULL, 0);
	assert_false(w.err);
	assert_int_equal(w.len, 4 + 4 + 8 + 3 + 4 + 5 + 4);

	ssa_rbuf_init(&r, buf, w.len);
	assert_int_equal(ssa_get_u32(&r), 0xdeadbeefu);
	assert_int_equal(ssa_get_i32(&r), -42);
	assert_true(ssa_get_u64(&r) == 0x0123456789abcdefull);
	p = ssa_get_bytes(&r, 3);
	assert_non_null(p);
	assert_memory_equal(p, "xyz", 3);
	p = ssa_get_blob(&r, 5, &n);
	assert_non_null(p);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);
	p = ssa_get_blob(&r, 0, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	assert_true(ssa_rbuf_done(&r));
}

static void host_byte_order(void **state)
{
	uint8_t buf[4];
	struct ssa_wbuf w;
	uint32_t v = 0x11223344u;

	(void)state;
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_u32(&w, v);
	assert_memory_equal(buf, &v, 4);
}

static void wbuf_exact_fit(void **state)
{
	uint8_t buf[12];
	struct ssa_wbuf w;

	(void)state;
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_u64(&w, 1);
	ssa_put_u32(&w, 2);
	assert_false(w.err);
	assert_int_equal(w.len, 12);
	ssa_put_bytes(&w, NULL, 0); /* nothing more fits, but nothing is asked */
	assert_false(w.err);
}

static void wbuf_overflow_is_sticky(void **state)
{
	uint8_t buf[16] = { 0 };
	uint8_t guard[16];
	struct ssa_wbuf w;

	(void)state;
	memset(guard, 0, sizeof guard);
	ssa_wbuf_init(&w, buf, 6);
	ssa_put_u32(&w, 1);
	ssa_put_u32(&w, 2); /* does not fit: 4 + 4 > 6 */
	assert_true(w.err);
	assert_int_equal(w.len, 4);
	ssa_put_bytes(&w, "a", 1); /* would fit, but err is sticky */
	assert_true(w.err);
	assert_int_equal(w.len, 4);
	assert_memory_equal(buf + 6, guard, sizeof buf - 6); /* nothing past cap */
}

static void wbuf_blob_too_big(void **state)
{
	uint8_t buf[16];
	struct ssa_wbuf w;

	(void)state;
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_blob(&w, "0123456789abcdef", 16); /* 4 + 16 > 16 */
	assert_true(w.err);
	/* A length beyond u32 is refused before anything is read. */
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_blob(&w, NULL, (size_t)UINT32_MAX + 1);
	assert_true(w.err);
	assert_int_equal(w.len, 0);
}

static void put_addr_null_is_empty(void **state)
{
	uint8_t buf[8];
	struct ssa_wbuf w;
	uint32_t len = 99;

	(void)state;
	ssa_wbuf_init(&w, buf, sizeof buf);
	ssa_put_addr(&w, NULL, 16);
	assert_false(w.err);
	assert_int_equal(w.len, 4);
	memcpy(&len, buf, 4);
	assert_int_equal(len, 0);
}

/* ---- reader ---------------------------------------------------------------- */

static void get_u32_on_3_bytes(void **state)
{
	const uint8_t b[3] = { 1, 2, 3 };
	struct ssa_rbuf r;

	(void)state;
	ssa_rbuf_init(&r, b, sizeof b);
	assert_int_equal(ssa_get_u32(&r), 0);
	assert_true(r.err);
	assert_int_equal(r.off, 0);
	assert_false(ssa_rbuf_done(&r));
}

static void get_u64_on_7_bytes(void **state)
{
	const uint8_t b[7] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ssa_rbuf r;

	(void)state;
	ssa_rbuf_init(&r, b, sizeof b);
	assert_true(ssa_get_u64(&r) == 0);
	assert_true(r.err);
}

static void rbuf_err_is_sticky(void **state)
{
	const uint8_t b[8] = { 1, 0, 0, 0, 2, 0, 0, 0 };
	struct ssa_rbuf r;
	size_t n = 7;

	(void)state;
	ssa_rbuf_init(&r, b, sizeof b);
	assert_null(ssa_get_bytes(&r, 9));
	assert_true(r.err);
	/* everything after the first error fails, even what would fit */
	assert_int_equal(ssa_get_u32(&r), 0);
	assert_int_equal(ssa_get_i32(&r), 0);
	assert_null(ssa_get_bytes(&r, 0));
	assert_null(ssa_get_blob(&r, 100, &n));
	assert_int_equal(n, 0);
	assert_false(ssa_rbuf_done(&r));
}

static void rbuf_done_needs_everything(void **state)
{
	const uint8_t b[5] = { 0 };
	struct ssa_rbuf r;

	(void)state;
	ssa_rbuf_init(&r, b, sizeof b);
	ssa_get_u32(&r);
	assert_false(r.err);
	assert_false(ssa_rbuf_done(&r)); /* one byte left */
	ssa_get_bytes(&r, 1);
	assert_true(ssa_rbuf_done(&r));
	ssa_rbuf_init(&r, b, 0);
	assert_true(ssa_rbuf_done(&r));
	assert_non_null(ssa_get_bytes(&r, 0)); /* zero bytes always fit */
	assert_true(ssa_rbuf_done(&r));
}

static size_t mk_blob(uint8_t *out, uint32_t len_field, const void *data, size_t n)
{
	memcpy(out, &len_field, 4);
	if (n)
		memcpy(out + 4, data, n);
	return 4 + n;
}

static void blob_bounds(void **state)
{
	uint8_t b[64];
	struct ssa_rbuf r;
	size_t n, len;
	const void *p;

	(void)state;
	/* exactly max: accepted */
	len = mk_blob(b, 8, "abcdefgh", 8);
	ssa_rbuf_init(&r, b, len);
	p = ssa_get_blob(&r, 8, &n);
	assert_non_null(p);
	assert_int_equal(n, 8);
	assert_true(ssa_rbuf_done(&r));
	/* longer than max: refused, even though the bytes are there */
	ssa_rbuf_init(&r, b, len);
	assert_null(ssa_get_blob(&r, 7, &n));
	assert_int_equal(n, 0);
	assert_true(r.err);
	/* length field beyond the buffer */
	len = mk_blob(b, 9, "abcdefgh", 8);
	ssa_rbuf_init(&r, b, len);
	assert_null(ssa_get_blob(&r, 100, &n));
	assert_true(r.err);
	/* length field 0xffffffff with a large max: no overflow */
	len = mk_blob(b, 0xffffffffu, "abcdefgh", 8);
	ssa_rbuf_init(&r, b, len);
	assert_null(ssa_get_blob(&r, SIZE_MAX, &n));
	assert_true(r.err);
	/* no room for the length itself */
	ssa_rbuf_init(&r, b, 3);
	assert_null(ssa_get_blob(&r, 100, &n));
	assert_true(r.err);
}

static size_t addr_blob(uint8_t *out, const void *sa, size_t n)
{
	return mk_blob(out, (uint32_t)n, sa, n);
}

static void get_addr_inet(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	uint8_t b[64];
	struct ssa_rbuf r;
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ssa_rbuf_init(&r, b, addr_blob(b, &sin, sizeof sin));
	ssa_get_addr(&r, &ss, &len);
	assert_true(ssa_rbuf_done(&r));
	assert_int_equal(len, sizeof sin);
	assert_memory_equal(&ss, &sin, sizeof sin);
}

static void get_addr_inet6(void **state)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(8443) };
	uint8_t b[64];
	struct ssa_rbuf r;
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
	s6.sin6_addr = in6addr_loopback;
	ssa_rbuf_init(&r, b, addr_blob(b, &s6, sizeof s6));
	ssa_get_addr(&r, &ss, &len);
	assert_true(ssa_rbuf_done(&r));
	assert_int_equal(len, sizeof s6);
	assert_memory_equal(&ss, &s6, sizeof s6);
}

static void get_addr_empty(void **state)
{
	uint8_t b[8];
	struct ssa_rbuf r;
	struct sockaddr_storage ss;
	socklen_t len = 77;

	(void)state;
	ssa_rbuf_init(&r, b, addr_blob(b, NULL, 0));
	ssa_get_addr(&r, &ss, &len);
	assert_false(r.err);
	assert_true(ssa_rbuf_done(&r));
	assert_int_equal(len, 0);
}

/* Every address that is not exactly an AF_INET or AF_INET6 one is refused,
 * with len 0 and the storage cleared. */
static void refused_addr(const void *sa, size_t n)
{
	uint8_t b[sizeof(struct sockaddr_storage) + 16];
	struct ssa_rbuf r;
	struct sockaddr_storage ss, zero;
	socklen_t len = 77;

	memset(&ss, 0xa5, sizeof ss);
	memset(&zero, 0, sizeof zero);
	ssa_rbuf_init(&r, b, addr_blob(b, sa, n));
	ssa_get_addr(&r, &ss, &len);
	assert_true(r.err);
	assert_int_equal(len, 0);
	assert_memory_equal(&ss, &zero, sizeof ss);
}

static void get_addr_rejects(void **state)
{
	uint8_t raw[sizeof(struct sockaddr_storage) + 1];
	sa_family_t fam;
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = "/tmp/x" };

	(void)state;
	memset(raw, 0, sizeof raw);
	/* AF_INET, wrong sizes */
	fam = AF_INET;
	memcpy(raw, &fam, sizeof fam);
	refused_addr(raw, sizeof(struct sockaddr_in) - 1);
	refused_addr(raw, sizeof(struct sockaddr_in) + 1);
	refused_addr(raw, sizeof(struct sockaddr_in6));
	refused_addr(raw, 8);
	/* AF_INET6, wrong sizes */
	fam = AF_INET6;
	memcpy(raw, &fam, sizeof fam);
	refused_addr(raw, sizeof(struct sockaddr_in));
	refused_addr(raw, sizeof(struct sockaddr_in6) - 1);
	refused_addr(raw, sizeof(struct sockaddr_in6) + 1);
	/* other families */
	refused_addr(&sun, sizeof sun);
	refused_addr(&sun, 16);
	fam = AF_UNSPEC;
	memcpy(raw, &fam, sizeof fam);
	refused_addr(raw, sizeof(struct sockaddr_in));
	fam = AF_PACKET;
	memcpy(raw, &fam, sizeof fam);
	refused_addr(raw, sizeof(struct sockaddr_in));
	/* too short to hold a family */
	refused_addr("\x02", 1);
}

static void get_addr_too_long(void **state)
{
	uint8_t b[4 + sizeof(struct sockaddr_storage) + 1] = { 0 };
	struct ssa_rbuf r;
	struct sockaddr_storage ss;
	socklen_t len = 77;

	(void)state;
	b[4] = AF_INET;
	ssa_rbuf_init(&r, b, mk_blob(b, sizeof(struct sockaddr_storage) + 1, b + 4,
				      sizeof(struct sockaddr_storage) + 1));
	ssa_get_addr(&r, &ss, &len);
	assert_true(r.err);
	assert_int_equal(len, 0);
}

/* ---- strings --------------------------------------------------------------- */

static void check_string_cases(void **state)
{
	char big[300];

	(void)state;
	assert_int_equal(ssa_check_string("example.org", 12, 255), 0);
	assert_int_equal(ssa_check_string("", 1, 255), 0);
	assert_int_equal(ssa_check_string("", 1, 0), 0);
	assert_int_equal(ssa_check_string("a", 2, 0), EINVAL);
	assert_int_equal(ssa_check_string(NULL, 1, 255), EINVAL);
	assert_int_equal(ssa_check_string("", 0, 255), EINVAL);
	assert_int_equal(ssa_check_string("example.org", 11, 255), EINVAL); /* no NUL */
	assert_int_equal(ssa_check_string("exam\0ple.org", 13, 255), EINVAL);
	assert_int_equal(ssa_check_string("\0\0", 2, 255), EINVAL);
	/* max counts the characters, not the NUL */
	memset(big, 'a', sizeof big);
	big[255] = '\0';
	assert_int_equal(ssa_check_string(big, 256, 255), 0);
	big[255] = 'a';
	big[256] = '\0';
	assert_int_equal(ssa_check_string(big, 257, 255), EINVAL);
	big[299] = '\0';
	assert_int_equal(ssa_check_string(big, 300, 255), EINVAL);
	/* a huge optlen is refused without reading */
	assert_int_equal(ssa_check_string("x", SIZE_MAX, 255), EINVAL);
}

/* TLS_REMOTE_HOSTNAME values: libssa checks them before holding them for
 * the CONNECT, ssad (engine/tls_opts.c) with the same function. */
static void check_hostname_cases(void **state)
{
	char name[300];

	(void)state;
	assert_int_equal(ssa_check_hostname("localhost", 10), 0);
	assert_int_equal(ssa_check_hostname("www.example.org", 16), 0);
	assert_int_equal(ssa_check_hostname("127.0.0.1", 10), 0);
	assert_int_equal(ssa_check_hostname("::1", 4), 0);
	assert_int_equal(ssa_check_hostname("a_b-c", 6), 0);
	assert_int_equal(ssa_check_hostname("", 1), EINVAL);
	assert_int_equal(ssa_check_hostname("localhost", 9), EINVAL); /* no NUL */
	assert_int_equal(ssa_check_hostname(NULL, 10), EINVAL);
	assert_int_equal(ssa_check_hostname("bad host", 9), EINVAL);
	assert_int_equal(ssa_check_hostname("a..b", 5), EINVAL);
	assert_int_equal(ssa_check_hostname(".a", 3), EINVAL);
	assert_int_equal(ssa_check_hostname("a\0b", 4), EINVAL);
	/* labels of at most 63, names of at most 255 characters */
	memset(name, 'a', sizeof name);
	name[63] = '\0';
	assert_int_equal(ssa_check_hostname(name, 64), 0);
	name[63] = 'a';
	name[64] = '\0';
	assert_int_equal(ssa_check_hostname(name, 65), EINVAL);
	memset(name, 'a', sizeof name);
	for (int i = 63; i < 255; i += 64)
		name[i] = '.';
	name[255] = '\0';
	assert_int_equal(ssa_check_hostname(name, 256), 0);
	name[255] = 'a';
	name[256] = '\0';
	assert_int_equal(ssa_check_hostname(name, 257), EINVAL);
}

/* ---- CONNECT results blob (SSA_REPLY_RESULTS) -------------------------------- */

/* A blob of three entries: 109 = int 1, 98 = "X\0", 90 = "" (0 bytes). */
static size_t mk_results(uint8_t *buf, size_t cap)
{
	struct ssa_wbuf w;
	int one = 1;

	ssa_wbuf_init(&w, buf, cap);
	ssa_put_i32(&w, 109);
	ssa_put_blob(&w, &one, sizeof one);
	ssa_put_i32(&w, 98);
	ssa_put_blob(&w, "X", 2);
	ssa_put_i32(&w, 90);
	ssa_put_blob(&w, NULL, 0);
	assert_false(w.err);
	return w.len;
}

static void results_find(void **state)
{
	uint8_t b[64];
	size_t n = mk_results(b, sizeof b), vlen = 99;
	const void *v = NULL;
	int one;

	(void)state;
	assert_true(ssa_results_valid(b, n));
	assert_true(ssa_results_valid(b, 0)); /* no results: valid, finds nothing */
	assert_int_equal(ssa_results_find(b, 0, 109, &v, &vlen), ENOENT);
	assert_int_equal(ssa_results_find(b, n, 109, &v, &vlen), 0);
	assert_int_equal(vlen, sizeof one);
	memcpy(&one, v, sizeof one);
	assert_int_equal(one, 1);
	assert_int_equal(ssa_results_find(b, n, 98, &v, &vlen), 0);
	assert_int_equal(vlen, 2);
	assert_memory_equal(v, "X", 2);
	assert_int_equal(ssa_results_find(b, n, 90, &v, &vlen), 0);
	assert_int_equal(vlen, 0);
	assert_int_equal(ssa_results_find(b, n, 113, &v, &vlen), ENOENT);
}

static void results_malformed(void **state)
{
	uint8_t b[SSA_WIRE_RESULTS_MAX + 16];
	size_t n = mk_results(b, sizeof b), vlen;
	const void *v;
	uint32_t big = 1000;

	(void)state;
	/* every truncation of a valid blob but the entry boundaries is refused */
	for (size_t cut = 1; cut < n; cut++) {
		bool boundary = cut == 12 || cut == 22;

		assert_int_equal(ssa_results_valid(b, cut), boundary);
		assert_int_equal(ssa_results_find(b, cut, 1, &v, &vlen), boundary ? ENOENT : EINVAL);
	}
	/* a value length running past the end, even for the entry looked for */
	memcpy(b + 4, &big, sizeof big);
	assert_false(ssa_results_valid(b, n));
	assert_int_equal(ssa_results_find(b, n, 109, &v, &vlen), EINVAL);
	/* more than SSA_WIRE_RESULTS_MAX bytes */
	memset(b, 0, sizeof b); /* entries (0, empty blob), 8 bytes each */
	assert_true(ssa_results_valid(b, SSA_WIRE_RESULTS_MAX));
	assert_false(ssa_results_valid(b, SSA_WIRE_RESULTS_MAX + 8));
}

/* ---- header ---------------------------------------------------------------- */

static size_t mk_hdr(uint8_t *out, uint32_t magic, uint16_t type, uint16_t flags,
		     int32_t status, uint32_t len)
{
	memcpy(out, &magic, 4);
	memcpy(out + 4, &type, 2);
	memcpy(out + 6, &flags, 2);
	memcpy(out + 8, &status, 4);
	memcpy(out + 12, &len, 4);
	return 16;
}

static void parse_hdr_valid(void **state)
{
	uint8_t b[32] = { 0 };
	struct ssa_wire_hdr h;

	(void)state;
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_SETOPT, 0, 0, 4);
	assert_int_equal(ssa_wire_parse_hdr(b, 20, &h), 0);
	assert_int_equal(h.magic, SSA_WIRE_MAGIC);
	assert_int_equal(h.type, SSA_MSG_SETOPT);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.status, 0);
	assert_int_equal(h.len, 4);
	for (uint16_t t = 1; t <= SSA_MSG_TYPE_MAX; t++) {
		mk_hdr(b, SSA_WIRE_MAGIC, t, 0, 0, 0);
		assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), 0);
	}
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_GETOPT, 0, 4095, 0); /* largest errno-like status */
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), 0);
	assert_int_equal(h.status, 4095);
}

static void parse_hdr_invalid(void **state)
{
	uint8_t b[32] = { 0 };
	struct ssa_wire_hdr h;

	(void)state;
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0);
	for (size_t n = 0; n < 16; n++)
		assert_int_equal(ssa_wire_parse_hdr(b, n, &h), EINVAL);
	mk_hdr(b, 0x31415353u, SSA_MSG_STATUS, 0, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 1, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0x8000, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, 0, 0, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_TYPE_MAX + 1, 0, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, 0xffff, 0, 0, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, -1, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 4096, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, INT32_MIN, 0);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	/* len must be exactly what follows the header */
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 4);
	assert_int_equal(ssa_wire_parse_hdr(b, 16, &h), EINVAL);
	assert_int_equal(ssa_wire_parse_hdr(b, 19, &h), EINVAL);
	assert_int_equal(ssa_wire_parse_hdr(b, 21, &h), EINVAL);
	assert_int_equal(ssa_wire_parse_hdr(b, 20, &h), 0);
	mk_hdr(b, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0xffffffffu);
	assert_int_equal(ssa_wire_parse_hdr(b, 32, &h), EINVAL);
}

/* ssa_wire_put_hdr writes what mk_hdr writes by hand, and parses back. */
static void put_hdr_roundtrip(void **state)
{
	uint8_t b[SSA_WIRE_HDR_LEN + 4] = { 0 }, want[32] = { 0 };
	struct ssa_wbuf w;
	struct ssa_wire_hdr h;

	(void)state;
	ssa_wbuf_init(&w, b, sizeof b);
	ssa_wire_put_hdr(&w, SSA_MSG_GETOPT, 34, 4);
	assert_false(w.err);
	assert_int_equal(w.len, SSA_WIRE_HDR_LEN);
	mk_hdr(want, SSA_WIRE_MAGIC, SSA_MSG_GETOPT, 0, 34, 4);
	assert_memory_equal(b, want, SSA_WIRE_HDR_LEN);
	assert_int_equal(ssa_wire_parse_hdr(b, sizeof b, &h), 0);
	assert_int_equal(h.type, SSA_MSG_GETOPT);
	assert_int_equal(h.status, 34);
	assert_int_equal(h.len, 4);
	/* no room: the writer says so and writes nothing past its end */
	ssa_wbuf_init(&w, b, SSA_WIRE_HDR_LEN - 1);
	ssa_wire_put_hdr(&w, SSA_MSG_STATUS, 0, 0);
	assert_true(w.err);
}

/* ---- transport over a real SOCK_SEQPACKET pair ----------------------------- */

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void send_recv_roundtrip(void **state)
{
	int sv[2], fd, devnull;
	uint8_t buf[SSA_WIRE_MAX_REQUEST];
	struct ssa_wire_hdr h;
	struct stat a, b;

	(void)state;
	pair(sv);
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_STATUS, 0, NULL, 0, -1), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), 0);
	assert_int_equal(h.type, SSA_MSG_STATUS);
	assert_int_equal(h.len, 0);
	assert_int_equal(fd, -1);

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(devnull >= 0);
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_GETOPT, 34, "abcd", 4, devnull), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), 0);
	assert_int_equal(h.type, SSA_MSG_GETOPT);
	assert_int_equal(h.status, 34);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "abcd", 4); /* payload moved to the front */
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(devnull, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	close(devnull);
	close(sv[0]);
	close(sv[1]);
}

static int send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(64 * sizeof(int))];
	} ctl;
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof ctl);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : errno;
}

/* Several descriptors: EINVAL, and every one received is closed. */
static void recv_extra_fds_closed(void **state)
{
	int sv[2], fds[64], fd = 123, before;
	uint8_t hdr[16], buf[64];
	struct ssa_wire_hdr h;

	(void)state;
	pair(sv);
	mk_hdr(hdr, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, 0);
	for (int i = 0; i < 64; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = open_fds();
	assert_int_equal(send_fds(sv[0], hdr, 16, fds, 2), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), EINVAL);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	/* more, and more than the control buffer holds (truncated): all closed */
	for (int nfds = 3; nfds <= 64; nfds *= 2) {
		assert_int_equal(send_fds(sv[0], hdr, 16, fds, nfds), 0);
		assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), EINVAL);
		assert_int_equal(fd, -1);
		assert_int_equal(open_fds(), before);
	}
	/* one descriptor with a bad header: refused and closed */
	hdr[0] ^= 1;
	assert_int_equal(send_fds(sv[0], hdr, 16, fds, 1), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), EINVAL);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < 64; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

static void recv_too_big(void **state)
{
	int sv[2], fd, devnull;
	uint8_t big[100] = { 0 }, buf[64];
	struct ssa_wire_hdr h;
	int before;

	(void)state;
	pair(sv);
	mk_hdr(big, SSA_WIRE_MAGIC, SSA_MSG_STATUS, 0, 0, sizeof big - 16);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = open_fds();
	assert_int_equal(send_fds(sv[0], big, sizeof big, &devnull, 1), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), EMSGSIZE);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	/* the datagram is gone: the next one is read normally */
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_STATUS, 0, NULL, 0, -1), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), 0);
	close(devnull);
	close(sv[0]);
	close(sv[1]);
}

static void recv_eof_and_eagain(void **state)
{
	int sv[2], fd;
	uint8_t buf[64];
	struct ssa_wire_hdr h;

	(void)state;
	pair(sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), EAGAIN);
	/* an empty datagram reads like end-of-file on SOCK_SEQPACKET */
	assert_int_equal(send(sv[0], "", 0, 0), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), ECONNRESET);
	close(sv[0]);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), ECONNRESET);
	close(sv[1]);
}

static void send_limits(void **state)
{
	static uint8_t payload[SSA_WIRE_MAX_REPLY];
	static uint8_t buf[SSA_WIRE_MAX_REPLY];
	int sv[2], fd, sndbuf = 4 * SSA_WIRE_MAX_REPLY;
	struct ssa_wire_hdr h;

	(void)state;
	pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_INFO, 0, payload,
				       SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN + 1, -1), EMSGSIZE);
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_INFO, 0, payload,
				       SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN, -1), 0);
	assert_int_equal(ssa_wire_recv(sv[1], &h, buf, sizeof buf, &fd), 0);
	assert_int_equal(h.len, SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN);
	close(sv[1]);
	assert_int_equal(ssa_wire_send(sv[0], SSA_MSG_STATUS, 0, NULL, 0, -1), EPIPE);
	close(sv[0]);
}

/* The key intake's request and reply (wire.h). */
static void key_intake_codec(void **state)
{
	uint8_t req[SSA_KEY_INTAKE_REQ_LEN], rep[SSA_KEY_INTAKE_REP_LEN], t[SSA_KEY_TICKET_LEN],
		got[SSA_KEY_TICKET_LEN];
	uint32_t v = 2;
	int st = -1;

	(void)state;
	ssa_key_intake_req_encode(req);
	assert_int_equal(ssa_key_intake_req_decode(req, sizeof req), 0);
	assert_int_equal(ssa_key_intake_req_decode(req, sizeof req - 1), EINVAL);
	assert_int_equal(ssa_key_intake_req_decode(req, 0), EINVAL);
	memcpy(req + 4, &v, 4);
	assert_int_equal(ssa_key_intake_req_decode(req, sizeof req), EPROTONOSUPPORT);
	req[0] ^= 1;
	assert_int_equal(ssa_key_intake_req_decode(req, sizeof req), EINVAL);

	memset(t, 0x5a, sizeof t);
	ssa_key_intake_rep_encode(0, t, rep);
	assert_int_equal(ssa_key_intake_rep_decode(rep, sizeof rep, &st, got), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(got, t, sizeof t);
	/* a refusal carries no ticket */
	ssa_key_intake_rep_encode(ENOBUFS, t, rep);
	assert_int_equal(ssa_key_intake_rep_decode(rep, sizeof rep, &st, got), 0);
	assert_int_equal(st, ENOBUFS);
	memset(t, 0, sizeof t);
	assert_memory_equal(got, t, sizeof t);
	assert_int_equal(ssa_key_intake_rep_decode(rep, sizeof rep - 1, &st, got), EINVAL);
	ssa_key_intake_rep_encode(4096, NULL, rep);
	assert_int_equal(ssa_key_intake_rep_decode(rep, sizeof rep, &st, got), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_roundtrip),
		cmocka_unit_test(host_byte_order),
		cmocka_unit_test(wbuf_exact_fit),
		cmocka_unit_test(wbuf_overflow_is_sticky),
		cmocka_unit_test(wbuf_blob_too_big),
		cmocka_unit_test(put_addr_null_is_empty),
		cmocka_unit_test(get_u32_on_3_bytes),
		cmocka_unit_test(get_u64_on_7_bytes),
		cmocka_unit_test(rbuf_err_is_sticky),
		cmocka_unit_test(rbuf_done_needs_everything),
		cmocka_unit_test(blob_bounds),
		cmocka_unit_test(get_addr_inet),
		cmocka_unit_test(get_addr_inet6),
		cmocka_unit_test(get_addr_empty),
		cmocka_unit_test(get_addr_rejects),
		cmocka_unit_test(get_addr_too_long),
		cmocka_unit_test(check_string_cases),
		cmocka_unit_test(check_hostname_cases),
		cmocka_unit_test(results_find),
		cmocka_unit_test(results_malformed),
		cmocka_unit_test(parse_hdr_valid),
		cmocka_unit_test(parse_hdr_invalid),
		cmocka_unit_test(put_hdr_roundtrip),
		cmocka_unit_test(send_recv_roundtrip),
		cmocka_unit_test(recv_extra_fds_closed),
		cmocka_unit_test(recv_too_big),
		cmocka_unit_test(recv_eof_and_eagain),
		cmocka_unit_test(send_limits),
		cmocka_unit_test(key_intake_codec),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
