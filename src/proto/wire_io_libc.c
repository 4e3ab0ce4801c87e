/* SPDX-License-Identifier: MIT */
/* The control I/O's system calls, straight to the C library (every program
 * but libssa; see wire_io.h). */
#include "wire_io.h"

#include <unistd.h>

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
	return close(fd);
}
