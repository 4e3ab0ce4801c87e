# shellcheck shell=bash
# Real users for the multi-user attack suites (tests/t/9x-*.t), sourced after
# tests/lib.sh. Needs root and setpriv (util-linux).
#
#   need_users              skip_all unless root, setpriv and useradd exist;
#                           creates ssa-alice and ssa-mallory (system
#                           accounts, no home, no login shell) if missing
#   as_user USER CMD...     CMD as USER (its own uid, gid and groups), with
#                           SSA_SOCKET kept and libssa preloaded
#   as_user_plain USER CMD... the same without libssa
#   user_dir NAME           a directory under $WORK that every user may
#                           traverse and read (0755); prints its path
#
# Unlike `nobody`, these users own nothing else on the machine, so a test can
# tell their sockets, descriptors and processes apart from everyone else's.

SSA_USERS=(ssa-alice ssa-mallory)

need_users() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (creates users ${SSA_USERS[*]})"
	command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not installed"
	command -v useradd >/dev/null || skip_all "useradd (passwd) not installed"
	local u
	for u in "${SSA_USERS[@]}"; do
		id "$u" >/dev/null 2>&1 && continue
		useradd --system --no-create-home --user-group \
			--shell /usr/sbin/nologin "$u" 2>/dev/null ||
			id "$u" >/dev/null 2>&1 || skip_all "cannot create user $u"
	done
	# Their programs reach the private ssad socket and the test's files.
	chmod 0755 "$WORK"
}

as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups \
		env SSA_SOCKET="${SSA_SOCKET:-}" LD_PRELOAD="$(ssa_preload)" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" "$@"
}

as_user_plain() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups \
		env SSA_SOCKET="${SSA_SOCKET:-}" "$@"
}

user_dir() {
	mkdir -p "$WORK/$1" && chmod 0755 "$WORK/$1" && echo "$WORK/$1"
}
