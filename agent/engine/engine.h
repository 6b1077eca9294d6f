/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pool engines: the one small interface between the agent and the storage
 * that backs its volumes. Two engines implement it:
 *
 *   "lvm"  — a volume group (built from devices, from files through loop
 *            devices, or adopted); thick LVs, a thin pool with thin LVs,
 *            thin and copy-on-write snapshots. Every LVM command goes
 *            through libslio's exec seam (slio/exec.h) and every report is
 *            read as JSON (--reportformat json), never scraped.
 *   "file" — a directory of sparse files with a JSON sidecar per file, for
 *            machines without device-mapper (development, CI, demo).
 *
 * Ownership is never guessed: every LV we create carries the LVM tags
 *   slio.uuid=<uuid>  slio.kind=volume|snapshot  slio.pool=<pool name>
 * (plus slio.origin=<uuid> for snapshots and clones, slio.state=copying while
 * a thick clone's data copy has not finished). LVs without our tags, or with
 * another pool's tag, are invisible to the engine and never touched.
 * docs/agent-engines.md describes both engines and what is safe to run by hand.
 *
 * Threads: every call may block (LVM commands take up to minutes, a thick
 * clone copies data) — call them from the agent's worker threads, never from
 * the thread answering heartbeats, HTTP or /metrics. One engine instance is
 * safe for concurrent calls on DIFFERENT volumes; the agent serialises calls
 * on the same volume (uuid), and on a snapshot together with its origin.
 * agent_engine_close() must not race with any other call.
 *
 * Errors: 0 or a negative errno; ret_* outputs last and untouched on failure;
 * the reason in err naming the object ("volume 6f1c...: pool \"p1\" has
 * 3.0 GiB free, 10 GiB asked"). Common codes: -ENOENT unknown uuid (where a
 * missing object is not fine), -EEXIST uuid exists with a different shape,
 * -ENOSPC not enough space (or past the thin over-provision limit), -EBUSY
 * a volume that still has snapshots / a device of another VG, -EINVAL bad
 * argument (shrink, zero size, a snapshot uuid given as a volume, ...),
 * -EOPNOTSUPP the engine/pool cannot do this (thin without a thin pool),
 * -EIO a command failed or answered something unreadable.
 */
#ifndef AGENT_ENGINE_H
#define AGENT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "slio/cleanup.h"
#include "slio/error.h"
#include "slio/json.h"

/* ---------------------------------------------------------------------- */
/* Pool configuration (the agent config file's `pool:` section)           */
/* ---------------------------------------------------------------------- */

#define AGENT_POOL_NAME_MAX 63  /* [A-Za-z0-9][A-Za-z0-9_.-]*, also an LVM tag value */
#define AGENT_NAME_MAX      128 /* LV / file name incl. NUL (LVM allows 127 bytes) */
#define AGENT_PATH_MAX      512 /* device or file path incl. NUL */

/* A list of strings decoded from a JSON/YAML array (each element copied). */
struct agent_str_list {
    char **items;
    size_t n;
};

/* A backing file for a loop device: created sparse with this size if missing. */
struct agent_loop_file {
    char *path;
    uint64_t size;
};
struct agent_loop_file_list {
    struct agent_loop_file *items;
    size_t n;
};

/* Thin pool auto-extend: when data (or metadata) use reaches threshold_percent,
 * grow the pool by step (bytes) or step_percent (of its size; used when step is
 * 0), never beyond ceiling (bytes; 0 = as far as the VG's free space goes).
 * threshold_percent 0 switches auto-extend off. */
struct agent_autoextend_policy {
    uint32_t threshold_percent; /* "threshold_percent": 0 or 50..99; default 80 */
    uint64_t step;              /* "step": size, e.g. "10Gi" */
    uint32_t step_percent;      /* "step_percent": 1..100; default 20 */
    uint64_t ceiling;           /* "ceiling": size, 0 = no ceiling */
};

struct agent_thin_config {
    char *pool;             /* "pool": thin pool LV name; NULL = no thin pool */
    uint64_t size;          /* "size": bytes at creation; or */
    uint32_t size_percent;  /* "size_percent": of the VG at creation (size and this 0: 90) */
    uint64_t metadata_size; /* "metadata_size": 0 = LVM's choice */
    double overprovision;   /* "overprovision": max virtual/physical ratio, default 4.0 */
    struct agent_autoextend_policy autoextend; /* "autoextend" */
};

struct agent_lvm_config {
    char *vg;                               /* "vg": volume group name (required) */
    struct agent_str_list devices;          /* "devices": PV block devices */
    struct agent_loop_file_list loop_files; /* "loop_files": [{path, size}] via losetup */
    bool adopt;           /* "adopt": use an existing VG as it is, never vgcreate/vgextend */
    uint32_t stripes;     /* "stripes": default for thick LVs (1 = linear) */
    uint64_t stripe_size; /* "stripe_size": 0 = LVM's default */
    struct agent_thin_config thin; /* "thin" */
    uint64_t command_timeout_us;   /* "command_timeout": per LVM command, default 10m */
    char *dev_dir; /* "dev_dir": where /<vg>/<lv> device nodes live, default "/dev" */
};

struct agent_file_config {
    char *dir;         /* "dir": pool directory (required), created if missing */
    uint64_t capacity; /* "capacity": bytes the pool may hand out (required) */
};

struct agent_pool_config {
    char *name;                    /* "name": pool name (required), goes into slio.pool=<name> */
    char *engine;                  /* "engine": "lvm" or "file" (required) */
    struct agent_lvm_config lvm;   /* "lvm": required when engine is lvm */
    struct agent_file_config file; /* "file": required when engine is file */
};

/*
 * The decoder table for struct agent_pool_config. The daemon may embed it:
 *   SLIO_JSON_FIELD(struct cfg, pool, "pool", SLIO_JSON_OBJECT, .required = true,
 *                   .fields = agent_pool_config_fields,
 *                   .n_fields = AGENT_POOL_CONFIG_N_FIELDS),
 * then it must call agent_pool_config_init() before decoding (defaults) and
 * agent_pool_config_validate() after (cross-field rules: engine known, its
 * section present, size vs size_percent, ...), and agent_pool_config_release().
 */
#define AGENT_POOL_CONFIG_N_FIELDS 4
extern const struct slio_json_field agent_pool_config_fields[AGENT_POOL_CONFIG_N_FIELDS];

/* Defaults into *cfg (zeroes it first). */
void agent_pool_config_init(struct agent_pool_config *cfg);
/* Cross-field validation after decoding; -EINVAL naming the field ("field 'pool.lvm.vg': ..."). */
int agent_pool_config_validate(const struct agent_pool_config *cfg,
                               struct slio_err *err) _must_check_;
/* init + SLIO_JSON_DECODE + validate; on failure *ret is untouched. */
int agent_pool_config_decode(const json_t *obj, struct agent_pool_config *ret,
                             struct slio_err *err) _must_check_;
/* Free what decoding copied (strings, lists); NULL-safe; leaves *cfg zeroed. */
void agent_pool_config_release(struct agent_pool_config *cfg);

/* ---------------------------------------------------------------------- */
/* Volumes and pool status                                                */
/* ---------------------------------------------------------------------- */

enum agent_vol_kind {
    AGENT_VOL_VOLUME,   /* a volume (possibly a clone: origin set) */
    AGENT_VOL_SNAPSHOT, /* a read-only point-in-time copy of a volume */
};

enum agent_vol_state {
    AGENT_VOL_READY,    /* usable */
    AGENT_VOL_COPYING,  /* thick clone whose data copy has not finished (create again to resume) */
    AGENT_VOL_INACTIVE, /* exists but not active (no device node) */
    AGENT_VOL_INVALID,  /* CoW snapshot overflowed, thin pool failed; file: image missing */
};

struct agent_volume {
    uuid_t uuid;
    enum agent_vol_kind kind;
    enum agent_vol_state state;
    bool thin;
    bool has_origin; /* snapshot: its volume; clone: the snapshot/volume it came from */
    uuid_t origin;
    uint64_t size;             /* bytes the consumer sees */
    uint64_t reserved;         /* thick snapshot: CoW reserve in bytes; else 0 */
    double used_percent;       /* thin LV data% or CoW snapshot use%; -1 when not reported */
    uint32_t stripes;          /* thick: 1 = linear */
    char name[AGENT_NAME_MAX]; /* LV name ("slio-<uuid>") or file name */
    char path[AGENT_PATH_MAX]; /* block device or file to open / hand to bdev_aio_create */
};

struct agent_volume_list {
    struct agent_volume *items; /* owned; free with agent_volume_list_free() */
    size_t n;
};
void agent_volume_list_free(struct agent_volume_list *l); /* NULL-safe, zeroes *l */
/* The entry with this uuid, or NULL. */
const struct agent_volume *agent_volume_list_find(const struct agent_volume_list *l,
                                                  const uuid_t uuid);

const char *agent_vol_kind_name(enum agent_vol_kind k);   /* "volume", "snapshot" */
const char *agent_vol_state_name(enum agent_vol_state s); /* "ready", "copying", ... */

struct agent_pool_status {
    char pool[AGENT_POOL_NAME_MAX + 1];
    const char *engine;         /* static string: "lvm", "file" */
    char vg[AGENT_NAME_MAX];    /* lvm: VG name; file: "" */
    uint64_t capacity;          /* lvm: VG size; file: configured capacity */
    uint64_t free;              /* bytes a new thick volume can take */
    uint64_t allocated;         /* bytes taken by our volumes and snapshots (thin: virtual) */
    uint32_t volumes;           /* our volumes */
    uint32_t snapshots;         /* our snapshots */
    bool thin;                  /* a thin pool is configured and present */
    uint64_t thin_size;         /* thin pool data size */
    double thin_data_percent;   /* 0..100 */
    double thin_meta_percent;   /* 0..100 */
    uint64_t thin_virtual;      /* virtual sizes of all thin LVs in the pool (ours or not) */
    double overprovision;       /* thin_virtual / thin_size now */
    double overprovision_max;   /* configured ratio */
    uint64_t thin_virtual_free; /* thin_size * overprovision_max - thin_virtual (0 if below) */
    int thin_level; /* enum agent_thin_level of the agent's last thin check (engines: 0, ok) */
};

/* ---------------------------------------------------------------------- */
/* Requests                                                               */
/* ---------------------------------------------------------------------- */

/* Called from the calling worker thread during a long copy (thick clone, file copy):
 * done and total in bytes; at least once at the end with done == total. */
typedef void (*agent_progress_fn)(void *ctx, uint64_t done, uint64_t total);

enum agent_source_kind {
    AGENT_SOURCE_NONE,     /* an empty volume */
    AGENT_SOURCE_SNAPSHOT, /* a clone of one of our snapshots */
    AGENT_SOURCE_VOLUME,   /* a clone of one of our volumes */
};

struct agent_volume_spec {
    uuid_t uuid;           /* required, not null */
    const char *name_hint; /* may be NULL; recorded as tag slio.name=<sanitised> */
    uint64_t size;         /* bytes; 0 with a source = the source's size; >= source's size */
    bool thin;             /* lvm: in the thin pool (-EOPNOTSUPP without); file: sparse */
    uint32_t stripes;      /* thick only; 0 = the pool's default */
    enum agent_source_kind source;
    uuid_t source_uuid;
    agent_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

struct agent_snapshot_spec {
    uuid_t volume;        /* the origin volume (ours) */
    uuid_t snapshot;      /* the new snapshot's uuid */
    uint64_t cow_reserve; /* thick origin: CoW space in bytes (0 = 20% of the origin);
                           * thin origin or file engine: ignored */
};

enum agent_thin_level {
    AGENT_THIN_OK,       /* below the threshold (or no thin pool) */
    AGENT_THIN_EXTENDED, /* was above the threshold, pool grown below it */
    AGENT_THIN_WARNING,  /* above the threshold and could not grow enough (ceiling / VG full) */
    AGENT_THIN_CRITICAL, /* data or metadata >= 95% and could not grow */
};
const char *agent_thin_level_name(enum agent_thin_level l); /* "ok", "extended", ... */

struct agent_autoextend_result {
    enum agent_thin_level level;
    bool extended;
    uint64_t old_size, new_size;       /* thin pool data size before/after */
    double data_percent, meta_percent; /* after */
    char message[SLIO_ERR_TEXT_MAX];   /* for logs and status; "" when OK */
};

/* ---------------------------------------------------------------------- */
/* The engine vtable                                                      */
/* ---------------------------------------------------------------------- */

struct agent_engine; /* an open pool; its first member is the ops pointer */

/* Each engine fills one const table; agent_engine_find() knows them all.
 * The agent calls the agent_engine_*() wrappers below, which check arguments
 * common to every engine and then call these. */
struct agent_engine_ops {
    const char *name;
    int (*open)(const struct agent_pool_config *cfg, struct agent_engine **ret,
                struct slio_err *err);
    void (*close)(struct agent_engine *e);
    int (*pool_status)(struct agent_engine *e, struct agent_pool_status *ret, struct slio_err *err);
    int (*list_volumes)(struct agent_engine *e, struct agent_volume_list *ret,
                        struct slio_err *err);
    int (*create_volume)(struct agent_engine *e, const struct agent_volume_spec *spec,
                         struct agent_volume *ret, struct slio_err *err);
    int (*delete_volume)(struct agent_engine *e, const uuid_t uuid, bool discard_first,
                         struct slio_err *err);
    int (*expand_volume)(struct agent_engine *e, const uuid_t uuid, uint64_t new_size,
                         struct agent_volume *ret, struct slio_err *err);
    int (*create_snapshot)(struct agent_engine *e, const struct agent_snapshot_spec *spec,
                           struct agent_volume *ret, struct slio_err *err);
    int (*delete_snapshot)(struct agent_engine *e, const uuid_t uuid, struct slio_err *err);
    int (*thin_autoextend)(struct agent_engine *e, const struct agent_autoextend_policy *policy,
                           struct agent_autoextend_result *ret, struct slio_err *err);
};

struct agent_engine {
    const struct agent_engine_ops *ops;
};

extern const struct agent_engine_ops agent_engine_lvm_ops;
extern const struct agent_engine_ops agent_engine_file_ops;

/* "lvm" → &agent_engine_lvm_ops, "file" → &agent_engine_file_ops, else NULL. */
const struct agent_engine_ops *agent_engine_find(const char *name);

/*
 * Open the pool described by cfg (validated here): lvm attaches loop files,
 * builds the VG from devices unless adopt (vgcreate/vgextend only with
 * devices that are not PVs of another VG; a VG tagged for another pool is
 * refused), creates the thin pool if configured and missing; file creates
 * dir/volumes and dir/snapshots.
 * Idempotent across restarts. cfg is copied; the caller may release it.
 */
int agent_engine_open(const struct agent_pool_config *cfg, struct agent_engine **ret,
                      struct slio_err *err) _must_check_;
/* Free the instance (no LVM command, nothing deleted). NULL-safe; *e becomes NULL. */
void agent_engine_close(struct agent_engine **e);
const char *agent_engine_name(const struct agent_engine *e);

int agent_engine_pool_status(struct agent_engine *e, struct agent_pool_status *ret,
                             struct slio_err *err) _must_check_;

/* Every volume and snapshot of THIS pool (found by tags), unsorted. */
int agent_engine_list_volumes(struct agent_engine *e, struct agent_volume_list *ret,
                              struct slio_err *err) _must_check_;
/* One of ours by uuid (volume or snapshot); -ENOENT if none. */
int agent_engine_get_volume(struct agent_engine *e, const uuid_t uuid, struct agent_volume *ret,
                            struct slio_err *err) _must_check_;

/*
 * Create (idempotent by uuid): if ours already exists with the same size and
 * thin-ness → 0 and its description; with another shape → -EEXIST. A thin
 * clone is a writable thin snapshot of the source; a thick clone is a new LV
 * plus a data copy (progress reported), resumed from the start when called
 * again after a crash (state COPYING). File engine: FICLONE when possible,
 * else a sparse-aware copy.
 */
int agent_engine_create_volume(struct agent_engine *e, const struct agent_volume_spec *spec,
                               struct agent_volume *ret, struct slio_err *err) _must_check_;

/* Delete one of our volumes (idempotent: unknown uuid → 0). discard_first:
 * blkdiscard the device first (lvm; the file engine punches the file). A
 * volume that still has snapshots is refused with -EBUSY. Never touches an
 * untagged LV. */
int agent_engine_delete_volume(struct agent_engine *e, const uuid_t uuid, bool discard_first,
                               struct slio_err *err) _must_check_;

/* Grow online to new_size (bytes, rounded up to the extent size). Already
 * that size (or larger after rounding) → 0; smaller → -EINVAL. */
int agent_engine_expand_volume(struct agent_engine *e, const uuid_t uuid, uint64_t new_size,
                               struct agent_volume *ret, struct slio_err *err) _must_check_;

/* Snapshot of one of our volumes (idempotent by snapshot uuid; -EEXIST if
 * that uuid is ours with another origin). Thin origin: thin snapshot; thick
 * origin: CoW snapshot with cow_reserve bytes. */
int agent_engine_create_snapshot(struct agent_engine *e, const struct agent_snapshot_spec *spec,
                                 struct agent_volume *ret, struct slio_err *err) _must_check_;
/* Idempotent: unknown → 0; a uuid that is a volume, not a snapshot → -EINVAL. */
int agent_engine_delete_snapshot(struct agent_engine *e, const uuid_t uuid,
                                 struct slio_err *err) _must_check_;

/* Check the thin pool against policy (NULL = the configured one) and grow it
 * when needed. No thin pool → 0 with level OK. A failed lvextend is reported
 * in ret (level WARNING/CRITICAL, message) and returns 0; only a failure to
 * read the pool's state returns an error. */
int agent_engine_thin_autoextend(struct agent_engine *e,
                                 const struct agent_autoextend_policy *policy,
                                 struct agent_autoextend_result *ret,
                                 struct slio_err *err) _must_check_;

/*
 * Observe every external command an engine runs (lvs, lvcreate, losetup, ...):
 * fn(ctx, "lvcreate", microseconds, ok) on the calling worker thread, after
 * the command ends — for the agent's LVM latency metric. Process-wide; NULL
 * switches it off. fn must be quick and thread-safe. Set it before opening.
 */
typedef void (*agent_exec_observer_fn)(void *ctx, const char *command, uint64_t usec, bool ok);
void agent_engine_set_exec_observer(agent_exec_observer_fn fn, void *ctx);

/* LVM tag helpers (shared by engines, tests and the tool). */
#define AGENT_TAG_UUID   "slio.uuid="
#define AGENT_TAG_KIND   "slio.kind="
#define AGENT_TAG_POOL   "slio.pool="
#define AGENT_TAG_ORIGIN "slio.origin="
#define AGENT_TAG_NAME   "slio.name="
#define AGENT_TAG_STATE  "slio.state="

#endif
