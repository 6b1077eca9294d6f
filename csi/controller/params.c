/* SPDX-License-Identifier: Apache-2.0 */
/*
 * StorageClass parameters → REST VolumeCreate fields. One table: key, kind,
 * REST field. Values are strict (slio_parse_*, enums), strings are bounded.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "controller/params.h"
#include "slio/cleanup.h"
#include "slio/json.h"
#include "slio/parse.h"

#define SK8S_PREFIX   "csi.storage.k8s.io/"
#define SELECTOR_MAX  16 /* terms (VolumeCreate.node_selector maxItems) */
#define SEL_VALUE_MAX 64 /* values per term */

enum kind { K_BOOL, K_U64, K_ENUM, K_STRING, K_SELECTOR, K_MKFS, K_SIZE };

struct param {
    const char *key;
    enum kind kind;
    const char *field;        /* REST field ("a.b" = nested object a) */
    const char *const *names; /* K_ENUM */
    size_t max_len;           /* K_STRING */
};

static const char *const fs_types[] = {"ext4", "xfs", NULL};
static const char *const positions[] = {"any",           "must_local",  "prefer_local",
                                        "prefer_remote", "must_remote", NULL};
static const char *const levels[] = {"node", "rack", "zone", NULL};

static const struct param volume_params[] = {
    {"thin", K_BOOL, "thin", NULL, 0},
    {"fsType", K_ENUM, "fs_type", fs_types, 0},
    {SK8S_PREFIX "fstype", K_ENUM, "fs_type", fs_types, 0},
    {"position", K_ENUM, "position", positions, 0},
    {"spreadGroup", K_STRING, "spread.group", NULL, 128},
    {"spreadLevel", K_ENUM, "spread.level", levels, 0},
    {"spreadHard", K_BOOL, "spread.hard", NULL, 0},
    {"nodeSelector", K_SELECTOR, "node_selector", NULL, 0},
    {"poolSelector", K_SELECTOR, "pool_selector", NULL, 0},
    {"rwIopsPerSec", K_U64, "qos.rw_ios_per_sec", NULL, 0},
    {"rwMBytesPerSec", K_U64, "qos.rw_mbytes_per_sec", NULL, 0},
    {"rMBytesPerSec", K_U64, "qos.r_mbytes_per_sec", NULL, 0},
    {"wMBytesPerSec", K_U64, "qos.w_mbytes_per_sec", NULL, 0},
    {"mkfsOptions", K_MKFS, NULL, NULL, 0},
};

static const struct param snapshot_params[] = {
    {"cowReserve", K_SIZE, "cow_reserve", NULL, 0},
};

static int parse_bool(const char *v, bool *ret)
{
    if (strcmp(v, "true") == 0)
        *ret = true;
    else if (strcmp(v, "false") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

/* Label keys and values: what Kubernetes allows, bounded. */
static bool label_text_ok(const char *s, size_t max, bool key)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || (key && c == '/');
        if (!ok)
            return false;
    }
    return true;
}

/* One term: "k", "!k", "k=v1|v2", "k!=v1|v2". term is modified in place. */
static int parse_term(char *term, json_t **ret, struct slio_err *err)
{
    const char *op = "Exists";
    char *values = NULL;
    char *eq = strchr(term, '=');
    if (eq) {
        values = eq + 1;
        op = "In";
        if (eq > term && eq[-1] == '!') {
            op = "NotIn";
            eq--;
        }
        *eq = '\0';
    } else if (term[0] == '!') {
        op = "DoesNotExist";
        term++;
    }
    if (!label_text_ok(term, 253, true)) {
        slio_err_set(err, "selector key \"%s\": not a label key", term);
        return -EINVAL;
    }
    json_t *t = json_pack("{s:s, s:s}", "key", term, "operator", op);
    json_t *vals = json_array();
    size_t n = 0;
    for (char *save = NULL, *v = values ? strtok_r(values, "|", &save) : NULL; v;
         v = strtok_r(NULL, "|", &save), n++)
        if (n >= SEL_VALUE_MAX || !label_text_ok(v, 63, false) ||
            json_array_append_new(vals, json_string(v)) < 0) {
            slio_err_set(err, "selector value \"%s\": not a label value (or more than %d)", v,
                         SEL_VALUE_MAX);
            json_decref(vals);
            json_decref(t);
            return -EINVAL;
        }
    if (values && n == 0) {
        slio_err_set(err, "selector key \"%s\": no value after '='", term);
        json_decref(vals);
        json_decref(t);
        return -EINVAL;
    }
    json_object_set_new(t, "values", vals);
    *ret = t;
    return 0;
}

int csi_params_selector(const char *text, json_t **ret, struct slio_err *err)
{
    if (strlen(text) > 4096) {
        slio_err_set(err, "selector longer than 4096 bytes");
        return -EINVAL;
    }
    _cleanup_free_ char *copy = strdup(text);
    json_t *terms = json_array();
    if (!copy || !terms) {
        json_decref(terms);
        return -ENOMEM;
    }
    char *save = NULL;
    for (char *term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
        json_t *t;
        if (json_array_size(terms) >= SELECTOR_MAX) {
            slio_err_set(err, "more than %d selector terms", SELECTOR_MAX);
            json_decref(terms);
            return -EINVAL;
        }
        int r = parse_term(term, &t, err);
        if (r < 0) {
            json_decref(terms);
            return r;
        }
        json_array_append_new(terms, t);
    }
    if (json_array_size(terms) == 0) {
        slio_err_set(err, "empty selector");
        json_decref(terms);
        return -EINVAL;
    }
    *ret = terms;
    return 0;
}

/* mkfs options reach an argv (never a shell), still: a plain charset and a bound. */
static bool mkfs_options_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > CSI_MKFS_OPTIONS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_=,.:/^+",
                    s[i]))
            return false;
    return true;
}

/* Put value at "a" or "a.b" in body. */
static int set_field(json_t *body, const char *field, json_t *value)
{
    const char *dot = strchr(field, '.');
    if (!dot)
        return json_object_set_new(body, field, value);
    char parent[32];
    size_t plen = (size_t)(dot - field);
    if (plen >= sizeof(parent)) {
        json_decref(value);
        return -1;
    }
    memcpy(parent, field, plen);
    parent[plen] = '\0';
    json_t *obj = json_object_get(body, parent);
    if (!obj) {
        obj = json_object();
        if (json_object_set_new(body, parent, obj) < 0) {
            json_decref(value);
            return -1;
        }
    }
    return json_object_set_new(obj, dot + 1, value);
}

static int enum_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

/* One value of a known kind → JSON. */
static int convert(const struct param *p, const char *v, json_t **ret, struct slio_err *err)
{
    bool b;
    uint64_t u;
    switch (p->kind) {
    case K_BOOL:
        if (parse_bool(v, &b) < 0)
            break;
        *ret = json_boolean(b);
        return 0;
    case K_U64:
        if (slio_parse_u64(v, 0, INT64_MAX, &u) < 0)
            break;
        *ret = json_integer((json_int_t)u);
        return 0;
    case K_SIZE:
        if (slio_parse_size(v, &u) < 0 || u > INT64_MAX)
            break;
        *ret = json_integer((json_int_t)u);
        return 0;
    case K_ENUM:
        if (enum_index(p->names, v) < 0)
            break;
        *ret = json_string(v);
        return 0;
    case K_STRING:
        if (!label_text_ok(v, p->max_len, false))
            break;
        *ret = json_string(v);
        return 0;
    case K_SELECTOR: {
        int r = csi_params_selector(v, ret, err);
        if (r < 0)
            slio_err_prefix(err, "parameter \"%s\"", p->key);
        return r;
    }
    case K_MKFS:
        if (!mkfs_options_ok(v))
            break;
        *ret = NULL;
        return 0;
    }
    slio_err_set(err, "parameter \"%s\": invalid value \"%.64s\"", p->key, v);
    return -EINVAL;
}

static const struct param *find_param(const struct param *table, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

static int apply(const struct param *table, size_t n_table, const char *const *keys,
                 const char *const *values, size_t n, json_t *body, struct csi_volume_params *vp,
                 struct slio_err *err)
{
    if (n > CSI_PARAMS_MAX) {
        slio_err_set(err, "%zu parameters, at most %d", n, CSI_PARAMS_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct param *p = find_param(table, n_table, keys[i]);
        if (!p && strncmp(keys[i], SK8S_PREFIX, strlen(SK8S_PREFIX)) == 0)
            continue; /* metadata the sidecars add (pvc/name, pvc/namespace, pv/name) */
        if (!p) {
            slio_err_set(err, "parameter \"%.64s\": unknown (see docs/csi.md)", keys[i]);
            return -EINVAL;
        }
        json_t *j = NULL;
        int r = convert(p, values[i], &j, err);
        if (r < 0)
            return r;
        if (vp && p->kind == K_MKFS)
            vp->mkfs_options = values[i];
        if (vp && strcmp(p->field ? p->field : "", "fs_type") == 0)
            vp->fs_type = values[i];
        if (vp && strcmp(p->field ? p->field : "", "thin") == 0)
            vp->thin = json_is_true(j);
        if (j && set_field(body, p->field, j) < 0)
            return -ENOMEM;
    }
    return 0;
}

int csi_params_volume(const char *const *keys, const char *const *values, size_t n, json_t *body,
                      struct csi_volume_params *ret, struct slio_err *err)
{
    struct csi_volume_params vp = {.fs_type = "", .mkfs_options = ""};
    _cleanup_(slio_json_decrefp) json_t *scratch = json_object();
    if (!scratch)
        return -ENOMEM;
    int r =
        apply(volume_params, SLIO_ARRAY_SIZE(volume_params), keys, values, n, scratch, &vp, err);
    if (r < 0)
        return r;
    json_t *spread = json_object_get(scratch, "spread");
    if (spread && !json_object_get(spread, "group")) {
        slio_err_set(err, "parameter \"spreadLevel\"/\"spreadHard\" needs \"spreadGroup\"");
        return -EINVAL;
    }
    if (json_object_update(body, scratch) < 0)
        return -ENOMEM;
    *ret = vp;
    return 0;
}

int csi_params_snapshot(const char *const *keys, const char *const *values, size_t n, json_t *body,
                        struct slio_err *err)
{
    return apply(snapshot_params, SLIO_ARRAY_SIZE(snapshot_params), keys, values, n, body, NULL,
                 err);
}
