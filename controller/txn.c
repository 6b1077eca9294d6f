/* SPDX-License-Identifier: Apache-2.0 */
/* Building one store transaction: documents, indexes, desired-state markers, events. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "slio/json.h"

void txb_init(struct txb *t)
{
    memset(t, 0, sizeof(*t));
}

void txb_free(struct txb *t)
{
    for (size_t i = 0; i < t->n_owned; i++)
        free(t->owned[i]);
    t->n_owned = 0;
}

static char *own(struct txb *t, char *s)
{
    if (!s) {
        t->error = t->error ? t->error : -ENOMEM;
        return NULL;
    }
    if (t->n_owned == SLIO_ARRAY_SIZE(t->owned)) {
        free(s);
        t->error = t->error ? t->error : -E2BIG;
        return NULL;
    }
    t->owned[t->n_owned++] = s;
    return s;
}

static bool room(struct txb *t)
{
    if (t->n_cmp + t->n_ops < STORE_TXN_MAX)
        return true;
    t->error = t->error ? t->error : -E2BIG;
    return false;
}

void txb_compare(struct txb *t, const char *key, int64_t mod_revision)
{
    const char *k = own(t, strdup(key));
    if (k && room(t))
        t->cmp[t->n_cmp++] = (struct store_compare){k, mod_revision};
}

static void put_owned(struct txb *t, const char *key, char *value)
{
    const char *k = own(t, strdup(key));
    const char *v = own(t, value);
    if (k && v && room(t))
        t->ops[t->n_ops++] = (struct store_op){STORE_OP_PUT, k, v, strlen(v)};
}

void txb_put_json(struct txb *t, const char *key, const json_t *doc)
{
    put_owned(t, key, slio_json_dump(doc, 0));
}

void txb_put_str(struct txb *t, const char *key, const char *value)
{
    put_owned(t, key, strdup(value));
}

void txb_delete(struct txb *t, const char *key)
{
    const char *k = own(t, strdup(key));
    if (k && room(t))
        t->ops[t->n_ops++] = (struct store_op){STORE_OP_DELETE, k, NULL, 0};
}

void txb_touch_desired(struct txb *t, const char *node)
{
    char key[MODEL_KEY_MAX];
    for (size_t i = 0; i < t->n_ops; i++) /* once per transaction is enough */
        if (strcmp(t->ops[i].key, model_key(key, K_DESIRED, node, NULL)) == 0)
            return;
    json_t *j = json_pack("{s:s}", "node", node);
    txb_put_json(t, model_key(key, K_DESIRED, node, NULL), j);
    json_decref(j);
}

void txb_volume_index(struct txb *t, const json_t *vol)
{
    char key[MODEL_KEY_MAX];
    const json_t *spread = json_object_get(json_object_get(vol, "_spec"), "spread");
    snprintf(key, sizeof(key), "%s%s/v/%s", K_BYNODE, model_str(vol, "node"), model_str(vol, "id"));
    json_t *entry =
        json_pack("[s,I,b,s?,s?]", model_str(vol, "pool"), (json_int_t)model_u64(vol, "size"),
                  json_is_true(json_object_get(vol, "thin")),
                  json_string_value(json_object_get(spread, "group")), ctl_volume_consumer(vol));
    if (!entry) {
        t->error = t->error ? t->error : -ENOMEM;
        return;
    }
    txb_put_json(t, key, entry);
    json_decref(entry);
}

/* Keys sort by time then by a per-process sequence: events list in the order they happened. */
void txb_event(struct txb *t, struct ctl *c, const char *kind, const char *object, const char *type,
               const char *reason, const char *fmt, ...)
{
    char msg[512], key[MODEL_KEY_MAX], now[32], id[48];
    struct timespec ts;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long us =
        (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
    unsigned long long seq = atomic_fetch_add(&c->event_seq, 1) % 1000000ull;
    snprintf(id, sizeof(id), "%017llu%06llu", us, seq);
    model_now(now);
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "time", now, "kind", kind, "object", object,
                           "type", type, "reason", reason, "message", msg);
    txb_put_json(t, model_key(key, K_EVENTS, id, NULL), ev);
    json_decref(ev);
}

int txb_commit(struct ctl *c, struct txb *t, int64_t *ret_revision, struct slio_err *err)
{
    if (t->error) {
        slio_err_set(err, "transaction too large or out of memory");
        return t->error == -E2BIG ? -EIO : t->error;
    }
    struct store_txn txn = {t->cmp, t->n_cmp, t->ops, t->n_ops};
    int r = store_txn(c->store, &txn, ret_revision, NULL, err);
    if (r == -ECANCELED)
        atomic_fetch_add(&c->counters[CTR_TXN_CONFLICTS], 1);
    return r;
}

#define UPDATE_ATTEMPTS 32

int ctl_update(struct ctl *c, const char *key, ctl_mutate_fn fn, void *arg, json_t **ret_doc,
               int64_t *ret_mod, struct slio_err *err)
{
    for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        _cleanup_json_ json_t *doc = NULL;
        int64_t mod;
        struct txb t;
        int r = store_get_json(c->store, key, &doc, &mod, err);
        if (r < 0)
            return r;
        txb_init(&t);
        txb_compare(&t, key, mod);
        r = fn(c, doc, &t, arg, err);
        if (r == 0) {
            txb_put_json(&t, key, doc);
            r = txb_commit(c, &t, &mod, err);
        }
        txb_free(&t);
        if (r == -ECANCELED)
            continue;
        if (r < 0)
            return r;
        if (ret_doc)
            *ret_doc = TAKE_PTR(doc);
        if (ret_mod)
            *ret_mod = mod;
        return 0;
    }
    slio_err_set(err, "\"%s\": too many concurrent updates, try again", key);
    return -EAGAIN;
}
