/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the node half's mountinfo reader (csi/node/mount.c): the input is a
 * whole /proc/self/mountinfo as the kernel would show it (mount points and
 * sources are chosen by whoever mounts, so octal escapes, long and odd
 * fields are all possible). It goes through csi_mount_find, as a file, for a
 * few mount points, and line by line through csi_mountinfo_parse_line; a
 * parsed line must give NUL-terminated fields within their buffers.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void each_line(const uint8_t *data, size_t size)
{
    char point[PATH_MAX];
    struct csi_mount m;
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t len = nl ? (size_t)(nl - data) - start : size - start;
        char *line = malloc(len + 1);
        if (!line)
            return;
        memcpy(line, data + start, len);
        line[len] = '\0';
        if (csi_mountinfo_parse_line(line, point, sizeof(point), &m) == 0 &&
            (strnlen(point, sizeof(point)) == sizeof(point) ||
             strnlen(m.source, sizeof(m.source)) == sizeof(m.source) ||
             strnlen(m.fstype, sizeof(m.fstype)) == sizeof(m.fstype)))
            abort(); /* every accepted field is a C string within its buffer */
        free(line);
        start += len + 1;
    }
}

static void as_file(const uint8_t *data, size_t size)
{
    static const char *const points[] = {"/", "/mnt/a b", "/var/lib/kubelet/pods/p/volumes/v"};
    char path[64];
    struct csi_mount m;
    int fd = memfd_create("mountinfo", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
            (void)!csi_mount_find(path, points[i], &m);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    each_line(data, size);
    as_file(data, size);
    return 0;
}
