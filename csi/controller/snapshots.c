/* SPDX-License-Identifier: Apache-2.0 */
/* CreateSnapshot, DeleteSnapshot, ListSnapshots: /v1/snapshots. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controller/convert.h"
#include "controller/params.h"
#include "rest.h"
#include "services.h"
#include "slio/json.h"

CSI_HANDLER(create_snapshot)
{
    const Csi__V1__CreateSnapshotRequest *q = req;
    if (!q->name[0] || strlen(q->name) > CSI_NAME_MAX)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "name: 1 to %d bytes",
                                    CSI_NAME_MAX);
    if (!q->source_volume_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "source_volume_id missing");
    if (!csi_is_uuid(q->source_volume_id))
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume \"%.64s\" not found",
                                    q->source_volume_id);
    if (q->n_parameters > CSI_PARAMS_MAX)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "too many parameters");
    _cleanup_(slio_json_decrefp) json_t *body =
        json_pack("{s:s, s:s}", "name", q->name, "volume", q->source_volume_id);
    const char *keys[CSI_PARAMS_MAX], *values[CSI_PARAMS_MAX];
    CSI_MAP_SPLIT(q->parameters, q->n_parameters, keys, values);
    struct slio_err err = {0};
    if (!body || csi_params_snapshot(keys, values, q->n_parameters, body, &err) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.text);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *snap = NULL;
    if (csi_rest_call(ctx, r, "POST", "/v1/snapshots", body, &status, &snap) < 0)
        return;
    char what[CSI_NAME_MAX + 16];
    snprintf(what, sizeof(what), "snapshot \"%s\"", q->name);
    if (status != 200 && status != 201)
        return (void)csi_rest_fail(r, status, snap, what);
    _cleanup_arena_ struct csi_arena a = {0};
    Csi__V1__CreateSnapshotResponse resp = CSI__V1__CREATE_SNAPSHOT_RESPONSE__INIT;
    resp.snapshot = csi_snapshot_from_rest(&a, snap);
    if (a.failed || !resp.snapshot)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(delete_snapshot)
{
    const Csi__V1__DeleteSnapshotRequest *q = req;
    Csi__V1__DeleteSnapshotResponse resp = CSI__V1__DELETE_SNAPSHOT_RESPONSE__INIT;
    if (!q->snapshot_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "snapshot_id missing");
    if (!csi_is_uuid(q->snapshot_id))
        return csi_reply_ok(r, &resp.base);
    char path[96], what[80];
    snprintf(path, sizeof(path), "/v1/snapshots/%s", q->snapshot_id);
    snprintf(what, sizeof(what), "snapshot %s", q->snapshot_id);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *ans = NULL;
    if (csi_rest_call(ctx, r, "DELETE", path, NULL, &status, &ans) < 0)
        return;
    if (status / 100 == 2 || status == 404)
        return csi_reply_ok(r, &resp.base);
    if (status == 409) /* a volume cloned from it still needs it */
        return (void)csi_rest_fail_code(r, GRPC_STATUS_FAILED_PRECONDITION, ans, what);
    csi_rest_fail(r, status, ans, what);
}

static int add_entry(struct csi_arena *a, Csi__V1__ListSnapshotsResponse *resp, const json_t *s)
{
    Csi__V1__ListSnapshotsResponse__Entry *e =
        CSI_ARENA_NEW(a, Csi__V1__ListSnapshotsResponse__Entry);
    if (!e)
        return -ENOMEM;
    csi__v1__list_snapshots_response__entry__init(e);
    e->snapshot = csi_snapshot_from_rest(a, s);
    resp->entries[resp->n_entries++] = e;
    return 0;
}

/* ListSnapshots by snapshot_id: one entry or none, never NOT_FOUND (the spec's rule). */
static void list_one(struct csi_ctx *ctx, const Csi__V1__ListSnapshotsRequest *q,
                     struct csi_reply *r)
{
    _cleanup_arena_ struct csi_arena a = {0};
    Csi__V1__ListSnapshotsResponse resp = CSI__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
    resp.entries = CSI_ARENA_ARRAY(&a, Csi__V1__ListSnapshotsResponse__Entry *, 1);
    _cleanup_(slio_json_decrefp) json_t *snap = NULL;
    if (csi_is_uuid(q->snapshot_id)) {
        char path[96];
        unsigned status;
        snprintf(path, sizeof(path), "/v1/snapshots/%s", q->snapshot_id);
        if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &snap) < 0)
            return;
        if (status != 200 && status != 404)
            return (void)csi_rest_fail(r, status, snap, "snapshot");
        bool match =
            status == 200 && (!q->source_volume_id[0] ||
                              strcmp(q->source_volume_id, csi_json_str(snap, "volume")) == 0);
        if (match && resp.entries)
            (void)add_entry(&a, &resp, snap);
    }
    if (a.failed)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(list_snapshots)
{
    const Csi__V1__ListSnapshotsRequest *q = req;
    if (q->max_entries < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "max_entries is negative");
    if (q->snapshot_id[0])
        return list_one(ctx, q, r);
    Csi__V1__ListSnapshotsResponse resp = CSI__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
    if (q->source_volume_id[0] && !csi_is_uuid(q->source_volume_id))
        return csi_reply_ok(r, &resp.base); /* no volume of that id: no snapshots */
    char query[2048], path[2200];
    if (csi_page_query(q->max_entries, q->starting_token, query, sizeof(query)) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_ABORTED, "starting_token is not valid");
    snprintf(path, sizeof(path), "/v1/snapshots?%s%s%s", query,
             q->source_volume_id[0] ? "&volume=" : "", q->source_volume_id);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *page = NULL;
    if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &page) < 0)
        return;
    if (status == 400 && q->starting_token[0])
        return (void)csi_rest_fail_code(r, GRPC_STATUS_ABORTED, page, "starting_token");
    if (status != 200)
        return (void)csi_rest_fail(r, status, page, "list snapshots");
    const json_t *items = json_object_get(page, "items");
    _cleanup_arena_ struct csi_arena a = {0};
    size_t n = json_array_size(items);
    resp.entries = CSI_ARENA_ARRAY(&a, Csi__V1__ListSnapshotsResponse__Entry *, n);
    for (size_t i = 0; resp.entries && i < n; i++)
        (void)add_entry(&a, &resp, json_array_get(items, i));
    resp.next_token = csi_arena_strdup(&a, csi_json_str(page, "continue"));
    if (a.failed)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    csi_reply_ok(r, &resp.base);
}
