/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between slio_tgt.c (changes) and slio_tgt_discover.c (reads). */
#ifndef AGENT_EXPORT_SLIO_TGT_INTERNAL_H
#define AGENT_EXPORT_SLIO_TGT_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "export/export.h"

#define TGT_SOCKET_MAX   108
#define TGT_RESPONSE_MAX (32u << 20) /* 1,000 subsystems take about 1 MiB */

struct tgt_exporter {
    struct agent_exporter base;
    char socket[TGT_SOCKET_MAX];
    bool spdk;
    int timeout_ms;
    struct agent_export_addr addr;
    agent_export_observe_fn observe;
    pthread_mutex_t lock; /* transport_ready */
    bool transport_ready;
    atomic_bool aio_no_uuid; /* SPDK < v24.09: bdev_aio_create without "uuid" */
    char keys_dir[PATH_MAX];
};

/* One JSON-RPC call; params are stolen (may be NULL). On a server error the
 * message and code land in err / *ret_code (ret_code may be NULL). */
int tgt_call(struct tgt_exporter *t, const char *method, json_t *params, json_t **ret_result,
             int64_t *ret_code, struct slio_err *err) _must_check_;

/* Whether the TCP transport exists (a restarted target without its saved
 * configuration has none): refreshes transport_ready. */
int tgt_check_transport(struct tgt_exporter *t, struct slio_err *err) _must_check_;
int tgt_discover(struct agent_exporter *x, struct agent_export_list *ret, struct slio_err *err);
int tgt_iostat(struct agent_exporter *x, struct agent_iostat_list *ret, struct slio_err *err);

/* ---- dhchap.c ---- */
/* Fill s->auth_digest from its hosts' bound key names and our key files. */
void tgt_discover_auth(const struct tgt_exporter *t, struct agent_export_state *s);
/* The key file holds secret (written atomically when not) and, unless a host is bound to
 * the name already, the keyring has the name (keyring_file_add_key; "exists" is fine). */
int tgt_key_ensure(struct tgt_exporter *t, const uuid_t uuid, const char *name, const char *secret,
                   bool bound, struct slio_err *err) _must_check_;
/* Remove every key of the volume but keep[] (n_keep names, NULL entries ignored):
 * keyring entry, then file. */
int tgt_keys_prune(struct tgt_exporter *t, const uuid_t uuid, const char *const *keep,
                   size_t n_keep, struct slio_err *err) _must_check_;

/* Decoders of the target's answers (exposed for unit tests and the fuzzer). */
int tgt_decode_subsystems(const json_t *result, const struct agent_export_addr *addr,
                          struct agent_export_list *list, struct slio_err *err) _must_check_;
int tgt_decode_bdevs(const json_t *result, struct agent_export_list *list,
                     struct slio_err *err) _must_check_;
int tgt_decode_iostat(const json_t *result, struct agent_iostat_list *ret,
                      struct slio_err *err) _must_check_;

#endif
