/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arbitrary bytes as a JSON-RPC request stream: framing, envelope checks,
 * parameter decoding and every method over the real registry (fakes of the
 * transport and nvmf layer). The first byte chooses how the rest is sliced
 * into reads. After each input the registry is emptied, so leaks show.
 *
 * bdev_aio_create opens files: this executable is compiled with
 * -Dopen=tgt_fuzz_open so that only the two scratch files below can be
 * opened, never a device of the machine running the fuzzer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
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
    slio_log_set_level(SLIO_LOG_ERR); /* failures are the point; do not flood */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tgt_rpc_stream st;
    struct slio_strbuf out = SLIO_STRBUF_INIT(16u << 20);

    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    fakes_reset();
    tgt_rpc_stream_init(&st);
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (tgt_rpc_stream_feed(&st, data + off, n, &out) < 0)
            break; /* the server closes the connection here */
        slio_strbuf_reset(&out);
    }
    tgt_rpc_stream_free(&st);
    slio_strbuf_free(&out);
    tgt_registry_clear();
    tgt_rpc_ana_clear();
    tgt_rpc_options_clear();
    if (tgt_config_set_spdk_compat(TGT_CONFIG_SPDK_DEFAULT) < 0)
        abort();
    return 0;
}
