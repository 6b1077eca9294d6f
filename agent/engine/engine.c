/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine table and the agent_engine_*() wrappers. The wrappers check what
 * every engine would otherwise check the same way (null uuids, zero sizes), so
 * an engine's functions can trust their arguments' shape.
 */
#include <inttypes.h>
#include <string.h>

#include "engine.h"
#include "engine_internal.h"
#include "slio/uuid.h"

static const struct agent_engine_ops *const engines[] = {
    &agent_engine_lvm_ops,
    &agent_engine_file_ops,
};

const struct agent_engine_ops *agent_engine_find(const char *name)
{
    for (size_t i = 0; name && i < SLIO_ARRAY_SIZE(engines); i++)
        if (strcmp(engines[i]->name, name) == 0)
            return engines[i];
    return NULL;
}

int agent_engine_open(const struct agent_pool_config *cfg, struct agent_engine **ret,
                      struct slio_err *err)
{
    const struct agent_engine_ops *ops;
    int r = agent_pool_config_validate(cfg, err);

    if (r < 0)
        return r;
    ops = agent_engine_find(cfg->engine);
    if (!ops) /* validate() checked it; keeps the compiler's null analysis calm */
        return -EINVAL;
    return ops->open(cfg, ret, err);
}

void agent_engine_close(struct agent_engine **e)
{
    if (!e || !*e)
        return;
    (*e)->ops->close(*e);
    *e = NULL;
}

const char *agent_engine_name(const struct agent_engine *e)
{
    return e->ops->name;
}

int agent_engine_pool_status(struct agent_engine *e, struct agent_pool_status *ret,
                             struct slio_err *err)
{
    return e->ops->pool_status(e, ret, err);
}

int agent_engine_list_volumes(struct agent_engine *e, struct agent_volume_list *ret,
                              struct slio_err *err)
{
    return e->ops->list_volumes(e, ret, err);
}

static int check_uuid(const char *what, const uuid_t u, struct slio_err *err)
{
    if (slio_uuid_is_null(u)) {
        slio_err_set(err, "%s: the null uuid", what);
        return -EINVAL;
    }
    return 0;
}

int agent_engine_get_volume(struct agent_engine *e, const uuid_t uuid, struct agent_volume *ret,
                            struct slio_err *err)
{
    struct agent_volume_list l = {0};
    const struct agent_volume *v;
    char s[SLIO_UUID_STR_LEN];
    int r = check_uuid("volume", uuid, err);

    if (r < 0)
        return r;
    r = e->ops->list_volumes(e, &l, err);
    if (r < 0)
        return r;
    v = agent_volume_list_find(&l, uuid);
    if (v)
        *ret = *v;
    else
        slio_err_set(err, "volume %s: not found in this pool", slio_uuid_format(uuid, s));
    agent_volume_list_free(&l);
    return v ? 0 : -ENOENT;
}

int agent_engine_create_volume(struct agent_engine *e, const struct agent_volume_spec *spec,
                               struct agent_volume *ret, struct slio_err *err)
{
    int r = check_uuid("volume", spec->uuid, err);

    if (r < 0)
        return r;
    if (spec->source == AGENT_SOURCE_NONE && spec->size == 0) {
        slio_err_set(err, "volume: size 0");
        return -EINVAL;
    }
    if (spec->source != AGENT_SOURCE_NONE) {
        r = check_uuid("clone source", spec->source_uuid, err);
        if (r < 0)
            return r;
        if (uuid_compare(spec->source_uuid, spec->uuid) == 0) {
            slio_err_set(err, "volume: cannot be its own source");
            return -EINVAL;
        }
    }
    if (spec->size > UINT64_MAX / 2) {
        slio_err_set(err, "volume: size %" PRIu64 " is absurd", spec->size);
        return -EINVAL;
    }
    return e->ops->create_volume(e, spec, ret, err);
}

int agent_engine_delete_volume(struct agent_engine *e, const uuid_t uuid, bool discard_first,
                               struct slio_err *err)
{
    int r = check_uuid("volume", uuid, err);

    return r < 0 ? r : e->ops->delete_volume(e, uuid, discard_first, err);
}

int agent_engine_expand_volume(struct agent_engine *e, const uuid_t uuid, uint64_t new_size,
                               struct agent_volume *ret, struct slio_err *err)
{
    int r = check_uuid("volume", uuid, err);

    if (r < 0)
        return r;
    if (new_size == 0 || new_size > UINT64_MAX / 2) {
        slio_err_set(err, "volume: new size %" PRIu64 " is out of range", new_size);
        return -EINVAL;
    }
    return e->ops->expand_volume(e, uuid, new_size, ret, err);
}

int agent_engine_create_snapshot(struct agent_engine *e, const struct agent_snapshot_spec *spec,
                                 struct agent_volume *ret, struct slio_err *err)
{
    int r = check_uuid("snapshot", spec->snapshot, err);

    if (r == 0)
        r = check_uuid("snapshot origin", spec->volume, err);
    if (r < 0)
        return r;
    if (uuid_compare(spec->volume, spec->snapshot) == 0) {
        slio_err_set(err, "snapshot: same uuid as its volume");
        return -EINVAL;
    }
    return e->ops->create_snapshot(e, spec, ret, err);
}

int agent_engine_delete_snapshot(struct agent_engine *e, const uuid_t uuid, struct slio_err *err)
{
    int r = check_uuid("snapshot", uuid, err);

    return r < 0 ? r : e->ops->delete_snapshot(e, uuid, err);
}

int agent_engine_thin_autoextend(struct agent_engine *e,
                                 const struct agent_autoextend_policy *policy,
                                 struct agent_autoextend_result *ret, struct slio_err *err)
{
    return e->ops->thin_autoextend(e, policy, ret, err);
}

void agent_volume_list_free(struct agent_volume_list *l)
{
    if (!l)
        return;
    free(l->items);
    *l = (struct agent_volume_list){0};
}

const struct agent_volume *agent_volume_list_find(const struct agent_volume_list *l,
                                                  const uuid_t uuid)
{
    for (size_t i = 0; i < l->n; i++)
        if (uuid_compare(l->items[i].uuid, uuid) == 0)
            return &l->items[i];
    return NULL;
}

const char *agent_vol_kind_name(enum agent_vol_kind k)
{
    return k == AGENT_VOL_SNAPSHOT ? "snapshot" : "volume";
}

const char *agent_vol_state_name(enum agent_vol_state s)
{
    static const char *const names[] = {
        [AGENT_VOL_READY] = "ready",
        [AGENT_VOL_COPYING] = "copying",
        [AGENT_VOL_INACTIVE] = "inactive",
        [AGENT_VOL_INVALID] = "invalid",
    };
    return (unsigned)s < SLIO_ARRAY_SIZE(names) ? names[s] : "unknown";
}

const char *agent_thin_level_name(enum agent_thin_level l)
{
    static const char *const names[] = {
        [AGENT_THIN_OK] = "ok",
        [AGENT_THIN_EXTENDED] = "extended",
        [AGENT_THIN_WARNING] = "warning",
        [AGENT_THIN_CRITICAL] = "critical",
    };
    return (unsigned)l < SLIO_ARRAY_SIZE(names) ? names[l] : "unknown";
}

static bool lvm_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '_' || c == '.' || c == '-';
}

bool agent_lvm_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AGENT_LV_NAME_MAX || s[0] == '-' || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!lvm_char(s[i]))
            return false;
    return true;
}

bool agent_pool_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AGENT_POOL_NAME_MAX || !lvm_char(s[0]) || s[0] == '-' || s[0] == '.' ||
        s[0] == '_' || s[0] == '+')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!lvm_char(s[i]) || s[i] == '+')
            return false;
    return true;
}

void agent_lv_name(enum agent_vol_kind kind, const uuid_t uuid, char buf[static AGENT_NAME_MAX])
{
    char s[SLIO_UUID_STR_LEN];

    snprintf(buf, AGENT_NAME_MAX, "%s%s",
             kind == AGENT_VOL_SNAPSHOT ? AGENT_SNAP_PREFIX : AGENT_LV_PREFIX,
             slio_uuid_format(uuid, s));
}

/* LVM's tag charset: letters, digits and _ + . - / = ! : & # */
static bool tag_char(char c)
{
    return lvm_char(c) || c == '/' || c == '=' || c == '!' || c == ':' || c == '&' || c == '#';
}

void agent_name_hint_sanitise(const char *hint, char buf[static AGENT_NAME_HINT_MAX + 1])
{
    size_t i = 0;

    for (; hint && hint[i] && i < AGENT_NAME_HINT_MAX; i++)
        buf[i] = tag_char(hint[i]) ? hint[i] : '_';
    buf[i] = '\0';
}

uint64_t agent_round_up(uint64_t bytes, uint64_t unit)
{
    uint64_t rem = bytes % unit;

    if (rem == 0)
        return bytes;
    return bytes > UINT64_MAX - (unit - rem) ? UINT64_MAX : bytes + (unit - rem);
}
