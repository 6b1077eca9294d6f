/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz nvme_tcp_check_hdr with every role/state/digest combination and check
 * the invariants callers rely on: an accepted header never asks to read more
 * than the PDU holds nor more header than NVME_TCP_MAX_RECV_HDR (the size of
 * every receive header buffer), and its data length fits under max_data.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/nvme_tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nvme_tcp_hdr ch;
    uint32_t rest, fei;
    uint16_t fes;

    if (size < sizeof(ch) + 1)
        return 0;
    memcpy(&ch, data, sizeof(ch));
    uint8_t cfg = data[sizeof(ch)];
    struct nvme_tcp_params p = {
        .hdgst = cfg & 1,
        .ddgst = cfg & 2,
        .ic_done = cfg & 4,
        .max_data = (cfg & 8) ? 8192 : 131072,
    };
    enum nvme_tcp_role role = (cfg & 16) ? NVME_TCP_ROLE_HOST : NVME_TCP_ROLE_CONTROLLER;

    if (nvme_tcp_check_hdr(&ch, role, &p, &rest, &fes, &fei) == 0) {
        uint32_t plen = le32toh(ch.plen);
        if (rest + sizeof(ch) > plen || rest + sizeof(ch) > NVME_TCP_MAX_RECV_HDR ||
            ch.hlen < sizeof(ch))
            abort();
        if (nvme_tcp_data_len(&ch, p.ddgst) > p.max_data && ch.type != NVME_TCP_H2C_TERM &&
            ch.type != NVME_TCP_C2H_TERM)
            abort();
    } else if (fes == 0 || fei > 7) {
        abort();
    }
    (void)slio_crc32c(~0u, data, size);
    return 0;
}
