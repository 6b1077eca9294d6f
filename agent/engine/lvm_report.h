/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for `lvs/vgs/pvs --reportformat json --units b --nosuffix` and
 * `losetup --json --list`. lvm2 2.03.16 (Debian 12) prints every value as a
 * JSON string ("lv_size":"1073741824", "data_percent":"12.50" or ""), rows
 * under {"report":[{"lv":[...]}]}. Everything here treats the text as
 * untrusted: bounded sizes, strict numbers, names checked against LVM's
 * charset, tags parsed one by one. Pure functions, thread-safe.
 */
#ifndef AGENT_LVM_REPORT_H
#define AGENT_LVM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "engine.h"

#define LVM_REPORT_ROWS_MAX 100000

/* The --options lists the parsers expect. */
#define LVM_LVS_FIELDS                                                                             \
    "lv_name,vg_name,lv_size,lv_attr,lv_tags,pool_lv,origin,origin_size,data_percent,"             \
    "metadata_percent,lv_metadata_size,stripes"
#define LVM_VGS_FIELDS "vg_name,vg_size,vg_free,vg_extent_size,pv_count,vg_tags"
#define LVM_PVS_FIELDS "pv_name,vg_name,pv_size,pv_free"

/* Our tags on one LV (or VG). */
struct lvm_tags {
    bool has_uuid, has_kind, has_pool, has_origin, copying;
    bool conflict; /* a tag of ours twice with different values, or unparsable */
    uuid_t uuid, origin;
    enum agent_vol_kind kind;
    char pool[AGENT_POOL_NAME_MAX + 1];
};

struct lvm_lv {
    char name[AGENT_NAME_MAX];
    char vg[AGENT_NAME_MAX];
    char attr[11];
    char pool_lv[AGENT_NAME_MAX]; /* thin volumes: their pool; else "" */
    char origin[AGENT_NAME_MAX];  /* snapshots: the origin LV; else "" */
    uint64_t size;                /* lv_size (a thick snapshot: its CoW size) */
    uint64_t origin_size;         /* snapshots: the origin's size; else 0 */
    uint64_t metadata_size;       /* thin pools: metadata LV size; else 0 */
    double data_percent;          /* -1 when "" */
    double metadata_percent;      /* -1 when "" */
    uint32_t stripes;             /* of the first segment; 0 when "" */
    struct lvm_tags tags;
};

struct lvm_vg {
    char name[AGENT_NAME_MAX];
    uint64_t size, free, extent_size;
    uint32_t pv_count;
    struct lvm_tags tags; /* slio.pool=<pool> claims the VG for a pool */
};

struct lvm_pv {
    char name[AGENT_PATH_MAX];
    char vg[AGENT_NAME_MAX]; /* "" when the PV is in no VG */
    uint64_t size, free;
};

struct lvm_loop {
    char name[AGENT_PATH_MAX];      /* /dev/loopN */
    char back_file[AGENT_PATH_MAX]; /* "" when none */
};

/*
 * Each parser takes the command's stdout (text[0..len), need not be
 * NUL-terminated), returns 0 and a calloc'ed array (caller frees) with *ret_n
 * rows, or -EINVAL with "lvs report: row 3: field 'lv_size': ..." in err. A
 * row whose name appears again (one row per segment) is kept once.
 */
int lvm_parse_lvs(const char *text, size_t len, struct lvm_lv **ret, size_t *ret_n,
                  struct slio_err *err) _must_check_;
int lvm_parse_vgs(const char *text, size_t len, struct lvm_vg **ret, size_t *ret_n,
                  struct slio_err *err) _must_check_;
int lvm_parse_pvs(const char *text, size_t len, struct lvm_pv **ret, size_t *ret_n,
                  struct slio_err *err) _must_check_;
/* `losetup --json --list --output NAME,BACK-FILE`; "{}"-less empty output = no loops. */
int lvm_parse_losetup(const char *text, size_t len, struct lvm_loop **ret, size_t *ret_n,
                      struct slio_err *err) _must_check_;

/* Comma-separated lv_tags/vg_tags into *ret (tags not ours are ignored). */
void lvm_parse_tags(const char *tags, struct lvm_tags *ret);
/* "12.50" → 12.5; "" → -1 (not reported); 0..100 with up to 6 decimals. -EINVAL otherwise. */
int lvm_parse_percent(const char *s, double *ret) _must_check_;

#endif
