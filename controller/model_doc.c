/* SPDX-License-Identifier: Apache-2.0 */
/* Keys, identifiers, times, and reading the JSON documents of the store. */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "model.h"

const char *model_key(char buf[static MODEL_KEY_MAX], const char *prefix, const char *a,
                      const char *b)
{
    if (b)
        snprintf(buf, MODEL_KEY_MAX, "%s%s/%s", prefix, a, b);
    else
        snprintf(buf, MODEL_KEY_MAX, "%s%s", prefix, a);
    return buf;
}

const char *model_pool_id(char buf[static MODEL_KEY_MAX], const char *node, const char *pool)
{
    snprintf(buf, MODEL_KEY_MAX, "%s/%s", node, pool);
    return buf;
}

/* The (milliseconds, sequence) pair last handed out, so ids stay in creation order. */
static pthread_mutex_t uuid_clock_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ms;
static unsigned uuid_last_seq;

/* RFC 9562 method 1: within one millisecond (or if the wall clock steps back) the 12-bit
 * rand_a field counts up from the last id instead of being random, and on overflow the
 * timestamp borrows the next millisecond. Lists page by id, so a random rand_a would let
 * two volumes created in one millisecond swap places and shift a page mid-listing. */
static void uuid_clock_next(uint64_t now_ms, uint64_t *ret_ms, unsigned *ret_seq)
{
    pthread_mutex_lock(&uuid_clock_lock);
    if (now_ms > uuid_last_ms) {
        uuid_last_ms = now_ms;
        uuid_last_seq = 0;
    } else if (++uuid_last_seq > 0xfff) {
        uuid_last_ms++;
        uuid_last_seq = 0;
    }
    *ret_ms = uuid_last_ms;
    *ret_seq = uuid_last_seq;
    pthread_mutex_unlock(&uuid_clock_lock);
}

/* 48 bits of Unix milliseconds, a 12-bit sequence, then random bits with the version (7)
 * and variant set: keys sort by creation time within one controller, and two controllers
 * never pick the same one (62 random bits). */
void model_uuid_new(char ret[static SLIO_UUID_STR_LEN])
{
    uuid_t u;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms;
    unsigned seq;
    uuid_clock_next((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u, &ms, &seq);
    slio_uuid_generate(u); /* random fill */
    for (int i = 0; i < 6; i++)
        u[i] = (unsigned char)(ms >> (40 - 8 * i));
    u[6] = (unsigned char)(0x70 | (seq >> 8));
    u[7] = (unsigned char)(seq & 0xff);
    u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
    slio_uuid_format(u, ret);
}

void model_now(char ret[static 32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ret, 32, "%.19s.%03dZ", date, (int)(ts.tv_nsec / 1000000L) % 1000);
}

const char *model_str(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

uint64_t model_u64(const json_t *doc, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(doc, key));
    return v > 0 ? (uint64_t)v : 0;
}

void model_public_strip(json_t *doc)
{
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe (doc, tmp, k, v)
        if (k[0] == '_')
            json_object_del(doc, k);
}

json_t *model_public(const json_t *doc)
{
    json_t *out = json_deep_copy(doc);
    if (out)
        model_public_strip(out);
    return out;
}

static size_t selector_terms(const json_t *sel, struct sched_selector_term *terms,
                             const char *values[][MODEL_MAX_VALUES])
{
    size_t i, n = 0;
    json_t *t;
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    json_array_foreach (sel, i, t) {
        if (n == MODEL_MAX_TERMS)
            break;
        const char *op = model_str(t, "operator");
        struct sched_selector_term *st = &terms[n];
        *st = (struct sched_selector_term){.key = model_str(t, "key"), .values = values[n]};
        for (size_t o = 0; o < SLIO_ARRAY_SIZE(ops); o++)
            if (strcmp(op, ops[o]) == 0)
                st->op = (enum sched_selector_op)o;
        size_t j;
        json_t *v;
        json_array_foreach (json_object_get(t, "values"), j, v)
            if (j < MODEL_MAX_VALUES)
                values[n][st->n_values++] = json_string_value(v);
        n++;
    }
    return n;
}

static int enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return 0;
}

void model_sched_request(const json_t *spec, const char *uuid, const char *pinned_pool,
                         struct model_sched_req *ret)
{
    const json_t *spread = json_object_get(spec, "spread");
    snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid);
    const char *consumer = json_string_value(json_object_get(spec, "consumer_node"));
    ret->req = (struct sched_request){
        .uuid = ret->uuid,
        .size = model_u64(spec, "size"),
        .thin = json_is_true(json_object_get(spec, "thin")),
        .consumer_node = consumer,
        .position = (enum sched_position)enum_index(model_positions, model_str(spec, "position")),
        .pinned_pool = pinned_pool,
    };
    ret->req.node_selector.terms = ret->terms[0];
    ret->req.node_selector.n_terms =
        selector_terms(json_object_get(spec, "node_selector"), ret->terms[0], ret->values[0]);
    ret->req.pool_selector.terms = ret->terms[1];
    ret->req.pool_selector.n_terms =
        selector_terms(json_object_get(spec, "pool_selector"), ret->terms[1], ret->values[1]);
    if (json_is_object(spread)) {
        ret->req.spread_group = model_str(spread, "group");
        ret->req.spread_level =
            (enum sched_spread_level)enum_index(model_spread_levels, model_str(spread, "level"));
        ret->req.spread_hard = json_is_true(json_object_get(spread, "hard"));
    }
}
