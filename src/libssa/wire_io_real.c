/* SPDX-License-Identifier: MIT */
/*
 * The control I/O's system calls inside libssa (wire_io.h): the C library's
 * own, found below libssa's interposed recvmsg/close (real.h), so that
 * libssa's control traffic never passes through its own front end. A
 * control connection that hangs up then cannot re-enter it.
 */
#include "../proto/wire_io.h"
#include "real.h"

ssize_t ssa_io_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssa_real_init();
	return ssa_real.sendmsg(fd, msg, flags);
}

ssize_t ssa_io_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssa_real_init();
	return ssa_real.recvmsg(fd, msg, flags);
}

int ssa_io_close(int fd)
{
	ssa_real_init();
	return ssa_real.close(fd);
}
