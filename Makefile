# SSA — the Secure Socket API. See README.md.
#
#   make            build everything into $(BUILD) (warnings are errors)
#   make check      install missing Debian packages, run all tests
#                   (plain build, then the ASan+UBSan build)
#   make demo       build and run the demo
#   make install PREFIX=/usr/local DESTDIR= [SYSCONFDIR=/etc] [PKGLIBDIR=]
#   make deb        the Debian packages into build-deb/ (README "Debian packages")
#
VERSION  := 0.1.0
PREFIX   ?= /usr/local
# ssad's configuration lives in /etc/ssa whatever the PREFIX (ssa.conf(5)).
SYSCONFDIR ?= /etc
# Where libssa.so goes and where ssa-run looks for it (after ../lib next to
# itself). The Debian packages use a private /usr/lib/ssa: it is an
# LD_PRELOAD object, nothing links against it.
PKGLIBDIR ?= $(PREFIX)/lib
DESTDIR  ?=
SAN      ?=
ifeq ($(SAN),1)
BUILD    ?= build-asan
else ifeq ($(SAN),thread)
BUILD    ?= build-tsan
else
BUILD    ?= build
endif

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_GNU_SOURCE $(WARN) -fPIC -fstack-protector-strong \
            -DSSA_VERSION='"$(VERSION)"' -DSSA_LIBDIR='"$(PKGLIBDIR)"' -Iinclude
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else ifeq ($(SAN),thread)
CFLAGS   += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=thread
else
CFLAGS   += -D_FORTIFY_SOURCE=2
endif
LDFLAGS  += -Wl,-z,relro,-z,now
SSL_LIBS := -lssl -lcrypto

# The control protocol: a pure codec (wire_codec.c, no I/O) and its I/O
# (wire_io.c). Every program but libssa and ssad links the C library's
# system calls for the I/O (wire_io_libc.c); ssad links its own
# (src/ssad/wire_io_ssad.c: callers' descriptors closed off the loop);
# libssa links its own (src/libssa/
# wire_io_real.c: the C library's calls below its interposed ones) and
# compiles the protocol with hidden symbols, so a program it is preloaded
# into sees only the libc names it interposes.
PROTO_CODEC := src/proto/wire_codec.c
PROTO_IO    := src/proto/wire_io.c
PROTO_SRC   := $(PROTO_CODEC) $(PROTO_IO) src/proto/wire_io_libc.c
COMMON_SRC := src/common/log.c
SSAD_SRC   := $(wildcard src/ssad/*.c src/ssad/*/*.c)
LIBSSA_SRC := $(wildcard src/libssa/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

SSAD     := $(BUILD)/sbin/ssad
SSACTL   := $(BUILD)/bin/ssactl
SSARUN   := $(BUILD)/bin/ssa-run
LIBSSA   := $(BUILD)/lib/libssa.so
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTBINS := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(wildcard tests/progs/*.c))

all: $(SSAD) $(SSACTL) $(SSARUN) $(LIBSSA) $(EXAMPLES) $(TESTBINS)

# What `make install` installs, alone (debian/rules builds this).
programs: $(SSAD) $(SSACTL) $(SSARUN) $(LIBSSA)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/src/libssa/%.o: CFLAGS += -fvisibility=hidden

$(SSAD): $(call obj,$(SSAD_SRC) $(PROTO_CODEC) $(PROTO_IO) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -linih $(SSL_LIBS) -lpthread

$(SSACTL): $(call obj,src/tools/ssactl.c $(PROTO_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(SSARUN): $(call obj,src/tools/ssa-run.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# libssa is preloaded into arbitrary programs: no OpenSSL, no libinih.
$(BUILD)/obj/libssa-proto/%.o: src/proto/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fvisibility=hidden -MMD -MP -c -o $@ $<

$(LIBSSA): $(call obj,$(LIBSSA_SRC)) $(BUILD)/obj/libssa-proto/wire_codec.o \
	  $(BUILD)/obj/libssa-proto/wire_io.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libssa.so -o $@ $^ -ldl -lpthread

$(BUILD)/examples/%: examples/%.c include/ssa/in_tls.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/tests/%: tests/progs/%.c include/ssa/in_tls.h $(wildcard tests/progs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SSL_LIBS) -lpthread

# ctl_abuse and borrow compile the control codec in (they speak the wire
# protocol raw).
$(BUILD)/tests/ctl_abuse $(BUILD)/tests/borrow: $(PROTO_SRC) src/proto/wire.h src/proto/wire_io.h

# suid_probe is linked with libssa (a setuid program ignores LD_PRELOAD).
$(BUILD)/tests/suid_probe: tests/progs/suid_probe.c include/ssa/in_tls.h $(LIBSSA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -Wl,-rpath,$(abspath $(BUILD)/lib) -lssa

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	$(MAKE) SAN=thread all
	SSA_CHECK_KERNEL=1 tests/run-all.sh

demo: deps all
	scripts/demo.sh $(BUILD)

install: $(SSAD) $(SSACTL) $(SSARUN) $(LIBSSA)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PKGLIBDIR) \
	  $(DESTDIR)$(PREFIX)/include/ssa $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(SSAD) $(DESTDIR)$(PREFIX)/sbin/ssad
	@# the user ssad's worker runs as (ssad(8) PROCESSES); a package's job
	@# when staged into DESTDIR
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd ssad >/dev/null; then \
	  useradd --system --user-group --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin ssad; fi
	@# ssad's descriptor store where systemd is not (ssad(8) RESTARTS)
	install -m 0755 scripts/ssa-supervise $(DESTDIR)$(PREFIX)/sbin/ssa-supervise
	install -m 0755 $(SSACTL) $(SSARUN) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(LIBSSA) $(DESTDIR)$(PKGLIBDIR)/libssa.so
	install -m 0644 include/ssa/in_tls.h $(DESTDIR)$(PREFIX)/include/ssa/in_tls.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' ssa.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ssa.pc
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  contrib/systemd/ssad.service \
	  > $(DESTDIR)$(PREFIX)/lib/systemd/system/ssad.service
	@# A working default policy, never over one the administrator has.
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/ssa
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ssa/ssa.conf ]; then \
	  echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/ssa/ssa.conf"; \
	else install -m 0644 contrib/config/ssa.conf $(DESTDIR)$(SYSCONFDIR)/ssa/ssa.conf; fi
	for m in man/*.[1578]; do \
	  s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done

clean:
	rm -rf build build-asan build-tsan build-fuzz build-deb/src build-deb/*.deb build-deb/*.changes build-deb/*.buildinfo

.PHONY: all programs deps check demo install clean

# ---- Debian packages (debian/; README "Debian packages") ----------------
#   make deb             ssad, libssa, libssa-dev, ssa-dkms .debs into build-deb/,
#                        built by dpkg-buildpackage from a copy of the tree,
#                        then checked by lintian
#   make check-packages  tests/t/16-packages.t alone: install, run, upgrade and
#                        purge in a Debian 12 chroot (make check runs it too)
DEB_DIR  := build-deb
DEB_SRC  := $(DEB_DIR)/src/ssa-$(VERSION)

deb:
	@v=$$(dpkg-parsechangelog -l debian/changelog -SVersion); [ "$$v" = "$(VERSION)" ] || \
	  { echo "deb: debian/changelog says $$v, the Makefile $(VERSION)" >&2; exit 1; }
	@grep -q '^PACKAGE_VERSION="$(VERSION)"' kernel/dkms.conf || \
	  { echo "deb: kernel/dkms.conf's PACKAGE_VERSION is not $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)/src $(DEB_DIR)/*.deb $(DEB_DIR)/*.changes $(DEB_DIR)/*.buildinfo
	mkdir -p $(DEB_SRC)
	tar -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	  --exclude='.*.cmd' --exclude=Module.symvers --exclude=modules.order \
	  Makefile ssa.pc.in debian src include kernel man contrib scripts/ssa-supervise | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS="parallel=2 $${DEB_BUILD_OPTIONS:-}" \
	  dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
	  { tail -n 40 ../build.log; echo "deb: dpkg-buildpackage failed: $(DEB_DIR)/src/build.log" >&2; exit 1; }
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/src/*.changes $(DEB_DIR)/src/*.buildinfo $(DEB_DIR)/
	@ls -1 $(DEB_DIR)/*.deb
	@if command -v lintian >/dev/null; then \
	  echo "lintian $(DEB_DIR)/*.changes"; \
	  lintian --fail-on error,warning $(DEB_DIR)/ssa_$(VERSION)_*.changes; \
	else echo "deb: lintian not installed, not run"; fi

check-packages:
	SSA_BUILD=build bash tests/t/16-packages.t

.PHONY: deb check-packages

# ---- fuzzing (clang/libFuzzer) and unit tests (cmocka) --------------------
#   make fuzz                 build the fuzz targets into build-fuzz/
#   make fuzz-run             run each for FUZZ_SECONDS (new inputs go to
#                             build-fuzz/corpus/, crashes to build-fuzz/)
#   make unit [SAN=1]         build the cmocka unit tests into $(BUILD)/unit/
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_DIR     := build-fuzz
FUZZ_FLAGS   := -g -O1 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZERS      := $(FUZZ_DIR)/fuzz_wire $(FUZZ_DIR)/fuzz_config $(FUZZ_DIR)/fuzz_genl \
                $(FUZZ_DIR)/fuzz_handover $(FUZZ_DIR)/fuzz_keeper $(FUZZ_DIR)/fuzz_notify \
                $(FUZZ_DIR)/fuzz_priv

fuzz: $(FUZZERS)

# The codec alone: it does no I/O, so it links without any system call layer.
$(FUZZ_DIR)/fuzz_wire: fuzz/fuzz_wire.c $(PROTO_CODEC) src/proto/wire.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_wire.c $(PROTO_CODEC)

$(FUZZ_DIR)/fuzz_config: fuzz/fuzz_config.c src/ssad/engine/config.c src/ssad/engine/config.h \
  src/ssad/engine/cfg_files.c $(COMMON_SRC) $(PROTO_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_config.c src/ssad/engine/config.c \
	  src/ssad/engine/cfg_files.c $(COMMON_SRC) \
	  $(PROTO_SRC) -linih $(SSL_LIBS)

$(FUZZ_DIR)/fuzz_genl: fuzz/fuzz_genl.c src/ssad/kernel_front/kernel_msg.c src/ssad/kernel_front/kernel_msg.h kernel/ssa_genl.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_genl.c src/ssad/kernel_front/kernel_msg.c

$(FUZZ_DIR)/fuzz_handover: fuzz/fuzz_handover.c src/ssad/libssa_front/handover_state.c src/ssad/libssa_front/handover_state.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_handover.c src/ssad/libssa_front/handover_state.c

$(FUZZ_DIR)/fuzz_keeper: fuzz/fuzz_keeper.c src/ssad/keeper/keeper_msg.c src/ssad/keeper/keeper_msg.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_keeper.c src/ssad/keeper/keeper_msg.c

$(FUZZ_DIR)/fuzz_notify: fuzz/fuzz_notify.c src/ssad/supervisor/notify_msg.c src/ssad/supervisor/notify_msg.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_notify.c src/ssad/supervisor/notify_msg.c

$(FUZZ_DIR)/fuzz_priv: fuzz/fuzz_priv.c src/ssad/supervisor/priv_msg.c src/ssad/supervisor/priv_msg.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_priv.c src/ssad/supervisor/priv_msg.c

fuzz-run: fuzz
	@for t in wire config genl handover keeper notify priv; do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t || exit 1; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -dict=fuzz/$$t.dict -artifact_prefix=$(FUZZ_DIR)/ \
	    $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

# The key keeper (src/ssad/keeper/), linked wherever identity.c is (its
# codec, keeper_msg.c, is in UNIT_DEPS).
KEEPER_SRC := src/ssad/keeper/keeper.c src/ssad/keeper/keeper_sandbox.c src/ssad/keeper/keeper_call.c \
              src/ssad/keeper/key_seal.c

UNIT_DEPS := $(call obj,$(PROTO_SRC) $(COMMON_SRC) src/ssad/engine/config.c src/ssad/engine/cfg_files.c src/ssad/kernel_front/kernel_msg.c \
               src/ssad/libssa_front/handover_state.c src/ssad/journal.c \
               src/ssad/keeper/keeper_msg.c)
UNITBINS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/*.c))

# Tests of engine parts that build TLS objects link the engine's TLS files.
UNIT_TLS  := $(call obj,src/ssad/engine/tls_setup.c src/ssad/engine/tls_context.c \
	       src/ssad/engine/session_cache.c src/ssad/engine/ktls_keys.c \
	       src/ssad/engine/revocation.c src/ssad/engine/identity.c \
	       src/ssad/engine/remote_key.c src/ssad/engine/key_slots.c $(KEEPER_SRC))

unit: $(UNITBINS)

$(BUILD)/unit/test_tls_setup: UNIT_EXTRA = $(UNIT_TLS)
$(BUILD)/unit/test_tls_setup: $(UNIT_TLS)

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(UNIT_DEPS) $(UNIT_EXTRA) -lcmocka -linih $(SSL_LIBS) \
	  -lpthread

$(BUILD)/unit/test_caller_fsids: UNIT_EXTRA = $(call obj,src/ssad/engine/caller_fsids.c)
$(BUILD)/unit/test_caller_fsids: $(call obj,src/ssad/engine/caller_fsids.c)
$(BUILD)/unit/test_key_slots: UNIT_EXTRA = $(call obj,src/ssad/engine/key_slots.c)
$(BUILD)/unit/test_key_slots: $(call obj,src/ssad/engine/key_slots.c)
$(BUILD)/unit/test_notify_msg: UNIT_EXTRA = $(call obj,src/ssad/supervisor/notify_msg.c)
$(BUILD)/unit/test_notify_msg: $(call obj,src/ssad/supervisor/notify_msg.c)
$(BUILD)/unit/test_fd_store: UNIT_EXTRA = $(call obj,src/ssad/supervisor/fd_store.c)
$(BUILD)/unit/test_cfg_access: UNIT_EXTRA = $(call obj,src/ssad/supervisor/cfg_access.c)
$(BUILD)/unit/test_cfg_access: $(call obj,src/ssad/supervisor/cfg_access.c)
$(BUILD)/unit/test_fd_store: $(call obj,src/ssad/supervisor/fd_store.c)
$(BUILD)/unit/test_priv_msg: UNIT_EXTRA = $(call obj,src/ssad/supervisor/priv_msg.c)
$(BUILD)/unit/test_priv_msg: $(call obj,src/ssad/supervisor/priv_msg.c)
$(BUILD)/unit/test_key_seal: UNIT_EXTRA = $(call obj,src/ssad/keeper/key_seal.c)
$(BUILD)/unit/test_key_seal: $(call obj,src/ssad/keeper/key_seal.c)
$(BUILD)/unit/test_worker_fs: UNIT_EXTRA = $(call obj,src/ssad/supervisor/worker_fs.c)
$(BUILD)/unit/test_worker_fs: $(call obj,src/ssad/supervisor/worker_fs.c)

# The tighten-only rules and the engine parts they call (cipher names, the
# policy's cipher list); tests/unit/policy_fixture.h stubs the kernel-TLS
# preparation.
TLS_OPTS_UNIT_DEPS := $(call obj,src/ssad/engine/tls_opts.c src/ssad/engine/tls_context.c \
                        src/ssad/engine/revocation.c src/ssad/engine/session_cache.c \
                        src/ssad/engine/identity.c src/ssad/engine/remote_key.c \
                        src/ssad/engine/key_slots.c $(KEEPER_SRC))
$(BUILD)/unit/test_tls_opts: $(TLS_OPTS_UNIT_DEPS)
$(BUILD)/unit/test_tls_opts: UNIT_EXTRA = $(TLS_OPTS_UNIT_DEPS)
# ... and the option table's core over them.
SOCKOPT_UNIT_DEPS := $(TLS_OPTS_UNIT_DEPS) $(call obj,src/ssad/engine/opt_table.c \
                                             src/ssad/engine/opt_files.c)
$(BUILD)/unit/test_sockopt_table: $(SOCKOPT_UNIT_DEPS)
$(BUILD)/unit/test_sockopt_table: UNIT_EXTRA = $(SOCKOPT_UNIT_DEPS)

.PHONY: fuzz fuzz-run unit

# ---- kernel front end: ssa.ko under QEMU (README "Kernel tests") -----------
#   make check-kernel  install QEMU and Debian's 6.1 and 6.12 kernels if missing,
#                      build kernel/ for each, boot each under QEMU TCG with the
#                      module and ssad, run tests/kernel/guest/*.t (build-kernel/).
#                      `make check` runs it too, after the userspace suite.
check-kernel: all
	tests/kernel/run.sh

#   make stress-kernel the long form of guest/85-stress.t (SSA_KSTRESS sockets
#                      per user, default 1000, 4 users, ssad killed and
#                      restarted throughout, slub_debug), alone in the guest.
stress-kernel: all
	SSA_KSTRESS=$${SSA_KSTRESS:-1000} SSA_KTESTS=85-stress SSA_KTEST_TIMEOUT=$${SSA_KTEST_TIMEOUT:-3000} \
		SSA_KERNEL_TIMEOUT=$${SSA_KERNEL_TIMEOUT:-3600} tests/kernel/run.sh

.PHONY: check-kernel bench-kernel stress-kernel

# ---- benchmarks (bench/; see docs/performance.md) --------------------------
#   make bench         full run (medians of 5 runs; about 15 minutes)
#   make bench-quick   everyday check, under 2 minutes (smaller sizes, 3 runs)
# Results: $(BUILD)/bench/results-*.{md,json}. ssa-bench is built with
# everything else so that tests/t/80-bench-smoke.t can run it.
BENCHBIN := $(BUILD)/bench/ssa-bench

all: $(BENCHBIN)

$(BENCHBIN): $(wildcard bench/*.c) $(wildcard bench/*.h) include/ssa/in_tls.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $(LDFLAGS) -o $@ $(filter %.c,$^) $(SSL_LIBS) -lpthread

bench-deps:
	@command -v stunnel4 >/dev/null || scripts/install-deps.sh

bench: bench-deps all
	python3 bench/run.py --build $(BUILD)

bench-quick: bench-deps all
	python3 bench/run.py --build $(BUILD) --quick

# The benchmark inside a QEMU guest whose kernel has TLS (tests/kernel/guest/
# 90-bench.t): libssa's kernel-TLS data path against the proxy path, in the
# same guest. The newest installed 6.12 kernel; results in
# build-kernel/<KVER>/run/bench-{ktls,proxy}/. Slow (TCG): about 15 minutes.
bench-kernel: bench-deps all
	KVERS="$${KVERS:-$$(ls /lib/modules | grep '^6\.12' | sort -V | tail -n 1)}" \
	  SSA_KBENCH=1 SSA_KTESTS=90-bench SSA_KTEST_TIMEOUT=$${SSA_KTEST_TIMEOUT:-2400} \
	  SSA_KERNEL_TIMEOUT=$${SSA_KERNEL_TIMEOUT:-2700} tests/kernel/run.sh

.PHONY: bench bench-quick bench-deps
