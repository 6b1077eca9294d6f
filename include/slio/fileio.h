/* SPDX-License-Identifier: Apache-2.0 */
/* Reading small files (config, /etc/nvme/hostnqn, sysfs) with a size cap. */
#ifndef SLIO_FILEIO_H
#define SLIO_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "slio/cleanup.h"

/*
 * Read the whole file into a NUL-terminated buffer to free(). Embedded NUL
 * bytes are kept (ret_len counts them). -EFBIG when it holds more than
 * max_len bytes, -errno from open/read; ret_len may be NULL.
 */
int slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len) _must_check_;

/* write(2) all of buf, retrying on EINTR and short writes. 0 or -errno. */
int slio_write_all(int fd, const void *buf, size_t len) _must_check_;

/*
 * Replace `path` atomically and durably with `len` bytes of `buf`: write a
 * temporary file beside it, fsync, rename over path, fsync the directory. A
 * crash at any point leaves either the old or the new content. 0 or -errno
 * (the temporary file is removed on failure).
 */
int slio_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode) _must_check_;

#endif
