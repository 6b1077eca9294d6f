/* SPDX-License-Identifier: Apache-2.0 */
/* Any JSON object printed as YAML by slioctl must load back (libslio's YAML loader), equal. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slio/config.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json_equal, except that numbers compare by value (1.0 may come back as 1). */
static bool same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b) ||
               fabs(json_number_value(a) - json_number_value(b)) <=
                   1e-12 * fabs(json_number_value(a));
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach ((json_t *)a, k, v)
            if (!json_object_get(b, k) || !same(v, json_object_get(b, k)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL, *back = NULL;
    char *buf = NULL;
    size_t len = 0;
    if (slio_json_loadb((const char *)data, size, 1 << 16, &j, NULL) < 0)
        return 0;
    if (json_is_object(j)) {
        FILE *f = open_memstream(&buf, &len);
        if (!f || cli_print_yaml(f, j) < 0)
            abort();
        fclose(f);
        /* limits above anything a 4 KiB input makes (jansson nests at most 2048 deep):
         * every printed document must load, and load equal */
        const struct slio_config_limits lim = {
            .max_bytes = len + 1, .max_depth = 4096, .max_nodes = SIZE_MAX};
        if (slio_config_load_yaml(buf, len, &lim, &back, NULL) < 0 || !same(j, back))
            abort();
    }
    json_decref(back);
    json_decref(j);
    free(buf);
    return 0;
}
