/* SPDX-License-Identifier: Apache-2.0 */
/* The lvm engine's shared state and helpers (lvm.c, lvm_volume.c, lvm_setup.c, lvm_thin.c). */
#ifndef AGENT_LVM_INTERNAL_H
#define AGENT_LVM_INTERNAL_H

#include <pthread.h>

#include "engine_internal.h"
#include "lvm_report.h"
#include "slio/exec.h"

#define LVM_OUTPUT_MAX (16u << 20) /* 100k LVs of JSON rows fit */

struct lvm_engine {
    struct agent_engine base;
    char pool[AGENT_POOL_NAME_MAX + 1];
    char vg[AGENT_NAME_MAX];
    char thin_pool[AGENT_NAME_MAX]; /* "" when no thin pool is configured */
    uint64_t thin_size, thin_meta_size;
    uint32_t thin_size_percent;
    double overprovision;
    struct agent_autoextend_policy autoextend;
    uint32_t stripes;
    uint64_t stripe_size;
    int timeout_ms;
    char dev_dir[AGENT_PATH_MAX / 2];
    uint64_t extent_size; /* of the VG, read at open */
    /* Held across "is there room?" and the lvcreate/lvextend that takes it, so two
     * workers cannot both admit into the last free space (or over-provision). */
    pthread_mutex_t admit_lock;
};

static inline struct lvm_engine *lvm_of(struct agent_engine *e)
{
    return SLIO_CONTAINER_OF(e, struct lvm_engine, base);
}

/* A bounded argv under construction: strings are copied into store. */
struct lvm_argv {
    const char *v[64];
    size_t n;
    char store[4096];
    size_t used;
    bool overflow;
};
void lvm_argv_add(struct lvm_argv *a, const char *s);
void lvm_argv_addf(struct lvm_argv *a, const char *fmt, ...) _printf_(2, 3);
/* NULL-terminated argv, or NULL (with -E2BIG in err) if it overflowed. */
const char *const *lvm_argv_get(struct lvm_argv *a, struct slio_err *err);

/* Run a command (agent_run with the pool's timeout); output discarded. */
int lvm_run(struct lvm_engine *e, struct lvm_argv *a, struct slio_err *err) _must_check_;
/* Run a command and keep its output in *ret (caller frees). */
int lvm_run_out(struct lvm_engine *e, struct lvm_argv *a, struct slio_exec_result *ret,
                struct slio_err *err) _must_check_;

/* Every LV of the VG (ours or not), rows deduplicated. */
int lvm_list_all(struct lvm_engine *e, struct lvm_lv **ret, size_t *ret_n,
                 struct slio_err *err) _must_check_;
/* Our VG from a report of all VGs; -ENOENT (and why in err) when it is not there. */
int lvm_get_vg(struct lvm_engine *e, struct lvm_vg *ret, struct slio_err *err) _must_check_;

/* Carries our uuid, kind and this pool's tag, consistently. */
bool lvm_lv_ours(const struct lvm_engine *e, const struct lvm_lv *lv);
const struct lvm_lv *lvm_find_ours(const struct lvm_engine *e, const struct lvm_lv *lvs, size_t n,
                                   const uuid_t uuid);
const struct lvm_lv *lvm_find_name(const struct lvm_lv *lvs, size_t n, const char *name);
void lvm_describe(const struct lvm_engine *e, const struct lvm_lv *lv, struct agent_volume *ret);
/* Describe the LV called name after a fresh lvs (for what a create/expand returns). */
int lvm_describe_fresh(struct lvm_engine *e, const uuid_t uuid, struct agent_volume *ret,
                       struct slio_err *err) _must_check_;

/* Build or check the VG and the thin pool (lvm_setup.c). */
int lvm_setup(struct lvm_engine *e, const struct agent_pool_config *cfg,
              struct slio_err *err) _must_check_;

int lvm_create_volume(struct agent_engine *e, const struct agent_volume_spec *spec,
                      struct agent_volume *ret, struct slio_err *err);
int lvm_delete_volume(struct agent_engine *e, const uuid_t uuid, bool discard_first,
                      struct slio_err *err);
int lvm_expand_volume(struct agent_engine *e, const uuid_t uuid, uint64_t new_size,
                      struct agent_volume *ret, struct slio_err *err);
int lvm_create_snapshot(struct agent_engine *e, const struct agent_snapshot_spec *spec,
                        struct agent_volume *ret, struct slio_err *err);
int lvm_delete_snapshot(struct agent_engine *e, const uuid_t uuid, struct slio_err *err);
int lvm_thin_autoextend(struct agent_engine *e, const struct agent_autoextend_policy *policy,
                        struct agent_autoextend_result *ret, struct slio_err *err);

/* Thin pool row in lvs, or NULL. */
const struct lvm_lv *lvm_thin_pool_row(const struct lvm_engine *e, const struct lvm_lv *lvs,
                                       size_t n);
/* Sum of the virtual sizes of every thin LV in our thin pool (ours or not). */
uint64_t lvm_thin_virtual(const struct lvm_engine *e, const struct lvm_lv *lvs, size_t n);

#endif
