/* SPDX-License-Identifier: Apache-2.0 */
/* What every backend shares: freeing results, JSON documents on top of get. */
#include <string.h>

#include "slio/json.h"
#include "store.h"

void store_kv_clear(struct store_kv *kv)
{
    free(kv->key);
    free(kv->value);
    *kv = (struct store_kv){0};
}

void store_kv_list_clear(struct store_kv_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        store_kv_clear(&l->items[i]);
    free(l->items);
    *l = (struct store_kv_list){0};
}

void store_free(struct store *s)
{
    if (!s)
        return;
    s->ops->free(s->impl);
    free(s);
}

int store_get_json(struct store *s, const char *key, json_t **ret, int64_t *ret_mod_revision,
                   struct slio_err *err)
{
    struct store_kv kv;
    json_t *j;
    int r = store_get(s, key, &kv, err);
    if (r < 0)
        return r;
    r = slio_json_loadb(kv.value, kv.value_len, STORE_VALUE_MAX, &j, err);
    if (r < 0) {
        slio_err_prefix(err, "store key \"%s\"", key);
        store_kv_clear(&kv);
        return -EIO;
    }
    if (ret_mod_revision)
        *ret_mod_revision = kv.mod_revision;
    store_kv_clear(&kv);
    *ret = j;
    return 0;
}

/* The interface's own bounds, checked the same way by every backend. */
int store_key_check(const char *key, struct slio_err *err)
{
    size_t n = strlen(key);
    if (n == 0 || n > STORE_KEY_MAX) {
        slio_err_set(err, "store key of %zu bytes (1..%d)", n, STORE_KEY_MAX);
        return -EINVAL;
    }
    return 0;
}

int store_txn_check(const struct store_txn *t, struct slio_err *err)
{
    if (t->n_compares + t->n_ops > STORE_TXN_MAX) {
        slio_err_set(err, "store txn of %zu compares and %zu ops (at most %d)", t->n_compares,
                     t->n_ops, STORE_TXN_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < t->n_compares; i++)
        if (store_key_check(t->compares[i].key, err) < 0)
            return -EINVAL;
    for (size_t i = 0; i < t->n_ops; i++) {
        if (store_key_check(t->ops[i].key, err) < 0)
            return -EINVAL;
        if (t->ops[i].type == STORE_OP_PUT && t->ops[i].value_len > STORE_VALUE_MAX) {
            slio_err_set(err, "store value of key \"%s\": %zu bytes (at most %u)", t->ops[i].key,
                         t->ops[i].value_len, STORE_VALUE_MAX);
            return -EINVAL;
        }
    }
    return 0;
}
