/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ranges nvmf_create_transport's options must keep. A file of its own so
 * that the test doubles of the transport (tests/unit/tgt/registry/tgt_fakes.c,
 * which the registry's tests and the --json-config fuzzer link) refuse exactly
 * what the target refuses: a double that accepted more let the fuzzer save a
 * configuration the real target could never have held.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <stdint.h>

#include "slio/log.h"
#include "nvmf/req.h"
#include "transport/reactor.h"

#define OPT_MAX_QUEUE_DEPTH 1024u
#define OPT_MAX_AQ_DEPTH    4096u
#define OPT_MAX_IO_QPAIRS   1024u
#define OPT_MAX_IO_SIZE     (4u << 20) /* 4 MiB */
#define OPT_MAX_ICD         (128u << 10)

static int check_range(const char *name, uint32_t v, uint32_t min, uint32_t max)
{
    if (v >= min && v <= max)
        return 0;
    log_error("transport TCP: %s %u out of range [%u, %u]", name, v, min, max);
    return -EINVAL;
}

int tgt_transport_opts_check(struct tgt_transport_opts *o)
{
    int err = 0;

    err |= check_range("max_queue_depth", o->max_queue_depth, 2, OPT_MAX_QUEUE_DEPTH);
    err |= check_range("max_aq_depth", o->max_aq_depth, 2, OPT_MAX_AQ_DEPTH);
    err |= check_range("max_io_qpairs_per_ctrlr", o->max_io_qpairs_per_ctrlr, 1, OPT_MAX_IO_QPAIRS);
    err |= check_range("max_io_size", o->max_io_size, 4096, OPT_MAX_IO_SIZE);
    err |= check_range("in_capsule_data_size", o->in_capsule_data_size, 0, OPT_MAX_ICD);
    err |= check_range("io_unit_size", o->io_unit_size, 4096, UINT32_MAX);
    if (err)
        return -EINVAL;
    if (o->max_io_size % 4096 || o->io_unit_size % 4096) {
        log_error("transport TCP: max_io_size %u and io_unit_size %u must be multiples of 4096",
                  o->max_io_size, o->io_unit_size);
        return -EINVAL;
    }
    /* IOCCSZ is in 16-byte units */
    if (o->in_capsule_data_size % 16) {
        log_error("transport TCP: in_capsule_data_size %u is not a multiple of 16",
                  o->in_capsule_data_size);
        return -EINVAL;
    }
    /* SPDK clamps the data unit to the I/O size, so clients passing only one of them work */
    if (o->io_unit_size > o->max_io_size)
        o->io_unit_size = o->max_io_size;
    return 0;
}
