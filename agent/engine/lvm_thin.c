/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin pool auto-extend: above the threshold the pool grows by a step, up to
 * the ceiling and the VG's free space. lvm2's own dmeventd policy
 * (thin_pool_autoextend_threshold) is machine-wide and silent; doing it here
 * lets the agent report what happened and warn before the pool fills.
 */
#include <inttypes.h>
#include <string.h>

#include "lvm_internal.h"
#include "slio/parse.h"

#define CRITICAL_PERCENT 95.0
#define META_STEP_MIN    (4ull << 20)

struct thin_now {
    uint64_t size, meta_size;
    double data, meta;
};

static int thin_read(struct lvm_engine *e, struct thin_now *ret, struct slio_err *err)
{
    _cleanup_free_ struct lvm_lv *lvs = NULL;
    const struct lvm_lv *tp;
    size_t n;
    int r = lvm_list_all(e, &lvs, &n, err);

    if (r < 0)
        return r;
    tp = lvm_thin_pool_row(e, lvs, n);
    if (!tp) {
        slio_err_set(err, "pool \"%s\": thin pool \"%s\" not found", e->pool, e->thin_pool);
        return -ENOENT;
    }
    *ret = (struct thin_now){tp->size, tp->metadata_size, SLIO_MAX(tp->data_percent, 0.0),
                             SLIO_MAX(tp->metadata_percent, 0.0)};
    return 0;
}

/* The data size to grow to, 0 when it cannot grow (ceiling reached, VG full). */
static uint64_t data_target(const struct lvm_engine *e, const struct agent_autoextend_policy *p,
                            const struct thin_now *t, uint64_t vg_free)
{
    uint64_t step = p->step ? p->step : t->size / 100 * p->step_percent;
    uint64_t target;

    step = agent_round_up(SLIO_MAX(step, e->extent_size), e->extent_size);
    step = SLIO_MIN(step, vg_free / e->extent_size * e->extent_size);
    target = t->size + step;
    if (p->ceiling && target > p->ceiling)
        target = p->ceiling / e->extent_size * e->extent_size;
    return target > t->size ? target : 0;
}

static int extend(struct lvm_engine *e, const char *opt, uint64_t bytes, struct slio_err *err)
{
    struct lvm_argv a = {0};

    lvm_argv_add(&a, "lvextend");
    lvm_argv_addf(&a, "%s=%" PRIu64 "b", opt, bytes);
    lvm_argv_addf(&a, "%s/%s", e->vg, e->thin_pool);
    return lvm_run(e, &a, err);
}

/* Grow data and/or metadata where above the threshold; failures go into res. */
static void grow(struct lvm_engine *e, const struct agent_autoextend_policy *p,
                 const struct thin_now *t, struct agent_autoextend_result *res)
{
    struct slio_err err = {{0}};
    struct lvm_vg vg;
    uint64_t target = 0;
    int r = lvm_get_vg(e, &vg, &err);

    if (r == 0 && t->data >= p->threshold_percent) {
        target = data_target(e, p, t, vg.free);
        if (target) {
            r = extend(e, "--size", target, &err);
            if (r == 0) {
                res->extended = true;
                vg.free -= SLIO_MIN(vg.free, target - t->size);
            }
        } else {
            slio_err_set(&err, "no room to grow (ceiling or volume group full)");
        }
    }
    if (r == 0 && t->meta >= p->threshold_percent) {
        uint64_t more = agent_round_up(SLIO_MAX(t->meta_size / 4, META_STEP_MIN), e->extent_size);
        if (more <= vg.free &&
            (r = extend(e, "--poolmetadatasize", t->meta_size + more, &err)) == 0)
            res->extended = true;
        else if (r == 0)
            slio_err_set(&err, "no room to grow the metadata (volume group full)");
    }
    /* A cut message is still a useful one; the return value is read so GCC's
     * -Wformat-truncation (debug builds) accepts the bounded write. */
    int len = err.text[0]
                  ? snprintf(res->message, sizeof(res->message),
                             "pool \"%s\": thin pool \"%s\": %s", e->pool, e->thin_pool, err.text)
                  : 0;
    if (len >= (int)sizeof(res->message))
        res->message[sizeof(res->message) - 2] = '~'; /* mark the cut */
}

int lvm_thin_autoextend(struct agent_engine *base, const struct agent_autoextend_policy *policy,
                        struct agent_autoextend_result *ret, struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    const struct agent_autoextend_policy *p = policy ? policy : &e->autoextend;
    struct agent_autoextend_result res = {.level = AGENT_THIN_OK};
    struct thin_now before, after;
    double top;
    int r;

    if (!e->thin_pool[0]) {
        *ret = res;
        return 0;
    }
    pthread_mutex_lock(&e->admit_lock);
    r = thin_read(e, &before, err);
    if (r == 0 && p->threshold_percent &&
        (before.data >= p->threshold_percent || before.meta >= p->threshold_percent))
        grow(e, p, &before, &res);
    after = before;
    if (r == 0 && res.extended)
        r = thin_read(e, &after, err);
    pthread_mutex_unlock(&e->admit_lock);
    if (r < 0)
        return r;
    res.old_size = before.size;
    res.new_size = after.size;
    res.data_percent = after.data;
    res.meta_percent = after.meta;
    top = SLIO_MAX(after.data, after.meta);
    if (p->threshold_percent && top >= p->threshold_percent)
        res.level = top >= CRITICAL_PERCENT ? AGENT_THIN_CRITICAL : AGENT_THIN_WARNING;
    else if (res.extended)
        res.level = AGENT_THIN_EXTENDED;
    if (res.level >= AGENT_THIN_WARNING && !res.message[0])
        snprintf(res.message, sizeof(res.message),
                 "pool \"%s\": thin pool \"%s\" data %.1f%%, metadata %.1f%% after auto-extend",
                 e->pool, e->thin_pool, after.data, after.meta);
    *ret = res;
    return 0;
}
