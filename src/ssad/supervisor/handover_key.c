/* SPDX-License-Identifier: MIT */
/* The hand-over key, held by the supervisor (handover_key.h). */
#include "handover_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../keeper/key_seal.h"
#include "../sd_notify.h"
#include "keeper_loader.h"

static uint8_t key[SSA_SEAL_KEY_LEN];

/* The key of a memfd the manager passed back. @retval 0 or EINVAL */
static int read_key(int fd)
{
	struct stat st;

	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || !(seals & F_SEAL_WRITE) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || st.st_size != (off_t)sizeof key ||
	    pread(fd, key, sizeof key, 0) != (ssize_t)sizeof key) {
		OPENSSL_cleanse(key, sizeof key);
		return EINVAL;
	}
	return 0;
}

/* Store the key with the service manager (nothing without one). */
static void store_key(void)
{
	int fd = memfd_create(SSA_HANDOVER_KEY_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING), err = 0;

	if (fd < 0 || fchmod(fd, 0400) != 0 || pwrite(fd, key, sizeof key, 0) != (ssize_t)sizeof key ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		err = errno;
	else
		err = ssa_sd_notify_fds("FDSTORE=1\nFDNAME=" SSA_HANDOVER_KEY_NAME, &fd, 1);
	if (err)
		log_warn("supervisor: the hand-over key is not stored with the service manager (%s): "
			 "listeners' keys will not be taken over after a restart of the service",
			 strerror(err));
	if (fd >= 0)
		close(fd);
}

int ssa_handover_key_init(struct ssa_fd_store *store)
{
	bool found = false, bad = false;

	for (size_t i = 0; i < store->n && !found; i++) {
		if (strcmp(store->e[i].sd.name, SSA_HANDOVER_KEY_NAME) != 0)
			continue;
		if (read_key(store->e[i].sd.fd) == 0)
			found = true;
		else
			bad = true;
	}
	ssa_fd_store_remove(store, SSA_HANDOVER_KEY_NAME); /* never a worker's */
	if (found)
		return 0;
	if (bad) {
		log_warn("supervisor: the stored hand-over key is not a sealed 32-byte memfd of "
			 "root's; a new one is made (stored listeners' keys cannot be opened)");
		(void)ssa_sd_notify("FDSTOREREMOVE=1\nFDNAME=" SSA_HANDOVER_KEY_NAME);
	}
	if (RAND_bytes(key, sizeof key) != 1) {
		log_err("supervisor: no random bytes for the hand-over key");
		return EIO;
	}
	store_key();
	return 0;
}

int ssa_handover_key_give(int chan)
{
	return ssa_keeper_set_handover_key(chan, key);
}

void ssa_handover_key_forget(void)
{
	OPENSSL_cleanse(key, sizeof key);
}

bool ssa_handover_key_name(const char *name)
{
	return strcmp(name, SSA_HANDOVER_KEY_NAME) == 0;
}
