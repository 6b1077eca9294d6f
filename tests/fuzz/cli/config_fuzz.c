/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz slioctl's connection settings: its config file (YAML: server as a URL,
 * a comma list or a list, token_file) and the token file, through
 * cli_conn_resolve as a run with --config and --token-file would. The input
 * is the config file's text, then optionally a NUL byte and the token
 * file's content. A resolved connection has 1..16 non-empty URLs and a token
 * that is a non-empty C string; a refused one leaves nothing allocated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("SLIOCTL_SERVER"); /* the file, not the environment, is under test */
    unsetenv("SLIOCTL_TOKEN_FILE");
    return 0;
}

static int file_of(const uint8_t *data, size_t size, char path[static 64])
{
    int fd = memfd_create("slioctl", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t cfg_len = nul ? (size_t)(nul - data) : size;
    char cfg_path[64], tok_path[64];
    int cfg_fd = file_of(data, cfg_len, cfg_path), tok_fd = -1;
    if (cfg_fd < 0)
        return 0;
    struct cli_opts o = {.config = cfg_path};
    if (nul) {
        tok_fd = file_of(nul + 1, size - cfg_len - 1, tok_path);
        o.token_file = tok_fd >= 0 ? tok_path : NULL;
    }
    struct cli_conn c;
    struct slio_err err;
    if (cli_conn_resolve(&o, &c, &err) == 0) {
        if (c.n_urls < 1 || c.n_urls > 16 || !c.urls || c.urls[c.n_urls])
            abort();
        for (size_t i = 0; i < c.n_urls; i++)
            if (!c.urls[i])
                abort();
        if (c.token && !c.token[0])
            abort();
        cli_conn_clear(&c);
    }
    close(cfg_fd);
    if (tok_fd >= 0)
        close(tok_fd);
    return 0;
}
