/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker threads for backing I/O that cannot go through io_uring: all of it
 * on the epoll engine (kernels or containers without io_uring), and the
 * blocking ioctls/fallocate of Write Zeroes and Deallocate on both engines.
 * A job is the request's own bio_ctx (no allocation); its completion goes
 * back to the submitting reactor through that reactor's mailbox.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define POOL_MAX_THREADS 64u

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static struct tgt_msg *g_head, **g_tail = &g_head; /* jobs, linked through bio_ctx.msg */
static bool g_stop;
static pthread_t g_threads[POOL_MAX_THREADS];
static unsigned g_nthreads;

static void job_done_on_reactor(void *arg)
{
    struct bio_ctx *c = arg;

    bio_complete(c, c->res);
}

static void *worker(void *arg)
{
    pthread_setname_np(pthread_self(), "bio_worker");
    pthread_mutex_lock(&g_lock);
    for (;;) {
        while (!g_head && !g_stop)
            pthread_cond_wait(&g_cond, &g_lock);
        if (!g_head)
            break; /* stopping and drained */
        struct tgt_msg *m = g_head;
        g_head = m->next;
        if (!g_head)
            g_tail = &g_head;
        pthread_mutex_unlock(&g_lock);

        struct bio_ctx *c = m->arg;
        c->res = bio_exec_sync(c);
        *m = (struct tgt_msg){.fn = job_done_on_reactor, .arg = c};
        reactor_post_msg(c->r, m);

        pthread_mutex_lock(&g_lock);
    }
    pthread_mutex_unlock(&g_lock);
    return arg;
}

int bio_pool_start(unsigned nthreads)
{
    nthreads = SLIO_MIN(SLIO_MAX(nthreads, 1u), POOL_MAX_THREADS);
    g_stop = false;
    for (unsigned i = 0; i < nthreads; i++) {
        int err = pthread_create(&g_threads[i], NULL, worker, NULL);
        if (err) {
            log_error("backing I/O worker pool: cannot start a thread: %s", strerror(err));
            bio_pool_stop();
            return -err;
        }
        g_nthreads = i + 1;
    }
    return 0;
}

void bio_pool_stop(void)
{
    pthread_mutex_lock(&g_lock);
    g_stop = true;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    for (unsigned i = 0; i < g_nthreads; i++)
        pthread_join(g_threads[i], NULL);
    g_nthreads = 0;
}

void bio_pool_submit(struct bio_ctx *c)
{
    c->msg = (struct tgt_msg){.arg = c};
    pthread_mutex_lock(&g_lock);
    *g_tail = &c->msg;
    g_tail = &c->msg.next;
    pthread_cond_signal(&g_cond);
    pthread_mutex_unlock(&g_lock);
}
