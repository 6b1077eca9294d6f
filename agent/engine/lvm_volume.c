/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volumes and snapshots on LVM. Each operation lists the VG first and acts
 * only on an LV that carries our tags (uuid, kind, this pool): an untagged LV
 * is never created over, resized or removed. Creation is idempotent by uuid,
 * and a thick clone whose copy was interrupted carries slio.state=copying
 * until the copy completes, so calling create again resumes it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "lvm_internal.h"
#include "slio/parse.h"
#include "slio/uuid.h"

struct lvm_view {
    struct lvm_lv *lvs;
    size_t n;
};

static void view_free(struct lvm_view *v)
{
    free(v->lvs);
}
#define _cleanup_view_ _cleanup_(view_free)

static void add_tags(struct lvm_engine *e, struct lvm_argv *a, enum agent_vol_kind kind,
                     const uuid_t uuid, const uuid_t origin, const char *hint)
{
    char s[SLIO_UUID_STR_LEN], h[AGENT_NAME_HINT_MAX + 1];

    lvm_argv_addf(a, "--addtag=" AGENT_TAG_UUID "%s", slio_uuid_format(uuid, s));
    lvm_argv_addf(a, "--addtag=" AGENT_TAG_KIND "%s", agent_vol_kind_name(kind));
    lvm_argv_addf(a, "--addtag=" AGENT_TAG_POOL "%s", e->pool);
    if (origin)
        lvm_argv_addf(a, "--addtag=" AGENT_TAG_ORIGIN "%s", slio_uuid_format(origin, s));
    agent_name_hint_sanitise(hint, h);
    if (h[0])
        lvm_argv_addf(a, "--addtag=" AGENT_TAG_NAME "%s", h);
}

static void lv_ref(struct lvm_engine *e, struct lvm_argv *a, const char *lv)
{
    lvm_argv_addf(a, "%s/%s", e->vg, lv);
}

/* An LV already called name but without our tags: never create over it. */
static int name_taken(struct lvm_engine *e, const struct lvm_view *v, const char *name,
                      struct slio_err *err)
{
    if (!lvm_find_name(v->lvs, v->n, name))
        return 0;
    slio_err_set(err, "pool \"%s\": LV \"%s\" exists without our tags; not touching it", e->pool,
                 name);
    return -EEXIST;
}

/* Thin admission: the pool's virtual size may not pass size * overprovision. */
static int thin_admit(struct lvm_engine *e, const struct lvm_view *v, uint64_t more,
                      const char *what, struct slio_err *err)
{
    const struct lvm_lv *tp = lvm_thin_pool_row(e, v->lvs, v->n);
    double limit, after;
    char a[SLIO_FORMAT_SIZE_MAX], b[SLIO_FORMAT_SIZE_MAX];

    if (!tp) {
        slio_err_set(err, "%s: pool \"%s\" has no thin pool", what, e->pool);
        return -EOPNOTSUPP;
    }
    limit = (double)tp->size * e->overprovision;
    after = (double)lvm_thin_virtual(e, v->lvs, v->n) + (double)more;
    if (after > limit) {
        slio_err_set(err, "%s: pool \"%s\" would hold %s virtual, over-provision limit %s", what,
                     e->pool, slio_format_size((uint64_t)after, a),
                     slio_format_size((uint64_t)limit, b));
        return -ENOSPC;
    }
    return 0;
}

static int thick_admit(struct lvm_engine *e, uint64_t size, const char *what, struct slio_err *err)
{
    char a[SLIO_FORMAT_SIZE_MAX], b[SLIO_FORMAT_SIZE_MAX];
    struct lvm_vg vg;
    int r = lvm_get_vg(e, &vg, err);

    if (r < 0)
        return r;
    if (agent_round_up(size, vg.extent_size) > vg.free) {
        slio_err_set(err, "%s: pool \"%s\" has %s free, %s asked", what, e->pool,
                     slio_format_size(vg.free, a), slio_format_size(size, b));
        return -ENOSPC;
    }
    return 0;
}

/* Same volume as asked: size within the rounding LVM applies, same thin-ness. */
static bool same_shape(const struct lvm_engine *e, const struct lvm_lv *lv, uint64_t size,
                       bool thin)
{
    uint64_t slack = e->extent_size * SLIO_MAX(lv->stripes, 1u);

    return (lv->pool_lv[0] != '\0') == thin && lv->size >= size && lv->size - size < slack;
}

static int open_dev(const struct lvm_engine *e, const char *lv, int flags, int *ret,
                    struct slio_err *err)
{
    char path[AGENT_PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/%s/%s", e->dev_dir, e->vg, lv);
    fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "open \"%s\": %s", path, strerror(-r));
        return r;
    }
    *ret = fd;
    return 0;
}

/* Copy the source's data into a new LV, then drop the copying tag. */
static int thick_copy(struct lvm_engine *e, const struct agent_volume_spec *spec,
                      const struct lvm_lv *src, const char *dst, bool dst_thin,
                      struct slio_err *err)
{
    _cleanup_close_ int in = -1, out = -1;
    uint64_t bytes = src->attr[0] == 's' ? src->origin_size : src->size;
    struct lvm_argv a = {0};
    int r;

    if ((r = open_dev(e, src->name, O_RDONLY, &in, err)) < 0 ||
        (r = open_dev(e, dst, O_WRONLY, &out, err)) < 0)
        return r;
    r = agent_copy_data(in, out, bytes, dst_thin, spec->progress, spec->progress_ctx, err);
    if (r < 0)
        return r;
    lvm_argv_add(&a, "lvchange");
    lvm_argv_add(&a, "--deltag=" AGENT_TAG_STATE "copying");
    lv_ref(e, &a, dst);
    return lvm_run(e, &a, err);
}

static void create_argv(struct lvm_engine *e, const struct agent_volume_spec *spec,
                        const struct lvm_lv *src, bool snapshot_clone, uint64_t size,
                        const char *name, struct lvm_argv *a)
{
    lvm_argv_add(a, "lvcreate");
    lvm_argv_add(a, "--yes");
    lvm_argv_add(a, "--activate=y");
    lvm_argv_add(a, "--name");
    lvm_argv_add(a, name);
    if (snapshot_clone) { /* writable even when its source is a read-only snapshot */
        lvm_argv_add(a, "--snapshot");
        lvm_argv_add(a, "--permission=rw");
        lvm_argv_add(a, "--setactivationskip=n");
    } else if (spec->thin) {
        lvm_argv_addf(a, "--virtualsize=%" PRIu64 "b", size);
        lvm_argv_add(a, "--thinpool");
        lvm_argv_add(a, e->thin_pool);
    } else {
        uint32_t stripes = spec->stripes ? spec->stripes : e->stripes;
        lvm_argv_add(a, "--wipesignatures=y");
        lvm_argv_addf(a, "--size=%" PRIu64 "b", size);
        if (stripes > 1)
            lvm_argv_addf(a, "--stripes=%u", stripes);
        if (stripes > 1 && e->stripe_size)
            lvm_argv_addf(a, "--stripesize=%" PRIu64 "k", e->stripe_size / 1024);
    }
    add_tags(e, a, AGENT_VOL_VOLUME, spec->uuid, src ? src->tags.uuid : NULL, spec->name_hint);
    if (src && !snapshot_clone)
        lvm_argv_add(a, "--addtag=" AGENT_TAG_STATE "copying");
    if (snapshot_clone)
        lv_ref(e, a, src->name);
    else
        lvm_argv_add(a, e->vg);
}

static int grow(struct lvm_engine *e, const char *lv, uint64_t size, struct slio_err *err)
{
    struct lvm_argv a = {0};

    lvm_argv_add(&a, "lvextend");
    lvm_argv_addf(&a, "--size=%" PRIu64 "b", size);
    lv_ref(e, &a, lv);
    return lvm_run(e, &a, err);
}

static int find_source(struct lvm_engine *e, const struct lvm_view *v,
                       const struct agent_volume_spec *spec, const struct lvm_lv **ret,
                       struct slio_err *err)
{
    enum agent_vol_kind want =
        spec->source == AGENT_SOURCE_SNAPSHOT ? AGENT_VOL_SNAPSHOT : AGENT_VOL_VOLUME;
    const struct lvm_lv *src = NULL;
    char s[SLIO_UUID_STR_LEN];

    if (spec->source != AGENT_SOURCE_NONE) {
        src = lvm_find_ours(e, v->lvs, v->n, spec->source_uuid);
        if (!src || src->tags.kind != want || src->tags.copying) {
            slio_err_set(err, "clone source %s %s: not a ready %s of pool \"%s\"",
                         agent_vol_kind_name(want), slio_uuid_format(spec->source_uuid, s),
                         agent_vol_kind_name(want), e->pool);
            return -ENOENT;
        }
    }
    *ret = src;
    return 0;
}

/* Create, or finish creating, the LV; admission and lvcreate under admit_lock. */
static int create_locked(struct lvm_engine *e, const struct lvm_view *v,
                         const struct agent_volume_spec *spec, const struct lvm_lv *src,
                         uint64_t size, const char *name, const char *what, struct slio_err *err)
{
    bool snapshot_clone = src && spec->thin && src->pool_lv[0];
    struct lvm_argv a = {0};
    int r;

    if ((r = name_taken(e, v, name, err)) < 0)
        return r;
    if (spec->thin)
        r = thin_admit(e, v, size, what, err);
    else
        r = thick_admit(e, size, what, err);
    if (r < 0)
        return r;
    create_argv(e, spec, src, snapshot_clone, size, name, &a);
    if ((r = lvm_run(e, &a, err)) < 0)
        return r;
    if (snapshot_clone && size > src->size)
        return grow(e, name, size, err);
    return 0;
}

int lvm_create_volume(struct agent_engine *base, const struct agent_volume_spec *spec,
                      struct agent_volume *ret, struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    _cleanup_view_ struct lvm_view v = {0};
    const struct lvm_lv *src = NULL, *lv;
    char name[AGENT_NAME_MAX], s[SLIO_UUID_STR_LEN], what[64];
    uint64_t size = spec->size;
    int r;

    slio_uuid_format(spec->uuid, s);
    snprintf(what, sizeof(what), "volume %s", s);
    agent_lv_name(AGENT_VOL_VOLUME, spec->uuid, name);
    pthread_mutex_lock(&e->admit_lock);
    r = lvm_list_all(e, &v.lvs, &v.n, err);
    if (r == 0)
        r = find_source(e, &v, spec, &src, err);
    if (r < 0)
        goto out_unlock;
    if (src) {
        uint64_t src_size = src->attr[0] == 's' ? src->origin_size : src->size;
        size = size ? size : src_size;
        if (size < src_size) {
            slio_err_set(err, "volume %s: %" PRIu64 " bytes, smaller than its source", s, size);
            r = -EINVAL;
            goto out_unlock;
        }
    }
    lv = lvm_find_ours(e, v.lvs, v.n, spec->uuid);
    if (!lv) {
        r = create_locked(e, &v, spec, src, size, name, what, err);
    } else if (src && lv->tags.kind == AGENT_VOL_VOLUME && lv->size < size &&
               (lv->pool_lv[0] != '\0') == spec->thin) {
        r = grow(e, lv->name, size, err); /* a thin clone made before a crash, not grown yet */
    } else if (lv->tags.kind != AGENT_VOL_VOLUME || !same_shape(e, lv, size, spec->thin)) {
        slio_err_set(err, "volume %s: exists as %s LV \"%s\" of %" PRIu64 " bytes (%s)", s,
                     agent_vol_kind_name(lv->tags.kind), lv->name, lv->size,
                     lv->pool_lv[0] ? "thin" : "thick");
        r = -EEXIST;
    }
    pthread_mutex_unlock(&e->admit_lock);
    if (r < 0)
        goto out;
    /* A thick clone copies outside the lock: new, or resumed after a crash. */
    if (src && !(spec->thin && src->pool_lv[0]) && (!lv || lv->tags.copying))
        r = thick_copy(e, spec, src, name, spec->thin, err);
    if (r == 0)
        r = lvm_describe_fresh(e, spec->uuid, ret, err);
    goto out;
out_unlock:
    pthread_mutex_unlock(&e->admit_lock);
out:
    if (r < 0 && r != -EEXIST && r != -ENOSPC && r != -EOPNOTSUPP) /* those name it already */
        slio_err_prefix(err, "%s", what);
    return r;
}

/* Our snapshots of lv, and any CoW snapshot of it (lvremove would take it along). */
static int has_snapshots(const struct lvm_engine *e, const struct lvm_view *v,
                         const struct lvm_lv *lv)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct lvm_lv *o = &v->lvs[i];
        if ((o->attr[0] == 's' && strcmp(o->origin, lv->name) == 0) ||
            (lvm_lv_ours(e, o) && o->tags.kind == AGENT_VOL_SNAPSHOT && o->tags.has_origin &&
             uuid_compare(o->tags.origin, lv->tags.uuid) == 0))
            return 1;
    }
    return 0;
}

static int remove_lv(struct lvm_engine *e, const struct lvm_lv *lv, bool discard,
                     struct slio_err *err)
{
    struct lvm_argv a = {0};
    int r;

    if (discard && lv->attr[4] == 'a') {
        struct lvm_argv d = {0};
        lvm_argv_add(&d, "blkdiscard");
        lvm_argv_addf(&d, "%s/%s/%s", e->dev_dir, e->vg, lv->name);
        if ((r = lvm_run(e, &d, err)) < 0)
            return r;
    }
    lvm_argv_add(&a, "lvremove");
    lvm_argv_add(&a, "--yes");
    lv_ref(e, &a, lv->name);
    return lvm_run(e, &a, err);
}

static int delete_kind(struct lvm_engine *e, const uuid_t uuid, enum agent_vol_kind kind,
                       bool discard, struct slio_err *err)
{
    _cleanup_view_ struct lvm_view v = {0};
    const struct lvm_lv *lv;
    char s[SLIO_UUID_STR_LEN];
    int r = lvm_list_all(e, &v.lvs, &v.n, err);

    slio_uuid_format(uuid, s);
    if (r < 0)
        return r;
    lv = lvm_find_ours(e, v.lvs, v.n, uuid);
    if (!lv)
        return 0;
    if (lv->tags.kind != kind) {
        slio_err_set(err, "%s %s: is a %s", agent_vol_kind_name(kind), s,
                     agent_vol_kind_name(lv->tags.kind));
        return -EINVAL;
    }
    if (kind == AGENT_VOL_VOLUME && has_snapshots(e, &v, lv)) {
        slio_err_set(err, "volume %s: has snapshots; delete them first", s);
        return -EBUSY;
    }
    r = remove_lv(e, lv, discard, err);
    if (r < 0)
        slio_err_prefix(err, "%s %s", agent_vol_kind_name(kind), s);
    return r;
}

int lvm_delete_volume(struct agent_engine *base, const uuid_t uuid, bool discard_first,
                      struct slio_err *err)
{
    return delete_kind(lvm_of(base), uuid, AGENT_VOL_VOLUME, discard_first, err);
}

int lvm_delete_snapshot(struct agent_engine *base, const uuid_t uuid, struct slio_err *err)
{
    return delete_kind(lvm_of(base), uuid, AGENT_VOL_SNAPSHOT, false, err);
}

int lvm_expand_volume(struct agent_engine *base, const uuid_t uuid, uint64_t new_size,
                      struct agent_volume *ret, struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    _cleanup_view_ struct lvm_view v = {0};
    const struct lvm_lv *lv;
    char s[SLIO_UUID_STR_LEN], what[64];
    int r;

    slio_uuid_format(uuid, s);
    snprintf(what, sizeof(what), "volume %s", s);
    pthread_mutex_lock(&e->admit_lock);
    r = lvm_list_all(e, &v.lvs, &v.n, err);
    lv = r == 0 ? lvm_find_ours(e, v.lvs, v.n, uuid) : NULL;
    if (r == 0 && (!lv || lv->tags.kind != AGENT_VOL_VOLUME)) {
        slio_err_set(err, "volume %s: not a volume of pool \"%s\"", s, e->pool);
        r = -ENOENT;
    } else if (r == 0 && new_size < lv->size &&
               lv->size - new_size >= e->extent_size * SLIO_MAX(lv->stripes, 1u)) {
        /* smaller by more than LVM's rounding (extents times stripes) of an earlier expand */
        slio_err_set(err, "volume %s: shrinking from %" PRIu64 " to %" PRIu64 " bytes refused", s,
                     lv->size, new_size);
        r = -EINVAL;
    } else if (r == 0 && new_size > lv->size) {
        uint64_t more = new_size - lv->size;
        r = lv->pool_lv[0] ? thin_admit(e, &v, more, what, err) : thick_admit(e, more, what, err);
        if (r == 0)
            r = grow(e, lv->name, new_size, err);
    }
    pthread_mutex_unlock(&e->admit_lock);
    if (r == 0)
        r = lvm_describe_fresh(e, uuid, ret, err);
    else if (r == -EIO)
        slio_err_prefix(err, "%s", what);
    return r;
}

static void snapshot_argv(struct lvm_engine *e, const struct agent_snapshot_spec *spec,
                          const struct lvm_lv *origin, uint64_t reserve, struct lvm_argv *a)
{
    char name[AGENT_NAME_MAX];

    agent_lv_name(AGENT_VOL_SNAPSHOT, spec->snapshot, name);
    lvm_argv_add(a, "lvcreate");
    lvm_argv_add(a, "--yes");
    lvm_argv_add(a, "--snapshot");
    lvm_argv_add(a, "--permission=r");
    lvm_argv_add(a, "--name");
    lvm_argv_add(a, name);
    if (origin->pool_lv[0])
        lvm_argv_add(a, "--setactivationskip=n");
    else
        lvm_argv_addf(a, "--size=%" PRIu64 "b", reserve);
    add_tags(e, a, AGENT_VOL_SNAPSHOT, spec->snapshot, spec->volume, NULL);
    lv_ref(e, a, origin->name);
}

static int snapshot_locked(struct lvm_engine *e, const struct lvm_view *v,
                           const struct agent_snapshot_spec *spec, const char *s,
                           struct slio_err *err)
{
    char what[64];
    const struct lvm_lv *origin = lvm_find_ours(e, v->lvs, v->n, spec->volume);
    const struct lvm_lv *snap = lvm_find_ours(e, v->lvs, v->n, spec->snapshot);
    char name[AGENT_NAME_MAX];
    uint64_t reserve;
    struct lvm_argv a = {0};
    int r;

    if (snap) {
        if (snap->tags.kind == AGENT_VOL_SNAPSHOT && snap->tags.has_origin &&
            uuid_compare(snap->tags.origin, spec->volume) == 0)
            return 0;
        slio_err_set(err, "snapshot %s: exists with another origin or kind", s);
        return -EEXIST;
    }
    if (!origin || origin->tags.kind != AGENT_VOL_VOLUME || origin->tags.copying) {
        slio_err_set(err, "snapshot %s: its volume is not a ready volume of pool \"%s\"", s,
                     e->pool);
        return -ENOENT;
    }
    agent_lv_name(AGENT_VOL_SNAPSHOT, spec->snapshot, name);
    if ((r = name_taken(e, v, name, err)) < 0)
        return r;
    snprintf(what, sizeof(what), "snapshot %s", s);
    reserve = spec->cow_reserve ? spec->cow_reserve : origin->size / 5; /* LVM's usual advice */
    reserve = agent_round_up(SLIO_MAX(reserve, e->extent_size), e->extent_size);
    r = origin->pool_lv[0] ? thin_admit(e, v, origin->size, what, err)
                           : thick_admit(e, reserve, what, err);
    if (r < 0)
        return r;
    snapshot_argv(e, spec, origin, reserve, &a);
    return lvm_run(e, &a, err);
}

int lvm_create_snapshot(struct agent_engine *base, const struct agent_snapshot_spec *spec,
                        struct agent_volume *ret, struct slio_err *err)
{
    struct lvm_engine *e = lvm_of(base);
    _cleanup_view_ struct lvm_view v = {0};
    char s[SLIO_UUID_STR_LEN];
    int r;

    slio_uuid_format(spec->snapshot, s);
    pthread_mutex_lock(&e->admit_lock);
    r = lvm_list_all(e, &v.lvs, &v.n, err);
    if (r == 0)
        r = snapshot_locked(e, &v, spec, s, err);
    pthread_mutex_unlock(&e->admit_lock);
    if (r == 0)
        r = lvm_describe_fresh(e, spec->snapshot, ret, err);
    else if (r == -EIO)
        slio_err_prefix(err, "snapshot %s", s);
    return r;
}
