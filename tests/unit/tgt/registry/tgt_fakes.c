/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tgt_fakes.h"

struct tgt_fakes fakes;

static const struct tgt_transport_opts default_opts = {
    .max_queue_depth = 128,
    .max_aq_depth = 128,
    .max_io_qpairs_per_ctrlr = 127,
    .in_capsule_data_size = 8192,
    .max_io_size = 131072,
    .io_unit_size = 131072,
};

void fakes_reset(void)
{
    memset(&fakes, 0, sizeof(fakes));
    fakes.opts = default_opts;
}

const struct tgt_transport_opts *tgt_transport_get_opts(void)
{
    if (!fakes.opts.max_queue_depth)
        fakes.opts = default_opts;
    return &fakes.opts;
}

int tgt_transport_create(const struct tgt_transport_opts *o)
{
    if (fakes.transport_created)
        return -EEXIST;
    struct tgt_transport_opts checked = *o;
    int r = tgt_transport_opts_check(&checked); /* the target's own checks */
    if (r < 0)
        return r;
    fakes.opts = checked;
    fakes.transport_created = true;
    return 0;
}

bool tgt_transport_created(void)
{
    return fakes.transport_created;
}

int tgt_listener_add(const struct tgt_listen_addr *a)
{
    if (fakes.listener_add_fail) {
        int r = fakes.listener_add_fail;
        fakes.listener_add_fail = 0;
        return r;
    }
    fakes.listeners++;
    fakes.last_listener = *a;
    return 0;
}

int tgt_listener_remove(const struct tgt_listen_addr *a)
{
    if (fakes.listeners <= 0)
        return -ENOENT;
    fakes.listeners--;
    fakes.last_listener = *a;
    return 0;
}

static void record(struct fake_event *ev, unsigned *n, const char *nqn, uint32_t nsid)
{
    if (*n >= FAKE_MAX_EVENTS)
        return;
    snprintf(ev[*n].nqn, sizeof(ev[*n].nqn), "%s", nqn);
    ev[*n].nsid = nsid;
    (*n)++;
}

void tgt_nvmf_ns_changed(const char *nqn, uint32_t nsid)
{
    record(fakes.ns_changed, &fakes.nr_ns_changed, nqn, nsid);
}

void tgt_nvmf_subsys_access_changed(const char *nqn)
{
    record(fakes.access_changed, &fakes.nr_access_changed, nqn, 0);
}

void tgt_nvmf_discovery_changed(void)
{
    fakes.discovery_changed++;
}

void tgt_ctrlr_for_each(const char *nqn, void (*fn)(const struct tgt_ctrlr_info *, void *ctx),
                        void *ctx)
{
    (void)nqn;
    for (unsigned i = 0; i < fakes.nr_ctrlrs; i++)
        fn(&fakes.ctrlrs[i], ctx);
}

unsigned tgt_reactor_get_stats(struct tgt_reactor_stats *out, unsigned max)
{
    unsigned n = max < 2 ? max : 2;
    for (unsigned i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        snprintf(out[i].name, sizeof(out[i].name), "nvmf_tgt_poll_group_%03u", i);
        out[i].io_qpairs = 4 + i;
        out[i].completions = 1000 * (i + 1);
    }
    return n;
}

uint64_t tgt_now_us(void)
{
    return fakes.now_us;
}
