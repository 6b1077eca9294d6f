/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid polling bookkeeping (see slio/hybrid_poll.h). */
#include "slio/hybrid_poll.h"

#include "slio/cleanup.h"

/* A moving average with weight 1/8: a few slow requests do not swing it. */
void slio_hybrid_completed(struct slio_hybrid_poll *h, uint64_t submitted_us, uint64_t now_us)
{
    uint64_t sample = now_us > submitted_us ? now_us - submitted_us : 0;
    uint32_t s = (uint32_t)SLIO_MIN(sample, (uint64_t)SLIO_HYBRID_LAT_SAMPLE_MAX);

    if (h->lat_us == 0)
        h->lat_us = s ? s : 1; /* 0 means "not measured" */
    else
        h->lat_us = h->lat_us - h->lat_us / 8 + s / 8;
}

uint64_t slio_hybrid_sleep_us(const struct slio_hybrid_poll *h, uint64_t now_us)
{
    if (h->lat_us == 0 || h->lat_us > SLIO_HYBRID_MAX_LAT_US)
        return SLIO_HYBRID_SLEEP_ANY;

    uint64_t spin_from = h->submit_us + h->lat_us / 2;
    uint64_t spin_until = h->submit_us + 2 * (uint64_t)h->lat_us;

    if (now_us < spin_from)
        return spin_from - now_us;
    return now_us < spin_until ? 0 : SLIO_HYBRID_SLEEP_ANY;
}
