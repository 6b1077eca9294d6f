/* SPDX-License-Identifier: Apache-2.0 */
/* Names of what the agent creates in a target, and the lists discovery returns. */
#include <string.h>

#include "export/export.h"
#include "slio/uuid.h"

void agent_export_nqn(const uuid_t uuid, char ret[static SLIO_NQN_BUF])
{
    char u[SLIO_UUID_STR_LEN];

    snprintf(ret, SLIO_NQN_BUF, "%s%s", AGENT_EXPORT_NQN_PREFIX, slio_uuid_format(uuid, u));
}

void agent_export_bdev_name(const uuid_t uuid, char ret[static AGENT_BDEV_NAME_MAX])
{
    char u[SLIO_UUID_STR_LEN];

    snprintf(ret, AGENT_BDEV_NAME_MAX, "%s%s", AGENT_EXPORT_BDEV_PREFIX, slio_uuid_format(uuid, u));
}

static int parse_suffix(const char *s, const char *prefix, uuid_t ret)
{
    size_t n = strlen(prefix);

    if (!s || strncmp(s, prefix, n) != 0)
        return -EINVAL;
    return slio_uuid_parse(s + n, ret);
}

int agent_export_parse_nqn(const char *nqn, uuid_t ret)
{
    return parse_suffix(nqn, AGENT_EXPORT_NQN_PREFIX, ret);
}

int agent_export_parse_bdev_name(const char *name, uuid_t ret)
{
    return parse_suffix(name, AGENT_EXPORT_BDEV_PREFIX, ret);
}

static void state_release(struct agent_export_state *s)
{
    for (size_t i = 0; i < s->n_hosts; i++) {
        free(s->hosts[i]);
        free(s->key_names ? s->key_names[i] : NULL);
        free(s->ctrl_key_names ? s->ctrl_key_names[i] : NULL);
    }
    free(s->hosts);
    free(s->key_names);
    free(s->ctrl_key_names);
    s->hosts = s->key_names = s->ctrl_key_names = NULL;
    s->n_hosts = 0;
}

void agent_export_list_free(struct agent_export_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        state_release(&l->items[i]);
    free(l->items);
    *l = (struct agent_export_list){0};
}

const struct agent_export_state *agent_export_list_find(const struct agent_export_list *l,
                                                        const uuid_t uuid)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (uuid_compare(l->items[i].uuid, uuid) == 0)
            return &l->items[i];
    return NULL;
}

bool agent_export_state_complete(const struct agent_export_state *s)
{
    return s && s->has_bdev && s->has_subsystem && s->has_namespace && s->has_listener;
}

void agent_iostat_list_free(struct agent_iostat_list *l)
{
    if (!l)
        return;
    free(l->items);
    *l = (struct agent_iostat_list){0};
}
