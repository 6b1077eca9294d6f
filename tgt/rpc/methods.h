/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the methods_*.c and config.c files of tgt/rpc. */
#ifndef TGT_RPC_METHODS_H
#define TGT_RPC_METHODS_H

#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"

/* {"nqn": required, "tgt_name": ignored} */
struct tgt_rpc_nqn_req {
    const char *nqn;
    const char *tgt_name;
};
extern const struct slio_json_field tgt_rpc_nqn_fields[2];

/* listen_address {"trtype", "adrfam", "traddr", "trsvcid"}, lengths bounded by the table */
struct tgt_rpc_addr_params {
    const char *trtype, *adrfam, *traddr, *trsvcid;
};
#define TGT_RPC_ADDR_FIELDS 4
extern const struct slio_json_field tgt_rpc_addr_fields[TGT_RPC_ADDR_FIELDS];
/* The decoded address as the registry's struct (not yet checked: tgt_listen_addr_check). */
void tgt_rpc_listen_addr_from(const struct tgt_rpc_addr_params *p, struct tgt_listen_addr *a);

/* methods_subsys.c */
int tgt_rpc_subsystem_add_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_ns(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_add_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_listener(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_add_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_remove_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);
int tgt_rpc_subsystem_allow_any_host(json_t *params, json_t **ret, struct tgt_rpc_err *err);

/* methods_listeners.c: the ANA states kept per listener */
/* Forget the states of a listener removed (a NULL: of every listener of the subsystem). */
void tgt_rpc_ana_forget(const char *nqn, const struct tgt_listen_addr *a);
/* Forget everything (tests, after tgt_registry_clear). */
void tgt_rpc_ana_clear(void);
/* save_config: append the states that are not "optimized" as set_ana_state calls. */
void tgt_rpc_ana_config(const struct tgt_subsys_view *v, json_t *config);

/* methods_options.c: SPDK's framework and option methods */
/* nvmf_set_max_subsystems: how many NVMe subsystems nvmf_create_subsystem may create. */
uint32_t tgt_rpc_max_subsystems(void);
/* save_config: append the recorded option calls that belong to subsystem `name`. */
void tgt_rpc_options_config(const char *name, json_t *config);
/* Does any recorded option belong to subsystem `name`? */
bool tgt_rpc_options_has(const char *name);
/* Forget every recorded option (tests). */
void tgt_rpc_options_clear(void);

/* methods_keyring.c */
/* save_config: the "keyring" subsystem (recorded options, then keyring_file_add_key calls). */
void tgt_rpc_keyring_config(json_t *config);
bool tgt_rpc_keyring_present(void);
/* nvmf_set_config: apply dhchap_digests / dhchap_dhgroups when present (-1 and err if bad). */
int tgt_rpc_dhchap_set_config(json_t *params, struct tgt_rpc_err *err);

/* methods_nvmf.c: JSON shapes shared with save_config */
json_t *tgt_rpc_transport_json(void);
json_t *tgt_rpc_listen_json(const struct tgt_listen_addr *a);
/* NGUID as SPDK prints it: 32 uppercase hex digits */
const char *tgt_rpc_nguid_format(const uint8_t nguid[16], char buf[static 33]);

#endif
