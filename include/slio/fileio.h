/* SPDX-License-Identifier: Apache-2.0 */
/* Reading small files (config, /etc/nvme/hostnqn, sysfs) with a size cap. */
#ifndef SLIO_FILEIO_H
#define SLIO_FILEIO_H

#include <stddef.h>

#include "slio/cleanup.h"

/*
 * Read the whole file into a NUL-terminated buffer to free(). Embedded NUL
 * bytes are kept (ret_len counts them). -EFBIG when it holds more than
 * max_len bytes, -errno from open/read; ret_len may be NULL.
 */
int slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len) _must_check_;

#endif
