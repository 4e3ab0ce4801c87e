/* SPDX-License-Identifier: MIT */
/* The control I/O's system calls in ssad (see wire_io.h): the C library's,
 * except that the descriptors the protocol code lets go of are callers'
 * (a request's extras, a refused request's), released off the loop
 * (caller_fds.h). */
#include "../proto/wire_io.h"

#include "caller_fds.h"

ssize_t ssa_io_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return sendmsg(fd, msg, flags);
}

ssize_t ssa_io_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return recvmsg(fd, msg, flags);
}

int ssa_io_close(int fd)
{
	ssa_caller_fd_close(ssa_caller_fds_charged(), fd);
	return 0;
}
