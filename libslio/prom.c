/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format 0.0.4.
 *
 * In this format (unlike OpenMetrics) a counter's family is declared with
 * its full sample name, "# TYPE x_total counter": promtool rejects a family
 * "x" whose samples are "x_total". slio_prom_family() therefore appends
 * _total for counters itself.
 *
 * Every write is all-or-nothing: a line (or a histogram's block of lines)
 * that does not fit the strbuf's cap is rolled back, so a scrape never ends
 * in half a sample.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slio/parse.h"
#include "slio/prom.h"

static const double default_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30};

static bool name_ok(const char *s, bool colon_ok)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon_ok && *s == ':')))
            return false;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void rollback(struct slio_strbuf *sb, size_t mark)
{
    sb->len = mark;
    if (sb->buf)
        sb->buf[mark] = '\0';
}

/* The shortest text that reads back as the same double; Prometheus' spelling of NaN/Inf. */
static void format_value(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, "%cInf", v > 0 ? '+' : '-');
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Backslash, quote and newline escaped (quote only for label values); bytes that are not
 * UTF-8, which Prometheus requires, become U+FFFD. */
static int append_escaped(struct slio_strbuf *sb, const char *s, bool quote)
{
    int r = 0;

    for (; *s && r == 0; s++) {
        size_t n = slio_utf8_seq(s, NULL);
        if (n == 0)
            r = slio_strbuf_appends(sb, "\xef\xbf\xbd");
        else if (n > 1) {
            r = slio_strbuf_append(sb, s, n);
            s += n - 1;
        } else if (*s == '\\')
            r = slio_strbuf_appends(sb, "\\\\");
        else if (*s == '\n')
            r = slio_strbuf_appends(sb, "\\n");
        else if (*s == '"' && quote)
            r = slio_strbuf_appends(sb, "\\\"");
        else
            r = slio_strbuf_append(sb, s, 1);
    }
    return r;
}

int slio_prom_family(struct slio_strbuf *sb, const char *name, enum slio_prom_type type,
                     const char *help)
{
    static const char *const type_names[] = {
        [SLIO_PROM_COUNTER] = "counter",
        [SLIO_PROM_GAUGE] = "gauge",
        [SLIO_PROM_HISTOGRAM] = "histogram",
    };
    const char *suffix = type == SLIO_PROM_COUNTER && !ends_with(name, "_total") ? "_total" : "";
    size_t mark = sb->len;
    int r;

    if (!name_ok(name, true) || !help || (unsigned)type >= SLIO_ARRAY_SIZE(type_names) ||
        (type != SLIO_PROM_COUNTER && ends_with(name, "_total")))
        return -EINVAL; /* promtool: only counters end in _total */
    r = slio_strbuf_appendf(sb, "# HELP %s%s ", name, suffix);
    if (r == 0)
        r = append_escaped(sb, help, false);
    if (r == 0)
        r = slio_strbuf_appendf(sb, "\n# TYPE %s%s %s\n", name, suffix, type_names[type]);
    if (r < 0)
        rollback(sb, mark);
    return r;
}

static int check_labels(const char *const *labels)
{
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!name_ok(labels[i], false) || strncmp(labels[i], "__", 2) == 0 || !labels[i + 1])
            return -EINVAL; /* "__" names are Prometheus' own */
    }
    return 0;
}

/* name{k="v",...,extra_k="extra_v"} value\n; extra_k may be NULL. */
static int append_sample(struct slio_strbuf *sb, const char *name, const char *suffix,
                         const char *const *labels, const char *extra_k, const char *extra_v,
                         double value)
{
    bool any = (labels && labels[0]) || extra_k;
    char text[32];
    int r;

    r = slio_strbuf_appendf(sb, "%s%s%s", name, suffix, any ? "{" : "");
    for (size_t i = 0; r == 0 && labels && labels[i]; i += 2) {
        r = slio_strbuf_appendf(sb, "%s%s=\"", i ? "," : "", labels[i]);
        if (r == 0)
            r = append_escaped(sb, labels[i + 1], true);
        if (r == 0)
            r = slio_strbuf_appends(sb, "\"");
    }
    if (r == 0 && extra_k)
        r = slio_strbuf_appendf(sb, "%s%s=\"%s\"", labels && labels[0] ? "," : "", extra_k,
                                extra_v);
    format_value(value, text, sizeof(text));
    if (r == 0)
        r = slio_strbuf_appendf(sb, "%s %s\n", any ? "}" : "", text);
    return r;
}

int slio_prom_counter(struct slio_strbuf *sb, const char *name, const char *help, double value)
{
    char total[256]; /* metric names are short; a longer one is refused */
    int r;

    if (snprintf(total, sizeof(total), "%s_total", name) >= (int)sizeof(total))
        return -EINVAL;
    r = slio_prom_family(sb, name, SLIO_PROM_COUNTER, help);
    return r < 0 ? r : slio_prom_sample(sb, total, NULL, value);
}

int slio_prom_sample(struct slio_strbuf *sb, const char *name, const char *const *labels,
                     double value)
{
    size_t mark = sb->len;
    int r;

    if (!name_ok(name, true) || check_labels(labels) < 0)
        return -EINVAL;
    r = append_sample(sb, name, "", labels, NULL, NULL, value);
    if (r < 0)
        rollback(sb, mark);
    return r;
}

void slio_prom_hist_init(struct slio_prom_hist *h)
{
    *h = (struct slio_prom_hist){.n_bounds = SLIO_ARRAY_SIZE(default_bounds)};
    memcpy(h->bounds, default_bounds, sizeof(default_bounds));
}

void slio_prom_hist_observe(struct slio_prom_hist *h, double seconds)
{
    unsigned i = 0;
    double old, sum;

    if (isnan(seconds))
        return; /* would poison _sum for good */
    while (i < h->n_bounds && seconds > h->bounds[i])
        i++;
    __atomic_fetch_add(&h->counts[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
    __atomic_load(&h->sum, &old, __ATOMIC_RELAXED);
    do
        sum = old + seconds;
    while (
        !__atomic_compare_exchange(&h->sum, &old, &sum, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static int write_hist(struct slio_strbuf *sb, const char *name, const char *const *labels,
                      const struct slio_prom_hist *h)
{
    uint64_t cumulative = 0;
    char le[32];
    double sum;
    int r = 0;

    for (unsigned i = 0; r == 0 && i <= h->n_bounds; i++) {
        cumulative += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
        format_value(i < h->n_bounds ? h->bounds[i] : INFINITY, le, sizeof(le));
        r = append_sample(sb, name, "_bucket", labels, "le", le, (double)cumulative);
    }
    __atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
    if (r == 0)
        r = append_sample(sb, name, "_sum", labels, NULL, NULL, sum);
    /* _count from the buckets, so that it always equals the +Inf bucket */
    if (r == 0)
        r = append_sample(sb, name, "_count", labels, NULL, NULL, (double)cumulative);
    return r;
}

int slio_prom_hist_write(struct slio_strbuf *sb, const char *name, const char *const *labels,
                         const struct slio_prom_hist *h)
{
    size_t mark = sb->len;
    int r;

    if (!name_ok(name, true) || check_labels(labels) < 0 ||
        h->n_bounds > SLIO_PROM_HIST_MAX_BUCKETS)
        return -EINVAL;
    for (size_t i = 0; labels && labels[i]; i += 2)
        if (strcmp(labels[i], "le") == 0)
            return -EINVAL;
    for (unsigned i = 1; i < h->n_bounds; i++)
        if (!(h->bounds[i] > h->bounds[i - 1]))
            return -EINVAL;
    r = write_hist(sb, name, labels, h);
    if (r < 0)
        rollback(sb, mark);
    return r;
}
