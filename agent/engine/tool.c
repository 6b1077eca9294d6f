/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-engine-tool: drive one pool engine from the command line, the way the
 * agent does (VM scenarios, debugging). Prints one JSON document on stdout.
 *
 *   slio-engine-tool -c pool.yaml status|list|autoextend
 *   slio-engine-tool -c pool.yaml create UUID SIZE [--thin] [--stripes N] [--name HINT]
 *                                        [--from-snapshot UUID | --from-volume UUID]
 *   slio-engine-tool -c pool.yaml expand UUID SIZE
 *   slio-engine-tool -c pool.yaml delete UUID [--discard]
 *   slio-engine-tool -c pool.yaml snapshot VOLUME-UUID SNAPSHOT-UUID [--reserve SIZE]
 *   slio-engine-tool -c pool.yaml delete-snapshot UUID
 *
 * The config is the agent's (its `pool:` section) or a bare pool section.
 * Exit status: 0 done, 1 the engine refused or failed (reason on stderr),
 * 2 usage or config error.
 */
#include <getopt.h>
#include <string.h>

#include "engine.h"
#include "slio/config.h"
#include "slio/parse.h"
#include "slio/uuid.h"

struct args {
    const char *config, *name, *reserve;
    bool thin, discard;
    uint32_t stripes;
    enum agent_source_kind source;
    const char *source_uuid;
    char **pos; /* command and its operands */
    int n_pos;
};

static void usage(FILE *f)
{
    fputs("Usage: slio-engine-tool -c CONFIG COMMAND [ARGS]\n"
          "  status | list | autoextend\n"
          "  create UUID SIZE [--thin] [--stripes N] [--name HINT]\n"
          "                   [--from-snapshot UUID | --from-volume UUID]\n"
          "  expand UUID SIZE\n"
          "  delete UUID [--discard]\n"
          "  snapshot VOLUME-UUID SNAPSHOT-UUID [--reserve SIZE]\n"
          "  delete-snapshot UUID\n"
          "SIZE: bytes or a quantity such as 10Gi. Output: JSON on stdout.\n",
          f);
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"thin", no_argument, NULL, 't'},
        {"stripes", required_argument, NULL, 's'},
        {"name", required_argument, NULL, 'n'},
        {"from-snapshot", required_argument, NULL, 'S'},
        {"from-volume", required_argument, NULL, 'V'},
        {"discard", no_argument, NULL, 'd'},
        {"reserve", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 't':
            a->thin = true;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'd':
            a->discard = true;
            break;
        case 'r':
            a->reserve = optarg;
            break;
        case 'S':
        case 'V':
            a->source = c == 'S' ? AGENT_SOURCE_SNAPSHOT : AGENT_SOURCE_VOLUME;
            a->source_uuid = optarg;
            break;
        case 's':
            if (slio_parse_u32(optarg, 1, 128, &a->stripes) < 0) {
                fprintf(stderr, "slio-engine-tool: --stripes \"%s\": 1..128\n", optarg);
                return -EINVAL;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -EINVAL;
        }
    }
    a->pos = argv + optind;
    a->n_pos = argc - optind;
    return a->config && a->n_pos >= 1 ? 0 : -EINVAL;
}

static int load_config(const char *path, struct agent_pool_config *cfg)
{
    struct slio_err err = {{0}};
    json_t *j = NULL, *pool;
    int r = slio_config_load_file(path, NULL, &j, &err);

    if (r == 0) {
        pool = json_object_get(j, "pool");
        r = agent_pool_config_decode(pool ? pool : j, cfg, &err);
    }
    json_decref(j);
    if (r < 0)
        fprintf(stderr, "slio-engine-tool: config \"%s\": %s\n", path, err.text);
    return r;
}

static json_t *volume_json(const struct agent_volume *v)
{
    char u[SLIO_UUID_STR_LEN], o[SLIO_UUID_STR_LEN];
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:b, s:I, s:I, s:f, s:i, s:s, s:s}", "uuid", slio_uuid_format(v->uuid, u),
        "kind", agent_vol_kind_name(v->kind), "state", agent_vol_state_name(v->state), "thin",
        v->thin, "size", (json_int_t)v->size, "reserved", (json_int_t)v->reserved, "used_percent",
        v->used_percent, "stripes", (int)v->stripes, "name", v->name, "path", v->path);

    if (j && v->has_origin)
        json_object_set_new(j, "origin", json_string(slio_uuid_format(v->origin, o)));
    return j;
}

static json_t *status_json(const struct agent_pool_status *s)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:b, s:I, s:f, s:f, s:I, s:f, "
                     "s:f, s:I}",
                     "pool", s->pool, "engine", s->engine, "vg", s->vg, "capacity",
                     (json_int_t)s->capacity, "free", (json_int_t)s->free, "allocated",
                     (json_int_t)s->allocated, "volumes", (int)s->volumes, "snapshots",
                     (int)s->snapshots, "thin", s->thin, "thin_size", (json_int_t)s->thin_size,
                     "thin_data_percent", s->thin_data_percent, "thin_meta_percent",
                     s->thin_meta_percent, "thin_virtual", (json_int_t)s->thin_virtual,
                     "overprovision", s->overprovision, "overprovision_max", s->overprovision_max,
                     "thin_virtual_free", (json_int_t)s->thin_virtual_free);
}

static int operand_uuid(const struct args *a, int i, uuid_t ret)
{
    if (i >= a->n_pos || slio_uuid_parse(a->pos[i], ret) < 0) {
        fprintf(stderr, "slio-engine-tool: %s: operand %d must be a UUID\n", a->pos[0], i);
        return -EINVAL;
    }
    return 0;
}

static int operand_size(const struct args *a, int i, uint64_t *ret)
{
    if (i >= a->n_pos || slio_parse_size(a->pos[i], ret) < 0) {
        fprintf(stderr, "slio-engine-tool: %s: operand %d must be a size (10Gi)\n", a->pos[0], i);
        return -EINVAL;
    }
    return 0;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    fprintf(stderr, "copied %llu of %llu bytes\n", (unsigned long long)done,
            (unsigned long long)total);
}

static int cmd_create(struct agent_engine *e, const struct args *a, json_t **out,
                      struct slio_err *err)
{
    struct agent_volume_spec spec = {.thin = a->thin,
                                     .stripes = a->stripes,
                                     .name_hint = a->name,
                                     .source = a->source,
                                     .progress = on_progress};
    struct agent_volume v;
    int r;

    if (operand_uuid(a, 1, spec.uuid) < 0 || operand_size(a, 2, &spec.size) < 0)
        return -EINVAL;
    if (a->source && slio_uuid_parse(a->source_uuid, spec.source_uuid) < 0) {
        fprintf(stderr, "slio-engine-tool: \"%s\" is not a UUID\n", a->source_uuid);
        return -EINVAL;
    }
    r = agent_engine_create_volume(e, &spec, &v, err);
    if (r == 0)
        *out = volume_json(&v);
    return r;
}

static int cmd_snapshot(struct agent_engine *e, const struct args *a, json_t **out,
                        struct slio_err *err)
{
    struct agent_snapshot_spec spec = {0};
    struct agent_volume v;
    int r;

    if (operand_uuid(a, 1, spec.volume) < 0 || operand_uuid(a, 2, spec.snapshot) < 0)
        return -EINVAL;
    if (a->reserve && slio_parse_size(a->reserve, &spec.cow_reserve) < 0) {
        fprintf(stderr, "slio-engine-tool: --reserve \"%s\" is not a size\n", a->reserve);
        return -EINVAL;
    }
    r = agent_engine_create_snapshot(e, &spec, &v, err);
    if (r == 0)
        *out = volume_json(&v);
    return r;
}

static int cmd_list(struct agent_engine *e, json_t **out, struct slio_err *err)
{
    struct agent_volume_list l = {0};
    int r = agent_engine_list_volumes(e, &l, err);

    if (r < 0)
        return r;
    *out = json_array();
    for (size_t i = 0; *out && i < l.n; i++)
        json_array_append_new(*out, volume_json(&l.items[i]));
    agent_volume_list_free(&l);
    return 0;
}

static int cmd_simple(struct agent_engine *e, const struct args *a, json_t **out,
                      struct slio_err *err)
{
    const char *cmd = a->pos[0];
    struct agent_pool_status st;
    struct agent_autoextend_result ar;
    struct agent_volume v;
    uuid_t u;
    uint64_t size;
    int r;

    if (strcmp(cmd, "status") == 0) {
        r = agent_engine_pool_status(e, &st, err);
        if (r == 0)
            *out = status_json(&st);
    } else if (strcmp(cmd, "autoextend") == 0) {
        r = agent_engine_thin_autoextend(e, NULL, &ar, err);
        if (r == 0)
            *out = json_pack("{s:s, s:b, s:I, s:I, s:f, s:f, s:s}", "level",
                             agent_thin_level_name(ar.level), "extended", ar.extended, "old_size",
                             (json_int_t)ar.old_size, "new_size", (json_int_t)ar.new_size,
                             "data_percent", ar.data_percent, "meta_percent", ar.meta_percent,
                             "message", ar.message);
    } else if (strcmp(cmd, "expand") == 0) {
        if (operand_uuid(a, 1, u) < 0 || operand_size(a, 2, &size) < 0)
            return -EINVAL;
        r = agent_engine_expand_volume(e, u, size, &v, err);
        if (r == 0)
            *out = volume_json(&v);
    } else {
        if (operand_uuid(a, 1, u) < 0)
            return -EINVAL;
        r = strcmp(cmd, "delete") == 0 ? agent_engine_delete_volume(e, u, a->discard, err)
                                       : agent_engine_delete_snapshot(e, u, err);
        if (r == 0)
            *out = json_pack("{s:b}", "deleted", true);
    }
    return r;
}

static int run(struct agent_engine *e, const struct args *a, json_t **out, struct slio_err *err)
{
    static const char *const simple[] = {"status", "autoextend", "expand", "delete",
                                         "delete-snapshot"};
    const char *cmd = a->pos[0];

    if (strcmp(cmd, "create") == 0)
        return cmd_create(e, a, out, err);
    if (strcmp(cmd, "snapshot") == 0)
        return cmd_snapshot(e, a, out, err);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(e, out, err);
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(simple); i++)
        if (strcmp(cmd, simple[i]) == 0)
            return cmd_simple(e, a, out, err);
    fprintf(stderr, "slio-engine-tool: unknown command \"%s\"\n", cmd);
    return -EINVAL;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    struct agent_pool_config cfg;
    struct agent_engine *e = NULL;
    struct slio_err err = {{0}};
    json_t *out = NULL;
    int r;

    if (parse_args(argc, argv, &a) < 0) {
        usage(stderr);
        return 2;
    }
    if (load_config(a.config, &cfg) < 0)
        return 2;
    r = agent_engine_open(&cfg, &e, &err);
    if (r == 0) {
        r = run(e, &a, &out, &err);
        agent_engine_close(&e);
    }
    agent_pool_config_release(&cfg);
    if (r == -EINVAL && !err.text[0])
        return 2;
    if (r < 0) {
        fprintf(stderr, "slio-engine-tool: %s (%s)\n", err.text, strerror(-r));
        return 1;
    }
    if (out) {
        char *s = slio_json_dump(out, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
        json_decref(out);
    }
    return 0;
}
