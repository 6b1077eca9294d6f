/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET-one-volume latency under concurrency: N threads, each with its own
 * keep-alive libcurl handle, GET /v1/volumes/<id> for random ids from a file
 * for a fixed time; prints p50/p99/max and the request rate.
 *
 *   slio-bench-get BASE_URL TOKEN IDS_FILE CLIENTS SECONDS
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slio/fileio.h"
#include "slio/parse.h"

#define MAX_SAMPLES (1u << 20)

struct client {
    pthread_t th;
    const char *base, *token;
    char **ids;
    size_t n_ids;
    double seconds;
    double *lat_ms;
    size_t n, cap, errors;
    unsigned seed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static void *run_client(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    char auth[512], url[512];
    struct curl_slist *hdrs = NULL;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    double end = now_s() + c->seconds;
    while (now_s() < end && c->n < c->cap) {
        const char *id = c->ids[rand_r(&c->seed) % c->n_ids];
        long code = 0;
        snprintf(url, sizeof(url), "%s/v1/volumes/%s", c->base, id);
        curl_easy_setopt(h, CURLOPT_URL, url);
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(h);
        double t1 = now_s();
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK || code != 200)
            c->errors++;
        else
            c->lat_ms[c->n++] = (t1 - t0) * 1e3;
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t split_lines(char *buf, char ***ret)
{
    size_t n = 0, cap = 1024;
    char **v = malloc(cap * sizeof(*v));
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && v;
         line = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        if (v)
            v[n++] = line;
    }
    *ret = v;
    return v ? n : 0;
}

int main(int argc, char **argv)
{
    char *buf = NULL, **ids = NULL;
    size_t len;
    uint32_t clients, seconds;
    if (argc != 6 || slio_parse_u32(argv[4], 1, 4096, &clients) < 0 ||
        slio_parse_u32(argv[5], 1, 3600, &seconds) < 0) {
        fprintf(stderr, "usage: %s BASE_URL TOKEN IDS_FILE CLIENTS SECONDS\n", argv[0]);
        return 2;
    }
    if (slio_read_file(argv[3], 64u << 20, &buf, &len) < 0) {
        fprintf(stderr, "cannot read %s\n", argv[3]);
        return 1;
    }
    size_t n_ids = split_lines(buf, &ids);
    if (!n_ids)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct client *cs = calloc(clients, sizeof(*cs));
    for (uint32_t i = 0; i < clients; i++) {
        cs[i] = (struct client){.base = argv[1],
                                .token = argv[2],
                                .ids = ids,
                                .n_ids = n_ids,
                                .seconds = seconds,
                                .seed = i * 7919u + 1};
        cs[i].cap = MAX_SAMPLES / clients + 64;
        cs[i].lat_ms = malloc(cs[i].cap * sizeof(double));
        pthread_create(&cs[i].th, NULL, run_client, &cs[i]);
    }
    size_t total = 0, errors = 0;
    for (uint32_t i = 0; i < clients; i++) {
        pthread_join(cs[i].th, NULL);
        total += cs[i].n;
        errors += cs[i].errors;
    }
    double *all = malloc((total + 1) * sizeof(double));
    size_t k = 0;
    for (uint32_t i = 0; i < clients; i++) {
        memcpy(all + k, cs[i].lat_ms, cs[i].n * sizeof(double));
        k += cs[i].n;
        free(cs[i].lat_ms);
    }
    qsort(all, total, sizeof(double), cmp_double);
    if (total)
        printf("GET /v1/volumes/{id}: %u clients, %zu requests in %u s (%.0f/s), %zu errors, "
               "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
               clients, total, seconds, (double)total / seconds, errors, all[total / 2],
               all[(size_t)((double)total * 0.99)], all[total - 1]);
    else
        printf("no successful request (%zu errors)\n", errors);
    free(all);
    free(cs);
    free(ids);
    free(buf);
    curl_global_cleanup();
    return total && !errors ? 0 : 1;
}
