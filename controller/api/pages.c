/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pagination: a page ends at a store key, and the continue token is that key
 * (hex, so it is opaque and URL-safe). Keys are stable and ordered, so a next
 * page starting after the key neither repeats nor skips an item that existed
 * throughout, whatever was created or deleted meanwhile.
 */
#include <string.h>

#include "api.h"
#include "slio/parse.h"

#define SCAN_BATCH  1000
#define SCAN_BUDGET 20000 /* documents examined per filtered page at most */

static const char hexdigits[] = "0123456789abcdef";

char *api_page_token(const char *key)
{
    size_t n = strlen(key);
    char *t = malloc(2 * n + 1);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        t[2 * i] = hexdigits[(unsigned char)key[i] >> 4];
        t[2 * i + 1] = hexdigits[(unsigned char)key[i] & 0xf];
    }
    t[2 * n] = '\0';
    return t;
}

static int hexval(char c)
{
    const char *p = c ? strchr(hexdigits, c) : NULL;
    return p ? (int)(p - hexdigits) : -1;
}

int api_page_key(const char *token, const char *prefix, char **ret_key, struct slio_err *err)
{
    size_t n = strlen(token);
    _cleanup_free_ char *key = NULL;
    if (n == 0 || n % 2 || n > 2 * STORE_KEY_MAX)
        goto bad;
    key = malloc(n / 2 + 1);
    if (!key)
        return -ENOMEM;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(token[2 * i]), lo = hexval(token[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            goto bad;
        key[i] = (char)(hi << 4 | lo);
    }
    key[n / 2] = '\0';
    if (strncmp(key, prefix, strlen(prefix)) != 0)
        goto bad;
    *ret_key = TAKE_PTR(key);
    return 0;
bad:
    slio_err_set(err, "query 'continue': not a token of this list");
    return -EINVAL;
}

int api_page_params(struct api_call *call, const char *prefix, size_t *ret_limit, char **ret_start)
{
    const char *l = slio_http_query(call->req, "limit");
    const char *cont = slio_http_query(call->req, "continue");
    uint32_t limit = API_LIMIT_DEFAULT;
    if (l && slio_parse_u32(l, 1, API_LIMIT_MAX, &limit) < 0) {
        slio_err_set(&call->err, "query 'limit': \"%.32s\" is not an integer in [1, %d]", l,
                     API_LIMIT_MAX);
        return -EINVAL;
    }
    *ret_start = NULL;
    if (cont && *cont) {
        int r = api_page_key(cont, prefix, ret_start, &call->err);
        if (r < 0)
            return r;
    }
    *ret_limit = limit;
    return 0;
}

int api_scan(struct api_call *call, const char *prefix, bool keys_only, api_each_fn each, void *arg)
{
    _cleanup_free_ char *last = NULL;
    for (bool more = true; more;) {
        struct store_kv_list l;
        int r =
            store_list(call->ctl->store, prefix, last, SCAN_BATCH, keys_only, &l, NULL, &call->err);
        if (r < 0)
            return r;
        for (size_t i = 0; i < l.n; i++)
            each(call, &l.items[i], prefix, arg);
        more = l.more && l.n;
        free(last);
        last = more ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (more && !last)
            return -ENOMEM;
    }
    return 0;
}

struct page {
    json_t *items;
    size_t limit, scanned;
    char *last_key; /* the last key examined */
    bool full, more;
};

static int page_batch(struct api_call *call, const char *prefix, struct page *p,
                      api_filter_fn filter, api_render_fn render, void *arg)
{
    struct store_kv_list l;
    size_t batch = filter ? SCAN_BATCH : p->limit - json_array_size(p->items);
    int r = store_list(call->ctl->store, prefix, p->last_key, batch, false, &l, NULL, &call->err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < l.n && !p->full; i++) {
        _cleanup_json_ json_t *doc = json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
        free(p->last_key);
        p->last_key = strdup(l.items[i].key);
        p->scanned++;
        if (!p->last_key) {
            r = -ENOMEM;
            break;
        }
        if (!doc || (filter && !filter(doc, arg)))
            continue;
        json_t *item = render ? render(call, doc, l.items[i].mod_revision, arg) : model_public(doc);
        if (item)
            json_array_append_new(p->items, item);
        p->full = json_array_size(p->items) == p->limit;
        if (p->full)
            p->more = i + 1 < l.n || l.more;
    }
    if (!p->full)
        p->more = l.more;
    store_kv_list_clear(&l);
    return r;
}

int api_list(struct api_call *call, const char *prefix, api_filter_fn filter, api_render_fn render,
             void *arg)
{
    struct page p = {0};
    int r = api_page_params(call, prefix, &p.limit, &p.last_key);
    if (r < 0)
        return r;
    p.items = json_array();
    if (!p.items) {
        free(p.last_key);
        return -ENOMEM;
    }
    do {
        r = page_batch(call, prefix, &p, filter, render, arg);
    } while (r == 0 && !p.full && p.more && p.scanned < SCAN_BUDGET);

    if (r == 0) {
        call->out = json_pack("{s:o}", "items", p.items);
        p.items = NULL;
        if (call->out && p.more && p.last_key) {
            char *tok = api_page_token(p.last_key);
            json_object_set_new(call->out, "continue", tok ? json_string(tok) : json_null());
            free(tok);
        }
        r = call->out ? 0 : -ENOMEM;
    }
    json_decref(p.items);
    free(p.last_key);
    return r;
}
