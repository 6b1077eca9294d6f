/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the agent's reader of /sys/class/block/<dev>/stat (agent/metrics.c),
 * the I/O counters of every exported volume: the input is the file's text.
 * The function finds the file from a real block device, so this executable
 * is linked with --wrap for realpath, stat64 and slio_read_file (meson.build):
 * the device DEVICE resolves to "/dev/fuzz0", a block device, and its stat
 * file reads as the input, as slio_read_file would return it (NUL-terminated,
 * capped). Every other path (libFuzzer's own corpus dirs) goes to the real
 * functions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"

#define DEVICE    "/dev/disk/by-id/fuzz"
#define REAL_DEV  "/dev/fuzz0"
#define STAT_FILE "/sys/class/block/fuzz0/stat"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
char *__real_realpath(const char *path, char *resolved);
int __real_stat64(const char *path, struct stat *st);
int __real_slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len);
char *__wrap_realpath(const char *path, char *resolved);
int __wrap_stat64(const char *path, struct stat *st);
int __wrap_slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len);

static const uint8_t *g_data;
static size_t g_size;

char *__wrap_realpath(const char *path, char *resolved)
{
    if (strcmp(path, DEVICE) != 0)
        return __real_realpath(path, resolved);
    return strdup(REAL_DEV);
}

int __wrap_stat64(const char *path, struct stat *st)
{
    if (strcmp(path, REAL_DEV) != 0)
        return __real_stat64(path, st);
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFBLK | 0660;
    return 0;
}

int __wrap_slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len)
{
    if (strcmp(path, STAT_FILE) != 0)
        return __real_slio_read_file(path, max_len, ret_buf, ret_len);
    if (g_size > max_len)
        return -EFBIG;
    char *buf = malloc(g_size + 1);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, g_data, g_size);
    buf[g_size] = '\0';
    *ret_buf = buf;
    if (ret_len)
        *ret_len = g_size;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_iostat io;
    g_data = data;
    g_size = size;
    (void)!agent_metrics_blockstat(DEVICE, &io);
    return 0;
}
