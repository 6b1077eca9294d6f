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

static int list_orphans(struct api_call *call)
{
    _cleanup_free_ char *last = NULL;
    json_t *items = json_array();
    call->out = json_pack("{s:o}", "items", items);
    if (!call->out)
        return -ENOMEM;
    for (bool more = true; more;) {
        struct store_kv_list l;
        int r = store_list(call->ctl->store, K_ORPHANS, last, 1000, false, &l, NULL, &call->err);
        if (r < 0)
            return r;
        for (size_t i = 0; i < l.n; i++) {
            _cleanup_json_ json_t *doc =
                json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
            json_array_extend(items, json_object_get(doc, "items"));
        }
        more = l.more && l.n;
        free(last);
        last = more ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (more && !last)
            return -ENOMEM;
    }
    return 0;
}

API_HANDLER(list_events, NEED_READ, API_NO_BODY)
API_HANDLER(list_orphans, NEED_READ, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/events", list_events_http},
    {"GET", "/v1/orphans", list_orphans_http},
};
const struct api_routes api_event_routes = {routes, SLIO_ARRAY_SIZE(routes)};
