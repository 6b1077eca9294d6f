/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the methods_*.c and config.c files of tgt/rpc. */
#ifndef TGT_RPC_METHODS_H
#define TGT_RPC_METHODS_H

#include "registry/registry.h"
#include "rpc/rpc.h"

/* {"nqn": required, "tgt_name": ignored} */
struct tgt_rpc_nqn_req {
    const char *nqn;
    const char *tgt_name;
};
extern const struct slio_json_field tgt_rpc_nqn_fields[2];

/* methods_subsys.c */
int tgt_rpc_subsystem_add_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_add_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_add_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_allow_any_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);

/* methods_nvmf.c: JSON shapes shared with save_config */
json_t *tgt_rpc_transport_json(void);
json_t *tgt_rpc_listen_json(const struct tgt_listen_addr *a);
/* NGUID as SPDK prints it: 32 uppercase hex digits */
const char *tgt_rpc_nguid_format(const uint8_t nguid[16], char buf[static 33]);

#endif
