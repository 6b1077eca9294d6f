/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVM command set I/O commands (Read, Write, Flush, Write Zeroes, Dataset
 * Management) translated into backing I/O (struct tgt_bio).
 */
#ifndef TGT_NVMF_IO_CMD_H
#define TGT_NVMF_IO_CMD_H

#include "nvmf/req.h"

/*
 * Execute an I/O command on namespace `ns` (already looked up, active).
 * Takes over the caller's reference to ns and drops it when the request
 * completes. Called on the qpair's reactor.
 */
enum tgt_exec_result tgt_io_cmd_exec(struct tgt_req *req, struct tgt_ns *ns);

#endif
