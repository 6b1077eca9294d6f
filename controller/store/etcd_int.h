/* SPDX-License-Identifier: Apache-2.0 */
/* What etcd.c and etcd_txn.c share: the store's state and its key helpers. */
#ifndef SLIO_CONTROLLER_ETCD_INT_H
#define SLIO_CONTROLLER_ETCD_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "etcd_election.h"
#include "etcd_http.h"
#include "store.h"

#define SMALL_ANSWER_MAX (4u << 20) /* get (one value), txn, revision */

struct etcd_store {
    struct etcd_http *http;
    char *ns;                       /* P "kv" */
    char *leader_key;               /* P "leader" */
    struct etcd_election *election; /* NULL: no election (one controller) */
};

/* 1..STORE_KEY_MAX bytes, else -EINVAL. */
/* base64 of ns + key (+ one NUL byte when past: the first key after key); NULL: ENOMEM. */
char *etcd_key_b64(const struct etcd_store *s, const char *key, bool past);
/* One unary call; body is consumed. Answers etcd gives that we cannot use are -EIO. */
int etcd_store_call(struct etcd_store *s, const char *path, json_t *body, size_t max, json_t **ret,
                    struct slio_err *err);
/* store_ops.txn (etcd_txn.c). */
int etcd_store_txn(void *impl, const struct store_txn *t, int64_t *ret_revision, size_t *ret_failed,
                   struct slio_err *err);

#endif
