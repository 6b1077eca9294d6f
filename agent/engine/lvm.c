/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lvm engine: open/close, listing by tag, pool status, and the helpers
 * the other lvm_*.c files share. Every LVM command is an argv run through
 * agent_run() (libslio's exec seam), every report is JSON.
 */
#include <stdarg.h>
#include <string.h>

#include "lvm_internal.h"
#include "slio/uuid.h"

void lvm_argv_add(struct lvm_argv *a, const char *s)
{
    size_t n = strlen(s) + 1;

    if (a->n + 1 >= SLIO_ARRAY_SIZE(a->v) || a->used + n > sizeof(a->store)) {
        a->overflow = true;
        return;
    }
    memcpy(a->store + a->used, s, n);
    a->v[a->n++] = a->store + a->used;
    a->used += n;
}

void lvm_argv_addf(struct lvm_argv *a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(buf)) {
        a->overflow = true;
        return;
    }
    lvm_argv_add(a, buf);
}

const char *const *lvm_argv_get(struct lvm_argv *a, struct slio_err *err)
{
    if (a->overflow || a->n == 0) {
        slio_err_set(err, "%s: argument list too long", a->n ? a->v[0] : "command");
        return NULL;
    }
    a->v[a->n] = NULL;
    return a->v;
}

int lvm_run_out(struct lvm_engine *e, struct lvm_argv *a, struct slio_exec_result *ret,
                struct slio_err *err)
{
    const char *const *argv = lvm_argv_get(a, err);

    if (!argv)
        return -E2BIG;
    return agent_run(argv, e->timeout_ms, LVM_OUTPUT_MAX, ret, err);
}

int lvm_run(struct lvm_engine *e, struct lvm_argv *a, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};

    return lvm_run_out(e, a, &res, err);
}

static void report_argv(struct lvm_argv *a, const char *cmd, const char *fields)
{
    lvm_argv_add(a, cmd);
    lvm_argv_add(a, "--reportformat");
    lvm_argv_add(a, "json");
    lvm_argv_add(a, "--units");
    lvm_argv_add(a, "b");
    lvm_argv_add(a, "--nosuffix");
    lvm_argv_add(a, "--options");
    lvm_argv_add(a, fields);
}

int lvm_list_all(struct lvm_engine *e, struct lvm_lv **ret, size_t *ret_n, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct lvm_argv a = {0};
    int r;

    report_argv(&a, "lvs", LVM_LVS_FIELDS);
    lvm_argv_add(&a, e->vg);
    r = lvm_run_out(e, &a, &res, err);
    if (r == 0)
        r = lvm_parse_lvs(res.out, res.out_len, ret, ret_n, err);
    if (r < 0)
        slio_err_prefix(err, "pool \"%s\"", e->pool);
    return r;
}

int lvm_get_vg(struct lvm_engine *e, struct lvm_vg *ret, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    _cleanup_free_ struct lvm_vg *vgs = NULL;
    struct lvm_argv a = {0};
    size_t n = 0;
    int r;

    /* all VGs, so that a missing one is an empty answer, not an error text to read */
    report_argv(&a, "vgs", LVM_VGS_FIELDS);
    r = lvm_run_out(e, &a, &res, err);
    if (r == 0)
        r = lvm_parse_vgs(res.out, res.out_len, &vgs, &n, err);
    if (r < 0) {
        slio_err_prefix(err, "pool \"%s\"", e->pool);
        return r;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(vgs[i].name, e->vg) == 0) {
            *ret = vgs[i];
            return 0;
        }
    slio_err_set(err, "pool \"%s\": volume group \"%s\" not found", e->pool, e->vg);
    return -ENOENT;
}

bool lvm_lv_ours(const struct lvm_engine *e, const struct lvm_lv *lv)
{
    const struct lvm_tags *t = &lv->tags;

    return t->has_uuid && t->has_kind && t->has_pool && !t->conflict &&
           strcmp(t->pool, e->pool) == 0 && strcmp(lv->vg, e->vg) == 0 &&
           strcmp(lv->name, e->thin_pool) != 0;
}

const struct lvm_lv *lvm_find_ours(const struct lvm_engine *e, const struct lvm_lv *lvs, size_t n,
                                   const uuid_t uuid)
{
    for (size_t i = 0; i < n; i++)
        if (lvm_lv_ours(e, &lvs[i]) && uuid_compare(lvs[i].tags.uuid, uuid) == 0)
            return &lvs[i];
    return NULL;
}

const struct lvm_lv *lvm_find_name(const struct lvm_lv *lvs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(lvs[i].name, name) == 0)
            return &lvs[i];
    return NULL;
}

static enum agent_vol_state lv_state(const struct lvm_lv *lv)
{
    char state = lv->attr[4], health = lv->attr[8];

    if (lv->tags.copying)
        return AGENT_VOL_COPYING;
    if (state == 'I' || state == 'S' || health == 'F' || health == 'p')
        return AGENT_VOL_INVALID;
    return state == 'a' ? AGENT_VOL_READY : AGENT_VOL_INACTIVE;
}

void lvm_describe(const struct lvm_engine *e, const struct lvm_lv *lv, struct agent_volume *ret)
{
    bool cow_snapshot = lv->attr[0] == 's';
    struct agent_volume v = {
        .kind = lv->tags.kind,
        .state = lv_state(lv),
        .thin = lv->pool_lv[0] != '\0',
        .has_origin = lv->tags.has_origin,
        .size = cow_snapshot ? lv->origin_size : lv->size,
        .reserved = cow_snapshot ? lv->size : 0,
        .used_percent = lv->data_percent,
        .stripes = lv->pool_lv[0] ? 1 : SLIO_MAX(lv->stripes, 1u),
    };

    uuid_copy(v.uuid, lv->tags.uuid);
    if (v.has_origin)
        uuid_copy(v.origin, lv->tags.origin);
    snprintf(v.name, sizeof(v.name), "%s", lv->name);
    snprintf(v.path, sizeof(v.path), "%s/%s/%s", e->dev_dir, e->vg, lv->name);
    *ret = v;
}

int lvm_describe_fresh(struct lvm_engine *e, const uuid_t uuid, struct agent_volume *ret,
                       struct slio_err *err)
{
    _cleanup_free_ struct lvm_lv *lvs = NULL;
    const struct lvm_lv *lv;
    char s[SLIO_UUID_STR_LEN];
    size_t n;
    int r = lvm_list_all(e, &lvs, &n, err);

    if (r < 0)
        return r;
    lv = lvm_find_ours(e, lvs, n, uuid);
    if (!lv) {
        slio_err_set(err, "volume %s: not listed by lvs right after the change",
                     slio_uuid_format(uuid, s));
        return -EIO;
    }
    lvm_describe(e, lv, ret);
    return 0;
}

const struct lvm_lv *lvm_thin_pool_row(const struct lvm_engine *e, const struct lvm_lv *lvs,
                                       size_t n)
{
    const struct lvm_lv *lv = e->thin_pool[0] ? lvm_find_name(lvs, n, e->thin_pool) : NULL;

    return lv && lv->attr[0] == 't' ? lv : NULL;
}

uint64_t lvm_thin_virtual(const struct lvm_engine *e, const struct lvm_lv *lvs, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++)
        if (e->thin_pool[0] && strcmp(lvs[i].pool_lv, e->thin_pool) == 0)
            sum += lvs[i].size;
    return sum;
}

static int lvm_list_volumes(struct agent_engine *base, struct agent_volume_list *ret,
                            struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    _cleanup_free_ struct lvm_lv *lvs = NULL;
    struct agent_volume_list l = {0};
    size_t n;
    int r = lvm_list_all(e, &lvs, &n, err);

    if (r < 0)
        return r;
    l.items = calloc(n + 1, sizeof(*l.items));
    if (!l.items)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!lvm_lv_ours(e, &lvs[i]) || agent_volume_list_find(&l, lvs[i].tags.uuid))
            continue; /* a uuid twice (tags copied by hand): the first LV wins */
        lvm_describe(e, &lvs[i], &l.items[l.n++]);
    }
    *ret = l;
    return 0;
}

static void thin_status(const struct lvm_engine *e, const struct lvm_lv *lvs, size_t n,
                        struct agent_pool_status *s)
{
    const struct lvm_lv *tp = lvm_thin_pool_row(e, lvs, n);
    double cap;

    s->overprovision_max = e->overprovision;
    if (!tp)
        return;
    s->thin = true;
    s->thin_size = tp->size;
    s->thin_data_percent = SLIO_MAX(tp->data_percent, 0.0);
    s->thin_meta_percent = SLIO_MAX(tp->metadata_percent, 0.0);
    s->thin_virtual = lvm_thin_virtual(e, lvs, n);
    s->overprovision = tp->size ? (double)s->thin_virtual / (double)tp->size : 0;
    cap = (double)tp->size * e->overprovision;
    s->thin_virtual_free = cap > (double)s->thin_virtual ? (uint64_t)(cap - s->thin_virtual) : 0;
}

static int lvm_pool_status(struct agent_engine *base, struct agent_pool_status *ret,
                           struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    _cleanup_free_ struct lvm_lv *lvs = NULL;
    struct agent_pool_status s = {.engine = "lvm"};
    struct lvm_vg vg;
    size_t n;
    int r = lvm_get_vg(e, &vg, err);

    if (r < 0 || (r = lvm_list_all(e, &lvs, &n, err)) < 0)
        return r;
    snprintf(s.pool, sizeof(s.pool), "%s", e->pool);
    snprintf(s.vg, sizeof(s.vg), "%s", e->vg);
    s.capacity = vg.size;
    s.free = vg.free;
    for (size_t i = 0; i < n; i++) {
        if (!lvm_lv_ours(e, &lvs[i]))
            continue;
        s.allocated += lvs[i].size; /* thin: virtual; CoW snapshot: its reserve */
        if (lvs[i].tags.kind == AGENT_VOL_SNAPSHOT)
            s.snapshots++;
        else
            s.volumes++;
    }
    thin_status(e, lvs, n, &s);
    *ret = s;
    return 0;
}

static void lvm_close(struct agent_engine *base)
{
    struct lvm_engine *e = lvm_of(base);

    pthread_mutex_destroy(&e->admit_lock);
    free(e);
}

static int lvm_open(const struct agent_pool_config *cfg, struct agent_engine **ret,
                    struct slio_err *err)
{
    const struct agent_lvm_config *l = &cfg->lvm;
    struct lvm_engine *e = calloc(1, sizeof(*e));
    int r;

    if (!e)
        return -ENOMEM;
    e->base.ops = &agent_engine_lvm_ops;
    snprintf(e->pool, sizeof(e->pool), "%s", cfg->name);
    snprintf(e->vg, sizeof(e->vg), "%s", l->vg);
    snprintf(e->thin_pool, sizeof(e->thin_pool), "%s", l->thin.pool ? l->thin.pool : "");
    snprintf(e->dev_dir, sizeof(e->dev_dir), "%s", l->dev_dir ? l->dev_dir : "/dev");
    e->thin_size = l->thin.size;
    e->thin_size_percent = l->thin.size || l->thin.size_percent ? l->thin.size_percent : 90;
    e->thin_meta_size = l->thin.metadata_size;
    e->overprovision = l->thin.overprovision;
    e->autoextend = l->thin.autoextend;
    e->stripes = l->stripes ? l->stripes : 1;
    e->stripe_size = l->stripe_size;
    e->timeout_ms = (int)SLIO_MIN(l->command_timeout_us / 1000, (uint64_t)INT32_MAX);
    pthread_mutex_init(&e->admit_lock, NULL);
    r = lvm_setup(e, cfg, err);
    if (r < 0) {
        lvm_close(&e->base);
        return r;
    }
    *ret = &e->base;
    return 0;
}

const struct agent_engine_ops agent_engine_lvm_ops = {
    .name = "lvm",
    .open = lvm_open,
    .close = lvm_close,
    .pool_status = lvm_pool_status,
    .list_volumes = lvm_list_volumes,
    .create_volume = lvm_create_volume,
    .delete_volume = lvm_delete_volume,
    .expand_volume = lvm_expand_volume,
    .create_snapshot = lvm_create_snapshot,
    .delete_snapshot = lvm_delete_snapshot,
    .thin_autoextend = lvm_thin_autoextend,
};
