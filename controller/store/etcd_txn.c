/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_txn on etcd: one etcd Txn per store transaction.
 *
 * etcd refuses a txn that puts one key twice, while the store applies ops in
 * order; only the last op of each key is sent, which leaves the same keys and
 * values. The failure branch reads every compared key back (keys only), so a
 * failed txn says which compare failed without a second, racy read. With an
 * election, the leader key's create revision is compared too: the fence that
 * turns a deposed leader's write into -EROFS.
 */
#define SLIO_LOG_COMPONENT "store"
#include <string.h>

#include "etcd_codec.h"
#include "etcd_int.h"
#include "slio/json.h"

static int add_new(json_t *array, json_t *item)
{
    return item && json_array_append_new(array, item) == 0 ? 0 : -ENOMEM;
}

static json_t *compare_json(const char *key_b64, const char *target, int64_t store_rev)
{
    char rev[24];
    snprintf(rev, sizeof(rev), "%lld", (long long)(store_rev ? ETCD_REV_FROM_STORE(store_rev) : 0));
    return json_pack("{s:s,s:s,s:s,s:s}", "key", key_b64, "result", "EQUAL", "target", target,
                     strcmp(target, "MOD") == 0 ? "mod_revision" : "create_revision", rev);
}

static json_t *op_json(const struct etcd_store *s, const struct store_op *op)
{
    _cleanup_free_ char *k = etcd_key_b64(s, op->key, false);
    _cleanup_free_ char *v = op->type == STORE_OP_PUT
                                 ? etcd_b64_encode(op->value_len ? op->value : "", op->value_len)
                                 : NULL;
    if (!k || (op->type == STORE_OP_PUT && !v))
        return NULL;
    if (op->type == STORE_OP_PUT)
        return json_pack("{s:{s:s,s:s}}", "request_put", "key", k, "value", v);
    return json_pack("{s:{s:s}}", "request_delete_range", "key", k);
}

static bool superseded(const struct store_txn *t, size_t i)
{
    for (size_t j = i + 1; j < t->n_ops; j++)
        if (strcmp(t->ops[j].key, t->ops[i].key) == 0)
            return true;
    return false;
}

static int read_back(json_t *failure, const char *key_b64)
{
    return add_new(failure,
                   json_pack("{s:{s:s,s:b}}", "request_range", "key", key_b64, "keys_only", 1));
}

/* compare/success/failure of a txn; fence > 0: also the leader key's create revision. */
static int txn_body(const struct etcd_store *s, const struct store_txn *t, int64_t fence,
                    json_t **ret)
{
    _cleanup_json_ json_t *cmp = json_array(), *ok = json_array(), *fail = json_array();
    int r = cmp && ok && fail ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < t->n_compares; i++) {
        _cleanup_free_ char *k = etcd_key_b64(s, t->compares[i].key, false);
        r = k ? add_new(cmp, compare_json(k, "MOD", t->compares[i].mod_revision)) : -ENOMEM;
        if (r == 0)
            r = read_back(fail, k);
    }
    if (r == 0 && fence) {
        _cleanup_free_ char *k = etcd_b64_encode(s->leader_key, strlen(s->leader_key));
        r = k ? add_new(cmp, compare_json(k, "CREATE", fence)) : -ENOMEM;
        if (r == 0)
            r = read_back(fail, k);
    }
    for (size_t i = 0; r == 0 && i < t->n_ops; i++)
        if (!superseded(t, i))
            r = add_new(ok, op_json(s, &t->ops[i]));
    if (r < 0)
        return r;
    json_t *body = json_pack("{s:O,s:O,s:O}", "compare", cmp, "success", ok, "failure", fail);
    if (!body)
        return -ENOMEM;
    *ret = body;
    return 0;
}

/* Which compare failed, from the failure branch's reads. */
static int txn_failed(struct etcd_store *s, const struct store_txn *t, int64_t fence,
                      const json_t *responses, int64_t rev, size_t *ret_failed,
                      struct slio_err *err)
{
    int64_t mod, create;
    int r;
    if (fence) {
        r = etcd_decode_txn_range(json_array_get(responses, t->n_compares), s->leader_key, rev,
                                  &mod, &create, err);
        if (r < 0)
            return -EIO;
        if (create != fence) {
            etcd_election_lost(s->election, fence);
            slio_err_set(err, "this controller no longer leads (fenced out)");
            return -EROFS;
        }
    }
    for (size_t i = 0; i < t->n_compares; i++) {
        _cleanup_free_ char *ek = NULL;
        if (asprintf(&ek, "%s%s", s->ns, t->compares[i].key) < 0)
            return -ENOMEM;
        r = etcd_decode_txn_range(json_array_get(responses, i), ek, rev, &mod, &create, err);
        if (r < 0)
            return -EIO;
        if (mod != t->compares[i].mod_revision) {
            if (ret_failed)
                *ret_failed = i;
            slio_err_set(err, "key \"%s\" changed (compare failed)", t->compares[i].key);
            return -ECANCELED;
        }
    }
    slio_err_set(err, "etcd txn failed, yet every compare holds");
    return -EIO;
}

int etcd_store_txn(void *impl, const struct store_txn *t, int64_t *ret_revision, size_t *ret_failed,
                   struct slio_err *err)
{
    struct etcd_store *s = impl;
    int64_t fence = 0, rev;
    char leader[512];
    int r = store_txn_check(t, err);
    if (r < 0)
        return r;
    if (s->election && !etcd_election_fence(s->election, &fence)) {
        etcd_election_is_leader(s->election, leader, sizeof(leader));
        slio_err_set(err, "this controller is not the leader (leader: \"%s\")", leader);
        return -EROFS;
    }
    _cleanup_json_ json_t *body = NULL, *resp = NULL;
    const json_t *responses;
    bool ok;
    r = txn_body(s, t, fence, &body);
    if (r == 0) {
        r = etcd_store_call(s, "/v3/kv/txn", json_incref(body), SMALL_ANSWER_MAX, &resp, err);
        if (r == -EAGAIN)
            slio_err_prefix(err, "txn outcome unknown");
    }
    size_t n_fail = t->n_compares + (fence ? 1 : 0);
    if (r == 0) {
        /* success: one response per op sent; failure: one per read-back */
        size_t n_ok = 0;
        for (size_t i = 0; i < t->n_ops; i++)
            n_ok += !superseded(t, i);
        r = etcd_decode_txn(resp, json_is_true(json_object_get(resp, "succeeded")) ? n_ok : n_fail,
                            &ok, &rev, &responses, err) < 0
                ? -EIO
                : 0;
    }
    if (r < 0)
        return r;
    if (!ok)
        return txn_failed(s, t, fence, responses, rev, ret_failed, err);
    if (ret_revision)
        *ret_revision = rev;
    return 0;
}
