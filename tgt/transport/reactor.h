/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reactors: N threads, each owning its connections and queues; no locks on
 * the I/O path; work crosses threads as messages.
 */
#ifndef TGT_REACTOR_H
#define TGT_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/cleanup.h"
#include "registry/registry.h"

struct tgt_reactor;

enum tgt_engine_kind { TGT_ENGINE_AUTO, TGT_ENGINE_URING, TGT_ENGINE_EPOLL };

struct tgt_reactor_opts {
    unsigned count;      /* number of reactor threads (0: one per online CPU) */
    const char *cpumask; /* optional hex mask ("0x3"); pins reactor i to the i-th set CPU */
    enum tgt_engine_kind engine;
    int64_t poll_us;     /* adaptive polling: spin this long with work in flight;
                            0 = never spin, -1 = always poll (burns a core) */
    unsigned disk_batch; /* io_uring: backing I/O per submission (0: a loop iteration's);
                            slio-tgt's default is 2 */
};

int tgt_reactors_start(const struct tgt_reactor_opts *opts) _must_check_;
/* Stops all reactors, closes every connection and listener. */
void tgt_reactors_stop(void);
unsigned tgt_reactor_count(void);
const char *tgt_engine_name(void); /* "io_uring" or "epoll" */

/* Run fn(arg) on reactor r's thread (any thread may call). 0 or -ENOMEM. */
int tgt_reactor_post(struct tgt_reactor *r, void (*fn)(void *arg), void *arg) _must_check_;
struct tgt_reactor *tgt_reactor_current(void);
uint64_t tgt_now_us(void);

/*
 * What an unauthenticated peer may cost (issue 17): connection caps, and
 * deadlines after which a connection that does not move on is closed. Set
 * once before the reactors start (slio-tgt's command line); read by every
 * reactor afterwards. A timeout of 0 disables that deadline.
 */
struct tgt_conn_limits {
    uint32_t max_conns;          /* open connections in total */
    uint32_t max_conns_per_host; /* open connections per source IP address */
    uint32_t icreq_timeout_ms;   /* accept -> ICReq complete */
    uint32_t connect_timeout_ms; /* ICResp -> a successful Connect */
    uint32_t pdu_timeout_ms;     /* a PDU begun must be complete within this */
    uint32_t idle_release_ms;    /* no command outstanding this long: data slots given back */
};
#define TGT_CONN_LIMITS_DEFAULT                                                                    \
    {                                                                                              \
        .max_conns = 4096, .max_conns_per_host = 256, .icreq_timeout_ms = 10000,                   \
        .connect_timeout_ms = 10000, .pdu_timeout_ms = 30000, .idle_release_ms = 5000              \
    }
void tgt_conn_limits_set(const struct tgt_conn_limits *l);
const struct tgt_conn_limits *tgt_conn_limits_get(void);

/* nvmf_create_transport: set the TCP transport options (management thread). -EINVAL on bad values.
 */
struct tgt_transport_opts;
int tgt_transport_create(const struct tgt_transport_opts *o) _must_check_;
bool tgt_transport_created(void);
/* The checks tgt_transport_create makes (transport_opts.c, shared with the test doubles):
 * 0, or -EINVAL with the option logged; clamps io_unit_size to max_io_size. */
int tgt_transport_opts_check(struct tgt_transport_opts *o) _must_check_;

/* Listeners (management thread). Refcounted per address: add twice, remove twice. */
int tgt_listener_add(const struct tgt_listen_addr *a) _must_check_;
int tgt_listener_remove(const struct tgt_listen_addr *a) _must_check_;

/* Statistics for nvmf_get_stats: one entry per reactor ("poll group"). */
struct tgt_reactor_stats {
    char name[32];
    uint64_t admin_qpairs, io_qpairs, current_admin_qpairs, current_io_qpairs;
    uint64_t pending_bdev_io, completions, requests, busy_polls, idle_sleeps;
};
unsigned tgt_reactor_get_stats(struct tgt_reactor_stats *out, unsigned max);

#endif
