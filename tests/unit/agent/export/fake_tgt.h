/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny fake target for the exporter tests: a thread serving a unix socket
 * that records every JSON-RPC call and answers from a table (method →
 * result, or an error under "!method").
 */
#ifndef AGENT_TEST_FAKE_TGT_H
#define AGENT_TEST_FAKE_TGT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "export/export.h"

struct fake {
    char path[108];
    int lfd;
    pthread_t thread;
    pthread_mutex_t lock;
    json_t *answers; /* method → result, or {"error": {code, message}} under "!method" */
    json_t *calls;   /* [[method, params], ...] */
    const char *refuse_member; /* params naming it: -32603, as SPDK's decoders answer */
};

struct fake *fake_start(void);
void fake_stop(struct fake *f);
/* An exporter on the fake (keys_dir NULL: the default). */
struct agent_exporter *exporter_in(struct fake *f, bool spdk, const char *keys_dir);
static inline struct agent_exporter *exporter(struct fake *f, bool spdk)
{
    return exporter_in(f, spdk, NULL);
}
/* The methods called, comma-separated (a static buffer). */
char *methods(struct fake *f);
/* The params of the nth call of method, or NULL. */
json_t *params_of(struct fake *f, const char *method, unsigned nth);

#endif
