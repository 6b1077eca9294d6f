/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lvs/vgs/pvs/losetup JSON reports → structs. Each row is decoded with the
 * field-table decoder (strings borrowed from the json_t), then every value is
 * converted with the strict parsers: a report that does not look exactly like
 * lvm2's is refused as a whole rather than half-believed.
 */
#include <string.h>

#include "engine_internal.h"
#include "lvm_report.h"
#include "slio/json.h"
#include "slio/parse.h"
#include "slio/uuid.h"

#define REPORT_TEXT_MAX (64u << 20)

/* Collect the rows under report[*].<key> into one borrowed list (max rows). */
static int report_rows(const char *cmd, const char *text, size_t len, const char *report_key,
                       const char *key, json_t **ret_root, struct slio_err *err)
{
    json_t *root = NULL, *reports, *part, *rows;
    size_t i, total = 0;
    int r;

    r = slio_json_loadb(text, len, REPORT_TEXT_MAX, &root, err);
    if (r < 0) {
        slio_err_prefix(err, "%s report", cmd);
        return r;
    }
    reports = json_object_get(root, report_key);
    if (!json_is_array(reports) && strcmp(report_key, key) != 0)
        goto bad;
    if (strcmp(report_key, key) == 0) { /* losetup: {"loopdevices":[...]} */
        if (!json_is_array(reports))
            goto bad;
        total = json_array_size(reports);
    } else {
        json_array_foreach (reports, i, part) {
            rows = json_object_get(part, key);
            if (!json_is_object(part) || !json_is_array(rows))
                goto bad;
            total += json_array_size(rows);
        }
    }
    if (total > LVM_REPORT_ROWS_MAX) {
        slio_err_set(err, "%s report: %zu rows, at most %d", cmd, total, LVM_REPORT_ROWS_MAX);
        json_decref(root);
        return -EINVAL;
    }
    *ret_root = root;
    return 0;
bad:
    slio_err_set(err, "%s report: no \"%s\" array of \"%s\" rows", cmd, report_key, key);
    json_decref(root);
    return -EINVAL;
}

/* Calls fn(row) for each row; stops at the first error. */
static int for_each_row(json_t *root, const char *report_key, const char *key,
                        int (*fn)(json_t *row, size_t idx, void *out, struct slio_err *err),
                        void *out, struct slio_err *err)
{
    json_t *reports = json_object_get(root, report_key), *part, *row;
    size_t i, j, idx = 0;
    int r;

    if (strcmp(report_key, key) == 0) {
        json_array_foreach (reports, j, row)
            if ((r = fn(row, idx++, out, err)) < 0)
                return r;
        return 0;
    }
    json_array_foreach (reports, i, part) {
        json_array_foreach (json_object_get(part, key), j, row)
            if ((r = fn(row, idx++, out, err)) < 0)
                return r;
    }
    return 0;
}

static size_t count_rows(json_t *root, const char *report_key, const char *key)
{
    json_t *reports = json_object_get(root, report_key), *part;
    size_t i, n = 0;

    if (strcmp(report_key, key) == 0)
        return json_array_size(reports);
    json_array_foreach (reports, i, part)
        n += json_array_size(json_object_get(part, key));
    return n;
}

static int copy_name(char *dst, size_t cap, const char *src, bool lvm_name, const char *field,
                     struct slio_err *err)
{
    size_t n = strlen(src);

    if (n >= cap || (lvm_name && n > 0 && !agent_lvm_name_valid(src))) {
        slio_err_set(err, "field '%s': \"%.64s\" is not a valid name", field, src);
        return -EINVAL;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static int size_field(const char *s, bool optional, uint64_t *ret, const char *field,
                      struct slio_err *err)
{
    if (optional && s[0] == '\0') {
        *ret = 0;
        return 0;
    }
    if (slio_parse_u64(s, 0, UINT64_MAX / 2, ret) < 0) {
        slio_err_set(err, "field '%s': \"%.32s\" is not a byte count", field, s);
        return -EINVAL;
    }
    return 0;
}

int lvm_parse_percent(const char *s, double *ret)
{
    const char *dot = strchr(s, '.');
    char whole[8];
    uint64_t w, frac = 0, scale = 1;
    size_t wn = dot ? (size_t)(dot - s) : strlen(s);

    if (s[0] == '\0') {
        *ret = -1;
        return 0;
    }
    if (wn == 0 || wn >= sizeof(whole))
        return -EINVAL;
    memcpy(whole, s, wn);
    whole[wn] = '\0';
    if (slio_parse_u64(whole, 0, 100, &w) < 0)
        return -EINVAL;
    if (dot) {
        size_t fn = strlen(dot + 1);
        if (fn == 0 || fn > 6 || slio_parse_u64(dot + 1, 0, 999999, &frac) < 0)
            return -EINVAL;
        while (fn--)
            scale *= 10;
    }
    if (w == 100 && frac != 0)
        return -EINVAL;
    *ret = (double)w + (double)frac / (double)scale;
    return 0;
}

static int percent_field(const char *s, double *ret, const char *field, struct slio_err *err)
{
    if (lvm_parse_percent(s, ret) < 0) {
        slio_err_set(err, "field '%s': \"%.32s\" is not a percentage", field, s);
        return -EINVAL;
    }
    return 0;
}

/* tag[0..n) starts with prefix: its value into v and 1 (-1 if too long); else 0. */
static int tag_match(const char *tag, size_t n, const char *prefix, char v[static AGENT_TAG_MAX])
{
    size_t p = strlen(prefix);

    if (n < p || memcmp(tag, prefix, p) != 0)
        return 0;
    if (n - p >= AGENT_TAG_MAX)
        return -1;
    memcpy(v, tag + p, n - p);
    v[n - p] = '\0';
    return 1;
}

/* A uuid tag: set once, or again with the same value; anything else is a conflict. */
static void uuid_tag(struct lvm_tags *t, int m, const char *v, bool *has, uuid_t dst)
{
    uuid_t u;

    if (m < 0 || slio_uuid_parse(v, u) < 0 || (*has && uuid_compare(u, dst) != 0)) {
        t->conflict = true;
        return;
    }
    uuid_copy(dst, u);
    *has = true;
}

static void kind_tag(struct lvm_tags *t, int m, const char *v)
{
    enum agent_vol_kind k;

    if (m > 0 && strcmp(v, "volume") == 0)
        k = AGENT_VOL_VOLUME;
    else if (m > 0 && strcmp(v, "snapshot") == 0)
        k = AGENT_VOL_SNAPSHOT;
    else {
        t->conflict = true;
        return;
    }
    if (t->has_kind && t->kind != k)
        t->conflict = true;
    t->kind = k;
    t->has_kind = true;
}

static void pool_tag(struct lvm_tags *t, int m, const char *v)
{
    if (m < 0 || !agent_pool_name_valid(v) || (t->has_pool && strcmp(v, t->pool) != 0)) {
        t->conflict = true;
        return;
    }
    memcpy(t->pool, v, strlen(v) + 1);
    t->has_pool = true;
}

static void tag_value(struct lvm_tags *t, const char *tag, size_t n)
{
    char v[AGENT_TAG_MAX];
    int m;

    if ((m = tag_match(tag, n, AGENT_TAG_UUID, v)) != 0)
        uuid_tag(t, m, v, &t->has_uuid, t->uuid);
    else if ((m = tag_match(tag, n, AGENT_TAG_ORIGIN, v)) != 0)
        uuid_tag(t, m, v, &t->has_origin, t->origin);
    else if ((m = tag_match(tag, n, AGENT_TAG_KIND, v)) != 0)
        kind_tag(t, m, v);
    else if ((m = tag_match(tag, n, AGENT_TAG_POOL, v)) != 0)
        pool_tag(t, m, v);
    else if ((m = tag_match(tag, n, AGENT_TAG_STATE, v)) != 0)
        t->copying = m > 0 && strcmp(v, "copying") == 0;
}

void lvm_parse_tags(const char *tags, struct lvm_tags *ret)
{
    struct lvm_tags t = {0};
    const char *p = tags;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        tag_value(&t, p, n);
        p += n;
        if (*p == ',')
            p++;
    }
    *ret = t;
}

/* ---- lvs ---- */

struct lvs_row {
    const char *name, *vg, *size, *attr, *tags, *pool_lv, *origin, *origin_size, *data, *meta,
        *meta_size, *stripes;
};

static const struct slio_json_field lvs_fields[] = {
    SLIO_JSON_FIELD(struct lvs_row, name, "lv_name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct lvs_row, vg, "vg_name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct lvs_row, size, "lv_size", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct lvs_row, attr, "lv_attr", SLIO_JSON_STRING, .required = true, .min = 10,
                    .max = 10),
    SLIO_JSON_FIELD(struct lvs_row, tags, "lv_tags", SLIO_JSON_STRING, .required = true,
                    .max = 16384),
    SLIO_JSON_FIELD(struct lvs_row, pool_lv, "pool_lv", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, origin, "origin", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, origin_size, "origin_size", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, data, "data_percent", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, meta, "metadata_percent", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, meta_size, "lv_metadata_size", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct lvs_row, stripes, "stripes", SLIO_JSON_STRING),
};

struct rows_out {
    void *items;
    size_t n;
};

static int lv_convert(const struct lvs_row *w, struct lvm_lv *lv, struct slio_err *err)
{
    uint64_t stripes;
    int r;

    if ((r = copy_name(lv->name, sizeof(lv->name), w->name, true, "lv_name", err)) < 0 ||
        (r = copy_name(lv->vg, sizeof(lv->vg), w->vg, true, "vg_name", err)) < 0 ||
        (r = copy_name(lv->attr, sizeof(lv->attr), w->attr, false, "lv_attr", err)) < 0 ||
        (r = copy_name(lv->pool_lv, sizeof(lv->pool_lv), w->pool_lv, true, "pool_lv", err)) < 0 ||
        (r = copy_name(lv->origin, sizeof(lv->origin), w->origin, true, "origin", err)) < 0 ||
        (r = size_field(w->size, false, &lv->size, "lv_size", err)) < 0 ||
        (r = size_field(w->origin_size, true, &lv->origin_size, "origin_size", err)) < 0 ||
        (r = size_field(w->meta_size, true, &lv->metadata_size, "lv_metadata_size", err)) < 0 ||
        (r = percent_field(w->data, &lv->data_percent, "data_percent", err)) < 0 ||
        (r = percent_field(w->meta, &lv->metadata_percent, "metadata_percent", err)) < 0)
        return r;
    if (lv->name[0] == '\0' || lv->vg[0] == '\0') {
        slio_err_set(err, "field 'lv_name': empty");
        return -EINVAL;
    }
    if (w->stripes[0] && slio_parse_u64(w->stripes, 0, 1024, &stripes) < 0) {
        slio_err_set(err, "field 'stripes': \"%.32s\" is not a stripe count", w->stripes);
        return -EINVAL;
    }
    lv->stripes = w->stripes[0] ? (uint32_t)stripes : 0;
    lvm_parse_tags(w->tags, &lv->tags);
    return 0;
}

static int lv_row(json_t *row, size_t idx, void *out, struct slio_err *err)
{
    struct rows_out *o = out;
    struct lvm_lv *lvs = o->items, lv = {0};
    struct lvs_row w = {"", "", "", "", "", "", "", "", "", "", "", ""};
    int r = SLIO_JSON_DECODE(row, lvs_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);

    if (r == 0)
        r = lv_convert(&w, &lv, err);
    if (r < 0) {
        slio_err_prefix(err, "lvs report: row %zu", idx);
        return r;
    }
    for (size_t i = 0; i < o->n; i++) /* one row per segment: keep the first */
        if (strcmp(lvs[i].name, lv.name) == 0 && strcmp(lvs[i].vg, lv.vg) == 0)
            return 0;
    lvs[o->n++] = lv;
    return 0;
}

/* Shared driver: load, allocate one slot per row, convert each with fn. */
static int parse_report(const char *cmd, const char *text, size_t len, const char *report_key,
                        const char *key, size_t item_size,
                        int (*fn)(json_t *, size_t, void *, struct slio_err *), void **ret,
                        size_t *ret_n, struct slio_err *err)
{
    _cleanup_json_ json_t *root = NULL;
    struct rows_out o = {0};
    int r = report_rows(cmd, text, len, report_key, key, &root, err);

    if (r < 0)
        return r;
    o.items = calloc(count_rows(root, report_key, key) + 1, item_size);
    if (!o.items)
        return -ENOMEM;
    r = for_each_row(root, report_key, key, fn, &o, err);
    if (r < 0) {
        free(o.items);
        return r;
    }
    *ret = o.items;
    *ret_n = o.n;
    return 0;
}

int lvm_parse_lvs(const char *text, size_t len, struct lvm_lv **ret, size_t *ret_n,
                  struct slio_err *err)
{
    return parse_report("lvs", text, len, "report", "lv", sizeof(struct lvm_lv), lv_row,
                        (void **)ret, ret_n, err);
}

/* ---- vgs ---- */

struct vgs_row {
    const char *name, *size, *free, *extent, *pv_count, *tags;
};

static const struct slio_json_field vgs_fields[] = {
    SLIO_JSON_FIELD(struct vgs_row, name, "vg_name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct vgs_row, size, "vg_size", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct vgs_row, free, "vg_free", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct vgs_row, extent, "vg_extent_size", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct vgs_row, pv_count, "pv_count", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct vgs_row, tags, "vg_tags", SLIO_JSON_STRING, .max = 16384),
};

static int vg_row(json_t *row, size_t idx, void *out, struct slio_err *err)
{
    struct rows_out *o = out;
    struct lvm_vg vg = {0};
    struct vgs_row w = {"", "", "", "", "", ""};
    uint64_t pvs = 0;
    int r = SLIO_JSON_DECODE(row, vgs_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);

    if (r == 0 && (r = copy_name(vg.name, sizeof(vg.name), w.name, true, "vg_name", err)) == 0 &&
        (r = size_field(w.size, false, &vg.size, "vg_size", err)) == 0 &&
        (r = size_field(w.free, false, &vg.free, "vg_free", err)) == 0 &&
        (r = size_field(w.extent, false, &vg.extent_size, "vg_extent_size", err)) == 0) {
        if (w.pv_count[0] && slio_parse_u64(w.pv_count, 0, 1u << 20, &pvs) < 0) {
            slio_err_set(err, "field 'pv_count': \"%.32s\" is not a count", w.pv_count);
            r = -EINVAL;
        } else if (vg.extent_size < AGENT_SECTOR || vg.free > vg.size || !vg.name[0]) {
            slio_err_set(err, "field 'vg_extent_size': inconsistent sizes");
            r = -EINVAL;
        }
    }
    if (r < 0) {
        slio_err_prefix(err, "vgs report: row %zu", idx);
        return r;
    }
    vg.pv_count = (uint32_t)pvs;
    lvm_parse_tags(w.tags, &vg.tags);
    ((struct lvm_vg *)o->items)[o->n++] = vg;
    return 0;
}

int lvm_parse_vgs(const char *text, size_t len, struct lvm_vg **ret, size_t *ret_n,
                  struct slio_err *err)
{
    return parse_report("vgs", text, len, "report", "vg", sizeof(struct lvm_vg), vg_row,
                        (void **)ret, ret_n, err);
}

/* ---- pvs ---- */

struct pvs_row {
    const char *name, *vg, *size, *free;
};

static const struct slio_json_field pvs_fields[] = {
    SLIO_JSON_FIELD(struct pvs_row, name, "pv_name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = AGENT_PATH_MAX - 1),
    SLIO_JSON_FIELD(struct pvs_row, vg, "vg_name", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct pvs_row, size, "pv_size", SLIO_JSON_STRING, .required = true),
    SLIO_JSON_FIELD(struct pvs_row, free, "pv_free", SLIO_JSON_STRING, .required = true),
};

static int pv_row(json_t *row, size_t idx, void *out, struct slio_err *err)
{
    struct rows_out *o = out;
    struct lvm_pv pv = {0};
    struct pvs_row w = {"", "", "", ""};
    int r = SLIO_JSON_DECODE(row, pvs_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);

    if (r == 0 && (r = copy_name(pv.name, sizeof(pv.name), w.name, false, "pv_name", err)) == 0 &&
        (r = copy_name(pv.vg, sizeof(pv.vg), w.vg, true, "vg_name", err)) == 0 &&
        (r = size_field(w.size, false, &pv.size, "pv_size", err)) == 0)
        r = size_field(w.free, false, &pv.free, "pv_free", err);
    if (r < 0) {
        slio_err_prefix(err, "pvs report: row %zu", idx);
        return r;
    }
    ((struct lvm_pv *)o->items)[o->n++] = pv;
    return 0;
}

int lvm_parse_pvs(const char *text, size_t len, struct lvm_pv **ret, size_t *ret_n,
                  struct slio_err *err)
{
    return parse_report("pvs", text, len, "report", "pv", sizeof(struct lvm_pv), pv_row,
                        (void **)ret, ret_n, err);
}

/* ---- losetup ---- */

struct loop_row {
    const char *name, *back;
};

static const struct slio_json_field loop_fields[] = {
    SLIO_JSON_FIELD(struct loop_row, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = AGENT_PATH_MAX - 1),
    SLIO_JSON_FIELD(struct loop_row, back, "back-file", SLIO_JSON_STRING,
                    .max = AGENT_PATH_MAX - 1),
};

static int loop_row(json_t *row, size_t idx, void *out, struct slio_err *err)
{
    struct rows_out *o = out;
    struct lvm_loop l = {0};
    struct loop_row w = {"", ""};
    int r;

    /* util-linux prints "back-file": null for a detached-but-listed device */
    if (json_is_object(row) && json_is_null(json_object_get(row, "back-file")))
        json_object_del(row, "back-file");
    r = SLIO_JSON_DECODE(row, loop_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0) {
        slio_err_prefix(err, "losetup report: row %zu", idx);
        return r;
    }
    memcpy(l.name, w.name, strlen(w.name) + 1);
    memcpy(l.back_file, w.back, strlen(w.back) + 1);
    ((struct lvm_loop *)o->items)[o->n++] = l;
    return 0;
}

int lvm_parse_losetup(const char *text, size_t len, struct lvm_loop **ret, size_t *ret_n,
                      struct slio_err *err)
{
    size_t i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t'))
        i++;
    if (i == len) { /* losetup prints nothing at all when no device is set up */
        *ret = calloc(1, sizeof(struct lvm_loop));
        if (!*ret)
            return -ENOMEM;
        *ret_n = 0;
        return 0;
    }
    return parse_report("losetup", text, len, "loopdevices", "loopdevices", sizeof(struct lvm_loop),
                        loop_row, (void **)ret, ret_n, err);
}
