/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the file slio-tgt loads at start (--json-config, SPDK's save_config
 * layout) through tgt_config_apply over the real registry (fakes of the
 * transport and nvmf layer). Whatever part of the document applied, what
 * save_config then writes must load back on an empty target and save again
 * identically: a target restarted from its own saved config must come up.
 *
 * Like jsonrpc_fuzz, compiled with -Dopen=tgt_fuzz_open: bdev_aio_create can
 * only open the scratch files below.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "slio/json.h"
#include "slio/log.h"
#include "tgt_fakes.h"

#define FUZZ_DIR "/tmp/slio-rpc-fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* `open` is renamed to this by the build; anything but the scratch files is refused. */
int open(const char *path, int flags, ...)
{
    if (strncmp(path, FUZZ_DIR "/disk", sizeof(FUZZ_DIR "/disk") - 1) != 0 || strstr(path, "..")) {
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
    mkdir(FUZZ_DIR, 0700);
    for (int i = 0; i < 2; i++) {
        char p[64];
        snprintf(p, sizeof(p), FUZZ_DIR "/disk%d", i);
        int fd = openat(AT_FDCWD, p, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (ftruncate(fd, 1 << 20) < 0)
                perror(p);
            close(fd);
        }
    }
    return 0;
}

static void reset(void)
{
    tgt_registry_clear();
    tgt_rpc_ana_clear();
    tgt_rpc_options_clear();
    fakes_reset();
    if (tgt_config_set_spdk_compat(TGT_CONFIG_SPDK_DEFAULT) < 0)
        abort();
}

/* What save_config wrote must load on an empty target and save the same again. */
static void saved_loads_back(void)
{
    struct tgt_rpc_err err;
    json_t *saved = tgt_config_build(0);
    if (!saved)
        return; /* out of memory */
    reset();
    if (tgt_config_apply(saved, &err) < 0) {
        fprintf(stderr, "saved config does not load back: %s\n", err.message);
        abort();
    }
    json_t *again = tgt_config_build(0);
    if (again && !json_equal(saved, again)) {
        fprintf(stderr, "saved config changed after a reload\n");
        abort();
    }
    json_decref(again);
    json_decref(saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tgt_rpc_err err;
    struct slio_err e;
    json_t *doc = NULL;

    reset();
    if (slio_json_loadb((const char *)data, size, SLIO_JSON_MAX_DEFAULT, &doc, &e) == 0) {
        (void)!tgt_config_apply(doc, &err);
        json_decref(doc);
        saved_loads_back();
    }
    reset();
    return 0;
}
