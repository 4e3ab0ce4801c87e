/* SPDX-License-Identifier: MIT */
/**
 * @file caller_fsids.h
 * @brief Run a piece of code on this thread with a caller's filesystem ids.
 *
 * The kernel lets a process read another one's ptrace-checked /proc files
 * (/proc/PID/exe, /proc/PID/ns/...) without CAP_SYS_PTRACE when its fsuid
 * and fsgid equal the other process's real, effective and saved ids, that
 * process is dumpable and has no capability the reader lacks
 * (PTRACE_MODE_READ_FSCREDS). fsuid and fsgid are per thread: setting them
 * changes nothing for ssad's other threads.
 */
#ifndef SSAD_CALLER_FSIDS_H
#define SSAD_CALLER_FSIDS_H

#include <stdbool.h>
#include <sys/types.h>

/**
 * Run fn(arg, as_caller) on the calling thread with its fsuid and fsgid set
 * to uid and gid, every signal blocked meanwhile (no handler runs with those
 * ids), and the thread's own ids back afterwards; as_caller says whether
 * they were set (false: fn runs with the thread's own ids, and must not
 * make anything that would then be owned by them). If they cannot be
 * restored, ssad stops (abort): the thread must not go on with a caller's
 * ids. fn must not block, log or take locks.
 * @retval 0 fn ran with uid and gid
 * @retval EPERM the ids could not be set (ssad has no CAP_SETUID or
 *         CAP_SETGID): fn ran with the thread's own ids, which can read
 *         less, never more
 */
int ssa_with_caller_fsids(uid_t uid, gid_t gid, void (*fn)(void *, bool), void *arg);

#endif
