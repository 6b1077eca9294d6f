/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hybrid polling for a loop that waits on requests of known typical latency
 * (a disk, or a remote target): after submitting, sleep for half the average
 * latency, then spin until the completion, but no longer than twice the
 * average. Spinning finds a completion in microseconds where a blocking
 * wake-up across cores costs tens; sleeping first keeps the cost near half a
 * core instead of a whole one. The kernel polls NVMe queues the same way.
 *
 * Pure bookkeeping: the caller owns the clock and the waiting.
 */
#ifndef SLIO_HYBRID_POLL_H
#define SLIO_HYBRID_POLL_H

#include <stdint.h>

struct slio_hybrid_poll {
    uint64_t submit_us; /* latest submission */
    uint32_t lat_us;    /* average latency (weight 1/8 per sample); 0: nothing measured */
};

/* Requests slower than this are not worth spinning for: the wake-up is small against them. */
#define SLIO_HYBRID_MAX_LAT_US     2000u
#define SLIO_HYBRID_LAT_SAMPLE_MAX 1000000u /* a sample beyond is clamped (clock jumps) */
#define SLIO_HYBRID_SLEEP_ANY      UINT64_MAX

static inline void slio_hybrid_submitted(struct slio_hybrid_poll *h, uint64_t now_us)
{
    h->submit_us = now_us;
}

/* A request submitted at submitted_us completed at now_us. */
void slio_hybrid_completed(struct slio_hybrid_poll *h, uint64_t submitted_us, uint64_t now_us);

/*
 * With requests in flight: microseconds to sleep before spinning (0: spin
 * now), or SLIO_HYBRID_SLEEP_ANY when spinning is not worth it (latency
 * unknown or too long, or the requests are late beyond twice the average).
 */
uint64_t slio_hybrid_sleep_us(const struct slio_hybrid_poll *h, uint64_t now_us);

#endif
