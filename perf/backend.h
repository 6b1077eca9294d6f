/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two backends of the load engine: NVMe/TCP through libslio_host (one
 * I/O queue per worker) and a local file or block device through io_uring.
 */
#ifndef SLIO_PERF_BACKEND_H
#define SLIO_PERF_BACKEND_H

#include "engine.h"
#include "host.h"

/* ctrl stays owned by the caller and must outlive the backend. poll: see host.h. */
int perf_backend_tcp_open(struct slio_host_ctrl *ctrl, uint32_t nsid, uint32_t nqueues,
                          const struct slio_host_poll_opts *poll, struct perf_backend *ret_be,
                          char *err, size_t errlen);
void perf_backend_tcp_close(struct perf_backend *be);

/* O_DIRECT when the file system allows it (reported in *ret_direct). */
int perf_backend_local_open(const char *path, bool write, struct perf_backend *ret_be,
                            bool *ret_direct, char *err, size_t errlen);
void perf_backend_local_close(struct perf_backend *be);

#endif
