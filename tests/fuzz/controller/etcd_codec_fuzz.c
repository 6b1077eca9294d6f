/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the decoding of etcd's answers (controller/store/etcd_codec.c): the
 * input is one answer as etcd's JSON gateway would send it, fed to every
 * decoder; each must either fill its output consistently or fail, never
 * crash, leak or return something out of its bounds. The first byte picks
 * the page limit and key prefix so ordering and range checks get exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/json.h"
#include "store/etcd_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const struct store_kv_list *l, size_t limit, const char *prefix)
{
    if (l->n > limit)
        abort();
    for (size_t i = 0; i < l->n; i++) {
        const struct store_kv *kv = &l->items[i];
        if (strncmp(kv->key, prefix, strlen(prefix)) != 0 || strlen(kv->key) > STORE_KEY_MAX ||
            kv->value_len > STORE_VALUE_MAX || kv->value[kv->value_len] != '\0' ||
            kv->create_revision < 1 || kv->mod_revision < kv->create_revision)
            abort();
        if (i && strcmp(l->items[i - 1].key, kv->key) >= 0)
            abort();
    }
}

static void decode_all(const json_t *j, uint8_t sel)
{
    static const char *const prefixes[] = {"", "/v/", "/slio/volumes/"};
    const char *prefix = prefixes[sel % 3];
    size_t limit = 1 + sel / 3 % 8;
    struct etcd_range_want w = {"/slio/kv", prefix, sel & 0x80 ? "/v/a" : NULL, limit};
    struct store_kv_list l;
    int64_t rev, mod, create, id, ttl;
    bool ok;
    const json_t *responses;
    struct etcd_leader leader;
    struct etcd_watch_msg m;
    struct store_kv kv;

    if (etcd_decode_header(j, &rev, NULL) == 0 && rev < 0)
        abort();
    if (etcd_decode_range(j, &w, &l, &rev, NULL) == 0) {
        check_list(&l, limit, prefix);
        store_kv_list_clear(&l);
    }
    if (etcd_decode_kv(j, "/slio/leader", true, INT64_MAX, &kv, NULL) == 0)
        store_kv_clear(&kv);
    if (etcd_decode_txn(j, sel % 4, &ok, &rev, &responses, NULL) == 0) {
        if (json_array_size(responses) != sel % 4)
            abort();
        for (size_t i = 0; i < json_array_size(responses); i++) {
            if (etcd_decode_txn_range(json_array_get(responses, i), "/slio/kv/k", rev, &mod,
                                      &create, NULL) == 0 &&
                (mod < 0 || create < 0 || mod > rev))
                abort();
            if (etcd_decode_leader(json_array_get(responses, i), "/slio/leader", rev, &leader,
                                   NULL) == 0 &&
                strlen(leader.url) >= sizeof(leader.url))
                abort();
        }
    }
    if (etcd_decode_watch_msg(j, "/slio/kv/", &m, NULL) == 0 && m.n_deletes > m.n_events)
        abort();
    if (etcd_decode_lease(j, sel & 1, &id, &ttl, NULL) == 0 && (id <= 0 || ttl < 0))
        abort();
    (void)etcd_error_code(j, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_t *j = NULL;
    if (slio_json_loadb((const char *)data + 1, size - 1, 1u << 20, &j, NULL) == 0) {
        decode_all(j, data[0]);
        json_decref(j);
    }
    /* the raw bytes as base64 text too */
    char *text = strndup((const char *)data + 1, size - 1), *out = NULL;
    size_t len;
    if (text && etcd_b64_decode(text, 64, &out, &len) == 0) {
        char *back = etcd_b64_encode(out, len);
        if (!back || strcmp(back, text) != 0) /* strict: only the canonical form decodes */
            abort();
        free(back);
        free(out);
    }
    free(text);
    return 0;
}
