/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the controller's DesiredState (untrusted: bounded, type-checked). */
#include <string.h>

#include "reconcile/desired.h"
#include "slio/json.h"
#include "slio/nqn.h"
#include "slio/uuid.h"

static const char *const state_names[] = {"present", "absent", NULL};

struct source_view {
    const char *snapshot, *volume;
};
static const struct slio_json_field source_fields[] = {
    SLIO_JSON_FIELD(struct source_view, snapshot, "snapshot", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct source_view, volume, "volume", SLIO_JSON_STRING),
};

struct volume_view {
    uuid_t id;
    const char *name, *pool;
    uint64_t size;
    bool thin;
    int state;
    const char *phase;
    bool carved;
    json_t *source, *exports;
    struct agent_qos qos;
};

static const struct slio_json_field qos_fields[] = {
    SLIO_JSON_FIELD(struct agent_qos, rw_ios_per_sec, "rw_ios_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, rw_mbytes_per_sec, "rw_mbytes_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, r_mbytes_per_sec, "r_mbytes_per_sec", SLIO_JSON_U64),
    SLIO_JSON_FIELD(struct agent_qos, w_mbytes_per_sec, "w_mbytes_per_sec", SLIO_JSON_U64),
};

static const struct slio_json_field volume_fields[] = {
    SLIO_JSON_FIELD(struct volume_view, id, "id", SLIO_JSON_UUID, .required = true),
    SLIO_JSON_FIELD(struct volume_view, name, "name", SLIO_JSON_STRING, .max = AGENT_NAME_MAX - 1),
    SLIO_JSON_FIELD(struct volume_view, pool, "pool", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = AGENT_POOL_NAME_MAX),
    SLIO_JSON_FIELD(struct volume_view, size, "size", SLIO_JSON_SIZE, .required = true, .min = 1),
    SLIO_JSON_FIELD(struct volume_view, thin, "thin", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct volume_view, state, "state", SLIO_JSON_ENUM, .names = state_names),
    SLIO_JSON_FIELD(struct volume_view, phase, "phase", SLIO_JSON_STRING, .max = 32),
    SLIO_JSON_FIELD(struct volume_view, carved, "carved", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct volume_view, source, "source", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct volume_view, exports, "exports", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct volume_view, qos, "qos", SLIO_JSON_OBJECT, .fields = qos_fields,
                    .n_fields = SLIO_ARRAY_SIZE(qos_fields)),
};

struct snapshot_view {
    uuid_t id, volume;
    const char *pool;
    uint64_t cow_reserve;
    int state;
};
static const struct slio_json_field snapshot_fields[] = {
    SLIO_JSON_FIELD(struct snapshot_view, id, "id", SLIO_JSON_UUID, .required = true),
    SLIO_JSON_FIELD(struct snapshot_view, volume, "volume", SLIO_JSON_UUID, .required = true),
    SLIO_JSON_FIELD(struct snapshot_view, pool, "pool", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = AGENT_POOL_NAME_MAX),
    SLIO_JSON_FIELD(struct snapshot_view, cow_reserve, "cow_reserve", SLIO_JSON_SIZE),
    SLIO_JSON_FIELD(struct snapshot_view, state, "state", SLIO_JSON_ENUM, .names = state_names),
};

static int decode_source(const json_t *src, struct agent_desired_volume *v, struct slio_err *err)
{
    struct source_view s = {0};
    int r;

    v->source = AGENT_SOURCE_NONE;
    if (!src || json_is_null(src))
        return 0;
    r = SLIO_JSON_DECODE(src, source_fields, &s, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        return r;
    if (s.snapshot && *s.snapshot && s.volume && *s.volume) {
        slio_err_set(err, "source: both snapshot and volume");
        return -EINVAL;
    }
    if (s.snapshot && *s.snapshot) {
        v->source = AGENT_SOURCE_SNAPSHOT;
        r = slio_uuid_parse(s.snapshot, v->source_uuid);
    } else if (s.volume && *s.volume) {
        v->source = AGENT_SOURCE_VOLUME;
        r = slio_uuid_parse(s.volume, v->source_uuid);
    }
    if (r < 0)
        slio_err_set(err, "source: not a UUID");
    return r;
}

/* An export's optional secret: a string in the NVMe secret representation. Errors name
 * the member, never quote the value. */
static int decode_secret(const json_t *e, const char *member, size_t i, char **ret,
                         struct slio_err *err)
{
    const json_t *v = json_object_get(e, member);

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !slio_dhchap_secret_valid(json_string_value(v))) {
        slio_err_set(err, "exports[%zu].%s: not an NVMe DH-HMAC-CHAP secret", i, member);
        return -EINVAL;
    }
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

static int decode_exports(const json_t *exports, struct agent_desired_volume *v,
                          struct slio_err *err)
{
    size_t i;
    json_t *e;
    int r;

    if (!exports || json_is_null(exports))
        return 0;
    if (!json_is_array(exports) || json_array_size(exports) > AGENT_EXPORT_HOSTS_MAX) {
        slio_err_set(err, "exports: expected an array of at most %d", AGENT_EXPORT_HOSTS_MAX);
        return -EINVAL;
    }
    v->hosts = calloc(json_array_size(exports) + 1, sizeof(char *));
    v->host_keys = calloc(json_array_size(exports) + 1, sizeof(char *));
    v->ctrl_keys = calloc(json_array_size(exports) + 1, sizeof(char *));
    if (!v->hosts || !v->host_keys || !v->ctrl_keys)
        return -ENOMEM;
    json_array_foreach (exports, i, e) {
        const char *nqn = json_string_value(json_object_get(e, "host_nqn"));
        if (!nqn || slio_nqn_validate(nqn) < 0) {
            slio_err_set(err, "exports[%zu].host_nqn: not a valid NQN", i);
            return -EINVAL;
        }
        v->hosts[v->n_hosts] = strdup(nqn);
        if (!v->hosts[v->n_hosts])
            return -ENOMEM;
        v->n_hosts++;
        r = decode_secret(e, "dhchap_key", i, &v->host_keys[i], err);
        if (r == 0)
            r = decode_secret(e, "dhchap_ctrl_key", i, &v->ctrl_keys[i], err);
        if (r == 0 && v->ctrl_keys[i] && !v->host_keys[i]) {
            slio_err_set(err, "exports[%zu].dhchap_ctrl_key: needs dhchap_key", i);
            r = -EINVAL;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

static int decode_volume(const json_t *e, struct agent_desired_volume *v, struct slio_err *err)
{
    struct volume_view w = {0};
    int r;

    r = SLIO_JSON_DECODE(e, volume_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        return r;
    uuid_copy(v->id, w.id);
    snprintf(v->name, sizeof(v->name), "%s", w.name ? w.name : "");
    snprintf(v->pool, sizeof(v->pool), "%s", w.pool);
    v->size = w.size;
    v->thin = w.thin;
    v->absent = w.state == 1;
    v->existed = w.carved ||
                 (w.phase && (strcmp(w.phase, "ready") == 0 || strcmp(w.phase, "expanding") == 0));
    v->qos = w.qos;
    r = decode_source(w.source, v, err);
    if (r == 0)
        r = decode_exports(w.exports, v, err);
    return r;
}

static int decode_snapshot(const json_t *e, struct agent_desired_snapshot *s, struct slio_err *err)
{
    struct snapshot_view w = {0};
    int r;

    r = SLIO_JSON_DECODE(e, snapshot_fields, &w, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        return r;
    uuid_copy(s->id, w.id);
    uuid_copy(s->volume, w.volume);
    snprintf(s->pool, sizeof(s->pool), "%s", w.pool);
    s->cow_reserve = w.cow_reserve;
    s->absent = w.state == 1;
    return 0;
}

static int check_array(const json_t *a, const char *what, struct slio_err *err)
{
    if (a && !json_is_array(a)) {
        slio_err_set(err, "%s: expected an array", what);
        return -EINVAL;
    }
    if (json_array_size(a) > AGENT_DESIRED_MAX) {
        slio_err_set(err, "%s: %zu entries, at most %d", what, json_array_size(a),
                     AGENT_DESIRED_MAX);
        return -EINVAL;
    }
    return 0;
}

static int decode_lists(const json_t *vols, const json_t *snaps, struct agent_desired *d,
                        struct slio_err *err)
{
    size_t i;
    json_t *e;
    int r;

    d->volumes = calloc(json_array_size(vols) + 1, sizeof(*d->volumes));
    d->snapshots = calloc(json_array_size(snaps) + 1, sizeof(*d->snapshots));
    if (!d->volumes || !d->snapshots)
        return -ENOMEM;
    json_array_foreach (vols, i, e) {
        d->n_volumes++;
        r = decode_volume(e, &d->volumes[i], err);
        if (r < 0) {
            slio_err_prefix(err, "volumes[%zu]", i);
            return r;
        }
    }
    json_array_foreach (snaps, i, e) {
        d->n_snapshots++;
        r = decode_snapshot(e, &d->snapshots[i], err);
        if (r < 0) {
            slio_err_prefix(err, "snapshots[%zu]", i);
            return r;
        }
    }
    return 0;
}

int agent_desired_decode(const json_t *body, struct agent_desired *ret, struct slio_err *err)
{
    json_t *vols = json_object_get(body, "volumes"), *snaps = json_object_get(body, "snapshots");
    json_t *rev = json_object_get(body, "revision");
    struct agent_desired d = {0};
    int r;

    if (!json_is_object(body) || !json_is_integer(rev) || json_integer_value(rev) < 0) {
        slio_err_set(err, "desired state: expected an object with a revision >= 0");
        return -EINVAL;
    }
    r = check_array(vols, "volumes", err);
    if (r == 0)
        r = check_array(snaps, "snapshots", err);
    if (r == 0)
        r = decode_lists(vols, snaps, &d, err);
    if (r < 0) {
        agent_desired_free(&d);
        return r;
    }
    d.revision = json_integer_value(rev);
    *ret = d;
    return 0;
}

static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

void agent_desired_free(struct agent_desired *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_volumes; i++) {
        struct agent_desired_volume *v = &d->volumes[i];
        for (size_t j = 0; j < v->n_hosts; j++)
            free(v->hosts[j]);
        for (size_t j = 0; j < v->n_hosts; j++) {
            free_secret(v->host_keys ? v->host_keys[j] : NULL);
            free_secret(v->ctrl_keys ? v->ctrl_keys[j] : NULL);
        }
        free(v->hosts);
        free(v->host_keys);
        free(v->ctrl_keys);
    }
    free(d->volumes);
    free(d->snapshots);
    *d = (struct agent_desired){0};
}

const struct agent_desired_volume *agent_desired_find_volume(const struct agent_desired *d,
                                                             const uuid_t id)
{
    for (size_t i = 0; d && i < d->n_volumes; i++)
        if (uuid_compare(d->volumes[i].id, id) == 0)
            return &d->volumes[i];
    return NULL;
}

const struct agent_desired_snapshot *agent_desired_find_snapshot(const struct agent_desired *d,
                                                                 const uuid_t id)
{
    for (size_t i = 0; d && i < d->n_snapshots; i++)
        if (uuid_compare(d->snapshots[i].id, id) == 0)
            return &d->snapshots[i];
    return NULL;
}
