/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded pool of worker threads for blocking work (LVM commands, SQLite,
 * etcd calls, nvme connect) so that no thread answering heartbeats, HTTP or
 * gRPC ever waits for it.
 *
 * Keyed work: items submitted with the same key (a volume uuid, say) run one
 * at a time, in submission order, while items of other keys run in parallel.
 * slio_workq_busy() tells whether a key has work queued or running, which is
 * what an API needs to answer "operation in progress" (CSI's ABORTED).
 */
#ifndef SLIO_WORKQ_H
#define SLIO_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

#include "slio/cleanup.h"

typedef void (*slio_work_fn)(void *arg);

struct slio_workq;

/* n_threads >= 1; max_queued >= 1: items waiting (not running) before submit says
 * -EAGAIN. -EINVAL otherwise, -ENOMEM, or pthread_create's error. */
int slio_workq_new(unsigned n_threads, size_t max_queued, struct slio_workq **ret) _must_check_;

/* Run fn(arg) on a worker. -EAGAIN when max_queued items wait, -ESHUTDOWN after
 * slio_workq_free() began. On failure fn is not called and arg stays the caller's. */
int slio_workq_submit(struct slio_workq *q, slio_work_fn fn, void *arg) _must_check_;

/* Same, serialised with every other item of the same key (copied; NULL = no key). */
int slio_workq_submit_keyed(struct slio_workq *q, const char *key, slio_work_fn fn,
                            void *arg) _must_check_;

/* True while an item of this key is queued or running. Thread-safe, like every
 * function here except free(). */
bool slio_workq_busy(struct slio_workq *q, const char *key);

/* Block until every item submitted so far has finished (items submitted meanwhile
 * by other threads do not hold it up). Never from inside a work item: a worker
 * draining itself would wait forever. */
void slio_workq_drain(struct slio_workq *q);

/* Refuse new items (-ESHUTDOWN), run what is queued, join the threads, free. NULL ok.
 * Not from inside a work item (a worker cannot join itself). */
void slio_workq_free(struct slio_workq *q);

#endif
