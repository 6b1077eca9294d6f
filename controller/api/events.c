/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/events (every state change, oldest first) and /v1/orphans (as agents report them). */
#include <string.h>

#include "api.h"

static const char *const kinds[] = {"node", "pool", "volume", "snapshot", "attachment", NULL};

struct event_filter {
    const char *kind, *object;
};

static bool event_matches(const json_t *ev, void *arg)
{
    const struct event_filter *f = arg;
    return (!f->kind || strcmp(model_str(ev, "kind"), f->kind) == 0) &&
           (!f->object || strcmp(model_str(ev, "object"), f->object) == 0);
}

static json_t *render_event(struct api_call *call, const json_t *doc, int64_t mod, void *arg)
{
    json_t *out = model_public(doc);
    if (out)
        json_object_set_new(out, "seq", json_integer(mod));
    return out;
}

static int list_events(struct api_call *call)
{
    struct event_filter f = {slio_http_query(call->req, "kind"),
                             slio_http_query(call->req, "object")};
    if (f.kind) {
        bool known = false;
        for (size_t i = 0; kinds[i]; i++)
            known |= strcmp(kinds[i], f.kind) == 0;
        if (!known) {
            slio_err_set(&call->err,
                         "query 'kind': \"%.32s\" is not one of node, pool, volume, "
                         "snapshot, attachment",
                         f.kind);
            return -EINVAL;
        }
    }
    if (f.object && strlen(f.object) > 256) {
        slio_err_set(&call->err, "query 'object': longer than 256 bytes");
        return -EINVAL;
    }
    return api_list(call, K_EVENTS, f.kind || f.object ? event_matches : NULL, render_event, &f);
}

/* One node's orphan report: its items join the answer's. */
static void orphans_one(struct api_call *call, const struct store_kv *kv, const char *prefix,
                        void *arg)
{
    (void)call, (void)prefix;
    _cleanup_json_ json_t *doc = json_loadb(kv->value, kv->value_len, 0, NULL);
    json_array_extend(arg, json_object_get(doc, "items"));
}

static int list_orphans(struct api_call *call)
{
    json_t *items = json_array();
    call->out = json_pack("{s:o}", "items", items);
    if (!call->out)
        return -ENOMEM;
    return api_scan(call, K_ORPHANS, false, orphans_one, items);
}

API_HANDLER(list_events, NEED_READ, API_NO_BODY)
API_HANDLER(list_orphans, NEED_READ, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/events", list_events_http},
    {"GET", "/v1/orphans", list_orphans_http},
};
const struct api_routes api_event_routes = {routes, SLIO_ARRAY_SIZE(routes)};
