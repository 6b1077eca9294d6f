/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the /metrics scraper of `slioctl top`: any text, counters only for valid volume UUIDs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "scrape.h"
#include "slio/uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *acc = json_object();
    if (!acc || scrape_parse((const char *)data, size, acc) < 0) {
        json_decref(acc);
        return 0;
    }
    const char *k;
    json_t *v;
    uuid_t u;
    json_object_foreach (acc, k, v) {
        if (slio_uuid_parse(k, u) < 0)
            abort(); /* only volume UUIDs become keys */
        const char *name;
        json_t *n;
        json_object_foreach (v, name, n)
            if (!json_is_real(n) || !isfinite(json_real_value(n)) || json_real_value(n) < 0)
                abort();
    }
    json_decref(acc);
    return 0;
}
