/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls to the controller as the commands need them: one call with the error
 * printed, every page of a list, a volume or snapshot by name or UUID. The one
 * table from an API answer to an exit code is here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"
#include "slio/uuid.h"

#define PATH_MAX_LEN 2048

static const struct {
    const char *code;
    enum cli_exit exit;
} code_exits[] = {
    {"invalid_argument", CLI_USAGE},  {"not_found", CLI_NOT_FOUND},
    {"conflict", CLI_CONFLICT},       {"unauthenticated", CLI_UNAVAILABLE},
    {"forbidden", CLI_UNAVAILABLE},   {"not_leader", CLI_UNAVAILABLE},
    {"unavailable", CLI_UNAVAILABLE}, {"unschedulable", CLI_UNSCHEDULABLE},
    {"too_large", CLI_UNSCHEDULABLE}, {"internal", CLI_FAILED},
};

enum cli_exit cli_exit_for_status(unsigned status, const char *code)
{
    for (size_t i = 0; code && i < SLIO_ARRAY_SIZE(code_exits); i++)
        if (strcmp(code, code_exits[i].code) == 0)
            return code_exits[i].exit;
    switch (status) { /* no (known) code: go by the status */
    case 400:
    case 405:
        return CLI_USAGE;
    case 401:
    case 403:
    case 429:
    case 502:
    case 503:
    case 504:
        return CLI_UNAVAILABLE;
    case 404:
        return CLI_NOT_FOUND;
    case 409:
        return CLI_CONFLICT;
    case 413:
    case 422:
        return CLI_UNSCHEDULABLE;
    default:
        return CLI_FAILED;
    }
}

int cli_fail_api(struct cli *c, const char *what, unsigned status, const json_t *body)
{
    const json_t *e = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    fprintf(c->err, "%s: error: %s: %s (%s, HTTP %u)\n", c->prog, what,
            msg ?: "the controller gave no reason", code ?: "no code", status);
    return cli_exit_for_status(status, code);
}

int cli_fail_transport(struct cli *c, const char *what, int r, const struct slio_err *err)
{
    fprintf(c->err, "%s: error: %s: %s\n", c->prog, what, err->text[0] ? err->text : strerror(-r));
    switch (r) {
    case -ECONNREFUSED:
    case -ETIMEDOUT:
    case -EHOSTUNREACH:
    case -ECONNRESET:
    case -EPROTO:
    case -ENETUNREACH:
    case -EAGAIN:
        return CLI_UNAVAILABLE;
    case -EINVAL:
        return CLI_USAGE;
    default:
        return CLI_FAILED;
    }
}

int cli_call(struct cli *c, const char *what, const char *method, const char *path,
             const json_t *body, json_t **ret)
{
    struct slio_err err = {{0}};
    unsigned status = 0;
    json_t *out = NULL;
    int r = slio_http_call(c->http, method, path, body, &status, &out, &err);
    if (r < 0)
        return cli_fail_transport(c, what, r, &err);
    if (status < 200 || status > 299) {
        int rc = cli_fail_api(c, what, status, out);
        json_decref(out);
        return rc;
    }
    if (ret)
        *ret = out;
    else
        json_decref(out);
    return CLI_OK;
}

/* Append one page's items to all; the next page's token (borrowed from page) or NULL. */
static int take_page(struct cli *c, const char *what, json_t *page, json_t *all,
                     const char **ret_next)
{
    json_t *items = json_object_get(page, "items");
    const json_t *next = json_object_get(page, "continue");
    if (!json_is_array(items) || (next && !json_is_string(next))) {
        fprintf(c->err, "%s: error: %s: the controller's answer has no item list\n", c->prog, what);
        return CLI_FAILED;
    }
    if (json_array_extend(all, items) < 0)
        return CLI_FAILED;
    uint64_t cap = c->o->all ? 0 : c->o->limit; /* a list served whole (orphans) */
    while (cap && json_array_size(all) > cap)
        json_array_remove(all, json_array_size(all) - 1);
    *ret_next = next && *json_string_value(next) ? json_string_value(next) : NULL;
    return CLI_OK;
}

int cli_list(struct cli *c, const char *what, const char *path, const char *query, json_t **ret)
{
    _cleanup_json_ json_t *all = json_array();
    _cleanup_free_ char *cont = NULL;
    uint64_t cap = c->o->all ? 0 : c->o->limit;
    if (!all)
        return CLI_FAILED;
    for (;;) {
        char p[PATH_MAX_LEN];
        uint64_t want = c->o->chunk_size;
        if (cap && cap - json_array_size(all) < want)
            want = cap - json_array_size(all);
        int n = snprintf(p, sizeof(p), "%s?limit=%llu%s%s%s", path, (unsigned long long)want, query,
                         cont ? "&continue=" : "", cont ?: "");
        if (n < 0 || (size_t)n >= sizeof(p))
            return cli_usage(c, "%s: query too long", what);
        _cleanup_json_ json_t *page = NULL;
        int rc = cli_call(c, what, "GET", p, NULL, &page);
        const char *next = NULL;
        if (rc == CLI_OK)
            rc = take_page(c, what, page, all, &next);
        if (rc != CLI_OK)
            return rc;
        free(TAKE_PTR(cont));
        if (!next || (cap && json_array_size(all) >= cap))
            break;
        if (!(cont = slio_http_escape(next)))
            return CLI_FAILED;
    }
    *ret = TAKE_PTR(all);
    return CLI_OK;
}

int cli_resolve_id(struct cli *c, const char *kind, const char *list_path, const char *ref,
                   char ret[static 37])
{
    uuid_t u;
    char what[256];
    if (slio_uuid_parse(ref, u) == 0) {
        slio_uuid_format(u, ret);
        return CLI_OK;
    }
    snprintf(what, sizeof(what), "%s \"%s\"", kind, ref);
    _cleanup_free_ char *esc = slio_http_escape(ref);
    char path[PATH_MAX_LEN];
    if (!esc)
        return CLI_FAILED;
    snprintf(path, sizeof(path), "%s?name=%s", list_path, esc);
    _cleanup_json_ json_t *page = NULL;
    int rc = cli_call(c, what, "GET", path, NULL, &page);
    if (rc != CLI_OK)
        return rc;
    const char *id =
        json_string_value(json_object_get(json_array_get(json_object_get(page, "items"), 0), "id"));
    if (!id || slio_uuid_parse(id, u) < 0) {
        fprintf(c->err, "%s: error: %s: not found (no %s has this name or id)\n", c->prog, what,
                kind);
        return CLI_NOT_FOUND;
    }
    slio_uuid_format(u, ret);
    return CLI_OK;
}

int cli_split_pool(struct cli *c, char *ref, const char **ret_node, const char **ret_pool)
{
    char *slash = strchr(ref, '/');
    if (!slash || slash == ref || !slash[1] || strchr(slash + 1, '/'))
        return cli_usage(c, "pool \"%s\": expected NODE/POOL", ref);
    *slash = '\0';
    *ret_node = ref;
    *ret_pool = slash + 1;
    return CLI_OK;
}

int cli_usage(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->err, "%s: error: ", c->prog);
    vfprintf(c->err, fmt, ap);
    fputc('\n', c->err);
    va_end(ap);
    return CLI_USAGE;
}
