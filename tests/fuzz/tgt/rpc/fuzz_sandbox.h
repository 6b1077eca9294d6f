/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the two JSON-RPC fuzz targets (jsonrpc_fuzz, load_config_fuzz) share:
 * fuzz_sandbox.c defines libFuzzer's LLVMFuzzerInitialize (quiet logs, the
 * scratch files) and the open() that bdev_aio_create reaches (the targets are
 * compiled with -Dopen=tgt_fuzz_open: only the scratch files can be opened,
 * never a device of the machine running the fuzzer).
 */
#ifndef SLIO_FUZZ_TGT_RPC_SANDBOX_H
#define SLIO_FUZZ_TGT_RPC_SANDBOX_H

/* Two 1 MiB files bdev_aio_create may open: FUZZ_SANDBOX_DIR "/disk0" and "/disk1". */
#define FUZZ_SANDBOX_DIR "/tmp/slio-rpc-fuzz"

/* An empty target between inputs: registry, ANA states, options, fakes, --spdk-compat. */
void fuzz_sandbox_reset(void);

#endif
