/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file engine's sidecars: <dir>/{volumes,snapshots}/<uuid>.json next to
 * <uuid>.img, the file engine's equivalent of LVM tags. Written atomically
 * (temp file, fsync, rename, fsync of the directory) so a crash leaves the
 * old or the new record, never half of one; read with the field decoder.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "file_internal.h"
#include "slio/uuid.h"

#define META_MAX 4096

static const char *const kind_names[] = {"volume", "snapshot", NULL};
static const char *const state_names[] = {"ready", "copying", NULL};

struct meta_raw {
    uuid_t uuid, origin;
    int kind, state;
    const char *pool, *name;
    uint64_t size;
    bool thin;
};

static const struct slio_json_field meta_fields[] = {
    SLIO_JSON_FIELD(struct meta_raw, uuid, "uuid", SLIO_JSON_UUID, .required = true),
    SLIO_JSON_FIELD(struct meta_raw, kind, "kind", SLIO_JSON_ENUM, .required = true,
                    .names = kind_names),
    SLIO_JSON_FIELD(struct meta_raw, pool, "pool", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = AGENT_POOL_NAME_MAX),
    SLIO_JSON_FIELD(struct meta_raw, size, "size", SLIO_JSON_U64, .required = true, .min = 1,
                    .max = UINT64_MAX / 2),
    SLIO_JSON_FIELD(struct meta_raw, thin, "thin", SLIO_JSON_BOOL, .required = true),
    SLIO_JSON_FIELD(struct meta_raw, origin, "origin", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct meta_raw, state, "state", SLIO_JSON_ENUM, .required = true,
                    .names = state_names),
    SLIO_JSON_FIELD(struct meta_raw, name, "name", SLIO_JSON_STRING, .max = AGENT_NAME_HINT_MAX),
};

void file_path(const struct file_engine *e, enum agent_vol_kind kind, const uuid_t uuid,
               const char *ext, char buf[static AGENT_PATH_MAX])
{
    char s[SLIO_UUID_STR_LEN];

    snprintf(buf, AGENT_PATH_MAX, "%s/%s/%s.%s", e->dir,
             kind == AGENT_VOL_SNAPSHOT ? FILE_SNAP_DIR : FILE_VOL_DIR, slio_uuid_format(uuid, s),
             ext);
}

/* Decode a loaded sidecar: -ENOENT for another pool's, -EINVAL when malformed. */
static int meta_decode(const char *pool, json_t *j, struct file_meta *ret, struct slio_err *err)
{
    struct meta_raw m = {0};
    int r = SLIO_JSON_DECODE(j, meta_fields, &m, 0, err);

    if (r < 0)
        return r;
    if (strcmp(m.pool, pool) != 0)
        return -ENOENT; /* another pool's file: not ours */
    *ret = (struct file_meta){
        .kind = m.kind,
        .copying = m.state == 1,
        .size = m.size,
        .thin = m.thin,
        .has_origin = !slio_uuid_is_null(m.origin),
    };
    agent_name_hint_sanitise(m.name, ret->name);
    uuid_copy(ret->uuid, m.uuid);
    uuid_copy(ret->origin, m.origin);
    return 0;
}

int file_meta_parse(const char *pool, const char *text, size_t len, struct file_meta *ret,
                    struct slio_err *err)
{
    _cleanup_json_ json_t *j = NULL;
    int r = slio_json_loadb(text, len, META_MAX, &j, err);

    return r < 0 ? r : meta_decode(pool, j, ret, err);
}

int file_meta_read(const struct file_engine *e, const char *path, struct file_meta *ret,
                   struct slio_err *err)
{
    _cleanup_json_ json_t *j = NULL;
    int r = slio_json_load_file(path, META_MAX, &j, err);

    if (r == 0)
        r = meta_decode(e->pool, j, ret, err);
    if (r < 0 && r != -ENOENT)
        slio_err_prefix(err, "\"%s\"", path);
    return r;
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? slio_neg_errno() : -EIO;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

int file_sync_dir(const struct file_engine *e, enum agent_vol_kind kind)
{
    char dir[AGENT_PATH_MAX];
    _cleanup_close_ int fd = -1;

    snprintf(dir, sizeof(dir), "%s/%s", e->dir,
             kind == AGENT_VOL_SNAPSHOT ? FILE_SNAP_DIR : FILE_VOL_DIR);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return slio_neg_errno();
    return 0;
}

int file_meta_write(const struct file_engine *e, const struct file_meta *m, struct slio_err *err)
{
    char path[AGENT_PATH_MAX], tmp[AGENT_PATH_MAX + 8], s[SLIO_UUID_STR_LEN];
    _cleanup_json_ json_t *j = NULL;
    _cleanup_free_ char *text = NULL;
    _cleanup_close_ int fd = -1;
    int r;

    file_path(e, m->kind, m->uuid, "json", path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    j = json_pack("{s:s, s:s, s:s, s:I, s:b, s:s}", "uuid", slio_uuid_format(m->uuid, s), "kind",
                  agent_vol_kind_name(m->kind), "pool", e->pool, "size", (json_int_t)m->size,
                  "thin", m->thin, "state", m->copying ? "copying" : "ready");
    if (!j)
        return -ENOMEM;
    if ((m->has_origin &&
         json_object_set_new(j, "origin", json_string(slio_uuid_format(m->origin, s))) < 0) ||
        (m->name[0] && json_object_set_new(j, "name", json_string(m->name)) < 0))
        return -ENOMEM;
    text = slio_json_dump(j, 0);
    if (!text)
        return -ENOMEM;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    r = fd < 0 ? slio_neg_errno() : write_all(fd, text, strlen(text));
    if (r == 0 && fsync(fd) < 0)
        r = slio_neg_errno();
    if (r == 0 && rename(tmp, path) < 0)
        r = slio_neg_errno();
    if (r == 0)
        r = file_sync_dir(e, m->kind);
    if (r < 0) {
        slio_err_set(err, "write \"%s\": %s", path, strerror(-r));
        unlink(tmp);
        return r;
    }
    return 0;
}
