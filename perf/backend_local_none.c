/* SPDX-License-Identifier: Apache-2.0 */
/* Built when liburing is not available: `slio-perf local` reports that it is missing. */
#include <errno.h>
#include <stdio.h>

#include "backend.h"

int perf_backend_local_open(const char *path, bool write, struct perf_backend *ret_be,
                            bool *ret_direct, char *err, size_t errlen)
{
    snprintf(err, errlen, "\"%s\": local mode needs io_uring; built without liburing", path);
    return -ENOTSUP;
}

void perf_backend_local_close(struct perf_backend *be) {}
