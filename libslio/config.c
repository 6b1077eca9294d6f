/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML → json_t with libyaml's event parser. The tree is built with an
 * explicit, bounded stack (no recursion), every node is counted, and the
 * features that make YAML dangerous or ambiguous for config are refused
 * outright (see include/slio/config.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "slio/config.h"
#include "slio/fileio.h"
#include "slio/json.h"
#include "slio/parse.h"

struct frame {
    json_t *node; /* object or array, borrowed from the tree */
    char *key;    /* object: the key waiting for its value */
};

struct builder {
    struct slio_config_limits lim;
    struct frame *stack;
    unsigned depth;
    size_t nodes;
    json_t *root;
    struct slio_err *err;
};

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *why)
{
    slio_err_set(b->err, "line %zu column %zu: %s", m->line + 1, m->column + 1, why);
    return -EINVAL;
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? — the YAML 1.2 core float. */
static bool is_core_float(const char *s)
{
    size_t i = (*s == '-' || *s == '+'), digits = 0;

    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t e = 0;
        i++;
        if (s[i] == '-' || s[i] == '+')
            i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, e++;
        if (!e)
            return false;
    }
    return s[i] == '\0';
}

/* Integer in one of the core schema's forms, or -EINVAL (not an integer) / -ERANGE. */
static int core_int(const char *s, json_int_t *ret)
{
    int64_t v;
    uint64_t u;
    char *end;

    if ((s[0] == '0' && s[1] == 'x') || (s[0] == '0' && s[1] == 'o')) {
        bool hex = s[1] == 'x';
        const char *d = s + 2;
        if (!*d || strspn(d, hex ? "0123456789abcdefABCDEF" : "01234567") != strlen(d))
            return -EINVAL;
        errno = 0;
        u = strtoull(d, &end, hex ? 16 : 8);
        if (errno == ERANGE || u > INT64_MAX)
            return -ERANGE;
        *ret = (json_int_t)u;
        return 0;
    }
    int r = slio_parse_i64(s[0] == '+' ? s + 1 : s, INT64_MIN, INT64_MAX, &v);
    if (r == 0 && s[0] == '+' && s[1] == '-')
        return -EINVAL;
    if (r == 0)
        *ret = v;
    return r;
}

static int plain_scalar(struct builder *b, const yaml_event_t *ev, const char *s, json_t **ret)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const nonfinite[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                            "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                            ".NaN",  ".NAN",  NULL};
    json_int_t i = 0;
    int r;

    if (one_of(s, nulls))
        *ret = json_null();
    else if (one_of(s, trues))
        *ret = json_true();
    else if (one_of(s, falses))
        *ret = json_false();
    else if (one_of(s, nonfinite))
        return fail_at(b, &ev->start_mark, "infinity and NaN are not allowed");
    else if ((r = core_int(s, &i)) != -EINVAL) {
        if (r == -ERANGE)
            return fail_at(b, &ev->start_mark, "integer out of the 64-bit range");
        *ret = json_integer(i);
    } else if (is_core_float(s)) {
        double d = strtod(s, NULL);
        if (!isfinite(d))
            return fail_at(b, &ev->start_mark, "number out of range");
        *ret = json_real(d);
    } else {
        *ret = json_string(s);
    }
    return *ret ? 0 : -ENOMEM;
}

static int scalar_value(struct builder *b, const yaml_event_t *ev, json_t **ret)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;

    if (strlen(s) != ev->data.scalar.length)
        return fail_at(b, &ev->start_mark, "NUL character in a scalar");
    if (tag && strcmp(tag, YAML_STR_TAG) != 0)
        return fail_at(b, &ev->start_mark, "tags other than !!str are not supported");
    if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        *ret = json_string(s);
        return *ret ? 0 : -ENOMEM;
    }
    return plain_scalar(b, ev, s, ret);
}

/* Put a new node where the parser is: root, next array item, or value of the pending key. */
static int attach(struct builder *b, const yaml_event_t *ev, json_t *v)
{
    struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;
    int r;

    if (++b->nodes > b->lim.max_nodes) {
        json_decref(v);
        return fail_at(b, &ev->start_mark, "too many nodes");
    }
    if (!top) {
        b->root = v;
        return 0;
    }
    if (json_is_array(top->node))
        return json_array_append_new(top->node, v) < 0 ? -ENOMEM : 0;
    r = json_object_set_new(top->node, top->key, v) < 0 ? -ENOMEM : 0;
    free(top->key);
    top->key = NULL;
    return r;
}

/* A scalar inside a mapping with no pending key is a key. */
static bool expecting_key(const struct builder *b)
{
    const struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;
    return top && json_is_object(top->node) && !top->key;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    json_t *v = NULL;
    int r;

    if (ev->data.scalar.anchor)
        return fail_at(b, &ev->start_mark, "anchors are not allowed");
    if (expecting_key(b)) {
        struct frame *top = &b->stack[b->depth - 1];
        const char *k = (const char *)ev->data.scalar.value;
        if (strlen(k) != ev->data.scalar.length)
            return fail_at(b, &ev->start_mark, "NUL character in a key");
        if (json_object_get(top->node, k)) {
            char why[160];
            snprintf(why, sizeof(why), "duplicate key '%.100s'", k);
            return fail_at(b, &ev->start_mark, why);
        }
        top->key = strdup(k);
        return top->key ? 0 : -ENOMEM;
    }
    r = scalar_value(b, ev, &v);
    if (r < 0)
        return r;
    return attach(b, ev, v);
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, bool mapping)
{
    const char *anchor =
        (const char *)(mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
    const char *tag =
        (const char *)(mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    json_t *node;
    int r;

    if (anchor)
        return fail_at(b, &ev->start_mark, "anchors are not allowed");
    if (tag)
        return fail_at(b, &ev->start_mark, "tags are not supported on mappings and sequences");
    if (expecting_key(b))
        return fail_at(b, &ev->start_mark, "keys must be scalars");
    if (b->depth >= b->lim.max_depth)
        return fail_at(b, &ev->start_mark, "nested too deeply");
    node = mapping ? json_object() : json_array();
    if (!node)
        return -ENOMEM;
    r = attach(b, ev, node);
    if (r < 0)
        return r;
    b->stack[b->depth++] = (struct frame){.node = node};
    return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *docs)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return fail_at(b, &ev->start_mark, "more than one document");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return fail_at(b, &ev->start_mark, "aliases are not allowed");
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return on_collection_start(b, ev, ev->type == YAML_MAPPING_START_EVENT);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        b->depth--;
        return 0;
    default:
        return 0;
    }
}

static int parser_error(struct builder *b, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return -ENOMEM;
    slio_err_set(b->err, "line %zu column %zu: %s%s%s", p->problem_mark.line + 1,
                 p->problem_mark.column + 1, p->problem ? p->problem : "syntax error",
                 p->context ? " " : "", p->context ? p->context : "");
    return -EINVAL;
}

static void apply_defaults(const struct slio_config_limits *in, struct slio_config_limits *out)
{
    *out = in ? *in : (struct slio_config_limits){0};
    if (!out->max_bytes)
        out->max_bytes = SLIO_CONFIG_MAX_BYTES;
    if (!out->max_depth)
        out->max_depth = SLIO_CONFIG_MAX_DEPTH;
    if (!out->max_nodes)
        out->max_nodes = SLIO_CONFIG_MAX_NODES;
}

int slio_config_load_yaml(const char *buf, size_t len, const struct slio_config_limits *lim,
                          json_t **ret, struct slio_err *err)
{
    struct builder b = {.err = err};
    yaml_parser_t p;
    int r = 0, docs = 0;
    bool done = false;

    apply_defaults(lim, &b.lim);
    if (len > b.lim.max_bytes) {
        slio_err_set(err, "%zu bytes is more than the limit of %zu", len, b.lim.max_bytes);
        return -EMSGSIZE;
    }
    b.stack = calloc(b.lim.max_depth, sizeof(*b.stack));
    if (!b.stack || !yaml_parser_initialize(&p)) {
        free(b.stack);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (!done && r == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            r = parser_error(&b, &p);
            break;
        }
        r = on_event(&b, &ev, &docs);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    for (unsigned i = 0; i < b.lim.max_depth; i++)
        free(b.stack[i].key);
    free(b.stack);
    if (r == 0 && !b.root && !(b.root = json_object()))
        r = -ENOMEM;
    if (r < 0) {
        json_decref(b.root);
        return r;
    }
    *ret = b.root;
    return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), n = strlen(suffix);
    return a >= n && strcmp(s + a - n, suffix) == 0;
}

static bool looks_like_json(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
        i++;
    return i < len && (buf[i] == '{' || buf[i] == '[');
}

int slio_config_load_file(const char *path, const struct slio_config_limits *lim, json_t **ret,
                          struct slio_err *err)
{
    struct slio_config_limits l;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    bool json;
    int r;

    apply_defaults(lim, &l);
    r = slio_read_file(path, l.max_bytes, &buf, &len);
    if (r < 0) {
        slio_err_set(err, "\"%s\": %s", path,
                     r == -EFBIG ? "larger than the configured limit" : strerror(-r));
        return r;
    }
    if (has_suffix(path, ".json"))
        json = true;
    else if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
        json = false;
    else
        json = looks_like_json(buf, len);
    r = json ? slio_json_loadb(buf, len, l.max_bytes, ret, err)
             : slio_config_load_yaml(buf, len, &l, ret, err);
    if (r < 0)
        slio_err_prefix(err, "\"%s\"", path);
    return r;
}
