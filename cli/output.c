/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The printers: kubectl-like tables (header in capitals, columns three spaces
 * apart, "<none>" for an absent value, -o wide adding columns), pretty JSON,
 * and YAML. The YAML printer is a small careful one rather than libyaml's
 * emitter: its input is always a jansson value, so it only has to decide when
 * a string must be quoted — and it quotes whenever YAML could read the plain
 * text as something else (a number, a bool, null, a date, an indicator).
 * Quoted strings are YAML double-quoted scalars with YAML's own escapes, not
 * JSON's: YAML reads NEL, LS and PS as line breaks and folds them, and
 * refuses raw DEL and C1 controls, all of which a JSON string may carry raw.
 * Tests and a fuzz target parse the output back with libslio's YAML loader
 * and compare.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
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

/* May c stand raw inside a double-quoted scalar and read back as itself? */
static bool yaml_raw_ok(uint32_t c)
{
    if (c == 0x2028 || c == 0x2029 || c == 0xfeff || (c >= 0xfffd && c <= 0xffff))
        return false; /* line/paragraph separators, BOM, non-characters, replacement */
    return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0x10ffff);
}

/* What c becomes inside a double-quoted scalar: its escape, written to esc, or NULL to stay raw. */
static const char *yaml_escape(uint32_t c, char esc[static 12])
{
    if (c == '"' || c == '\\')
        snprintf(esc, 12, "\\%c", (int)c);
    else if (c == '\n' || c == '\t')
        snprintf(esc, 12, "\\%c", c == '\n' ? 'n' : 't');
    else if (yaml_raw_ok(c))
        return NULL;
    else
        snprintf(esc, 12, c <= 0xff ? "\\x%02x" : "\\u%04x", (unsigned)c);
    return esc;
}

/* Write s double-quoted, or with f NULL only count; the length in bytes either way. */
static size_t yaml_quoted(FILE *f, const char *s)
{
    size_t width = 2;
    char esc[12];
    if (f)
        fputc('"', f);
    for (size_t n; *s; s += n) {
        uint32_t c;
        n = slio_utf8_seq(s, &c);
        if (n == 0) /* jansson's strings are UTF-8; a stray byte all the same reads as U+FFFD */
            n = 1, c = 0xfffd;
        const char *e = yaml_escape(c, esc);
        width += e ? strlen(e) : n;
        if (f && e)
            fputs(e, f);
        else if (f)
            fwrite(s, 1, n, f);
    }
    if (f)
        fputc('"', f);
    return width;
}

/*
 * A mapping key and its colon. YAML bounds an implicit key at 1024
 * characters; a longer one takes the explicit form, "? key" with the colon
 * on the next line at the mapping's indent.
 */
static void yaml_key(FILE *f, const char *k, int indent)
{
    if (yaml_plain_ok(k)) /* at most 256 bytes */
        fprintf(f, "%s:", k);
    else if (yaml_quoted(NULL, k) < 1024) {
        yaml_quoted(f, k);
        fputc(':', f);
    } else {
        fputs("? ", f);
        yaml_quoted(f, k);
        fprintf(f, "\n%*s:", indent, "");
    }
}

static void yaml_scalar(FILE *f, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (yaml_plain_ok(s))
            fputs(s, f);
        else
            yaml_quoted(f, s);
        fputc('\n', f);
        return;
    }
    _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY); /* numbers, bools, null, {} and [] */
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
            fprintf(f, "%*s", first && first_inline ? 0 : indent, "");
            first = false;
            yaml_key(f, k, indent);
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
