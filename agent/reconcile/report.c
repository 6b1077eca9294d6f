/* SPDX-License-Identifier: Apache-2.0 */
/* Bodies of the agent → controller calls (see report.h). */
#include <string.h>

#include "export/export.h"
#include "reconcile/report.h"
#include "slio/uuid.h"

json_t *agent_report_pool(const struct agent_config *cfg, const struct agent_pool_status *ps)
{
    json_t *p = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "name", cfg->pool.name, "engine",
                          ps->engine ? ps->engine : cfg->pool.engine, "thin", ps->thin, "capacity",
                          (json_int_t)ps->capacity, "free", (json_int_t)ps->free, "allocated",
                          (json_int_t)ps->allocated);

    if (!p)
        return NULL;
    if (ps->thin) {
        json_object_set_new(p, "thin_data_percent", json_real(ps->thin_data_percent));
        json_object_set_new(p, "thin_metadata_percent", json_real(ps->thin_meta_percent));
        json_object_set_new(p, "overprovision", json_real(ps->overprovision_max));
        /* the controller makes an event of each change (ThinPoolWarning, ...) */
        json_object_set_new(p, "thin_level", json_string(agent_thin_level_name(ps->thin_level)));
    }
    if (cfg->node.labels)
        json_object_set(p, "labels", cfg->node.labels);
    json_object_set_new(p, "max_remote_volumes",
                        json_integer((json_int_t)cfg->node.max_remote_volumes));
    return p;
}

static json_t *export_address(const struct agent_config *cfg)
{
    char port[8];

    snprintf(port, sizeof(port), "%u", (unsigned)cfg->export_.trsvcid);
    return json_pack("{s:s, s:s, s:s, s:s}", "trtype", "tcp", "adrfam",
                     cfg->export_.adrfam == AGENT_ADRFAM_IPV6 ? "ipv6" : "ipv4", "traddr",
                     cfg->export_.traddr, "trsvcid", port);
}

json_t *agent_report_register(const struct agent_config *cfg, const char *host_nqn,
                              const char *agent_url, const struct agent_pool_status *ps)
{
    json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:[o]}", "node", cfg->node.name, "host_nqn",
                             host_nqn, "export_address", export_address(cfg), "version",
                             SLIO_VERSION, "pools", agent_report_pool(cfg, ps));
    json_t *topo;

    if (!body)
        return NULL;
    if (cfg->node.labels)
        json_object_set(body, "labels", cfg->node.labels);
    if (agent_url)
        json_object_set_new(body, "agent_url", json_string(agent_url));
    if (cfg->node.zone || cfg->node.rack) {
        topo = json_object();
        if (cfg->node.zone)
            json_object_set_new(topo, "zone", json_string(cfg->node.zone));
        if (cfg->node.rack)
            json_object_set_new(topo, "rack", json_string(cfg->node.rack));
        json_object_set_new(body, "topology", topo);
    }
    return body;
}

json_t *agent_report_heartbeat(const struct agent_config *cfg, const struct agent_pool_status *ps)
{
    json_t *body = json_pack("{s:s}", "node", cfg->node.name);

    if (body && ps)
        json_object_set_new(body, "pools", json_pack("[o]", agent_report_pool(cfg, ps)));
    return body;
}

uint64_t agent_report_interval_us(const json_t *registered, uint64_t current_us)
{
    const json_t *ms = json_object_get(registered, "heartbeat_interval_ms");
    const json_t *s = json_object_get(registered, "heartbeat_interval_s");

    if (json_is_integer(ms) && json_integer_value(ms) >= 100 && json_integer_value(ms) <= 3600000)
        return (uint64_t)json_integer_value(ms) * 1000u;
    if (json_is_integer(s) && json_integer_value(s) >= 1 && json_integer_value(s) <= 3600)
        return (uint64_t)json_integer_value(s) * 1000000u;
    return current_us;
}

static json_t *status_json(const struct agent_obj_status *st)
{
    char u[SLIO_UUID_STR_LEN], nqn[SLIO_NQN_BUF];
    json_t *o = json_pack("{s:s, s:s}", "id", slio_uuid_format(st->id, u), "state",
                          agent_obj_state_name(st->state));
    json_t *hosts;

    if (!o)
        return NULL;
    if (st->message[0])
        json_object_set_new(o, "message", json_string(st->message));
    if (st->size)
        json_object_set_new(o, "size", json_integer((json_int_t)st->size));
    if (st->device[0] && st->state != AGENT_OBJ_DELETED)
        json_object_set_new(o, "device", json_string(st->device));
    if (st->progress >= 0 && st->state == AGENT_OBJ_CREATING)
        json_object_set_new(o, "progress", json_real(st->progress));
    if (!st->snapshot && st->exported && st->state != AGENT_OBJ_DELETED) {
        agent_export_nqn(st->id, nqn);
        json_object_set_new(o, "nqn", json_string(nqn));
        hosts = json_array();
        for (size_t i = 0; i < st->n_exported_to; i++)
            json_array_append_new(hosts, json_string(st->exported_to[i]));
        json_object_set_new(o, "exported_to", hosts);
    }
    return o;
}

static json_t *orphan_json(const struct agent_config *cfg, const struct agent_orphan *o)
{
    char u[SLIO_UUID_STR_LEN];

    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "node", cfg->node.name, "pool",
                     cfg->pool.name, "uuid", slio_uuid_format(o->vol->uuid, u), "kind",
                     agent_vol_kind_name(o->vol->kind), "device", o->vol->path, "size",
                     (json_int_t)o->vol->size);
}

json_t *agent_report_status(const struct agent_config *cfg, int64_t revision,
                            const struct agent_plan *plan)
{
    json_t *vols = json_array(), *snaps = json_array(), *orphans = json_array();

    for (size_t i = 0; i < plan->n_statuses; i++) {
        const struct agent_obj_status *st = &plan->statuses[i];
        json_array_append_new(st->snapshot ? snaps : vols, status_json(st));
    }
    for (size_t i = 0; i < plan->n_orphans; i++)
        json_array_append_new(orphans, orphan_json(cfg, &plan->orphans[i]));
    return json_pack("{s:s, s:b, s:I, s:o, s:o, s:o}", "node", cfg->node.name, "partial", 0,
                     "revision", (json_int_t)revision, "volumes", vols, "snapshots", snaps,
                     "orphans", orphans);
}
