/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pool section of the agent's config: one decoder table (embedded by the
 * daemon's config), defaults, and the cross-field rules the table cannot say.
 * Names that end up in LVM commands and tags are checked here, once, so the
 * engines can put them in argv without further thought.
 */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "engine_internal.h"

#define LOOP_FILES_MAX  64
#define DEVICES_MAX     64
#define CONFIG_PATH_MAX 400 /* leaves room for "/volumes/<uuid>.img.json.tmp" */

static void str_list_release(void *member)
{
    struct agent_str_list *l = member;

    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    *l = (struct agent_str_list){0};
}

static int decode_str_list(const json_t *v, void *member, struct slio_err *err)
{
    struct agent_str_list l = {0};
    size_t i;
    json_t *e;

    if (!json_is_array(v)) {
        slio_err_set(err, "expected array, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    if (json_array_size(v) > DEVICES_MAX) {
        slio_err_set(err, "%zu entries, at most %d", json_array_size(v), DEVICES_MAX);
        return -EINVAL;
    }
    l.items = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!l.items)
        return -ENOMEM;
    json_array_foreach (v, i, e) {
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            json_string_length(e) >= CONFIG_PATH_MAX) {
            str_list_release(&l);
            slio_err_set(err, "entry %zu: expected a path of 1..%d bytes", i, CONFIG_PATH_MAX - 1);
            return -EINVAL;
        }
        l.items[l.n] = strdup(json_string_value(e));
        if (!l.items[l.n]) {
            str_list_release(&l);
            return -ENOMEM;
        }
        l.n++;
    }
    memcpy(member, &l, sizeof(l));
    return 0;
}

static const struct slio_json_field loop_file_fields[] = {
    SLIO_JSON_FIELD(struct agent_loop_file, path, "path", SLIO_JSON_STRDUP, .required = true,
                    .min = 1, .max = CONFIG_PATH_MAX - 1),
    SLIO_JSON_FIELD(struct agent_loop_file, size, "size", SLIO_JSON_SIZE, .required = true,
                    .min = AGENT_LOOP_FILE_MIN),
};

static void loop_files_release(void *member)
{
    struct agent_loop_file_list *l = member;

    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].path);
    free(l->items);
    *l = (struct agent_loop_file_list){0};
}

static int decode_loop_files(const json_t *v, void *member, struct slio_err *err)
{
    struct agent_loop_file_list l = {0};
    size_t i;
    json_t *e;
    int r;

    if (!json_is_array(v)) {
        slio_err_set(err, "expected array, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    if (json_array_size(v) > LOOP_FILES_MAX) {
        slio_err_set(err, "%zu entries, at most %d", json_array_size(v), LOOP_FILES_MAX);
        return -EINVAL;
    }
    l.items = calloc(json_array_size(v) + 1, sizeof(*l.items));
    if (!l.items)
        return -ENOMEM;
    json_array_foreach (v, i, e) {
        r = SLIO_JSON_DECODE(e, loop_file_fields, &l.items[l.n], 0, err);
        if (r < 0) {
            loop_files_release(&l);
            slio_err_prefix(err, "entry %zu", i);
            return r;
        }
        l.n++;
    }
    memcpy(member, &l, sizeof(l));
    return 0;
}

static int decode_ratio(const json_t *v, void *member, struct slio_err *err)
{
    double d;

    if (!json_is_number(v)) {
        slio_err_set(err, "expected number, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    d = json_number_value(v);
    if (!isfinite(d) || d < 1.0 || d > 100.0) {
        slio_err_set(err, "%g is out of range [1, 100]", d);
        return -EINVAL;
    }
    memcpy(member, &d, sizeof(d));
    return 0;
}

static const struct slio_json_field autoextend_fields[] = {
    SLIO_JSON_FIELD(struct agent_autoextend_policy, threshold_percent, "threshold_percent",
                    SLIO_JSON_U32, .max = 99),
    SLIO_JSON_FIELD(struct agent_autoextend_policy, step, "step", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct agent_autoextend_policy, step_percent, "step_percent", SLIO_JSON_U32,
                    .min = 1, .max = 100),
    SLIO_JSON_FIELD(struct agent_autoextend_policy, ceiling, "ceiling", SLIO_JSON_SIZE),
};

static const struct slio_json_field thin_fields[] = {
    SLIO_JSON_FIELD(struct agent_thin_config, pool, "pool", SLIO_JSON_STRDUP, .required = true,
                    .min = 1, .max = AGENT_LV_NAME_MAX),
    SLIO_JSON_FIELD(struct agent_thin_config, size, "size", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct agent_thin_config, size_percent, "size_percent", SLIO_JSON_U32, .min = 1,
                    .max = 100),
    SLIO_JSON_FIELD(struct agent_thin_config, metadata_size, "metadata_size", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct agent_thin_config, overprovision, "overprovision", SLIO_JSON_CUSTOM,
                    .decode = decode_ratio),
    SLIO_JSON_FIELD(struct agent_thin_config, autoextend, "autoextend", SLIO_JSON_OBJECT,
                    .fields = autoextend_fields, .n_fields = SLIO_ARRAY_SIZE(autoextend_fields)),
};

static const struct slio_json_field lvm_fields[] = {
    SLIO_JSON_FIELD(struct agent_lvm_config, vg, "vg", SLIO_JSON_STRDUP, .required = true, .min = 1,
                    .max = AGENT_LV_NAME_MAX),
    SLIO_JSON_FIELD(struct agent_lvm_config, devices, "devices", SLIO_JSON_CUSTOM,
                    .decode = decode_str_list, .release = str_list_release),
    SLIO_JSON_FIELD(struct agent_lvm_config, loop_files, "loop_files", SLIO_JSON_CUSTOM,
                    .decode = decode_loop_files, .release = loop_files_release),
    SLIO_JSON_FIELD(struct agent_lvm_config, adopt, "adopt", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct agent_lvm_config, stripes, "stripes", SLIO_JSON_U32, .min = 1,
                    .max = 128),
    SLIO_JSON_FIELD(struct agent_lvm_config, stripe_size, "stripe_size", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct agent_lvm_config, thin, "thin", SLIO_JSON_OBJECT, .fields = thin_fields,
                    .n_fields = SLIO_ARRAY_SIZE(thin_fields)),
    SLIO_JSON_FIELD(struct agent_lvm_config, command_timeout_us, "command_timeout",
                    SLIO_JSON_DURATION, .min = 1000000),
    SLIO_JSON_FIELD(struct agent_lvm_config, dev_dir, "dev_dir", SLIO_JSON_STRDUP, .min = 1,
                    .max = 200),
};

static const struct slio_json_field file_fields[] = {
    SLIO_JSON_FIELD(struct agent_file_config, dir, "dir", SLIO_JSON_STRDUP, .required = true,
                    .min = 1, .max = CONFIG_PATH_MAX - 1),
    SLIO_JSON_FIELD(struct agent_file_config, capacity, "capacity", SLIO_JSON_SIZE,
                    .required = true, .min = 1),
};

const struct slio_json_field agent_pool_config_fields[AGENT_POOL_CONFIG_N_FIELDS] = {
    SLIO_JSON_FIELD(struct agent_pool_config, name, "name", SLIO_JSON_STRDUP, .required = true,
                    .min = 1, .max = AGENT_POOL_NAME_MAX),
    SLIO_JSON_FIELD(struct agent_pool_config, engine, "engine", SLIO_JSON_STRDUP, .required = true,
                    .min = 1, .max = 16),
    SLIO_JSON_FIELD(struct agent_pool_config, lvm, "lvm", SLIO_JSON_OBJECT, .fields = lvm_fields,
                    .n_fields = SLIO_ARRAY_SIZE(lvm_fields)),
    SLIO_JSON_FIELD(struct agent_pool_config, file, "file", SLIO_JSON_OBJECT, .fields = file_fields,
                    .n_fields = SLIO_ARRAY_SIZE(file_fields)),
};

void agent_pool_config_init(struct agent_pool_config *cfg)
{
    *cfg = (struct agent_pool_config){
        .lvm =
            {
                .stripes = 1,
                .command_timeout_us = 600ull * 1000000,
                .thin =
                    {
                        .overprovision = 4.0,
                        .autoextend = {.threshold_percent = 80, .step_percent = 20},
                    },
            },
    };
}

void agent_pool_config_release(struct agent_pool_config *cfg)
{
    if (!cfg)
        return;
    slio_json_release_object(agent_pool_config_fields, AGENT_POOL_CONFIG_N_FIELDS, cfg);
    *cfg = (struct agent_pool_config){0};
}

static int validate_paths(const char *field, char *const *paths, size_t n, struct slio_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (paths[i][0] != '/') {
            slio_err_set(err, "field '%s': entry %zu: \"%s\" is not an absolute path", field, i,
                         paths[i]);
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(paths[i], paths[j]) == 0) {
                slio_err_set(err, "field '%s': \"%s\" is listed twice", field, paths[i]);
                return -EINVAL;
            }
    }
    return 0;
}

static int validate_thin(const struct agent_thin_config *t, struct slio_err *err)
{
    const struct agent_autoextend_policy *a = &t->autoextend;

    if (!t->pool)
        return 0;
    if (!agent_lvm_name_valid(t->pool)) {
        slio_err_set(err, "field 'pool.lvm.thin.pool': \"%s\" is not a valid LV name", t->pool);
        return -EINVAL;
    }
    if (t->size && t->size_percent) {
        slio_err_set(err, "field 'pool.lvm.thin.size': give size or size_percent, not both");
        return -EINVAL;
    }
    if (a->threshold_percent != 0 && a->threshold_percent < 50) {
        slio_err_set(err,
                     "field 'pool.lvm.thin.autoextend.threshold_percent': %u is below 50 "
                     "(0 switches auto-extend off)",
                     a->threshold_percent);
        return -EINVAL;
    }
    if (a->ceiling && t->size && a->ceiling < t->size) {
        slio_err_set(err, "field 'pool.lvm.thin.autoextend.ceiling': below the pool's size");
        return -EINVAL;
    }
    return 0;
}

static int validate_lvm(const struct agent_lvm_config *l, struct slio_err *err)
{
    int r;

    if (!l->vg) {
        slio_err_set(err, "field 'pool.lvm': missing (engine lvm)");
        return -EINVAL;
    }
    if (!agent_lvm_name_valid(l->vg)) {
        slio_err_set(err, "field 'pool.lvm.vg': \"%s\" is not a valid VG name", l->vg);
        return -EINVAL;
    }
    if (l->adopt && (l->devices.n || l->loop_files.n)) {
        slio_err_set(err, "field 'pool.lvm.adopt': an adopted VG takes no devices or loop_files");
        return -EINVAL;
    }
    if (!l->adopt && !l->devices.n && !l->loop_files.n) {
        slio_err_set(err, "field 'pool.lvm.devices': give devices or loop_files, or adopt: true");
        return -EINVAL;
    }
    r = validate_paths("pool.lvm.devices", l->devices.items, l->devices.n, err);
    for (size_t i = 0; r == 0 && i < l->loop_files.n; i++)
        if (l->loop_files.items[i].path[0] != '/') {
            slio_err_set(err, "field 'pool.lvm.loop_files': entry %zu: \"%s\" is not absolute", i,
                         l->loop_files.items[i].path);
            r = -EINVAL;
        }
    if (r == 0 && l->dev_dir && l->dev_dir[0] != '/') {
        slio_err_set(err, "field 'pool.lvm.dev_dir': \"%s\" is not absolute", l->dev_dir);
        r = -EINVAL;
    }
    return r < 0 ? r : validate_thin(&l->thin, err);
}

static int validate_file(const struct agent_file_config *f, struct slio_err *err)
{
    if (!f->dir) {
        slio_err_set(err, "field 'pool.file': missing (engine file)");
        return -EINVAL;
    }
    if (f->dir[0] != '/') {
        slio_err_set(err, "field 'pool.file.dir': \"%s\" is not an absolute path", f->dir);
        return -EINVAL;
    }
    return 0;
}

int agent_pool_config_validate(const struct agent_pool_config *cfg, struct slio_err *err)
{
    if (!cfg->name || !agent_pool_name_valid(cfg->name)) {
        slio_err_set(err,
                     "field 'pool.name': \"%s\" must be 1-%d of [A-Za-z0-9_.-], starting with a "
                     "letter or digit",
                     cfg->name ? cfg->name : "", AGENT_POOL_NAME_MAX);
        return -EINVAL;
    }
    if (!cfg->engine || !agent_engine_find(cfg->engine)) {
        slio_err_set(err, "field 'pool.engine': \"%s\" is not an engine (lvm, file)",
                     cfg->engine ? cfg->engine : "");
        return -EINVAL;
    }
    if (strcmp(cfg->engine, "lvm") == 0)
        return validate_lvm(&cfg->lvm, err);
    return validate_file(&cfg->file, err);
}

/* Decoded as the `pool:` member of a document, so that errors carry the same
 * paths ("field 'pool.lvm.vg': missing") as in the agent's whole config. */
struct pool_doc {
    struct agent_pool_config pool;
};

static const struct slio_json_field pool_doc_fields[] = {
    SLIO_JSON_FIELD(struct pool_doc, pool, "pool", SLIO_JSON_OBJECT, .required = true,
                    .fields = agent_pool_config_fields, .n_fields = AGENT_POOL_CONFIG_N_FIELDS),
};

int agent_pool_config_decode(const json_t *obj, struct agent_pool_config *ret, struct slio_err *err)
{
    _cleanup_json_ json_t *doc = NULL;
    struct pool_doc d;
    int r;

    if (!json_is_object(obj)) {
        slio_err_set(err, "field 'pool': expected object, got %s", slio_json_type_name(obj));
        return -EINVAL;
    }
    doc = json_pack("{s:O}", "pool", obj);
    if (!doc)
        return -ENOMEM;
    agent_pool_config_init(&d.pool);
    r = SLIO_JSON_DECODE(doc, pool_doc_fields, &d, 0, err);
    if (r < 0)
        return r;
    r = agent_pool_config_validate(&d.pool, err);
    if (r < 0) {
        agent_pool_config_release(&d.pool);
        return r;
    }
    *ret = d.pool;
    return 0;
}
