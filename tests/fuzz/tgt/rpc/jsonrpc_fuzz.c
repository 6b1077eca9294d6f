/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arbitrary bytes as a JSON-RPC request stream: framing, envelope checks,
 * parameter decoding and every method over the real registry (fakes of the
 * transport and nvmf layer). The first byte chooses how the rest is sliced
 * into reads. After each input the registry is emptied, so leaks show.
 *
 * bdev_aio_create opens files: this executable is compiled with
 * -Dopen=tgt_fuzz_open so that only the two scratch files of fuzz_sandbox.c
 * can be opened, never a device of the machine running the fuzzer.
 */
#include <stdint.h>

#include "fuzz_sandbox.h"
#include "rpc/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tgt_rpc_stream st;
    struct slio_strbuf out = SLIO_STRBUF_INIT(16u << 20);

    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    fuzz_sandbox_reset();
    tgt_rpc_stream_init(&st);
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (tgt_rpc_stream_feed(&st, data + off, n, &out) < 0)
            break; /* the server closes the connection here */
        slio_strbuf_reset(&out);
    }
    tgt_rpc_stream_free(&st);
    slio_strbuf_free(&out);
    fuzz_sandbox_reset(); /* emptied now, so that leaks of this input show */
    return 0;
}
