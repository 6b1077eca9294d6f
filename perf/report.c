/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static void dump(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
    json_decref(o);
    fflush(stdout);
}

/* Fixed-width, space-padded identify/discovery strings → trimmed JSON strings. */
static json_t *fixed_str(const char *s, size_t max)
{
    size_t n = strnlen(s, max);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == 0))
        n--;
    return json_stringn(s, n);
}

void perf_report_discovery(const struct nvmf_discovery_log *log, bool json)
{
    uint64_t n = le64toh(log->numrec);
    json_t *arr = json_array();

    for (uint64_t i = 0; i < n; i++) {
        const struct nvmf_disc_log_entry *e = &log->entries[i];
        json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "trtype", e->trtype, "adrfam",
                              e->adrfam, "subtype", e->subtype, "portid", le16toh(e->portid),
                              "traddr", fixed_str(e->traddr, sizeof(e->traddr)), "trsvcid",
                              fixed_str(e->trsvcid, sizeof(e->trsvcid)), "subnqn",
                              fixed_str(e->subnqn, sizeof(e->subnqn)));
        if (!json) {
            printf("=====Discovery Log Entry %llu======\n", (unsigned long long)i);
            printf("trtype:  %s\nadrfam:  %s\nsubtype: %s\nportid:  %u\n",
                   e->trtype == 3 ? "tcp" : "other", e->adrfam == 1 ? "ipv4" : "other",
                   e->subtype == 3   ? "current discovery subsystem"
                   : e->subtype == 2 ? "nvme subsystem"
                                     : "other",
                   le16toh(e->portid));
            printf("trsvcid: %s\nsubnqn:  %s\ntraddr:  %s\n",
                   json_string_value(json_object_get(o, "trsvcid")),
                   json_string_value(json_object_get(o, "subnqn")),
                   json_string_value(json_object_get(o, "traddr")));
        }
        json_array_append_new(arr, o);
    }
    if (json)
        dump(json_pack("{s:I, s:I, s:o}", "genctr", (json_int_t)le64toh(log->genctr), "numrec",
                       (json_int_t)n, "entries", arr));
    else {
        printf("Discovery Log Number of Records %llu, Generation counter %llu\n",
               (unsigned long long)n, (unsigned long long)le64toh(log->genctr));
        json_decref(arr);
    }
}

void perf_report_identify(const struct slio_host_ctrl_info *info, uint32_t nsid,
                          const struct nvme_id_ns *ns)
{
    const struct nvme_id_ctrl *id = &info->id;
    uint32_t lbads = ns->lbaf[ns->flbas & 0xf].ds;
    char version[16]; /* VS: major 31:16, minor 15:8, tertiary 7:0 */
    if (info->vs & 0xff)
        snprintf(version, sizeof(version), "%u.%u.%u", info->vs >> 16, (info->vs >> 8) & 0xff,
                 info->vs & 0xff);
    else
        snprintf(version, sizeof(version), "%u.%u", info->vs >> 16, (info->vs >> 8) & 0xff);

    json_t *jns =
        json_pack("{s:i, s:I, s:I, s:I, s:i, s:I}", "nsid", (json_int_t)nsid, "nsze",
                  (json_int_t)le64toh(ns->nsze), "ncap", (json_int_t)le64toh(ns->ncap), "nuse",
                  (json_int_t)le64toh(ns->nuse), "block_size", (json_int_t)(1u << lbads),
                  "size_bytes", (json_int_t)(le64toh(ns->nsze) << lbads));
    json_t *o = json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b, s:s, s:o}",
        "cntlid", info->cntlid, "model", fixed_str(id->mn, sizeof(id->mn)), "serial",
        fixed_str(id->sn, sizeof(id->sn)), "firmware", fixed_str(id->fr, sizeof(id->fr)), "subnqn",
        fixed_str(id->subnqn, sizeof(id->subnqn)), "mdts", id->mdts, "max_xfer", info->max_xfer,
        "ioccsz", le32toh(id->ioccsz), "maxcmd", le16toh(id->maxcmd), "nn", le32toh(id->nn), "vwc",
        id->vwc, "mqes", info->mqes, "hdgst", info->hdgst, "ddgst", info->ddgst, "version", version,
        "namespace", jns);
    dump(o);
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

void perf_report_result(const struct perf_cli *cli, const struct perf_backend *be,
                        const char *target, const struct perf_result *res, bool json)
{
    const struct perf_job *job = &cli->job;
    double t = res->elapsed > 0 ? res->elapsed : 1e-9;
    double iops = (double)res->ios / t, mibs = (double)res->bytes / t / (1 << 20);
    double cpu = res->cpu_user + res->cpu_sys;
    const struct perf_hist *h = &res->lat;

    if (!json) {
        printf("%s: %s bs=%u qd=%u queues=%u\n", target, perf_workload_name(job->wl), job->bs,
               job->qd, job->workers);
        printf("  IOPS %.0f  MiB/s %.1f  I/Os %llu (r %llu w %llu) in %.2f s\n", iops, mibs,
               (unsigned long long)res->ios, (unsigned long long)res->reads,
               (unsigned long long)res->writes, res->elapsed);
        printf("  latency us: mean %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
               perf_hist_mean(h) / 1000.0, us(perf_hist_percentile(h, 50)),
               us(perf_hist_percentile(h, 99)), us(perf_hist_percentile(h, 99.9)), us(h->max));
        printf("  CPU s: user %.2f sys %.2f (%.2f us per I/O)\n", res->cpu_user, res->cpu_sys,
               res->ios ? cpu * 1e6 / (double)res->ios : 0.0);
        if (job->wl == PERF_WL_VERIFY)
            printf("  verified blocks %llu, mismatches %llu\n",
                   (unsigned long long)res->verified_blocks, (unsigned long long)res->mismatches);
        if (res->errors)
            printf("  I/O errors %llu\n", (unsigned long long)res->errors);
        fflush(stdout);
        return;
    }
    json_t *lat = json_pack(
        "{s:f, s:f, s:f, s:f, s:f, s:f}", "mean", perf_hist_mean(h) / 1000.0, "p50",
        us(perf_hist_percentile(h, 50)), "p99", us(perf_hist_percentile(h, 99)), "p99_9",
        us(perf_hist_percentile(h, 99.9)), "min", us(h->n ? h->min : 0), "max", us(h->max));
    json_t *jcpu =
        json_pack("{s:f, s:f, s:f, s:f}", "user_s", res->cpu_user, "sys_s", res->cpu_sys, "total_s",
                  cpu, "us_per_io", res->ios ? cpu * 1e6 / (double)res->ios : 0.0);
    dump(json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:f, s:f, s:o, s:o, "
                   "s:I, s:I, s:I}",
                   "command", cli->cmd, "target", target, "workload", perf_workload_name(job->wl),
                   "bs", job->bs, "qd", job->qd, "queues", job->workers, "block_size",
                   be->block_size, "elapsed_s", res->elapsed, "ios", (json_int_t)res->ios, "reads",
                   (json_int_t)res->reads, "writes", (json_int_t)res->writes, "iops", iops, "mib_s",
                   mibs, "lat_us", lat, "cpu", jcpu, "errors", (json_int_t)res->errors,
                   "mismatches", (json_int_t)res->mismatches, "verified_blocks",
                   (json_int_t)res->verified_blocks));
}
