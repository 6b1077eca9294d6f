/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File engine volumes and snapshots. Order of writes, so that a crash at any
 * point converges when the same call is made again:
 *   create: image, then sidecar (an image without a sidecar is not ours yet
 *           and is reused by the retry);
 *   clone/snapshot: sidecar "copying" first (so the space is counted and the
 *           half-done copy is visible), data, then sidecar "ready";
 *   delete: image, then sidecar (a sidecar without image lists as invalid and
 *           the retry finishes the delete).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "file_internal.h"
#include "slio/uuid.h"

static int open_image(const char *path, struct slio_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "open \"%s\": %s", path, strerror(-r));
        return r;
    }
    return fd;
}

/* Data from src (if any) into the record's image, sized, then marked ready. */
static int fill_and_seal(struct file_engine *e, struct file_meta *m, const struct agent_volume *src,
                         agent_progress_fn progress, void *ctx, struct slio_err *err)
{
    char path[AGENT_PATH_MAX];
    _cleanup_close_ int fd = -1;
    int r = 0;

    file_path(e, m->kind, m->uuid, "img", path);
    if (src)
        r = file_clone_data(src->path, path, src->size, progress, ctx, err);
    if (r == 0 && (fd = open_image(path, err)) < 0)
        r = fd;
    if (r == 0)
        r = file_size_image(fd, m->size, m->thin, path, err);
    if (r == 0 && m->copying) {
        m->copying = false;
        r = file_meta_write(e, m, err);
    }
    return r;
}

static int find_source(struct agent_volume_list *l, const struct agent_volume_spec *spec,
                       const struct agent_volume **ret, struct slio_err *err)
{
    enum agent_vol_kind want =
        spec->source == AGENT_SOURCE_SNAPSHOT ? AGENT_VOL_SNAPSHOT : AGENT_VOL_VOLUME;
    const struct agent_volume *src;
    char s[SLIO_UUID_STR_LEN];

    *ret = NULL;
    if (spec->source == AGENT_SOURCE_NONE)
        return 0;
    src = agent_volume_list_find(l, spec->source_uuid);
    if (!src || src->kind != want || src->state != AGENT_VOL_READY) {
        slio_err_set(err, "clone source %s %s: not a ready %s of this pool",
                     agent_vol_kind_name(want), slio_uuid_format(spec->source_uuid, s),
                     agent_vol_kind_name(want));
        return -ENOENT;
    }
    *ret = src;
    return 0;
}

/* Under admit_lock: decide, and record the new volume. *ret_work: data still to fill. */
static int create_locked(struct file_engine *e, const struct agent_volume_spec *spec,
                         struct agent_volume_list *l, struct file_meta *m, struct agent_volume *src,
                         bool *ret_work, const char *s, struct slio_err *err)
{
    const struct agent_volume *old = agent_volume_list_find(l, spec->uuid), *sp;
    int r = find_source(l, spec, &sp, err);

    if (r < 0)
        return r;
    if (sp)
        *src = *sp;
    m->size = agent_round_up(spec->size || !sp ? spec->size : sp->size, AGENT_SECTOR);
    if (sp && m->size < sp->size) {
        slio_err_set(err, "volume %s: %" PRIu64 " bytes, smaller than its source", s, m->size);
        return -EINVAL;
    }
    if (old) {
        if (old->kind != AGENT_VOL_VOLUME || old->size != m->size || old->thin != spec->thin) {
            slio_err_set(err, "volume %s: exists as a %s %s of %" PRIu64 " bytes", s,
                         old->thin ? "thin" : "thick", agent_vol_kind_name(old->kind), old->size);
            return -EEXIST;
        }
        *ret_work = old->state == AGENT_VOL_COPYING;
        m->copying = *ret_work;
        m->has_origin = old->has_origin;
        uuid_copy(m->origin, old->origin);
        return 0;
    }
    if ((r = file_admit(e, l, m->size, "volume", s, err)) < 0)
        return r;
    m->copying = sp != NULL;
    *ret_work = m->copying;
    if (m->copying)
        return file_meta_write(e, m, err);
    return fill_and_seal(e, m, NULL, NULL, NULL, err) ?: file_meta_write(e, m, err);
}

int file_create_volume(struct agent_engine *base, const struct agent_volume_spec *spec,
                       struct agent_volume *ret, struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct agent_volume_list l = {0};
    struct agent_volume src = {0};
    struct file_meta m = {.kind = AGENT_VOL_VOLUME, .thin = spec->thin};
    char s[SLIO_UUID_STR_LEN];
    bool work = false;
    int r;

    slio_uuid_format(spec->uuid, s);
    uuid_copy(m.uuid, spec->uuid);
    if (spec->source != AGENT_SOURCE_NONE) {
        m.has_origin = true;
        uuid_copy(m.origin, spec->source_uuid);
    }
    agent_name_hint_sanitise(spec->name_hint, m.name);
    pthread_mutex_lock(&e->admit_lock);
    r = file_list_volumes(base, &l, err);
    if (r == 0)
        r = create_locked(e, spec, &l, &m, &src, &work, s, err);
    pthread_mutex_unlock(&e->admit_lock);
    agent_volume_list_free(&l);
    if (r == 0 && work)
        r = fill_and_seal(e, &m, &src, spec->progress, spec->progress_ctx, err);
    if (r == 0)
        file_describe(e, &m, ret);
    return r;
}

/* 1 when one of our snapshots in l has uuid as its origin. */
static bool has_snapshots(const struct agent_volume_list *l, const uuid_t uuid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].kind == AGENT_VOL_SNAPSHOT && l->items[i].has_origin &&
            uuid_compare(l->items[i].origin, uuid) == 0)
            return true;
    return false;
}

static int remove_files(struct file_engine *e, const struct agent_volume *v, bool discard,
                        struct slio_err *err)
{
    char meta[AGENT_PATH_MAX], s[SLIO_UUID_STR_LEN];
    int r;

    if (discard) {
        _cleanup_close_ int fd = open(v->path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
            (void)!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)v->size);
    }
    file_path(e, v->kind, v->uuid, "json", meta);
    if ((unlink(v->path) < 0 && errno != ENOENT) || (unlink(meta) < 0 && errno != ENOENT)) {
        r = slio_neg_errno();
        slio_err_set(err, "%s %s: unlink: %s", agent_vol_kind_name(v->kind),
                     slio_uuid_format(v->uuid, s), strerror(-r));
        return r;
    }
    return file_sync_dir(e, v->kind);
}

static int delete_kind(struct file_engine *e, const uuid_t uuid, enum agent_vol_kind kind,
                       bool discard, struct slio_err *err)
{
    struct agent_volume_list l = {0};
    const struct agent_volume *v;
    char s[SLIO_UUID_STR_LEN];
    int r = file_list_volumes(&e->base, &l, err);

    slio_uuid_format(uuid, s);
    v = r == 0 ? agent_volume_list_find(&l, uuid) : NULL;
    if (v && v->kind != kind) {
        slio_err_set(err, "%s %s: is a %s", agent_vol_kind_name(kind), s,
                     agent_vol_kind_name(v->kind));
        r = -EINVAL;
    } else if (v && kind == AGENT_VOL_VOLUME && has_snapshots(&l, uuid)) {
        slio_err_set(err, "volume %s: has snapshots; delete them first", s);
        r = -EBUSY;
    } else if (v) {
        r = remove_files(e, v, discard, err);
    }
    agent_volume_list_free(&l);
    return r;
}

int file_delete_volume(struct agent_engine *base, const uuid_t uuid, bool discard_first,
                       struct slio_err *err)
{
    return delete_kind(file_of(base), uuid, AGENT_VOL_VOLUME, discard_first, err);
}

int file_delete_snapshot(struct agent_engine *base, const uuid_t uuid, struct slio_err *err)
{
    return delete_kind(file_of(base), uuid, AGENT_VOL_SNAPSHOT, false, err);
}

static int expand_locked(struct file_engine *e, const uuid_t uuid, uint64_t size,
                         struct file_meta *m, const char *s, struct slio_err *err)
{
    struct agent_volume_list l = {0};
    const struct agent_volume *v;
    char meta[AGENT_PATH_MAX];
    _cleanup_close_ int fd = -1;
    int r = file_list_volumes(&e->base, &l, err);

    v = r == 0 ? agent_volume_list_find(&l, uuid) : NULL;
    file_path(e, AGENT_VOL_VOLUME, uuid, "json", meta);
    if (r == 0 && (!v || v->kind != AGENT_VOL_VOLUME || v->state != AGENT_VOL_READY)) {
        slio_err_set(err, "volume %s: not a ready volume of pool \"%s\"", s, e->pool);
        r = -ENOENT;
    } else if (r == 0 && size < v->size) {
        slio_err_set(err, "volume %s: shrinking from %" PRIu64 " to %" PRIu64 " bytes refused", s,
                     v->size, size);
        r = -EINVAL;
    } else if (r == 0 && (r = file_meta_read(e, meta, m, err)) == 0 && size > v->size &&
               (r = file_admit(e, &l, size - v->size, "volume", s, err)) == 0 &&
               (r = fd = open_image(v->path, err)) >= 0 &&
               (r = file_size_image(fd, size, v->thin, v->path, err)) == 0) {
        m->size = size;
        r = file_meta_write(e, m, err);
    }
    agent_volume_list_free(&l);
    return r < 0 ? r : 0;
}

int file_expand_volume(struct agent_engine *base, const uuid_t uuid, uint64_t new_size,
                       struct agent_volume *ret, struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct file_meta m;
    char s[SLIO_UUID_STR_LEN];
    int r;

    slio_uuid_format(uuid, s);
    pthread_mutex_lock(&e->admit_lock);
    r = expand_locked(e, uuid, agent_round_up(new_size, AGENT_SECTOR), &m, s, err);
    pthread_mutex_unlock(&e->admit_lock);
    if (r == 0)
        file_describe(e, &m, ret);
    return r;
}

static int snapshot_locked(struct file_engine *e, const struct agent_snapshot_spec *spec,
                           struct file_meta *m, struct agent_volume *origin, bool *ret_work,
                           const char *s, struct slio_err *err)
{
    struct agent_volume_list l = {0};
    const struct agent_volume *o, *old;
    int r = file_list_volumes(&e->base, &l, err);

    if (r < 0)
        return r;
    o = agent_volume_list_find(&l, spec->volume);
    old = agent_volume_list_find(&l, spec->snapshot);
    if (old && (old->kind != AGENT_VOL_SNAPSHOT || !old->has_origin ||
                uuid_compare(old->origin, spec->volume) != 0)) {
        slio_err_set(err, "snapshot %s: exists with another origin or kind", s);
        r = -EEXIST;
    } else if (!old && (!o || o->kind != AGENT_VOL_VOLUME || o->state != AGENT_VOL_READY)) {
        slio_err_set(err, "snapshot %s: its volume is not a ready volume of pool \"%s\"", s,
                     e->pool);
        r = -ENOENT;
    } else if (old) {
        *ret_work = old->state == AGENT_VOL_COPYING;
        m->copying = *ret_work;
        m->size = old->size;
        m->thin = old->thin;
    } else if ((r = file_admit(e, &l, o->size, "snapshot", s, err)) == 0) {
        m->size = o->size;
        m->thin = o->thin;
        m->copying = *ret_work = true;
        r = file_meta_write(e, m, err);
    }
    if (r == 0 && *ret_work && o)
        *origin = *o;
    else if (r == 0 && *ret_work) {
        slio_err_set(err, "snapshot %s: its volume is gone, delete the snapshot", s);
        r = -ENOENT;
    }
    agent_volume_list_free(&l);
    return r;
}

int file_create_snapshot(struct agent_engine *base, const struct agent_snapshot_spec *spec,
                         struct agent_volume *ret, struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct file_meta m = {.kind = AGENT_VOL_SNAPSHOT, .has_origin = true};
    struct agent_volume origin;
    char s[SLIO_UUID_STR_LEN];
    bool work = false;
    int r;

    slio_uuid_format(spec->snapshot, s);
    uuid_copy(m.uuid, spec->snapshot);
    uuid_copy(m.origin, spec->volume);
    pthread_mutex_lock(&e->admit_lock);
    r = snapshot_locked(e, spec, &m, &origin, &work, s, err);
    pthread_mutex_unlock(&e->admit_lock);
    if (r == 0 && work)
        r = fill_and_seal(e, &m, &origin, NULL, NULL, err);
    if (r == 0)
        file_describe(e, &m, ret);
    return r;
}

int file_thin_autoextend(struct agent_engine *base, const struct agent_autoextend_policy *policy,
                         struct agent_autoextend_result *ret, struct slio_err *err)
{
    /* a directory has no thin pool to grow: its capacity is configured */
    *ret = (struct agent_autoextend_result){.level = AGENT_THIN_OK};
    return 0;
}
