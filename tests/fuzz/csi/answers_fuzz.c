/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz what slio-csi makes of the controller's REST answers (csi/rest.c,
 * csi/controller/convert.c): a Volume or Snapshot object becomes a CSI
 * message, an error answer becomes a gRPC code, a list's continue token a
 * query string. The first byte is the HTTP status's low bits (400 + b); the
 * rest is the answer body. Whatever the controller sends, the message built
 * must pack and unpack again (no NULL string, no count past its array).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/convert.h"
#include "rest.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_volume(const Csi__V1__Volume *v)
{
    size_t n = csi__v1__volume__get_packed_size(v);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return;
    if (csi__v1__volume__pack(v, buf) != n)
        abort();
    Csi__V1__Volume *back = csi__v1__volume__unpack(NULL, n, buf);
    if (!back || strcmp(back->volume_id, v->volume_id) != 0)
        abort(); /* what we pack must read back */
    csi__v1__volume__free_unpacked(back, NULL);
    free(buf);
}

static void roundtrip_snapshot(const Csi__V1__Snapshot *s)
{
    size_t n = csi__v1__snapshot__get_packed_size(s);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return;
    if (csi__v1__snapshot__pack(s, buf) != n)
        abort();
    Csi__V1__Snapshot *back = csi__v1__snapshot__unpack(NULL, n, buf);
    if (!back)
        abort();
    csi__v1__snapshot__free_unpacked(back, NULL);
    free(buf);
}

static void convert(const json_t *j)
{
    static const char *const keys[] = {"nqn", "traddr"};
    const char *values[] = {csi_json_str(j, "nqn"), csi_json_str(j, "traddr")};
    struct csi_arena a = {0};
    Csi__V1__Volume *v = csi_volume_from_rest(&a, j, keys, values, 2);
    Csi__V1__Snapshot *s = csi_snapshot_from_rest(&a, j);
    size_t n = 0;
    char **nodes = csi_published_nodes(&a, j, &n);
    Csi__V1__VolumeCondition *c = csi_volume_condition(&a, j);
    if (!a.failed) {
        if (!v || !s || !c || (n && !nodes))
            abort();
        for (size_t i = 0; i < n; i++)
            if (!nodes[i] || !nodes[i][0])
                abort();
        roundtrip_volume(v);
        roundtrip_snapshot(s);
    }
    csi_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_err err;
    json_t *j = NULL;
    char query[512];
    if (size < 1)
        return 0;
    if (slio_json_loadb((const char *)data + 1, size - 1, 1u << 20, &j, &err) < 0)
        return 0;
    (void)csi_rest_code(400u + data[0], j);
    if (json_is_object(j)) {
        convert(j);
        (void)!csi_page_query((int32_t)data[0] - 8, csi_json_str(j, "continue"), query,
                              sizeof(query));
        int64_t sec;
        int32_t nsec;
        if (csi_parse_rfc3339(csi_json_str(j, "created_at"), &sec, &nsec) == 0 &&
            (nsec < 0 || nsec > 999999999))
            abort();
        (void)csi_is_uuid(csi_json_str(j, "id"));
    }
    json_decref(j);
    return 0;
}
