/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP configuration of the target: the file keyring (SPDK's
 * keyring_file: a named DHHC-1 secret read from a file only the target's
 * user can read), the keys each (subsystem, host) pair authenticates with,
 * and the digests and DH groups the target offers.
 *
 * Thread-safe (one mutex of its own, never held while calling out). Key
 * material is copied out only by tgt_host_keys_get (the nvmf layer, which
 * wipes it); listings give names and paths, never keys.
 */
#ifndef TGT_REGISTRY_KEYRING_H
#define TGT_REGISTRY_KEYRING_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/error.h"
#include "slio/nvme_auth.h"

#define TGT_KEY_NAME_MAX 64
#define TGT_MAX_KEYS     4096

/*
 * Load the secret in `path` under `name`. The file must be a regular file
 * owned by the target's effective user with no group/other permission bits
 * (0600 or stricter) and hold one DHHC-1 secret. -EEXIST, -EACCES/-EPERM
 * (ownership, mode), -EINVAL (content), -ENOENT...; err names the file.
 */
int tgt_keyring_add(const char *name, const char *path, struct slio_err *err) _must_check_;
/* Forget a key; -ENOENT, or -EBUSY while a host entry names it. */
int tgt_keyring_remove(const char *name, struct slio_err *err) _must_check_;
/* Calls fn(name, path) for each key, under the keyring lock. */
void tgt_keyring_for_each(void (*fn)(const char *name, const char *path, void *ctx), void *ctx);

/*
 * The keys host `hostnqn` and the subsystem authenticate with: key names
 * (NULL or "" for none). A controller key without a host key is refused.
 * Replaces the previous entry; connected hosts stay connected (their next
 * authentication uses the new keys).
 */
int tgt_host_keys_set(const char *subnqn, const char *hostnqn, const char *key,
                      const char *ctrlr_key, struct slio_err *err) _must_check_;
/* Drop the entry (hostnqn NULL: every host of subnqn). */
void tgt_host_keys_drop(const char *subnqn, const char *hostnqn);
/*
 * Does this host have to authenticate? If so, copy its key (and controller
 * key: ret_ctrl->len 0 when none) out; the caller wipes them.
 */
bool tgt_host_keys_get(const char *subnqn, const char *hostnqn, struct slio_dhchap_key *ret_host,
                       struct slio_dhchap_key *ret_ctrl);
/* The key names of a host entry (ckey "" when none); false if the host has none. */
bool tgt_host_keys_names(const char *subnqn, const char *hostnqn, char key[TGT_KEY_NAME_MAX + 1],
                         char ckey[TGT_KEY_NAME_MAX + 1]);
/* Calls fn for each host entry (names only), under the keyring lock. */
void tgt_host_keys_for_each(void (*fn)(const char *subnqn, const char *hostnqn, const char *key,
                                       const char *ctrlr_key, void *ctx),
                            void *ctx);

/* Bit masks of allowed hash ids (bit 1..3) and DH group ids (bit 0..5). */
void tgt_auth_set_allowed(uint32_t digests, uint32_t dhgroups);
void tgt_auth_get_allowed(uint32_t *ret_digests, uint32_t *ret_dhgroups);
#define TGT_AUTH_ALL_DIGESTS  0x0eu
#define TGT_AUTH_ALL_DHGROUPS 0x3fu

/* Forget everything (shutdown and tests). */
void tgt_keyring_clear(void);

#endif
