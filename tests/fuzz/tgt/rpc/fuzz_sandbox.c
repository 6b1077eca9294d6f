/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox of the JSON-RPC fuzz targets (fuzz_sandbox.h): one copy of the
 * open() replacement, the scratch files and the reset between inputs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_sandbox.h"
#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "slio/log.h"
#include "tgt_fakes.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* `open` is renamed to this by the build; anything but the scratch files is refused. */
int open(const char *path, int flags, ...)
{
    static const char prefix[] = FUZZ_SANDBOX_DIR "/disk";

    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0 || strstr(path, "..")) {
        errno = ENOENT;
        return -1;
    }
    return openat(AT_FDCWD, path, flags & ~O_CREAT);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    slio_log_set_level(SLIO_LOG_ERR); /* refusals are the point; do not flood */
    mkdir(FUZZ_SANDBOX_DIR, 0700);
    for (int i = 0; i < 2; i++) {
        char p[64];
        snprintf(p, sizeof(p), FUZZ_SANDBOX_DIR "/disk%d", i);
        int fd = openat(AT_FDCWD, p, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (ftruncate(fd, 1 << 20) < 0)
                perror(p);
            close(fd);
        }
    }
    return 0;
}

void fuzz_sandbox_reset(void)
{
    tgt_registry_clear();
    tgt_rpc_ana_clear();
    tgt_rpc_options_clear();
    fakes_reset();
    if (tgt_config_set_spdk_compat(TGT_CONFIG_SPDK_DEFAULT) < 0)
        abort();
}
