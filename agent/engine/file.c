/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file engine: sparse files in <dir>/volumes and <dir>/snapshots, each
 * with a JSON sidecar (file_meta.c) saying it is ours. "thin" files stay
 * sparse, thick ones are fallocated in full. Snapshots and clones use FICLONE
 * (a reflink: instant, shared blocks) when the filesystem has it, else a copy
 * that skips holes. Free space is the configured capacity minus the sizes
 * handed out, and never more than the filesystem has.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "file_internal.h"
#include "slio/uuid.h"

struct file_engine *file_of(struct agent_engine *e)
{
    return SLIO_CONTAINER_OF(e, struct file_engine, base);
}

static void describe(const struct file_engine *e, const struct file_meta *m,
                     struct agent_volume *ret)
{
    struct agent_volume v = {
        .kind = m->kind,
        .state = m->copying ? AGENT_VOL_COPYING : AGENT_VOL_READY,
        .thin = m->thin,
        .has_origin = m->has_origin,
        .size = m->size,
        .used_percent = -1,
        .stripes = 1,
    };
    struct stat st;

    uuid_copy(v.uuid, m->uuid);
    uuid_copy(v.origin, m->origin);
    file_path(e, m->kind, m->uuid, "img", v.path);
    snprintf(v.name, sizeof(v.name), "%s", strrchr(v.path, '/') + 1);
    if (stat(v.path, &st) < 0)
        v.state = m->copying ? AGENT_VOL_COPYING : AGENT_VOL_INVALID;
    else if (m->thin)
        v.used_percent = SLIO_MIN(100.0, (double)st.st_blocks * 512.0 * 100.0 / (double)m->size);
    *ret = v;
}

/* Append the records of one directory; skips files that are not ours. */
static int scan_dir(const struct file_engine *e, enum agent_vol_kind kind,
                    struct agent_volume_list *l, size_t *cap)
{
    char dir[AGENT_PATH_MAX], path[AGENT_PATH_MAX * 2];
    DIR *d;
    struct dirent *de;
    int r = 0;

    snprintf(dir, sizeof(dir), "%s/%s", e->dir,
             kind == AGENT_VOL_SNAPSHOT ? FILE_SNAP_DIR : FILE_VOL_DIR);
    d = opendir(dir);
    if (!d)
        return slio_neg_errno();
    while (r == 0 && (de = readdir(d))) {
        struct file_meta m;
        uuid_t u;
        char name[SLIO_UUID_STR_LEN];

        if (strlen(de->d_name) != 36 + 5 || strcmp(de->d_name + 36, ".json") != 0)
            continue;
        memcpy(name, de->d_name, 36);
        name[36] = '\0';
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (slio_uuid_parse(name, u) < 0 || file_meta_read(e, path, &m, NULL) < 0 ||
            uuid_compare(u, m.uuid) != 0 || m.kind != kind)
            continue; /* not a record of ours: ignored, like an untagged LV */
        if (l->n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            void *p = reallocarray(l->items, ncap, sizeof(*l->items));
            if (!p) {
                r = -ENOMEM;
                break;
            }
            l->items = p;
            *cap = ncap;
        }
        describe(e, &m, &l->items[l->n++]);
    }
    closedir(d);
    return r;
}

int file_list_volumes(struct agent_engine *base, struct agent_volume_list *ret,
                      struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct agent_volume_list l = {0};
    size_t cap = 0;
    int r = scan_dir(e, AGENT_VOL_VOLUME, &l, &cap);

    if (r == 0)
        r = scan_dir(e, AGENT_VOL_SNAPSHOT, &l, &cap);
    if (r < 0) {
        agent_volume_list_free(&l);
        slio_err_set(err, "pool \"%s\": reading \"%s\": %s", e->pool, e->dir, strerror(-r));
        return r;
    }
    *ret = l;
    return 0;
}

static uint64_t allocated(const struct agent_volume_list *l)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < l->n; i++)
        sum += l->items[i].size;
    return sum;
}

static uint64_t fs_free(const struct file_engine *e)
{
    struct statvfs st;

    if (statvfs(e->dir, &st) < 0)
        return 0;
    return (uint64_t)st.f_bavail * st.f_frsize;
}

static int file_pool_status(struct agent_engine *base, struct agent_pool_status *ret,
                            struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct agent_volume_list l = {0};
    struct agent_pool_status s = {.engine = "file", .capacity = e->capacity};
    int r = file_list_volumes(base, &l, err);

    if (r < 0)
        return r;
    snprintf(s.pool, sizeof(s.pool), "%s", e->pool);
    s.allocated = allocated(&l);
    s.free = SLIO_MIN(e->capacity - SLIO_MIN(s.allocated, e->capacity), fs_free(e));
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].kind == AGENT_VOL_SNAPSHOT)
            s.snapshots++;
        else
            s.volumes++;
    agent_volume_list_free(&l);
    *ret = s;
    return 0;
}

/* Room for `more` bytes (a new file or growth)? Caller holds admit_lock. */
int file_admit(struct file_engine *e, uint64_t more, const char *what, const char *s,
               struct slio_err *err)
{
    struct agent_pool_status st;
    int r = file_pool_status(&e->base, &st, err);

    if (r < 0)
        return r;
    if (more > st.free) {
        slio_err_set(err, "%s %s: pool \"%s\" has %llu bytes free, %llu asked", what, s, e->pool,
                     (unsigned long long)st.free, (unsigned long long)more);
        return -ENOSPC;
    }
    return 0;
}

/* Size (and for thick files, allocate) the image; the data already there stays. */
int file_size_image(int fd, uint64_t size, bool thin, const char *path, struct slio_err *err)
{
    int r = 0;

    if (ftruncate(fd, (off_t)size) < 0)
        r = slio_neg_errno();
    if (r == 0 && !thin && fallocate(fd, 0, 0, (off_t)size) < 0 && errno != EOPNOTSUPP)
        r = slio_neg_errno();
    if (r == 0 && fsync(fd) < 0)
        r = slio_neg_errno();
    if (r < 0)
        slio_err_set(err, "\"%s\": %s", path, strerror(-r));
    return r;
}

/* Fill dst from src: a reflink where the filesystem has one, else a hole-skipping copy. */
int file_clone_data(const char *src_path, const char *dst_path, uint64_t bytes,
                    agent_progress_fn progress, void *ctx, struct slio_err *err)
{
    _cleanup_close_ int in = open(src_path, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int out = open(dst_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (in < 0 || out < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "open \"%s\": %s", in < 0 ? src_path : dst_path, strerror(-r));
        return r;
    }
    if (ioctl(out, FICLONE, in) == 0) {
        if (progress)
            progress(ctx, bytes, bytes);
        return fsync(out) < 0 ? slio_neg_errno() : 0;
    }
    return agent_copy_data(in, out, bytes, true, progress, ctx, err);
}

static int file_open(const struct agent_pool_config *cfg, struct agent_engine **ret,
                     struct slio_err *err)
{
    struct file_engine *e = calloc(1, sizeof(*e));
    const char *subs[] = {"", "/" FILE_VOL_DIR, "/" FILE_SNAP_DIR};

    if (!e)
        return -ENOMEM;
    e->base.ops = &agent_engine_file_ops;
    snprintf(e->pool, sizeof(e->pool), "%s", cfg->name);
    snprintf(e->dir, sizeof(e->dir), "%s", cfg->file.dir);
    e->capacity = cfg->file.capacity;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(subs); i++) {
        char path[AGENT_PATH_MAX];
        snprintf(path, sizeof(path), "%s%s", e->dir, subs[i]);
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            int r = slio_neg_errno();
            slio_err_set(err, "pool \"%s\": mkdir \"%s\": %s", e->pool, path, strerror(-r));
            free(e);
            return r;
        }
    }
    pthread_mutex_init(&e->admit_lock, NULL);
    *ret = &e->base;
    return 0;
}

static void file_close(struct agent_engine *base)
{
    struct file_engine *e = file_of(base);

    pthread_mutex_destroy(&e->admit_lock);
    free(e);
}

/* Find ours by uuid in a fresh listing: 0 and *ret, or -ENOENT. */
int file_find(struct file_engine *e, const uuid_t uuid, struct agent_volume *ret,
              struct slio_err *err)
{
    struct agent_volume_list l = {0};
    const struct agent_volume *v;
    int r = file_list_volumes(&e->base, &l, err);

    if (r < 0)
        return r;
    v = agent_volume_list_find(&l, uuid);
    if (v)
        *ret = *v;
    agent_volume_list_free(&l);
    return v ? 0 : -ENOENT;
}

/* True when a snapshot of ours names uuid as its origin. */
int file_has_snapshots(struct file_engine *e, const uuid_t uuid, struct slio_err *err)
{
    struct agent_volume_list l = {0};
    int r = file_list_volumes(&e->base, &l, err), found = 0;

    if (r < 0)
        return r;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].kind == AGENT_VOL_SNAPSHOT && l.items[i].has_origin &&
            uuid_compare(l.items[i].origin, uuid) == 0)
            found = 1;
    agent_volume_list_free(&l);
    return found;
}

const struct agent_engine_ops agent_engine_file_ops = {
    .name = "file",
    .open = file_open,
    .close = file_close,
    .pool_status = file_pool_status,
    .list_volumes = file_list_volumes,
    .create_volume = file_create_volume,
    .delete_volume = file_delete_volume,
    .expand_volume = file_expand_volume,
    .create_snapshot = file_create_snapshot,
    .delete_snapshot = file_delete_snapshot,
    .thin_autoextend = file_thin_autoextend,
};
