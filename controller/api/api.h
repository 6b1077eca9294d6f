/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The REST API of api/openapi.yaml on slio/http_server.h. One file per
 * resource group; every handler has the shape
 *
 *   static int get_volume(struct api_call *call);   // 0 or a negative errno
 *
 * and is wrapped by API_HANDLER(), which authenticates (auth.h), parses the
 * body (bounded, then the one field-table decoder inside the handler), runs
 * it, and turns a negative errno into status + code + message through the
 * one table in errors.c. Handlers put their answer in call->status/out.
 */
#ifndef SLIO_CONTROLLER_API_H
#define SLIO_CONTROLLER_API_H

#include <jansson.h>

#include "ctl.h"
#include "slio/http_server.h"

struct api_call {
    struct ctl *ctl;
    const struct slio_http_request *req;
    json_t *body;    /* the parsed request body, or NULL */
    unsigned status; /* on success: 200 unless set */
    json_t *out;     /* on success: the JSON answer (NULL: no body) */
    /* Raw answers (/metrics): text and its type; takes precedence over out. */
    char *text;
    size_t text_len;
    const char *content_type;
    struct slio_err err; /* on failure: the message (names the object and the cause) */
};

typedef int (*api_fn)(struct api_call *call);

enum api_body { API_NO_BODY, API_BODY };

void api_run(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx,
             enum auth_need need, enum api_body body, api_fn fn);

#define API_HANDLER(fn, need, body)                                                                \
    static void fn##_http(const struct slio_http_request *req, struct slio_http_response *resp,    \
                          void *ctx)                                                               \
    {                                                                                              \
        api_run(req, resp, ctx, need, body, fn);                                                   \
    }

/* ---- audit.c: one line per mutating call ------------------------------------------------ */
/* Open cfg.audit_file (when set) into c->audit_fd. -errno naming the file. */
int api_audit_open(struct ctl *c, struct slio_err *err);
/* The line for this call when its method mutates (not GET/HEAD): who (auth_check_who's),
 * peer, method, path, the body's "name", the answer's "id", the status. Before the answer is
 * handed to the server (call->out is read). */
void api_audit(const struct api_call *call, int who, unsigned status);

/* ---- errors.c: the one errno → HTTP table ------------------------------------------------ */
struct api_error {
    int err; /* negative errno */
    unsigned status;
    const char *code;
};
/* The row for r (negative errno); unknown errnos map to 500 internal. */
const struct api_error *api_error_of(int r);
/* {"error": {"code", "message"[, "leader"]}} */
json_t *api_error_body(const struct api_error *e, const char *message, const char *leader);

/* ---- pages.c: pagination and lists ------------------------------------------------------ */
#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX     1000

/* limit (default API_LIMIT_DEFAULT) and the decoded continue key (NULL: first page). */
int api_page_params(struct api_call *call, const char *prefix, size_t *ret_limit, char **ret_start);
/* The opaque continue token of a store key (hex of the key), to free(). */
char *api_page_token(const char *key);
/* Decode a token; -EINVAL unless it is a key under prefix. */
int api_page_key(const char *token, const char *prefix, char **ret_key, struct slio_err *err);

/*
 * A page of documents under prefix. filter (may be NULL) says whether a
 * document belongs; render (may be NULL: model_public) turns it into the
 * answer's item. Reads limit/continue from the query; puts {"items": [...],
 * "continue"?: token} in call->out.
 */
typedef bool (*api_filter_fn)(const json_t *doc, void *arg);
typedef json_t *(*api_render_fn)(struct api_call *call, const json_t *doc, int64_t mod_revision,
                                 void *arg);
int api_list(struct api_call *call, const char *prefix, api_filter_fn filter, api_render_fn render,
             void *arg);

/*
 * Every key under prefix, however many, in key order: each(call, kv, prefix,
 * arg) once per key (kv->key + strlen(prefix) is the id part). For answers
 * that are whole by nature (an agent's desired state, a drain's moves, the
 * orphan reports), not for client-facing pages (api_list). 0 or the store's
 * negative errno (call->err set).
 */
typedef void (*api_each_fn)(struct api_call *call, const struct store_kv *kv, const char *prefix,
                            void *arg);
int api_scan(struct api_call *call, const char *prefix, bool keys_only, api_each_fn each,
             void *arg);

/* Query helpers: -EINVAL naming the parameter. */
int api_query_name(struct api_call *call, const char *param, const char **ret);
int api_query_uuid(struct api_call *call, const char *param, char ret[static SLIO_UUID_STR_LEN],
                   bool *ret_present);
/* The path parameter as a validated DNS-1123 name / UUID. */
int api_path_name(struct api_call *call, const char *param, const char **ret);
int api_path_uuid(struct api_call *call, const char *param, char ret[static SLIO_UUID_STR_LEN]);

/* Read a document; -ENOENT with "<what> <id> not found". */
int api_get_doc(struct api_call *call, const char *prefix, const char *id, const char *what,
                json_t **ret, int64_t *ret_mod);

/* ---- the resource groups' route tables ------------------------------------------------- */
struct api_routes {
    const struct slio_http_route *routes;
    size_t n;
};
extern const struct api_routes api_volume_routes, api_attachment_routes, api_snapshot_routes,
    api_node_routes, api_agent_routes, api_agent_status_routes, api_event_routes, api_system_routes,
    api_dhchap_routes;

/* Render helpers shared by groups. */
json_t *api_render_volume(struct api_call *call, const json_t *doc, int64_t mod_revision,
                          void *arg);
json_t *api_render_attachment(struct api_call *call, const json_t *vol, const json_t *att);

/* Start the HTTP server with every route. */
int api_start(struct ctl *c, struct slio_http_server **ret, struct slio_err *err);

#endif
