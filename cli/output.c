/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The printers: kubectl-like tables (header in capitals, columns three spaces
 * apart, "<none>" for an absent value, -o wide adding columns), pretty JSON,
 * and YAML. The YAML printer is a small careful one rather than libyaml's
 * emitter: its input is always a jansson value, so it only has to decide when
 * a string must be quoted — and it quotes whenever YAML could read the plain
 * text as something else (a number, a bool, null, a date, an indicator), as
 * a JSON string, which is valid YAML. Tests parse the output back with
 * libslio's YAML loader and compare.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/json.h"
#include "slio/parse.h"

#define NONE "<none>"

const json_t *cli_path(const json_t *item, const char *path)
{
    char key[128];
    const json_t *v = item;
    for (const char *p = path; v && *p;) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    return v;
}

void cli_age(const char *rfc3339, time_t now, char buf[static 24])
{
    struct tm tm = {0};
    const char *rest = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (rest && *rest == '.')
        rest += 1 + strspn(rest + 1, "0123456789");
    if (!rest || strcmp(rest, "Z") != 0) {
        snprintf(buf, 24, "<unknown>");
        return;
    }
    long long s = (long long)(now - timegm(&tm));
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, 24, "%llds", s);
    else if (s < 7200)
        snprintf(buf, 24, "%lldm", s / 60);
    else if (s < 172800)
        snprintf(buf, 24, "%lldh", s / 3600);
    else
        snprintf(buf, 24, "%lldd", s / 86400);
}

static char *scalar_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return strdup(NONE);
    if (json_is_string(v))
        return strdup(*json_string_value(v) ? json_string_value(v) : NONE);
    if (json_is_array(v) && json_array_size(v) == 0)
        return strdup(NONE);
    return slio_json_dump(v, JSON_ENCODE_ANY);
}

char *cli_cell(const json_t *item, const struct cli_column *col, time_t now)
{
    const json_t *v = col->fmt == FMT_NODEPOOL ? NULL : cli_path(item, col->path);
    char buf[64];
    switch (col->fmt) {
    case FMT_SIZE:
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return strdup(NONE);
        return strdup(slio_format_size((uint64_t)json_integer_value(v), buf));
    case FMT_BOOL:
        return strdup(json_is_true(v) ? "true" : "false");
    case FMT_AGE:
        cli_age(json_string_value(v), now, buf);
        return strdup(buf);
    case FMT_PERCENT:
        if (!json_is_number(v))
            return strdup("-");
        snprintf(buf, sizeof(buf), "%.1f%%", json_number_value(v));
        return strdup(buf);
    case FMT_NODEPOOL: {
        const char *n = json_string_value(json_object_get(item, "node"));
        const char *p = json_string_value(json_object_get(item, "pool"));
        char *s = NULL;
        if (!n || !*n || !p || !*p)
            return strdup(NONE);
        return asprintf(&s, "%s/%s", n, p) < 0 ? NULL : s;
    }
    case FMT_COUNT:
        snprintf(buf, sizeof(buf), "%zu", json_array_size(v));
        return strdup(buf);
    case FMT_ADDR: {
        const char *a = json_string_value(json_object_get(v, "traddr"));
        const char *port = json_string_value(json_object_get(v, "trsvcid"));
        char *s = NULL;
        if (!a || !port)
            return strdup(NONE);
        return asprintf(&s, "%s:%s", a, port) < 0 ? NULL : s;
    }
    case FMT_STR:
    default:
        return scalar_text(v);
    }
}

/* A cell may come from the network: keep the table one line per row. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

int cli_print_table(FILE *f, const json_t *items, const struct cli_column *cols, size_t n_cols,
                    bool wide, time_t now)
{
    size_t rows = json_array_size(items), w[32] = {0};
    if (n_cols > SLIO_ARRAY_SIZE(w))
        return -EINVAL;
    char **cells = calloc((rows + 1) * n_cols, sizeof(char *));
    int r = cells ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n_cols; i++)
        if (!(cells[i] = strdup(cols[i].header)))
            r = -ENOMEM;
    for (size_t row = 0; r == 0 && row < rows; row++)
        for (size_t i = 0; r == 0 && i < n_cols; i++) {
            char *s = cli_cell(json_array_get(items, row), &cols[i], now);
            if (!s)
                r = -ENOMEM;
            else
                sanitize(cells[(row + 1) * n_cols + i] = s);
        }
    for (size_t k = 0; r == 0 && k < (rows + 1) * n_cols; k++)
        if (wide || !cols[k % n_cols].wide)
            w[k % n_cols] = SLIO_MAX(w[k % n_cols], strlen(cells[k]));
    for (size_t row = 0; r == 0 && row <= rows; row++) {
        size_t last = n_cols;
        while (last > 0 && !wide && cols[last - 1].wide)
            last--;
        for (size_t i = 0; i < last; i++) {
            if (!wide && cols[i].wide)
                continue;
            const char *s = cells[row * n_cols + i];
            if (i + 1 == last)
                fprintf(f, "%s\n", s);
            else
                fprintf(f, "%-*s   ", (int)w[i], s);
        }
    }
    for (size_t k = 0; cells && k < (rows + 1) * n_cols; k++)
        free(cells[k]);
    free(cells);
    return r;
}

int cli_print_json(FILE *f, const json_t *v)
{
    _cleanup_free_ char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (!s)
        return -ENOMEM;
    fprintf(f, "%s\n", s);
    return 0;
}

/* Can s stand as a plain YAML scalar and be read back as the same string? */
static bool yaml_plain_ok(const char *s)
{
    static const char *const words[] = {"true", "false", "null", "yes", "no",
                                        "on",   "off",   "y",    "n",   "~"};
    if (!*s || strlen(s) > 256 || strchr("-?:,[]{}#&*!|>'\"%@`+.0123456789 ", *s))
        return false;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(words); i++)
        if (strcasecmp(s, words[i]) == 0)
            return false;
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("-_./:@=+", *p))
            return false;
        if (*p == ':' && (!p[1] || p[1] == ' '))
            return false;
    }
    return true;
}

static void yaml_scalar(FILE *f, const json_t *v)
{
    if (json_is_string(v) && yaml_plain_ok(json_string_value(v))) {
        fprintf(f, "%s\n", json_string_value(v));
        return;
    }
    _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY); /* "..." is YAML too */
    fprintf(f, "%s\n", s ?: "null");
}

static bool yaml_inline(const json_t *v)
{
    return !(json_is_object(v) && json_object_size(v)) && !(json_is_array(v) && json_array_size(v));
}

static void yaml_block(FILE *f, const json_t *v, int indent, bool first_inline)
{
    if (json_is_object(v)) {
        const char *k;
        const json_t *child;
        bool first = true;
        json_object_foreach ((json_t *)v, k, child) {
            json_t *key = json_string(k);
            fprintf(f, "%*s", first && first_inline ? 0 : indent, "");
            first = false;
            if (yaml_plain_ok(k))
                fputs(k, f);
            else {
                _cleanup_free_ char *q = json_dumps(key, JSON_ENCODE_ANY);
                fputs(q ?: "\"\"", f);
            }
            json_decref(key);
            fputc(':', f);
            if (yaml_inline(child)) {
                fputc(' ', f);
                yaml_scalar(f, child);
            } else {
                fputc('\n', f);
                yaml_block(f, child, json_is_object(child) ? indent + 2 : indent, false);
            }
        }
        return;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach (v, i, item) {
            fprintf(f, "%*s- ", i == 0 && first_inline ? 0 : indent, "");
            if (yaml_inline(item))
                yaml_scalar(f, item);
            else
                yaml_block(f, item, indent + 2, true);
        }
        return;
    }
    yaml_scalar(f, v);
}

int cli_print_yaml(FILE *f, const json_t *v)
{
    if (yaml_inline(v))
        yaml_scalar(f, v);
    else
        yaml_block(f, v, 0, false);
    return 0;
}

int cli_print_items(struct cli *c, const json_t *items, bool single, const struct cli_column *cols,
                    size_t n_cols)
{
    const json_t *doc = single ? json_array_get(items, 0) : NULL;
    _cleanup_json_ json_t *list = NULL;
    int r;
    if (!single && (c->o->output == CLI_OUT_JSON || c->o->output == CLI_OUT_YAML)) {
        list = json_pack("{s:O}", "items", items);
        doc = list;
    }
    switch (c->o->output) {
    case CLI_OUT_JSON:
        r = doc ? cli_print_json(c->out, doc) : -ENOMEM;
        break;
    case CLI_OUT_YAML:
        r = doc ? cli_print_yaml(c->out, doc) : -ENOMEM;
        break;
    default:
        if (json_array_size(items) == 0) {
            fprintf(c->err, "No resources found.\n");
            return CLI_OK;
        }
        r = cli_print_table(c->out, items, cols, n_cols, c->o->output == CLI_OUT_WIDE, c->now);
    }
    return r < 0 ? CLI_FAILED : CLI_OK;
}
