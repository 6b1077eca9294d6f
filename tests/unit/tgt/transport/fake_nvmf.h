/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test double of the nvmf layer for the transport's unit tests and fuzzer:
 * Connect attaches a dummy controller, Write/Read copy to/from a 1 MiB RAM
 * disk, opcode 0x80 stays pending until fake_complete_one(), others fail.
 */
#ifndef TGT_TEST_FAKE_NVMF_H
#define TGT_TEST_FAKE_NVMF_H

#include <stdbool.h>
#include <stdint.h>

#include "nvmf/req.h"
#include "test_host.h"

#define FAKE_DISK_SIZE   (1u << 20)
#define FAKE_PENDING_OPC 0x80
#define FAKE_MAX_PENDING 64

struct fake_nvmf {
    unsigned execs, finis, ticks, prechecks;
    bool tick_ok;
    struct tgt_req *pending[FAKE_MAX_PENDING];
    unsigned npending;
    bool abandonable; /* pending requests are AER-like: a reused CID abandons them */
    unsigned abandoned;
    uint8_t disk[FAKE_DISK_SIZE];
};
extern struct fake_nvmf fake;

void fake_reset(void);
/* Complete the oldest pending request; false if none. */
bool fake_complete_one(void);

#endif
