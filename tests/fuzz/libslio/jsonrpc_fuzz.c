/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz JSON-RPC response parsing (complete, partial and garbage responses). */
#include <stdint.h>
#include <stdlib.h>

#include "slio/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *result = NULL;
    int64_t code = 0;
    char *msg = NULL;

    int r = slio_jsonrpc_parse_response((const char *)data, size, 1, &result, &code, &msg);
    if (r == 0 && !result)
        abort();
    if ((r == -EBADMSG || r == -EREMOTEIO) && !msg)
        abort(); /* every failure explains itself */
    json_decref(result);
    free(msg);
    return 0;
}
