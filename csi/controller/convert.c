/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "controller/convert.h"
#include "csi.h"
#include "rest.h"

const char *csi_json_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

Csi__V1__Topology *csi_topology_node(struct csi_arena *a, const char *node)
{
    Csi__V1__Topology *t = CSI_ARENA_NEW(a, Csi__V1__Topology);
    Csi__V1__Topology__SegmentsEntry *e = CSI_ARENA_NEW(a, Csi__V1__Topology__SegmentsEntry);
    Csi__V1__Topology__SegmentsEntry **arr =
        CSI_ARENA_ARRAY(a, Csi__V1__Topology__SegmentsEntry *, 1);
    if (!t || !e || !arr)
        return NULL;
    csi__v1__topology__init(t);
    csi__v1__topology__segments_entry__init(e);
    e->key = (char *)CSI_TOPOLOGY_NODE;
    e->value = csi_arena_strdup(a, node);
    arr[0] = e;
    t->segments = arr;
    t->n_segments = 1;
    return t;
}

static Csi__V1__VolumeContentSource *content_source(struct csi_arena *a, const json_t *src)
{
    const char *snap = csi_json_str(src, "snapshot"), *vol = csi_json_str(src, "volume");
    if (!snap[0] && !vol[0])
        return NULL;
    Csi__V1__VolumeContentSource *cs = CSI_ARENA_NEW(a, Csi__V1__VolumeContentSource);
    if (!cs)
        return NULL;
    csi__v1__volume_content_source__init(cs);
    if (snap[0]) {
        Csi__V1__VolumeContentSource__SnapshotSource *s =
            CSI_ARENA_NEW(a, Csi__V1__VolumeContentSource__SnapshotSource);
        if (!s)
            return NULL;
        csi__v1__volume_content_source__snapshot_source__init(s);
        s->snapshot_id = csi_arena_strdup(a, snap);
        cs->type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
        cs->snapshot = s;
    } else {
        Csi__V1__VolumeContentSource__VolumeSource *s =
            CSI_ARENA_NEW(a, Csi__V1__VolumeContentSource__VolumeSource);
        if (!s)
            return NULL;
        csi__v1__volume_content_source__volume_source__init(s);
        s->volume_id = csi_arena_strdup(a, vol);
        cs->type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
        cs->volume = s;
    }
    return cs;
}

static void volume_context(struct csi_arena *a, Csi__V1__Volume *vol, const json_t *v,
                           const char *const *keys, const char *const *values, size_t n)
{
    const char *ck[8], *cv[8];
    size_t m = 0;
    if (csi_json_str(v, "fs_type")[0]) {
        ck[m] = "fsType";
        cv[m++] = csi_json_str(v, "fs_type");
    }
    for (size_t i = 0; i < n && m < SLIO_ARRAY_SIZE(ck); i++)
        if (values[i] && values[i][0]) {
            ck[m] = keys[i];
            cv[m++] = values[i];
        }
    vol->volume_context = CSI_ARENA_ARRAY(a, Csi__V1__Volume__VolumeContextEntry *, m);
    for (size_t i = 0; vol->volume_context && i < m; i++) {
        Csi__V1__Volume__VolumeContextEntry *e =
            CSI_ARENA_NEW(a, Csi__V1__Volume__VolumeContextEntry);
        if (!e)
            return;
        csi__v1__volume__volume_context_entry__init(e);
        e->key = csi_arena_strdup(a, ck[i]);
        e->value = csi_arena_strdup(a, cv[i]);
        vol->volume_context[vol->n_volume_context++] = e;
    }
}

Csi__V1__Volume *csi_volume_from_rest(struct csi_arena *a, const json_t *v,
                                      const char *const *extra_keys,
                                      const char *const *extra_values, size_t n_extra)
{
    Csi__V1__Volume *vol = CSI_ARENA_NEW(a, Csi__V1__Volume);
    if (!vol)
        return NULL;
    csi__v1__volume__init(vol);
    vol->capacity_bytes = json_integer_value(json_object_get(v, "size"));
    vol->volume_id = csi_arena_strdup(a, csi_json_str(v, "id"));
    volume_context(a, vol, v, extra_keys, extra_values, n_extra);
    vol->content_source = content_source(a, json_object_get(v, "source"));
    /* A must_local volume is reachable only on its own node; any other is
     * exported over NVMe/TCP to whichever node asks, so it has no constraint. */
    if (strcmp(csi_json_str(v, "position"), "must_local") == 0 && csi_json_str(v, "node")[0]) {
        vol->accessible_topology = CSI_ARENA_ARRAY(a, Csi__V1__Topology *, 1);
        if (vol->accessible_topology) {
            vol->accessible_topology[0] = csi_topology_node(a, csi_json_str(v, "node"));
            vol->n_accessible_topology = 1;
        }
    }
    return vol;
}

Csi__V1__Snapshot *csi_snapshot_from_rest(struct csi_arena *a, const json_t *s)
{
    Csi__V1__Snapshot *snap = CSI_ARENA_NEW(a, Csi__V1__Snapshot);
    Google__Protobuf__Timestamp *ts = CSI_ARENA_NEW(a, Google__Protobuf__Timestamp);
    if (!snap || !ts)
        return NULL;
    csi__v1__snapshot__init(snap);
    google__protobuf__timestamp__init(ts);
    snap->size_bytes = json_integer_value(json_object_get(s, "size"));
    snap->snapshot_id = csi_arena_strdup(a, csi_json_str(s, "id"));
    snap->source_volume_id = csi_arena_strdup(a, csi_json_str(s, "volume"));
    snap->ready_to_use = json_is_true(json_object_get(s, "ready_to_use")) ||
                         strcmp(csi_json_str(s, "phase"), "ready") == 0;
    int64_t sec;
    int32_t nsec;
    if (csi_parse_rfc3339(csi_json_str(s, "created_at"), &sec, &nsec) == 0) {
        ts->seconds = sec;
        ts->nanos = nsec;
        snap->creation_time = ts;
    }
    snap->group_snapshot_id = (char *)"";
    return snap;
}

char **csi_published_nodes(struct csi_arena *a, const json_t *v, size_t *ret_n)
{
    const json_t *atts = json_object_get(v, "attachments");
    size_t n = json_array_size(atts), m = 0;
    char **nodes = CSI_ARENA_ARRAY(a, char *, n);
    for (size_t i = 0; nodes && i < n; i++) {
        const char *node = csi_json_str(json_array_get(atts, i), "node");
        if (node[0])
            nodes[m++] = csi_arena_strdup(a, node);
    }
    *ret_n = m;
    return nodes;
}

Csi__V1__VolumeCondition *csi_volume_condition(struct csi_arena *a, const json_t *v)
{
    Csi__V1__VolumeCondition *c = CSI_ARENA_NEW(a, Csi__V1__VolumeCondition);
    if (!c)
        return NULL;
    csi__v1__volume_condition__init(c);
    const char *phase = csi_json_str(v, "phase");
    bool degraded = json_is_true(json_object_get(v, "degraded"));
    c->abnormal = degraded || strcmp(phase, "failed") == 0;
    if (c->abnormal) {
        char msg[512];
        snprintf(msg, sizeof(msg), "volume is %s%s: %s", phase,
                 degraded ? " and its node is unreachable" : "", csi_json_str(v, "message"));
        c->message = csi_arena_strdup(a, msg);
    } else {
        c->message = csi_arena_strdup(a, "volume is healthy");
    }
    return c;
}
