/* SPDX-License-Identifier: Apache-2.0 */
/* Running a handler: authentication, the body, the answer or the error; the route table. */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "slio/json.h"
#include "slio/log.h"

static int parse_body(struct api_call *call)
{
    size_t len;
    const char *buf = slio_http_body(call->req, &len);
    if (!buf || len == 0) {
        slio_err_set(&call->err, "request body: missing (JSON object expected)");
        return -EINVAL;
    }
    int r = slio_json_loadb(buf, len, call->ctl->cfg.limits.max_body, &call->body, &call->err);
    if (r == -EMSGSIZE)
        return r;
    if (r < 0) {
        slio_err_prefix(&call->err, "request body");
        return -EINVAL;
    }
    if (!json_is_object(call->body)) {
        slio_err_set(&call->err, "request body: expected object, got %s",
                     slio_json_type_name(call->body));
        return -EINVAL;
    }
    return 0;
}

/* Writes only on the leader: a standby answers 503 not_leader naming the leader. */
static bool is_write(const struct slio_http_request *req)
{
    return strcmp(slio_http_method(req), "GET") != 0;
}

static unsigned answer_status(const struct api_call *call, int r)
{
    if (r < 0)
        return api_error_of(r)->status;
    if (call->status)
        return call->status;
    return call->text || call->out ? 200 : 204;
}

static void respond(struct api_call *call, struct slio_http_response *resp, int r,
                    const char *leader)
{
    if (r < 0) {
        const struct api_error *e = api_error_of(r);
        if (e->status >= 500)
            log_warn("%s %s: %s", slio_http_method(call->req), slio_http_path(call->req),
                     call->err.text);
        slio_http_respond_json(
            resp, e->status,
            api_error_body(e, call->err.text[0] ? call->err.text : e->code, leader));
        json_decref(call->out);
        free(call->text);
        return;
    }
    if (call->text)
        slio_http_respond_text(resp, call->status ? call->status : 200, call->content_type,
                               call->text, call->text_len);
    else if (call->out)
        slio_http_respond_json(resp, call->status ? call->status : 200, call->out);
    else
        slio_http_respond_text(resp, call->status ? call->status : 204, "text/plain", NULL, 0);
}

/*
 * A controller that just gained leadership (etcd HA) schedules from a view built before it
 * led, which misses what the previous leader placed: until the monitor has rebuilt the view
 * for this epoch (c->leader_epoch catches up), writes are answered 503 unavailable and the
 * client retries. Found by tests/integration/test_controller_ha.py: without this, creates
 * right after a failover were refused "0/0 pools".
 */
static int leadership_settled(struct ctl *c, struct slio_err *err)
{
    if (store_leader_epoch(c->store) == __atomic_load_n(&c->leader_epoch, __ATOMIC_ACQUIRE))
        return 0;
    slio_err_set(err, "leadership just gained: the view is being rebuilt");
    return -EAGAIN;
}

void api_run(const struct slio_http_request *req, struct slio_http_response *resp, void *ctx,
             enum auth_need need, enum api_body body, api_fn fn)
{
    struct api_call call = {.ctl = ctx, .req = req};
    char leader[256] = "";
    uint64_t t0 = ctl_now_us();
    int who;
    int r = auth_check_who(&call.ctl->auth, slio_http_bearer(req), need, &who, &call.err);
    if (r == 0 && need != NEED_PUBLIC && is_write(req) &&
        !store_is_leader(call.ctl->store, leader, sizeof(leader))) {
        slio_err_set(&call.err, "this controller is a standby%s%s", leader[0] ? "; leader: " : "",
                     leader);
        r = -EROFS;
    }
    if (r == 0 && need != NEED_PUBLIC && is_write(req))
        r = leadership_settled(call.ctl, &call.err);
    if (r == 0 && body == API_BODY)
        r = parse_body(&call);
    if (r == 0)
        r = fn(&call);
    api_audit(&call, who, answer_status(&call, r));
    respond(&call, resp, r, leader);
    json_decref(call.body);
    slio_prom_hist_observe(&call.ctl->request_seconds, (double)(ctl_now_us() - t0) / 1e6);
}

int api_get_doc(struct api_call *call, const char *prefix, const char *id, const char *what,
                json_t **ret, int64_t *ret_mod)
{
    char key[MODEL_KEY_MAX];
    int r = store_get_json(call->ctl->store, model_key(key, prefix, id, NULL), ret, ret_mod,
                           &call->err);
    if (r == -ENOENT)
        slio_err_set(&call->err, "%s %s not found", what, id);
    return r;
}

int api_query_name(struct api_call *call, const char *param, const char **ret)
{
    const char *v = slio_http_query(call->req, param);
    char what[64];
    snprintf(what, sizeof(what), "query '%s':", param);
    if (v && model_check_name(what, v, &call->err) < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

int api_query_uuid(struct api_call *call, const char *param, char ret[static SLIO_UUID_STR_LEN],
                   bool *ret_present)
{
    const char *v = slio_http_query(call->req, param);
    uuid_t u;
    *ret_present = v != NULL;
    if (!v)
        return 0;
    if (slio_uuid_parse(v, u) < 0) {
        slio_err_set(&call->err, "query '%s': \"%.64s\" is not a UUID", param, v);
        return -EINVAL;
    }
    slio_uuid_format(u, ret);
    return 0;
}

int api_path_name(struct api_call *call, const char *param, const char **ret)
{
    const char *v = slio_http_path_param(call->req, param);
    if (!v)
        v = "";
    /* A malformed name cannot exist: 404 says so without echoing a grammar lesson. */
    if (model_check_name(param, v, NULL) < 0) {
        slio_err_set(&call->err, "%s \"%.64s\" not found", param, v);
        return -ENOENT;
    }
    *ret = v;
    return 0;
}

int api_path_uuid(struct api_call *call, const char *param, char ret[static SLIO_UUID_STR_LEN])
{
    const char *v = slio_http_path_param(call->req, param);
    uuid_t u;
    if (!v || slio_uuid_parse(v, u) < 0) {
        slio_err_set(&call->err, "\"%.64s\" is not a UUID", v ? v : "");
        return -EINVAL;
    }
    slio_uuid_format(u, ret);
    return 0;
}

int api_start(struct ctl *c, struct slio_http_server **ret, struct slio_err *err)
{
    const struct api_routes *groups[] = {
        &api_volume_routes, &api_attachment_routes, &api_snapshot_routes,
        &api_node_routes,   &api_agent_routes,      &api_agent_status_routes,
        &api_event_routes,  &api_system_routes,     &api_dhchap_routes,
    };
    /* The server keeps a pointer to the table: one table for the process (one server). */
    static struct slio_http_route routes[64];
    size_t n = 0;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(groups); i++)
        for (size_t j = 0; j < groups[i]->n; j++) {
            if (n == SLIO_ARRAY_SIZE(routes))
                return -E2BIG;
            routes[n++] = groups[i]->routes[j];
        }
    struct slio_http_server_opts o = {
        .address = c->cfg.address,
        .port = c->cfg.port,
        .max_body = c->cfg.limits.max_body,
        .max_connections = c->cfg.limits.max_connections,
        .max_connections_per_ip = c->cfg.limits.max_connections_per_ip,
        .tls_cert_file = c->cfg.tls_cert_file,
        .tls_key_file = c->cfg.tls_key_file,
        .rate_per_s = c->cfg.limits.rate_limit,
        .rate_burst = c->cfg.limits.rate_burst,
        .routes = routes,
        .n_routes = n,
        .ctx = c,
    };
    int r = api_audit_open(c, err);
    if (r == 0)
        r = slio_http_server_start(&o, &c->server, err);
    if (r == 0)
        *ret = c->server;
    return r;
}
