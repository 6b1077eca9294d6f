/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input: one byte choosing a served method, then the request bytes as a
 * client would send them. Unpacks with that method's descriptor (what the
 * gRPC glue does), runs the validation the handlers run before any REST call
 * or command (StorageClass parameters, volume capabilities, paths), and
 * checks that what was decoded packs back to something that decodes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/convert.h"
#include "controller/params.h"
#include "node/node.h"
#include "rest.h"
#include "services.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_params(Csi__V1__CreateVolumeRequest__ParametersEntry **entries, size_t n)
{
    const char *keys[CSI_PARAMS_MAX], *values[CSI_PARAMS_MAX];
    if (n > CSI_PARAMS_MAX)
        return;
    CSI_MAP_SPLIT(entries, n, keys, values);
    struct slio_err err = {0};
    struct csi_volume_params vp;
    json_t *body = json_object();
    (void)!csi_params_volume(keys, values, n, body, &vp, &err);
    json_decref(body);
    json_t *snap = json_object();
    (void)!csi_params_snapshot(keys, values, n, snap, &err);
    json_decref(snap);
}

static void check_caps(Csi__V1__VolumeCapability *const *caps, size_t n)
{
    char why[160];
    for (size_t i = 0; i < n; i++)
        (void)!csi_capability_check(caps[i], why, sizeof(why));
}

/* The id, path and page-token checks the other handlers make before any REST call. */
static void validate_ids_and_paths(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char query[512];
    if (d == &csi__v1__delete_volume_request__descriptor) {
        (void)csi_is_uuid(((const Csi__V1__DeleteVolumeRequest *)m)->volume_id);
    } else if (d == &csi__v1__list_volumes_request__descriptor) {
        const Csi__V1__ListVolumesRequest *q = (const void *)m;
        (void)!csi_page_query(q->max_entries, q->starting_token, query, sizeof(query));
    } else if (d == &csi__v1__list_snapshots_request__descriptor) {
        const Csi__V1__ListSnapshotsRequest *q = (const void *)m;
        (void)!csi_page_query(q->max_entries, q->starting_token, query, sizeof(query));
        (void)csi_is_uuid(q->source_volume_id);
        (void)csi_is_uuid(q->snapshot_id);
    } else if (d == &csi__v1__node_expand_volume_request__descriptor) {
        (void)csi_path_ok(((const Csi__V1__NodeExpandVolumeRequest *)m)->volume_path);
    } else if (d == &csi__v1__node_get_volume_stats_request__descriptor) {
        (void)csi_path_ok(((const Csi__V1__NodeGetVolumeStatsRequest *)m)->volume_path);
    } else if (d == &csi__v1__node_unstage_volume_request__descriptor) {
        (void)csi_path_ok(((const Csi__V1__NodeUnstageVolumeRequest *)m)->staging_target_path);
    } else if (d == &csi__v1__node_unpublish_volume_request__descriptor) {
        (void)csi_path_ok(((const Csi__V1__NodeUnpublishVolumeRequest *)m)->target_path);
    }
}

static void validate(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &csi__v1__create_volume_request__descriptor) {
        const Csi__V1__CreateVolumeRequest *q = (const void *)m;
        check_params(q->parameters, q->n_parameters);
        check_caps(q->volume_capabilities, q->n_volume_capabilities);
    } else if (d == &csi__v1__get_capacity_request__descriptor) {
        const Csi__V1__GetCapacityRequest *q = (const void *)m;
        check_params((Csi__V1__CreateVolumeRequest__ParametersEntry **)q->parameters,
                     q->n_parameters);
        check_caps(q->volume_capabilities, q->n_volume_capabilities);
    } else if (d == &csi__v1__node_stage_volume_request__descriptor) {
        const Csi__V1__NodeStageVolumeRequest *q = (const void *)m;
        (void)csi_path_ok(q->staging_target_path);
        if (q->volume_capability)
            check_caps(&q->volume_capability, 1);
    } else if (d == &csi__v1__node_publish_volume_request__descriptor) {
        const Csi__V1__NodePublishVolumeRequest *q = (const void *)m;
        (void)csi_path_ok(q->target_path);
        if (q->volume_capability)
            check_caps(&q->volume_capability, 1);
    } else if (d == &csi__v1__create_snapshot_request__descriptor) {
        const Csi__V1__CreateSnapshotRequest *q = (const void *)m;
        check_params((Csi__V1__CreateVolumeRequest__ParametersEntry **)q->parameters,
                     q->n_parameters);
    } else {
        validate_ids_and_paths(m);
    }
}

/* Whether m or any message inside it kept fields its descriptor does not know. */
static bool has_unknown_fields(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    if (m->n_unknown_fields)
        return true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *)m + f->offset;

        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        /* a oneof member is only this field's while its case says so */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            ProtobufCMessage *const *sub = *(ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n; k++)
                if (sub[k] && has_unknown_fields(sub[k]))
                    return true;
        } else {
            const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;
            if (sub && has_unknown_fields(sub))
                return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    const struct csi_method *methods = csi_methods(CSI_MODE_ALL, &n);
    if (size < 1)
        return 0;
    const struct csi_method *mt = &methods[data[0] % n];
    ProtobufCMessage *m = protobuf_c_message_unpack(mt->request, NULL, size - 1, data + 1);
    if (!m)
        return 0;
    validate(m);
    if (mt->key)
        (void)mt->key(m);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        protobuf_c_message_pack(m, buf);
        ProtobufCMessage *again = protobuf_c_message_unpack(mt->request, NULL, len, buf);
        /* What we decoded must survive a round trip. Unknown fields are kept
         * verbatim by protobuf-c, tag 0 and overlong tags included, at any depth,
         * so only messages made of known fields throughout are held to it. */
        if (!again && !has_unknown_fields(m))
            abort();
        if (again)
            protobuf_c_message_free_unpacked(again, NULL);
        free(buf);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
