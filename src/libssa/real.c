/* SPDX-License-Identifier: MIT */
#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

struct ssa_real_calls ssa_real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
#define R(name) *(void **)&ssa_real.name = dlsym(RTLD_NEXT, #name)
	R(socket);
	R(connect);
	R(close);
	R(setsockopt);
	R(getsockopt);
	R(getsockname);
	R(getpeername);
	R(read);
	R(recv);
	R(recvfrom);
	R(recvmsg);
	R(sendmsg);
	R(readv);
	R(bind);
	R(listen);
	R(accept);
	R(accept4);
	R(dup);
	R(dup2);
	R(dup3);
	R(shutdown);
#undef R
	if (!ssa_real.socket || !ssa_real.connect || !ssa_real.close ||
	    !ssa_real.setsockopt || !ssa_real.getsockopt || !ssa_real.getsockname ||
	    !ssa_real.getpeername || !ssa_real.read || !ssa_real.recv || !ssa_real.recvfrom ||
	    !ssa_real.recvmsg || !ssa_real.sendmsg || !ssa_real.readv || !ssa_real.bind || !ssa_real.listen ||
	    !ssa_real.accept || !ssa_real.accept4 || !ssa_real.dup || !ssa_real.dup2 ||
	    !ssa_real.dup3 || !ssa_real.shutdown)
		abort(); /* no C library below us: nothing sensible can run */
}

void ssa_real_init(void)
{
	pthread_once(&once, resolve);
}
