/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's model: request bodies decoded by the one field-table
 * decoder into structs, and the JSON documents kept in the store.
 *
 * Key space (every backend; etcd adds its own namespace prefix):
 *   /slio/nodes/<node>                 node document (its pools inside)
 *   /slio/volumes/<uuid>               volume document
 *   /slio/snapshots/<uuid>             snapshot document
 *   /slio/names/volumes/<name>         name index → uuid (create-if-absent = idempotency)
 *   /slio/names/snapshots/<name>       same for snapshots
 *   /slio/bynode/<node>/v/<uuid>       volumes placed on the node (its desired state)
 *   /slio/bynode/<node>/s/<uuid>       snapshots on the node
 *   /slio/desired/<node>               its mod_revision is the node's desired revision
 *   /slio/events/<time><seq>           events, in time order
 *   /slio/orphans/<node>               the orphans the node last reported
 *   /slio/dhchap/<node>                the node's DH-HMAC-CHAP secrets (api/dhchap.c; never
 *                                      in a node document, never answered by a GET)
 *
 * UUIDs are generated time-ordered (48-bit milliseconds first, like UUIDv7),
 * so listing /slio/volumes/ in key order is listing in creation order.
 * Documents carry members starting with '_' that only the controller reads
 * (the canonical create parameters, reported export state); they are
 * stripped before a document leaves through the API.
 */
#ifndef SLIO_CONTROLLER_MODEL_H
#define SLIO_CONTROLLER_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"
#include "slio/error.h"
#include "slio/json.h"
#include "slio/nqn.h"
#include "slio/uuid.h"

#define K_NODES     "/slio/nodes/"
#define K_VOLUMES   "/slio/volumes/"
#define K_SNAPSHOTS "/slio/snapshots/"
#define K_VOLNAMES  "/slio/names/volumes/"
#define K_SNAPNAMES "/slio/names/snapshots/"
#define K_BYNODE    "/slio/bynode/"
#define K_DESIRED   "/slio/desired/"
#define K_EVENTS    "/slio/events/"
#define K_ORPHANS   "/slio/orphans/"
#define K_DHCHAP    "/slio/dhchap/"

#define MODEL_KEY_MAX     384
#define MODEL_NAME_MAX    63  /* node and pool names: DNS-1123 subdomain */
#define MODEL_OBJNAME_MAX 128 /* volume and snapshot names */
#define MODEL_MAX_TERMS   16
#define MODEL_MAX_VALUES  64
#define MODEL_MAX_LABELS  64
#define MODEL_MAX_POOLS   16

/* Build "<prefix><a>[/<b>]" into buf (MODEL_KEY_MAX). Returns buf. */
const char *model_key(char buf[static MODEL_KEY_MAX], const char *prefix, const char *a,
                      const char *b);

/* A time-ordered random UUID (see above). */
void model_uuid_new(char ret[static SLIO_UUID_STR_LEN]);
/* RFC 3339 UTC with milliseconds of the current time. */
void model_now(char ret[static 32]);
/* A node document's pool its agent no longer reports, kept listed while it holds volumes. */
static inline bool model_pool_unreported(const json_t *pool)
{
    return json_is_true(json_object_get(pool, "unreported"));
}

/* 0 or -EINVAL naming `what`: DNS-1123 subdomain of at most 63 bytes. */
int model_check_name(const char *what, const char *s, struct slio_err *err);
/* Volume/snapshot names: 1..128 of [A-Za-z0-9._-]. */
int model_check_objname(const char *what, const char *s, struct slio_err *err);

/* ---- requests ------------------------------------------------------------------------ */

struct model_qos {
    uint64_t rw_ios_per_sec, rw_mbytes_per_sec, r_mbytes_per_sec, w_mbytes_per_sec;
};

struct model_spread {
    const char *group; /* NULL: no spread group */
    int level;         /* enum sched_spread_level */
    bool hard;
};

struct model_source {
    uuid_t snapshot, volume; /* null UUID: absent */
};

struct volume_create {
    const char *name;
    uint64_t size;
    bool thin;
    int fs_type;  /* index in model_fs_types */
    int position; /* enum sched_position */
    const char *consumer_node;
    json_t *node_selector, *pool_selector, *labels; /* validated, borrowed */
    struct model_spread spread;
    struct model_source source;
    struct model_qos qos;
};

extern const char *const model_fs_types[];
extern const char *const model_positions[];
extern const char *const model_spread_levels[];

/* Decode and validate a POST /v1/volumes body (borrowed strings live as long as body). */
int model_volume_create_decode(const json_t *body, struct volume_create *ret, struct slio_err *err);
/* The canonical parameters: what idempotency compares (json_equal) and the store keeps. */
json_t *model_volume_spec(const struct volume_create *vc);

int model_qos_decode(const json_t *body, struct model_qos *ret, struct slio_err *err);
json_t *model_qos_json(const struct model_qos *q);

struct volume_expand {
    uint64_t size;
};
int model_volume_expand_decode(const json_t *body, struct volume_expand *ret, struct slio_err *err);

struct attachment_create {
    const char *node;
    const char *host_nqn; /* NULL: the registered node's */
};
int model_attachment_decode(const json_t *body, struct attachment_create *ret,
                            struct slio_err *err);

struct snapshot_create {
    const char *name;
    uuid_t volume;
    uint64_t cow_reserve;
};
int model_snapshot_create_decode(const json_t *body, struct snapshot_create *ret,
                                 struct slio_err *err);

/*
 * A sched_request built from a stored spec (model_volume_spec's shape): the
 * pointers borrow from spec; the arrays live in the struct. uuid is copied.
 */
struct model_sched_req {
    struct sched_request req;
    char uuid[SLIO_UUID_STR_LEN];
    struct sched_selector_term terms[2][MODEL_MAX_TERMS];
    const char *values[2][MODEL_MAX_TERMS][MODEL_MAX_VALUES];
};
void model_sched_request(const json_t *spec, const char *uuid, const char *pinned_pool,
                         struct model_sched_req *ret);

/* ---- DH-HMAC-CHAP secrets of a consumer node (api/dhchap.c) ---------------------------- */

#define MODEL_DHCHAP_ID_LEN 16 /* hex digits of a key id */

/*
 * Decode a PUT /v1/nodes/{node}/dhchap body ({"host_key", "ctrl_key"?}, each
 * slio_dhchap_secret_valid) into the stored document: the secrets, their key
 * ids and the time. Errors name the field, never quote a value.
 */
int model_dhchap_decode(const json_t *body, json_t **ret_doc, struct slio_err *err);
/* A key id: the first MODEL_DHCHAP_ID_LEN hex digits of the secret's SHA-256. */
int model_dhchap_key_id(const char *secret, char ret[static MODEL_DHCHAP_ID_LEN + 1]);
/* What the API shows of a stored document (doc NULL: not configured): no secret. */
json_t *model_dhchap_public(const char *node, const json_t *doc);

/* ---- documents ----------------------------------------------------------------------- */

/* Borrowed string member or "" (never NULL). */
const char *model_str(const json_t *doc, const char *key);
uint64_t model_u64(const json_t *doc, const char *key);
/* A deep copy without the '_' members (the API's view of a document). */
json_t *model_public(const json_t *doc);
/* Drop doc's '_' members in place (for a document the caller alone holds). */
void model_public_strip(json_t *doc);
/* "node/pool": the scheduler's pool id. */
const char *model_pool_id(char buf[static MODEL_KEY_MAX], const char *node, const char *pool);

#endif
