/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file engine: sparse files in <dir>/volumes and <dir>/snapshots, each
 * with a JSON sidecar (file_meta.c) saying it is ours. "thin" files stay
 * sparse, thick ones are fallocated in full. Snapshots and clones use FICLONE
 * (a reflink: instant, shared blocks) when the filesystem has it, else a copy
 * that skips holes. Free space is the configured capacity minus the sizes
 * handed out, and never more than the filesystem has.
 */
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

int file_list_volumes(struct agent_engine *base, struct agent_volume_list *ret,
                      struct slio_err *err)
{
    struct file_engine *e = file_of(base);
    struct agent_volume_list l = {0};
    size_t cap = 0;
    int r;

    pthread_mutex_lock(&e->cache_lock);
    r = file_scan(e, AGENT_VOL_VOLUME, &l, &cap);
    if (r == 0)
        r = file_scan(e, AGENT_VOL_SNAPSHOT, &l, &cap);
    pthread_mutex_unlock(&e->cache_lock);
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

/* Room for `more` bytes beside what l holds? Caller holds admit_lock. */
int file_admit(struct file_engine *e, const struct agent_volume_list *l, uint64_t more,
               const char *what, const char *s, struct slio_err *err)
{
    uint64_t used = allocated(l);
    uint64_t free_bytes = SLIO_MIN(e->capacity - SLIO_MIN(used, e->capacity), fs_free(e));

    if (more > free_bytes) {
        slio_err_set(err, "%s %s: pool \"%s\" has %llu bytes free, %llu asked", what, s, e->pool,
                     (unsigned long long)free_bytes, (unsigned long long)more);
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
    pthread_mutex_init(&e->cache_lock, NULL);
    *ret = &e->base;
    return 0;
}

static void file_close(struct agent_engine *base)
{
    struct file_engine *e = file_of(base);

    pthread_mutex_destroy(&e->admit_lock);
    pthread_mutex_destroy(&e->cache_lock);
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(e->cache); i++)
        free(e->cache[i].recs);
    free(e);
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
