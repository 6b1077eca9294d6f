/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a reactor spins and when it sleeps: a pure function of the reactor's
 * state, so that the policy is tested without timing anything.
 *
 * A blocking wake-up across cores costs tens of microseconds (issue 3: a
 * 64-byte ping-pong took 73 µs blocking vs 5.6 µs polling), so:
 *
 * 1. After useful work, spin for poll_us: the next PDU of a busy connection
 *    usually arrives within it.
 * 2. While backing I/O runs on worker threads (epoll engine), never spin: on
 *    a small machine the spinning reactor takes the CPU the workers need.
 * 3. While backing I/O is in flight on the ring, spin around the moment it is
 *    expected to complete (hybrid polling, slio/hybrid_poll.h). A disk takes
 *    hundreds of microseconds at depth, far beyond the poll_us window; without
 *    this the reactor slept through each completion and paid a wake-up for
 *    it (bench/tgt disk 4K randread QD32: 51-56k IOPS before, 58-63k after,
 *    at 0.76 instead of 0.44 of a core; docs/performance.md).
 * 4. Otherwise sleep until an event or the next deadline.
 *
 * poll_us < 0 spins always (full polling), poll_us == 0 never.
 */
#include "transport/transport_internal.h"

uint64_t poll_sleep_us(const struct poll_state *p, uint64_t now)
{
    if (p->poll_us < 0)
        return 0;
    if (p->poll_us == 0 || (p->inflight && !p->inflight_on_ring))
        return POLL_SLEEP_ANY;
    if (now - p->last_work_us < (uint64_t)p->poll_us)
        return 0;
    if (!p->inflight)
        return POLL_SLEEP_ANY;
    return slio_hybrid_sleep_us(&p->dev, now);
}
