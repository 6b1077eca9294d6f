/* SPDX-License-Identifier: Apache-2.0 */
/* The file engine's state and its sidecar records (file.c, file_meta.c). */
#ifndef AGENT_FILE_INTERNAL_H
#define AGENT_FILE_INTERNAL_H

#include <pthread.h>

#include "engine_internal.h"

#define FILE_VOL_DIR  "volumes"
#define FILE_SNAP_DIR "snapshots"

/* One sidecar: what an LV's tags say on the lvm engine. */
struct file_meta {
    uuid_t uuid, origin;
    enum agent_vol_kind kind;
    bool thin, has_origin, copying;
    uint64_t size;
    char name[AGENT_NAME_HINT_MAX + 1]; /* sanitised name hint, may be "" */
};

/* One sidecar as last read, with the stat that says whether it changed since. */
struct file_rec {
    char name[48]; /* "<uuid>.json" */
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    bool ours;
    struct file_meta m;
};

struct file_dir_cache {
    struct file_rec *recs; /* sorted by name */
    size_t n;
};

struct file_engine {
    struct agent_engine base;
    char pool[AGENT_POOL_NAME_MAX + 1];
    char dir[AGENT_PATH_MAX / 2];
    uint64_t capacity;
    /* Held across "is there room?" and the file creation that takes it. */
    pthread_mutex_t admit_lock;
    /* Sidecars parsed once and re-read only when their stat changes, so a
     * listing of 1,000 volumes costs readdir and stat, not 1,000 parses. */
    pthread_mutex_t cache_lock;
    struct file_dir_cache cache[2]; /* [enum agent_vol_kind] */
};

/* <dir>/volumes|snapshots/<uuid>.<ext> */
void file_path(const struct file_engine *e, enum agent_vol_kind kind, const uuid_t uuid,
               const char *ext, char buf[static AGENT_PATH_MAX]);
/* A sidecar's text (at most 4 KiB) for pool: -ENOENT when it belongs to another pool,
 * -EINVAL naming the field when malformed. */
int file_meta_parse(const char *pool, const char *text, size_t len, struct file_meta *ret,
                    struct slio_err *err) _must_check_;
/* -ENOENT when the record belongs to another pool; -EINVAL when unreadable. */
int file_meta_read(const struct file_engine *e, const char *path, struct file_meta *ret,
                   struct slio_err *err) _must_check_;
/* Atomically (temp + fsync + rename + fsync dir). */
int file_meta_write(const struct file_engine *e, const struct file_meta *m,
                    struct slio_err *err) _must_check_;
int file_sync_dir(const struct file_engine *e, enum agent_vol_kind kind) _must_check_;

struct file_engine *file_of(struct agent_engine *e);
int file_list_volumes(struct agent_engine *e, struct agent_volume_list *ret, struct slio_err *err);
/* Room for `more` bytes beside what l (a fresh listing) holds? -ENOSPC naming "<what> <s>".
 * Caller holds admit_lock. */
int file_admit(struct file_engine *e, const struct agent_volume_list *l, uint64_t more,
               const char *what, const char *s, struct slio_err *err) _must_check_;
/* Append the records of one folder that are ours to *l (capacity *cap). Caller holds
 * cache_lock. */
int file_scan(struct file_engine *e, enum agent_vol_kind kind, struct agent_volume_list *l,
              size_t *cap) _must_check_;
/* The volume a record describes (its image stat'ed for state and use). */
void file_describe(const struct file_engine *e, const struct file_meta *m,
                   struct agent_volume *ret);
/* ftruncate to size, fallocate when thick, fsync. */
int file_size_image(int fd, uint64_t size, bool thin, const char *path,
                    struct slio_err *err) _must_check_;
/* dst := src's first bytes, by FICLONE or a hole-skipping copy (progress reported). */
int file_clone_data(const char *src_path, const char *dst_path, uint64_t bytes,
                    agent_progress_fn progress, void *ctx, struct slio_err *err) _must_check_;

/* file_volume.c */
int file_create_volume(struct agent_engine *e, const struct agent_volume_spec *spec,
                       struct agent_volume *ret, struct slio_err *err);
int file_delete_volume(struct agent_engine *e, const uuid_t uuid, bool discard_first,
                       struct slio_err *err);
int file_expand_volume(struct agent_engine *e, const uuid_t uuid, uint64_t new_size,
                       struct agent_volume *ret, struct slio_err *err);
int file_create_snapshot(struct agent_engine *e, const struct agent_snapshot_spec *spec,
                         struct agent_volume *ret, struct slio_err *err);
int file_delete_snapshot(struct agent_engine *e, const uuid_t uuid, struct slio_err *err);
int file_thin_autoextend(struct agent_engine *e, const struct agent_autoextend_policy *policy,
                         struct agent_autoextend_result *ret, struct slio_err *err);

#endif
