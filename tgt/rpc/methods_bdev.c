/* SPDX-License-Identifier: Apache-2.0 */
/* bdev_* methods, with SPDK's parameter names and result shapes (bdev_aio, bdev_malloc). */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <string.h>

#include "registry/bdev_malloc.h"
#include "registry/registry_mgmt.h"
#include "rpc/rpc.h"
#include "slio/uuid.h"
#include "transport/reactor.h"

#define TICK_RATE 1000000 /* statistics count microseconds */

struct aio_create_req {
    const char *name;
    const char *filename;
    uint32_t block_size;
    uuid_t uuid; /* all zero: generate one */
    bool readonly;
    bool fallocate;
};

static const struct slio_json_field aio_create_fields[] = {
    SLIO_JSON_FIELD(struct aio_create_req, name, "name", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = TGT_NAME_MAX),
    SLIO_JSON_FIELD(struct aio_create_req, filename, "filename", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = 4095),
    SLIO_JSON_FIELD(struct aio_create_req, block_size, "block_size", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct aio_create_req, uuid, "uuid", SLIO_JSON_UUID),
    /* SPDK's save_config writes these two; only their defaults are supported */
    SLIO_JSON_FIELD(struct aio_create_req, readonly, "readonly", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct aio_create_req, fallocate, "fallocate", SLIO_JSON_BOOL),
};

static int bdev_aio_create(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct aio_create_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, aio_create_fields, &req, 0, err) < 0)
        return -1;
    if (req.readonly || req.fallocate)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter '%s': only false is supported",
                             req.readonly ? "readonly" : "fallocate");
    /* SPDK's bdev_aio checks the value itself and answers -EINVAL, as do we */
    if (req.block_size && (req.block_size < 512 || (req.block_size & (req.block_size - 1))))
        return tgt_rpc_error(err, -EINVAL,
                             "invalid parameter 'block_size': %u is not a power of two in "
                             "[512, 4096]",
                             req.block_size);
    struct tgt_bdev_opts o = {
        .name = req.name,
        .filename = req.filename,
        .block_size = req.block_size,
        .uuid = slio_uuid_is_null(req.uuid) ? NULL : req.uuid,
    };
    int r = tgt_bdev_create_ex(&o, &e, NULL);
    if (r < 0)
        return tgt_rpc_error_from(err, r, &e, true);
    *ret = json_string(req.name);
    return 0;
}

struct name_req {
    const char *name;
};
static const struct slio_json_field name_fields[] = {
    SLIO_JSON_FIELD(struct name_req, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NAME_MAX),
};
static const struct slio_json_field opt_name_fields[] = {
    SLIO_JSON_FIELD(struct name_req, name, "name", SLIO_JSON_STRING, .min = 1),
};

/* SPDK's bdev_aio_* find only AIO bdevs: a RAM bdev's name is "not found" (-ENODEV). */
static int aio_only(const char *name, struct tgt_rpc_err *err)
{
    struct tgt_bdev *b = tgt_bdev_find_get(name);
    bool malloc = b && tgt_bdev_is_malloc(b);

    tgt_bdev_put(b);
    return malloc ? tgt_rpc_error(err, -ENODEV, "bdev %s is not an AIO bdev", name) : 0;
}

static int bdev_aio_delete(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct name_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, name_fields, &req, 0, err) < 0 || aio_only(req.name, err) < 0)
        return -1;
    int r = tgt_bdev_delete_ex(req.name, &e);
    return r < 0 ? tgt_rpc_error_from(err, r, &e, true) : tgt_rpc_ok(ret);
}

static int bdev_aio_rescan(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct name_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, name_fields, &req, 0, err) < 0 || aio_only(req.name, err) < 0)
        return -1;
    int r = tgt_bdev_rescan_ex(req.name, &e);
    return r < 0 ? tgt_rpc_error_from(err, r, &e, true) : tgt_rpc_ok(ret);
}

struct malloc_create_req {
    const char *name;
    uuid_t uuid;
    uint64_t num_blocks;
    uint32_t block_size, physical_block_size, optimal_io_boundary, md_size, dif_pi_format;
    int dif_type;
    bool md_interleave, dif_is_head_of_md;
};

static const struct slio_json_field malloc_create_fields[] = {
    SLIO_JSON_FIELD(struct malloc_create_req, name, "name", SLIO_JSON_STRING, .min = 1,
                    .max = TGT_NAME_MAX),
    SLIO_JSON_FIELD(struct malloc_create_req, uuid, "uuid", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct malloc_create_req, num_blocks, "num_blocks", SLIO_JSON_U64,
                    .required = true),
    SLIO_JSON_FIELD(struct malloc_create_req, block_size, "block_size", SLIO_JSON_U32,
                    .required = true),
    /* SPDK's save_config writes these: a hint we may ignore, or metadata only at its default */
    SLIO_JSON_FIELD(struct malloc_create_req, physical_block_size, "physical_block_size",
                    SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct malloc_create_req, optimal_io_boundary, "optimal_io_boundary",
                    SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct malloc_create_req, md_size, "md_size", SLIO_JSON_U32),
    SLIO_JSON_FIELD(struct malloc_create_req, md_interleave, "md_interleave", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct malloc_create_req, dif_type, "dif_type", SLIO_JSON_INT),
    SLIO_JSON_FIELD(struct malloc_create_req, dif_is_head_of_md, "dif_is_head_of_md",
                    SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct malloc_create_req, dif_pi_format, "dif_pi_format", SLIO_JSON_U32),
};

static int bdev_malloc_create(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct malloc_create_req req = {0};
    struct slio_err e = {{0}};
    char name[TGT_NAME_MAX + 1];

    if (TGT_RPC_DECODE(params, malloc_create_fields, &req, 0, err) < 0)
        return -1;
    /* like SPDK's create_malloc_disk: what cannot be honoured is -EINVAL */
    if (req.md_size || req.md_interleave || req.dif_type || req.dif_is_head_of_md ||
        req.dif_pi_format)
        return tgt_rpc_error(err, -EINVAL,
                             "invalid parameters: metadata and DIF are not "
                             "supported (md_size, dif_type... must be 0)");
    if (req.physical_block_size && req.physical_block_size != req.block_size)
        return tgt_rpc_error(err, -EINVAL,
                             "invalid parameter 'physical_block_size': only block_size (%u)",
                             req.block_size);
    struct tgt_malloc_opts o = {
        .name = req.name,
        .num_blocks = req.num_blocks,
        .block_size = req.block_size,
        .uuid = slio_uuid_is_null(req.uuid) ? NULL : req.uuid,
    };
    int r = tgt_bdev_malloc_create(&o, &e, name);
    if (r < 0)
        return tgt_rpc_error_from(err, r, &e, true);
    *ret = json_string(name);
    return 0;
}

static int bdev_malloc_delete(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct name_req req = {0};
    struct slio_err e = {{0}};

    if (TGT_RPC_DECODE(params, name_fields, &req, 0, err) < 0)
        return -1;
    int r = tgt_bdev_malloc_delete(req.name, &e);
    return r < 0 ? tgt_rpc_error_from(err, r, &e, true) : tgt_rpc_ok(ret);
}

static json_t *limits_json(const struct tgt_bdev *b)
{
    struct tgt_qos_limits l;

    tgt_bdev_get_qos(b, &l);
    return json_pack("{s:I, s:I, s:I, s:I}", "rw_ios_per_sec", (json_int_t)l.rw_ios_per_sec,
                     "rw_mbytes_per_sec", (json_int_t)l.rw_mbytes_per_sec, "r_mbytes_per_sec",
                     (json_int_t)l.r_mbytes_per_sec, "w_mbytes_per_sec",
                     (json_int_t)l.w_mbytes_per_sec);
}

struct list_ctx {
    const char *name; /* NULL: all */
    json_t *out;
    bool found;
};

/*
 * SPDK's supported_io_types keys (v23.01's eleven and the nine v24.09 added).
 * An AIO bdev here does reads, writes, flush, unmap (discard) and write
 * zeroes; none of the others (reset, compare, abort of submitted I/O, NVMe
 * passthrough, zero-copy, zones, seek hole/data, copy).
 */
static json_t *io_types_json(void)
{
    static const char *const unsupported[] = {
        "reset",      "compare", "compare_and_write", "abort",           "nvme_admin",  "nvme_io",
        "nvme_io_md", "zcopy",   "get_zone_info",     "zone_management", "zone_append", "seek_hole",
        "seek_data",  "copy",    "nvme_iov_md",
    };
    json_t *o = json_pack("{s:b, s:b, s:b, s:b, s:b}", "read", true, "write", true, "unmap", true,
                          "write_zeroes", true, "flush", true);

    for (size_t i = 0; o && i < SLIO_ARRAY_SIZE(unsupported); i++)
        json_object_set_new(o, unsupported[i], json_false());
    return o;
}

static void bdev_info(struct tgt_bdev *b, bool claimed, void *ctx)
{
    struct list_ctx *c = ctx;
    char uuid[SLIO_UUID_STR_LEN];

    if (c->name && strcmp(c->name, b->name) != 0)
        return;
    c->found = true;
    bool ram = tgt_bdev_is_malloc(b);
    /* SPDK's malloc bdev has no driver_specific members */
    json_t *driver =
        ram ? json_object()
            : json_pack("{s:{s:s, s:b, s:b, s:b}}", "aio", "filename", b->filename,
                        "block_size_override", false, "readonly", false, "fallocate", false);
    json_t *o = json_pack(
        "{s:s, s:[], s:s, s:i, s:I, s:s, s:o, s:b, s:b, s:o, s:o}", "name", b->name, "aliases",
        "product_name", ram ? "Malloc disk" : "AIO disk", "block_size", (int)b->block_size,
        "num_blocks", (json_int_t)tgt_bdev_num_blocks(b), "uuid", slio_uuid_format(b->uuid, uuid),
        "assigned_rate_limits", limits_json(b), "claimed", claimed, "zoned", false,
        "supported_io_types", io_types_json(), "driver_specific", driver);
    /* SPDK (since v23.05) names the claim; a namespace holds its bdev as SPDK's nvmf does */
    if (o && claimed)
        json_object_set_new(o, "claim_type", json_string("exclusive_write"));
    json_array_append_new(c->out, o);
}

static int bdev_get_bdevs(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct name_req req = {0};

    /* SPDK also takes "timeout" (wait for the bdev to appear); ours exist at once */
    if (TGT_RPC_DECODE(params, opt_name_fields, &req, SLIO_JSON_ALLOW_UNKNOWN, err) < 0)
        return -1;
    struct list_ctx c = {.name = req.name, .out = json_array()};
    tgt_bdev_for_each(bdev_info, &c);
    if (req.name && !c.found) {
        json_decref(c.out);
        return tgt_rpc_error(err, -ENODEV, "bdev %s not found", req.name);
    }
    *ret = c.out;
    return 0;
}

struct stat_field {
    const char *name;
    uint64_t value;
};

/* One bdev's bdev_get_iostat entry, SPDK's keys in SPDK's order; ticks are microseconds. */
static json_t *bdev_stat_json(struct tgt_bdev *b)
{
#define LD(f) atomic_load_explicit(&b->f, memory_order_relaxed)
    const struct stat_field f[] = {
        {"bytes_read", LD(bytes_read)},
        {"num_read_ops", LD(num_read_ops)},
        {"bytes_written", LD(bytes_written)},
        {"num_write_ops", LD(num_write_ops)},
        {"bytes_unmapped", LD(bytes_unmapped)},
        {"num_unmap_ops", LD(num_unmap_ops)},
        {"num_flush_ops", LD(num_flush_ops)},
        /* there is no Copy command: its counters stay 0 */
        {"bytes_copied", 0},
        {"num_copy_ops", 0},
        {"read_latency_ticks", LD(read_latency_ticks)},
        {"max_read_latency_ticks", tgt_bdev_latency_max(b, TGT_BDEV_IO_READ)},
        {"min_read_latency_ticks", tgt_bdev_latency_min(b, TGT_BDEV_IO_READ)},
        {"write_latency_ticks", LD(write_latency_ticks)},
        {"max_write_latency_ticks", tgt_bdev_latency_max(b, TGT_BDEV_IO_WRITE)},
        {"min_write_latency_ticks", tgt_bdev_latency_min(b, TGT_BDEV_IO_WRITE)},
        {"unmap_latency_ticks", LD(unmap_latency_ticks)},
        {"max_unmap_latency_ticks", tgt_bdev_latency_max(b, TGT_BDEV_IO_UNMAP)},
        {"min_unmap_latency_ticks", tgt_bdev_latency_min(b, TGT_BDEV_IO_UNMAP)},
        {"copy_latency_ticks", 0},
        {"max_copy_latency_ticks", 0},
        {"min_copy_latency_ticks", 0},
    };
#undef LD
    json_t *o = json_pack("{s:s}", "name", b->name);

    for (size_t i = 0; o && i < SLIO_ARRAY_SIZE(f); i++)
        json_object_set_new(o, f[i].name, json_integer((json_int_t)f[i].value));
    /* SPDK counts failed I/O by status here; failures are only logged (rate-limited) */
    json_object_set_new(o, "io_error", json_object());
    return o;
}

static void bdev_stat(struct tgt_bdev *b, bool claimed, void *ctx)
{
    struct list_ctx *c = ctx;

    if (c->name && strcmp(c->name, b->name) != 0)
        return;
    c->found = true;
    json_array_append_new(c->out, bdev_stat_json(b));
}

static int bdev_get_iostat(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct name_req req = {0};

    if (TGT_RPC_DECODE(params, opt_name_fields, &req, SLIO_JSON_ALLOW_UNKNOWN, err) < 0)
        return -1;
    struct list_ctx c = {.name = req.name, .out = json_array()};
    tgt_bdev_for_each(bdev_stat, &c);
    if (req.name && !c.found) {
        json_decref(c.out);
        return tgt_rpc_error(err, -ENODEV, "bdev %s not found", req.name);
    }
    *ret = json_pack("{s:i, s:I, s:o}", "tick_rate", TICK_RATE, "ticks", (json_int_t)tgt_now_us(),
                     "bdevs", c.out);
    return 0;
}

#define QOS_UNSET UINT64_MAX
struct qos_req {
    const char *name;
    uint64_t v[4];
};
static const struct slio_json_field qos_fields[] = {
    SLIO_JSON_FIELD(struct qos_req, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NAME_MAX),
    {.name = "rw_ios_per_sec",
     .type = SLIO_JSON_U64,
     .offset = offsetof(struct qos_req, v[0]),
     .size = sizeof(uint64_t),
     .max = UINT64_MAX - 1},
    {.name = "rw_mbytes_per_sec",
     .type = SLIO_JSON_U64,
     .offset = offsetof(struct qos_req, v[1]),
     .size = sizeof(uint64_t),
     .max = 1u << 24},
    {.name = "r_mbytes_per_sec",
     .type = SLIO_JSON_U64,
     .offset = offsetof(struct qos_req, v[2]),
     .size = sizeof(uint64_t),
     .max = 1u << 24},
    {.name = "w_mbytes_per_sec",
     .type = SLIO_JSON_U64,
     .offset = offsetof(struct qos_req, v[3]),
     .size = sizeof(uint64_t),
     .max = 1u << 24},
};

static int bdev_set_qos_limit(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct qos_req req = {.v = {QOS_UNSET, QOS_UNSET, QOS_UNSET, QOS_UNSET}};
    struct tgt_qos_limits cur;

    if (TGT_RPC_DECODE(params, qos_fields, &req, 0, err) < 0)
        return -1;
    if (req.v[0] == QOS_UNSET && req.v[1] == QOS_UNSET && req.v[2] == QOS_UNSET &&
        req.v[3] == QOS_UNSET)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "No rate limits specified");
    struct tgt_bdev *b = tgt_bdev_find_get(req.name);
    if (!b)
        return tgt_rpc_error(err, -ENODEV, "bdev %s not found", req.name);
    /* like SPDK, a limit left out keeps its current value */
    tgt_bdev_get_qos(b, &cur);
    uint64_t old[4] = {cur.rw_ios_per_sec, cur.rw_mbytes_per_sec, cur.r_mbytes_per_sec,
                       cur.w_mbytes_per_sec};
    for (int i = 0; i < 4; i++)
        if (req.v[i] == QOS_UNSET)
            req.v[i] = old[i];
    int r = tgt_bdev_set_qos(b, req.v[0], req.v[1], req.v[2], req.v[3]);
    tgt_bdev_put(b);
    if (r < 0)
        return tgt_rpc_error(err, r, "bdev %s: cannot set QoS limits: %s", req.name, strerror(-r));
    return tgt_rpc_ok(ret);
}

const struct tgt_rpc_method tgt_rpc_bdev_methods[] = {
    {"bdev_aio_create", bdev_aio_create, true},
    {"bdev_aio_delete", bdev_aio_delete, true},
    {"bdev_aio_rescan", bdev_aio_rescan, false},
    {"bdev_malloc_create", bdev_malloc_create, true},
    {"bdev_malloc_delete", bdev_malloc_delete, true},
    {"bdev_get_bdevs", bdev_get_bdevs, false},
    {"bdev_get_iostat", bdev_get_iostat, false},
    {"bdev_set_qos_limit", bdev_set_qos_limit, true},
};
const size_t tgt_rpc_bdev_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_bdev_methods);
