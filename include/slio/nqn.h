/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe Qualified Names (NVMe Base Specification, "NVMe Qualified Names"):
 *   nqn.yyyy-mm.<reverse domain>[:<user string>]     e.g. nqn.2024-01.io.slite:pvc-1234
 *   nqn.2014-08.org.nvmexpress:uuid:<uuid>            (UUID form)
 * at most 223 bytes. Validation is what SPDK applies: month 01-12, domain
 * labels of letters, digits and '-' (starting with a letter, not ending in
 * '-', up to 63 bytes), a non-empty user string of valid UTF-8 — and, our
 * addition, no control characters (NQNs end up in logs and configfs).
 */
#ifndef SLIO_NQN_H
#define SLIO_NQN_H

#include <stdbool.h>
#include <uuid/uuid.h>

#include "slio/cleanup.h"
#include "slio/nvme_auth.h" /* SLIO_DHCHAP_SECRET_MAX */

#define SLIO_NQN_MAX         223
#define SLIO_NQN_BUF         (SLIO_NQN_MAX + 1)
#define SLIO_NQN_DISCOVERY   "nqn.2014-08.org.nvmexpress.discovery"
#define SLIO_NQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define SLIO_NQN_PREFIX      "nqn.2024-01.io.slite" /* SLiteIO's naming authority */

/* 0, -EINVAL (malformed) or -ENAMETOOLONG (> 223 bytes). */
int slio_nqn_validate(const char *nqn) _must_check_;
bool slio_nqn_is_discovery(const char *nqn);

/* "nqn.2014-08.org.nvmexpress:uuid:<uuid>" */
void slio_nqn_from_uuid(const uuid_t u, char ret[static SLIO_NQN_BUF]);
/*
 * SLIO_NQN_PREFIX ":" name — the NQN of a volume's subsystem. name must be
 * 1+ of [A-Za-z0-9._-] (Kubernetes object names fit): -EINVAL otherwise,
 * -ENAMETOOLONG if the NQN would exceed 223 bytes. ret untouched on failure.
 */
int slio_nqn_for_volume(const char *name, char ret[static SLIO_NQN_BUF]) _must_check_;

/*
 * An NVMe DH-HMAC-CHAP secret in its textual representation, as
 * `nvme gen-dhchap-key` prints it and `nvme connect --dhchap-secret`, the
 * kernel and SPDK's keyring read it: "DHHC-1:<hh>:<base64>:" with hh 00..03
 * (the hash the key was transformed with: none, SHA-256/384/512) and the
 * base64 of a 32, 48 or 64-byte key followed by its CRC-32 (48, 72 or 92
 * characters), nothing after the final ':'. At most SLIO_DHCHAP_SECRET_MAX
 * (slio/nvme_auth.h) bytes.
 * Checked by slio_dhchap_key_parse (CRC-32 included: a corrupted secret is
 * refused where it is given, not when the target loads it); never logs the value.
 */
bool slio_dhchap_secret_valid(const char *s);

/*
 * This host's identity as nvme-cli keeps it: <dir>/hostnqn and <dir>/hostid
 * (dir NULL: /etc/nvme). A missing hostid is taken from a UUID-form hostnqn;
 * a missing hostnqn is derived from the hostid. -ENOENT if neither exists,
 * -EINVAL (with the file named in the log) if one is malformed.
 */
int slio_host_identity_load(const char *dir, char ret_nqn[static SLIO_NQN_BUF],
                            uuid_t ret_hostid) _must_check_;
/* A fresh random hostid and the UUID-form NQN derived from it. */
void slio_host_identity_generate(char ret_nqn[static SLIO_NQN_BUF], uuid_t ret_hostid);

#endif
